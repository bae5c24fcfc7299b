// property_tests/barrier_props.cpp — the cyclic barrier and thread-local data
// on real threads (seed: "A thread's local data").
//
// What this cannot see: interleavings the OS does not happen to produce (the
// models cover those). Worker threads only record what they saw; every
// assertion runs on the test's own thread after the joins.
#include <interleave/barrier.hpp>
#include <interleave/thread_local.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testkit.hpp"
#include "workloads.hpp"

namespace interleave {
namespace {

using namespace std::chrono_literals;

INTERLEAVE_PROP(BarrierProps, every_generation_hands_out_each_index_once_after_its_action,
                "barrier", ()) {
  const int n = *rc::gen::inRange(1, 9);
  const int rounds = *rc::gen::inRange(1, 30);
  std::atomic<int> completions{0};
  Barrier<> barrier(n, [&] { completions.fetch_add(1, std::memory_order_relaxed); });
  // seen[t][r] = {index, completions observed right after wait}
  std::vector<std::vector<std::pair<int, int>>> seen(static_cast<size_t>(n));
  std::vector<std::thread> pool;
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        const int idx = static_cast<int>(barrier.wait());
        seen[static_cast<size_t>(t)].emplace_back(idx, completions.load(std::memory_order_relaxed));
      }
    });
  for (auto& th : pool) th.join();
  RC_ASSERT(completions.load() == rounds);
  RC_ASSERT(barrier.generation() == static_cast<unsigned long>(rounds));
  for (int r = 0; r < rounds; ++r) {
    std::vector<int> count(static_cast<size_t>(n), 0);
    for (int t = 0; t < n; ++t) {
      const auto [idx, done] = seen[static_cast<size_t>(t)][static_cast<size_t>(r)];
      RC_ASSERT(idx >= 0 && idx < n);
      ++count[static_cast<size_t>(idx)];
      // generation r's action ran before release; r+1's cannot have run
      // before this thread arrived at r+1.
      RC_ASSERT(done == r + 1);
    }
    for (int c : count) RC_ASSERT(c == 1);
  }
}

INTERLEAVE_PROP(BarrierProps, abort_wakes_every_waiter_and_reset_makes_it_usable, "barrier", ()) {
  const int n = *rc::gen::inRange(2, 9);
  const int waiters = *rc::gen::inRange(1, n);  // fewer than n: the generation cannot complete
  Barrier<> barrier(n);
  std::vector<char> threw(static_cast<size_t>(waiters), 0);
  std::vector<std::thread> pool;
  for (int w = 0; w < waiters; ++w)
    pool.emplace_back([&, w] {
      try {
        barrier.wait();
      } catch (const BrokenBarrierError&) {
        threw[static_cast<size_t>(w)] = 1;
      }
    });
  checks::until_waiting(barrier, waiters);
  barrier.abort();
  for (auto& th : pool) th.join();
  for (char c : threw) RC_ASSERT(c == 1);
  RC_ASSERT(barrier.broken());
  bool later_threw = false;
  try {
    barrier.wait();
  } catch (const BrokenBarrierError&) {
    later_threw = true;
  }
  RC_ASSERT(later_threw);
  barrier.reset();
  RC_ASSERT(!barrier.broken());
  std::vector<int> idx(static_cast<size_t>(n), -1);
  pool.clear();
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&, t] { idx[static_cast<size_t>(t)] = static_cast<int>(barrier.wait()); });
  for (auto& th : pool) th.join();
  std::sort(idx.begin(), idx.end());
  for (int t = 0; t < n; ++t) RC_ASSERT(idx[static_cast<size_t>(t)] == t);
}

// n parties, one of which uses wait_for: either the generation completes for
// all (distinct indices) or the barrier breaks for all; with only n-1 parties
// ever arriving, wait_for always breaks it.
INTERLEAVE_PROP(BarrierProps, wait_for_timeout_breaks_the_barrier_for_everyone, "barrier", ()) {
  const int n = *rc::gen::inRange(1, 9);
  const bool all_arrive = *rc::gen::arbitrary<bool>();
  const int micros = *rc::gen::inRange(0, 3000);
  Barrier<> barrier(n);
  const int arriving = all_arrive ? n : n - 1;              // besides the timed one: arriving - 1
  std::vector<int> idx(static_cast<size_t>(arriving), -1);  // -1: broken
  std::vector<std::thread> pool;
  for (int t = 1; t < arriving; ++t)
    pool.emplace_back([&, t] {
      try {
        idx[static_cast<size_t>(t)] = static_cast<int>(barrier.wait());
      } catch (const BrokenBarrierError&) {
      }
    });
  bool timed_out = false;
  if (arriving >= 1) {
    try {
      idx[0] = static_cast<int>(barrier.wait_for(std::chrono::microseconds(micros)));
    } catch (const BrokenBarrierError& e) {
      timed_out = std::string(e.what()).find("timed out") != std::string::npos;
    }
  }
  for (auto& th : pool) th.join();
  if (arriving == 0) return;  // n == 1 and not all arrive: nobody waited
  const bool broke = idx[0] == -1;
  for (int i : idx) RC_ASSERT((i == -1) == broke);  // all or nothing
  RC_ASSERT(barrier.broken() == broke);
  if (!all_arrive) RC_ASSERT(broke && timed_out);
  if (!broke) {
    std::sort(idx.begin(), idx.end());
    for (int t = 0; t < n; ++t) RC_ASSERT(idx[static_cast<size_t>(t)] == t);
  }
}

