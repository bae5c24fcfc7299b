// stress/stop_stress.cpp — stopping the Fibonacci worker under load, built
// with ThreadSanitizer. Run by stop_stress_test.cpp.
//
//   stop_stress <plain|atomic|stop_token> <controllers> <cycles>
//
// Each of <controllers> threads runs <cycles> times: start a worker (limit
// 92, no pause), let it run a little, stop(reason), join, and check that the
// values are a Fibonacci prefix and the reason was seen. Prints
// "cycles=<n> bad=<n> stopped_by_request=<n>".
#include <interleave/stoppable.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "stress_main.hpp"
#include "workloads.hpp"

namespace {

template <class Worker>
int run(long controllers, long cycles) {
  std::atomic<long> done{0}, bad{0}, by_request{0};
  std::vector<std::thread> pool;
  for (int c = 0; c < controllers; ++c)
    pool.emplace_back([&, c] {
      for (long i = 0; i < cycles; ++i) {
        // On the heap: clang's TSan pass leaves accesses to a stack object
        // it judges not to escape uninstrumented, which hid this race.
        auto owned = std::make_unique<Worker>(92);
        Worker& w = *owned;
        w.start();
        for (long y = 0; y < (i + c) % 16; ++y) std::this_thread::yield();
        const int reason = static_cast<int>(i % 1000);
        w.stop(reason);
        w.join();
        const auto v = w.values();
        const bool ok = interleave::checks::is_fibonacci_prefix(v) &&
                        (w.stopped_by_request() ? w.reason_seen() == reason : v.size() == 92);
        if (!ok) bad.fetch_add(1);
        if (w.stopped_by_request()) by_request.fetch_add(1);
        done.fetch_add(1);
      }
    });
  for (auto& t : pool) t.join();
  std::printf("cycles=%ld bad=%ld stopped_by_request=%ld\n", done.load(), bad.load(),
              by_request.load());
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  using stress::variant;
  const stress::Param controllers{"controllers", 1, 256}, cycles{"cycles", 0, 1'000'000};
  return stress::dispatch(
      "stop_stress", argc, argv,
      {variant("plain", controllers, cycles, run<StoppableFibonacci<PlainStopFlag<>>>),
       variant("atomic", controllers, cycles, run<StoppableFibonacci<AtomicStopFlag<>>>),
       variant("stop_token", controllers, cycles, run<JthreadFibonacci<>>)});
}
