// stress/barrier_stress.cpp — the cyclic barrier and thread-local data under
// load, built with ThreadSanitizer. Run by barrier_stress_test.cpp.
//
//   barrier_stress <fixed|thread_local|broken_no_generation> <parties> <generations>
//
// fixed: <parties> threads pass <generations> generations; each generation's
//   indices are checked to be exactly 0..parties-1, and the completion action
//   to have run once per generation before release. Prints
//   "generations=<completed> bad_generations=<n> completions=<n>".
// thread_local: the seed's program at scale: each thread stores a random
//   value in one ThreadLocal, meets the others, reads its own value back.
//   Prints "reads=<n> mismatches=<n>".
// broken_no_generation: the twin under the same load. It strands a thread
//   (and so all of them) when a fast thread re-enters first; the watchdog
//   sees no wait() return for 2 s and ends the process as a hang (exit 3):
//   "hang: stranded_at=<generation> of <generations>". A run that completes
//   prints "stranded_at=-1".
#include <interleave/barrier.hpp>
#include <interleave/thread_local.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "stress_main.hpp"

namespace {

int run_fixed(long parties, long gens) {
  std::vector<std::atomic<unsigned>> masks(static_cast<size_t>(gens));
  std::atomic<long> completions{0};
  std::atomic<long> early{0};  // a party saw fewer completions than its generation
  // Objects under test live on the heap: clang's TSan pass may leave a stack
  // object it judges not to escape uninstrumented.
  auto owned = std::make_unique<interleave::Barrier<>>(
      parties, [&] { completions.fetch_add(1, std::memory_order_relaxed); });
  auto& barrier = *owned;
  std::vector<std::thread> pool;
  for (int t = 0; t < parties; ++t)
    pool.emplace_back([&] {
      for (long g = 0; g < gens; ++g) {
        const std::size_t idx = barrier.wait();
        if (completions.load(std::memory_order_relaxed) < g + 1) early.fetch_add(1);
        masks[static_cast<size_t>(g)].fetch_or(1u << idx, std::memory_order_relaxed);
      }
    });
  for (auto& th : pool) th.join();
  const unsigned full = parties == 32 ? ~0u : (1u << parties) - 1;
  long bad = early.load();
  for (auto& m : masks)
    if (m.load() != full) ++bad;
  std::printf("generations=%lu bad_generations=%ld completions=%ld\n", barrier.generation(), bad,
              completions.load());
  return 0;
}

int run_thread_local(long parties, long gens) {
  auto owned_local = std::make_unique<interleave::ThreadLocal<long>>();
  auto owned_barrier = std::make_unique<interleave::Barrier<>>(parties);
  auto& local = *owned_local;
  auto& barrier = *owned_barrier;
  std::atomic<long> reads{0}, mismatches{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < parties; ++t)
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<unsigned long>(t) * 7919u + 1u);
      for (long g = 0; g < gens; ++g) {
        const long mine = static_cast<long>(rng() % 1000000);
        local.set(mine);
        barrier.wait();
        if (local.get() != mine) mismatches.fetch_add(1);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  for (auto& th : pool) th.join();
  std::printf("reads=%ld mismatches=%ld slots=%zu\n", reads.load(), mismatches.load(),
              local.size());
  return 0;
}

int run_broken(long parties, long gens) {
  auto owned = std::make_unique<interleave::BrokenNoGenerationBarrier<>>(parties);
  auto& barrier = *owned;
  std::atomic<long> passed{0};  // wait() returns, all parties
  std::vector<std::thread> pool;
  for (int t = 0; t < parties; ++t)
    pool.emplace_back([&] {
      for (long g = 0; g < gens; ++g) {
        barrier.wait();
        passed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  {
    interleave::stress::Watchdog watchdog(
        std::chrono::seconds(2), [&] { return passed.load(); },
        [&] {
          return "stranded_at=" + std::to_string(passed.load() / parties) + " of " +
                 std::to_string(gens);
        });
    for (auto& th : pool) th.join();
  }
  std::printf("stranded_at=-1 of %ld\n", gens);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using interleave::stress::variant;
  const interleave::stress::Param parties{"parties", 1, 32}, gens{"generations", 0, 10'000'000};
  return interleave::stress::dispatch("barrier_stress", argc, argv,
                                      {variant("fixed", parties, gens, run_fixed),
                                       variant("thread_local", parties, gens, run_thread_local),
                                       variant("broken_no_generation", parties, gens, run_broken)});
}
