// stress/counter_stress.cpp — the shared counter under load, built with
// ThreadSanitizer. Run by counter_stress_test.cpp, which reads its output.
//
//   counter_stress <racy_plain|racy_relaxed|locked|atomic> <threads> <increments>
//
// Prints "counted=<value> expected=<threads*increments>". The racy variants
// yield between their read and their write-back (the seed's randsleep(),
// shortened), so the lost update shows up under load instead of by luck.
#include <interleave/counter.hpp>

#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "stress_args.hpp"

namespace {

template <class Counter, class Pause>
long run(int threads, long incs, Pause pause) {
  Counter counter;
  std::barrier start(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      start.arrive_and_wait();
      for (long i = 0; i < incs; ++i) counter.increment(pause);
    });
  for (auto& th : pool) th.join();
  return counter.value();
}

using interleave::stress::parse;

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc != 4)
      throw std::invalid_argument("usage: counter_stress <racy_plain|racy_relaxed|locked|atomic> "
                                  "<threads> <increments>");
    const std::string variant = argv[1];
    const int threads = static_cast<int>(parse(argv[2], "threads", 1, 1024));
    const long incs = parse(argv[3], "increments", 0, 100'000'000);
    const auto yield = [] { std::this_thread::yield(); };
    long counted;
    if (variant == "racy_plain")
      counted = run<interleave::RacyCounter<>>(threads, incs, yield);
    else if (variant == "racy_relaxed")
      counted = run<interleave::RelaxedRacyCounter<>>(threads, incs, yield);
    else if (variant == "locked")
      counted = run<interleave::LockedCounter<>>(threads, incs, interleave::no_pause{});
    else if (variant == "atomic")
      counted = run<interleave::AtomicCounter<>>(threads, incs, interleave::no_pause{});
    else
      throw std::invalid_argument("variant must be racy_plain, racy_relaxed, locked or atomic, not '" +
                                  variant + "'");
    std::printf("counted=%ld expected=%ld\n", counted, threads * incs);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "counter_stress: %s\n", e.what());
    return 2;
  }
}
