// stress/lock_stress.cpp — the Python-style Lock under load, built with
// ThreadSanitizer. Run by lock_stress_test.cpp, which reads its output.
//
//   lock_stress fixed <threads> <sections>
//   lock_stress broken_unlocked_release <threads> <sections>
//     <threads> threads each run <sections> critical sections on one lock,
//     acquiring in turn blocking, non-blocking (retried) and timed
//     (retried); inside, a plain counter is incremented. Prints
//     "counted=<value> expected=<threads*sections>".
//   lock_stress handoff <rounds>
//     Each round: a thread acquires the lock and blocks acquiring it again;
//     the main thread writes a plain int and releases it (a release from a
//     thread that did not acquire). Prints "rounds=<n> seen=<n>".
#include <interleave/lock.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "stress_main.hpp"

namespace {

template <class L>
int sections(long threads, long n) {
  L lock;
  long counter = 0;  // plain: only the lock orders it
  std::vector<std::thread> ts;
  for (long t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (long i = 0; i < n; ++i) {
        const long form = i % 3;
        if (form == 0) {
          lock.acquire();
        } else if (form == 1) {
          while (!lock.acquire(false)) std::this_thread::yield();
        } else {
          while (!lock.acquire(true, std::chrono::microseconds(100))) {
          }
        }
        ++counter;
        lock.release();
      }
    });
  for (auto& t : ts) t.join();
  std::printf("counted=%ld expected=%ld\n", counter, threads * n);
  return interleave::stress::kExitOk;
}

int handoff(long rounds) {
  long seen = 0;
  for (long r = 0; r < rounds; ++r) {
    interleave::Lock<> lock;
    int handed = 0;
    bool saw = false;
    std::thread holder([&] {
      lock.acquire();
      lock.acquire();
      saw = handed == 1;
      lock.release();
    });
    while (!lock.locked()) std::this_thread::yield();
    handed = 1;
    lock.release();
    holder.join();
    if (saw) ++seen;
  }
  std::printf("rounds=%ld seen=%ld\n", rounds, seen);
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  using stress::variant;
  const stress::Param threads{"threads", 1, 1024}, n{"sections", 0, 100'000'000};
  return stress::dispatch(
      "lock_stress", argc, argv,
      {variant("fixed", threads, n, [](long t, long k) { return sections<Lock<>>(t, k); }),
       variant("broken_unlocked_release", threads, n,
               [](long t, long k) { return sections<BrokenUnlockedReleaseLock<>>(t, k); }),
       variant("handoff", {"rounds", 0, 1'000'000}, handoff)});
}