TEST(BarrierUnit, bad_arguments_are_refused_with_a_message) {
  for (int parties : {0, -3}) {
    try {
      Barrier<> b(parties);
      FAIL() << "Barrier(" << parties << ") did not throw";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("parties"), std::string::npos) << e.what();
    }
  }
  Barrier<> b(2);
  try {
    b.wait_for(-1ms);
    FAIL() << "wait_for(-1ms) did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(b.broken());  // bad input does not break the barrier
}

TEST(BarrierUnit, a_throwing_completion_action_breaks_the_barrier) {
  Barrier<> b(1, [] { throw std::runtime_error("action failed"); });
  EXPECT_THROW(b.wait(), std::runtime_error);
  EXPECT_TRUE(b.broken());
  EXPECT_THROW(b.wait(), BrokenBarrierError);
}

// n parties pass `rounds` generations back to back: every party returns from
// every wait(), and each generation hands out 0..n-1. Under the watchdog: the
// no-generation twin deadlocks when a fast party re-enters before a slow one
// of the previous generation wakes (the slow one then sleeps into the next).
template <class B>
void parties_pass_generation_after_generation() {
  const int n = *rc::gen::inRange(1, 6);
  const int rounds = *rc::gen::inRange(1, 6);
  testkit::watchdog(std::to_string(n) + " parties, " + std::to_string(rounds) +
                        " generation(s) back to back: a wait()",
                    [&] {
                      B barrier(n);
                      std::vector<std::vector<int>> idx(
                          static_cast<size_t>(rounds),
                          std::vector<int>(static_cast<size_t>(n), -1));
                      std::vector<std::thread> pool;
                      for (int t = 0; t < n; ++t)
                        pool.emplace_back([&, t] {
                          for (int r = 0; r < rounds; ++r)
                            idx[static_cast<size_t>(r)][static_cast<size_t>(t)] =
                                static_cast<int>(barrier.wait());
                        });
                      for (auto& th : pool) th.join();
                      for (auto& gen : idx) {
                        std::sort(gen.begin(), gen.end());
                        for (int t = 0; t < n; ++t) RC_ASSERT(gen[static_cast<size_t>(t)] == t);
                      }
                    });
}

INTERLEAVE_PROP(BarrierProps, parties_pass_generation_after_generation_without_a_hang, "barrier",
                ()) {
  parties_pass_generation_after_generation<Barrier<>>();
}

INTERLEAVE_PROP_FALSIFIED(BarrierProps, no_generation_twin_deadlocks_when_a_party_re_enters_early,
                          "barrier.broken_no_generation", ()) {
  parties_pass_generation_after_generation<BrokenNoGenerationBarrier<>>();
}

// The seed: n threads store a random value in one ThreadLocal, meet at the
// barrier, read their own value back; for several rounds.
// More threads than parties: n x g threads wait once each on an n-party
// barrier. When a thread returns, the threads returned so far are at most n
// x the completed generations (nobody leaves before its own generation
// completed); at the end g generations, each index handed out g times.
// Under the watchdog: a thread stranded across generations never returns.
INTERLEAVE_PROP(BarrierProps, more_threads_than_parties_fill_generation_after_generation, "barrier",
                ()) {
  const int n = *rc::gen::inRange(1, 5);
  const int g = *rc::gen::inRange(1, 5);
  testkit::watchdog(
      std::to_string(n * g) + " threads on a " + std::to_string(n) + "-party barrier: a wait()",
      [&] {
        std::atomic<int> completions{0}, returned{0}, early{0};
        Barrier<> barrier(n, [&] { completions.fetch_add(1); });
        std::vector<int> index(static_cast<size_t>(n * g), -1);
        std::vector<std::thread> pool;
        for (int t = 0; t < n * g; ++t)
          pool.emplace_back([&, t] {
            index[static_cast<size_t>(t)] = static_cast<int>(barrier.wait());
            // completions is read after the count: a stale (smaller) value would
            // only make the check stricter
            const int r = returned.fetch_add(1) + 1;
            if (r > n * completions.load()) early.fetch_add(1);
          });
        for (auto& th : pool) th.join();
        RC_ASSERT(early.load() == 0);
        RC_ASSERT(completions.load() == g);
        RC_ASSERT(barrier.generation() == static_cast<unsigned long>(g));
        for (int i = 0; i < n; ++i) RC_ASSERT(std::count(index.begin(), index.end(), i) == g);
      });
}

