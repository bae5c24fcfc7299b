// stress/thread_stress.cpp — thread lifecycle and the Obi-Wan/Anakin program
// under load, built with ThreadSanitizer. Run by thread_stress_test.cpp.
//
//   thread_stress lifecycle <threads> <rounds>
//     Each round: <threads> Threads start at once and block on a gate
//     (Event); the registry must list all of them; the gate opens; all are
//     joined; the registry must be empty. An observer thread enumerates the
//     registry throughout and checks that no listed thread is New or Dead.
//     Prints "rounds=<n> listed_ok=<n> observed=<n> bad=<n>".
//   thread_stress starwars <runs>
//     The seed's program <runs> times with tiny random pauses; prints
//     "runs=<n> not_merges=<n> distinct=<n>".
#include <interleave/event.hpp>
#include <interleave/interleavings.hpp>
#include <interleave/thread.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "stress_main.hpp"

namespace {

int lifecycle(long n, long rounds) {
  using namespace interleave;
  auto reg = std::make_unique<ThreadRegistry<>>();
  std::atomic<bool> done{false};
  std::atomic<long> observed{0}, bad{0};
  std::thread observer([&] {
    while (!done.load()) {
      for (const ThreadInfo& info : reg->enumerate()) {
        if (info.state == ThreadState::New || info.state == ThreadState::Dead) bad.fetch_add(1);
        observed.fetch_add(1, std::memory_order_relaxed);
      }
      std::this_thread::yield();
    }
  });
  long listed_ok = 0;
  for (long r = 0; r < rounds; ++r) {
    auto gate = std::make_unique<Event<>>();
    std::vector<std::unique_ptr<Thread<>>> threads;
    for (int i = 0; i < n; ++i) threads.push_back(std::make_unique<Thread<>>(*reg, [&gate] { gate->wait(); }));
    for (auto& t : threads) t->start();
    if (reg->enumerate().size() == static_cast<size_t>(n)) ++listed_ok;
    gate->set();
    for (auto& t : threads) {
      t->join();
      if (t->state() != ThreadState::Dead || t->is_alive()) bad.fetch_add(1);
    }
    if (!reg->enumerate().empty()) bad.fetch_add(1);
  }
  done.store(true);
  observer.join();
  std::printf("rounds=%ld listed_ok=%ld observed=%ld bad=%ld\n", rounds, listed_ok, observed.load(), bad.load());
  return 0;
}

int starwars_runs(long runs) {
  using namespace interleave;
  long not_merges = 0;
  std::set<long> distinct;
  for (long r = 0; r < runs; ++r) {
    auto reg = std::make_unique<ThreadRegistry<>>();
    auto out = std::make_unique<LineLog<>>();
    std::atomic<unsigned> salt{static_cast<unsigned>(r)};
    starwars(*reg, *out, [&] {
      std::minstd_rand rng(salt.fetch_add(7919));
      reg->sleep_for(std::chrono::microseconds(rng() % 50));
    });
    const long mask = merge_mask(out->lines());
    if (mask < 0)
      ++not_merges;
    else
      distinct.insert(mask);
  }
  std::printf("runs=%ld not_merges=%ld distinct=%zu\n", runs, not_merges, distinct.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using interleave::stress::variant;
  return interleave::stress::dispatch(
      "thread_stress", argc, argv,
      {variant("lifecycle", {"threads", 1, 1024}, {"rounds", 0, 100000}, lifecycle),
       variant("starwars", {"runs", 0, 1000000}, starwars_runs)});
}