// A completion action that throws: the last party gets its exception, every
// other party BrokenBarrierError; the barrier is broken until reset(), and
// works again after it.
INTERLEAVE_PROP(BarrierProps, throwing_action_breaks_the_barrier_for_every_party, "barrier", ()) {
  const int n = *rc::gen::inRange(1, 7);
  std::atomic<int> calls{0};
  Barrier<> barrier(n, [&] {
    if (calls.fetch_add(1) == 0) throw std::runtime_error("action failed");
  });
  std::atomic<int> action_errors{0}, broken{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&] {
      try {
        barrier.wait();
      } catch (const BrokenBarrierError&) {
        broken.fetch_add(1);
      } catch (const std::runtime_error&) {
        action_errors.fetch_add(1);
      }
    });
  for (auto& th : pool) th.join();
  RC_ASSERT(action_errors.load() == 1);
  RC_ASSERT(broken.load() == n - 1);
  RC_ASSERT(barrier.broken());
  RC_ASSERT_THROWS_AS(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  std::vector<int> idx(static_cast<size_t>(n), -1);
  pool.clear();
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&, t] { idx[static_cast<size_t>(t)] = static_cast<int>(barrier.wait()); });
  for (auto& th : pool) th.join();
  std::sort(idx.begin(), idx.end());
  for (int t = 0; t < n; ++t) RC_ASSERT(idx[static_cast<size_t>(t)] == t);
}

// The constructor's default timeout applies to every wait() without its
// own: one party short, wait() breaks with "timed out" no sooner than the
// default; wait_for(d) uses its own d; a negative default is refused.
INTERLEAVE_PROP(BarrierProps, default_timeout_applies_to_every_wait, "barrier", ()) {
  const int micros = *rc::gen::inRange(0, 3000);
  const bool own = *rc::gen::arbitrary<bool>();
  // Under the watchdog: a wait() that ignored the default would never return.
  testkit::watchdog(std::string(own ? "wait_for(d/2)" : "wait()") +
                        " one party short, default timeout " + std::to_string(micros) + " us",
                    [&] {
                      Barrier<> barrier(2, {}, std::chrono::microseconds(micros));
                      RC_ASSERT(barrier.timeout().has_value());
                      const auto t0 = std::chrono::steady_clock::now();
                      std::string what;
                      try {
                        if (own)
                          barrier.wait_for(std::chrono::microseconds(micros / 2));
                        else
                          barrier.wait();
                      } catch (const BrokenBarrierError& e) {
                        what = e.what();
                      }
                      const auto waited = std::chrono::steady_clock::now() - t0;
                      RC_ASSERT(what.find("timed out") != std::string::npos);
                      RC_ASSERT(waited >= std::chrono::microseconds(own ? micros / 2 : micros));
                      RC_ASSERT(barrier.broken());
                    });
  RC_ASSERT_THROWS_AS(Barrier<>(2, {}, std::chrono::milliseconds(-1)), std::invalid_argument);
  RC_ASSERT(!Barrier<>(2).timeout().has_value());
}

INTERLEAVE_PROP(BarrierProps, each_thread_reads_back_its_own_local_value, "barrier.thread_local",
                ()) {
  const int n = *rc::gen::inRange(1, 9);
  const int rounds = *rc::gen::inRange(1, 20);
  const auto seed = *rc::gen::arbitrary<unsigned>();
  ThreadLocal<int> local;
  Barrier<> barrier(n);
  std::vector<int> mismatches(static_cast<size_t>(n), 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < n; ++t)
    pool.emplace_back([&, t] {
      std::mt19937 rng(seed + static_cast<unsigned>(t));
      for (int r = 0; r < rounds; ++r) {
        const int mine = static_cast<int>(rng() % 101);  // the seed's randint(0, 100)
        local.set(mine);
        barrier.wait();
        if (local.get() != mine || !local.has_value()) ++mismatches[static_cast<size_t>(t)];
        barrier.wait();  // nobody sets round r+1 before all have read round r
      }
    });
  for (auto& th : pool) th.join();
  for (int m : mismatches) RC_ASSERT(m == 0);
  RC_ASSERT(local.size() == 0u);  // each thread's value was freed at its exit
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
