// models/counter_model.cpp — the shared counter race and its fixes
// (seed: "Race conditions", "Simulate race condition", "Fix for race
// condition"), instantiated from impl/include/interleave/counter.hpp.
//
// What this cannot see: real time (the seed's random sleeps are scheduling
// points here, which is all they ever were), and counters other than the
// ones built from the backend.
#include "relacy_sync.hpp"
//
#include "interleave/counter.hpp"
#include "runner.hpp"

namespace interleave::models {
namespace {

// Threads × increments on a counter; after every thread has finished, the
// total must be exact.
template <template <class> class Counter, unsigned Threads, unsigned Incs,
          rl::test_result_e Expected = rl::test_result_success>
struct CountSuite : rl::test_suite<CountSuite<Counter, Threads, Incs, Expected>, Threads, Expected> {
  Counter<relacy_sync> counter;

  void thread(unsigned) {
    for (unsigned i = 0; i < Incs; ++i) counter.increment();
  }
  void after() { RL_ASSERT(counter.value() == static_cast<long>(Threads * Incs)); }
};

// The seed's Scenarios A and B, interleavings only (every atomic access
// sequentially consistent): the counter holds 1, threads A and B each read
// it, post the value read to "the API", and write back value + 1. Scenario A
// (A's read-post-write, then B's) posts 1 and 2 and leaves 3. The model
// asserts exactly that, so Relacy must produce Scenario B: A reads 1, B reads
// 1, both write 2, the API sees 1 twice.
struct ScenarioB : rl::test_suite<ScenarioB, 2, rl::test_result_user_assert_failed> {
  RelaxedRacyCounter<relacy_sc_sync> counter{1};
  long posted[2] = {0, 0};  // each thread writes only its own slot

  void thread(unsigned t) {
    counter.increment([&](long read) { posted[t] = read; });
  }
  void after() {
    const bool scenario_a = (posted[0] == 1 && posted[1] == 2) || (posted[0] == 2 && posted[1] == 1);
    RL_ASSERT(scenario_a && counter.value() == 3);
  }
};

constexpr auto lost = rl::test_result_user_assert_failed;
constexpr auto race = rl::test_result_data_race;

// --- the broken twins: each must be caught ---------------------------------
INTERLEAVE_MODEL((CountSuite<RacyCounter, 2, 1, race>), "counter.racy_plain.2x1", "counter.racy_plain",
                 "read/pause/write on plain memory is a data race (found by Relacy's race detector)",
                 Search::deepen(3));
INTERLEAVE_MODEL((CountSuite<RelaxedRacyCounter, 2, 1, lost>), "counter.racy_relaxed.2x1",
                 "counter.racy_relaxed",
                 "read/pause/write on relaxed atomics loses an update: 2 threads x 1 increment end below 2 "
                 "(with no preemption at all: a relaxed load may read a stale value)",
                 Search::deepen(3));
INTERLEAVE_MODEL((CountSuite<RelaxedRacyCounter, 2, 5, lost>), "counter.racy_relaxed.2x5",
                 "counter.racy_relaxed",
                 "at the seed's size (2 threads x 5 increments) the total ends below 10",
                 Search::deepen(3));
INTERLEAVE_MODEL((ScenarioB), "counter.scenario_b.sc", "counter.racy_relaxed",
                 "seed Scenario B, sequentially consistent: A reads 1, B reads 1, both write 2",
                 Search::deepen(3));

// --- the fixes: every interleaving keeps every increment --------------------
INTERLEAVE_MODEL((CountSuite<LockedCounter, 2, 3>), "counter.locked.2x3.full", "counter.locked",
                 "2 threads x 3 increments under the mutex end at exactly 6", Search::full());
INTERLEAVE_MODEL((CountSuite<LockedCounter, 3, 2>), "counter.locked.3x2.full", "counter.locked",
                 "3 threads x 2 increments under the mutex end at exactly 6", Search::full());
INTERLEAVE_MODEL((CountSuite<LockedCounter, 2, 5>), "counter.locked.2x5.bound3", "counter.locked",
                 "the seed's 2 threads x 5 increments end at exactly 10", Search::bounded(3));
INTERLEAVE_MODEL((CountSuite<AtomicCounter, 2, 3>), "counter.atomic.2x3.full", "counter.atomic",
                 "2 threads x 3 relaxed fetch_add end at exactly 6", Search::full());
INTERLEAVE_MODEL((CountSuite<AtomicCounter, 3, 2>), "counter.atomic.3x2.full", "counter.atomic",
                 "3 threads x 2 relaxed fetch_add end at exactly 6", Search::full());
INTERLEAVE_MODEL((CountSuite<AtomicCounter, 2, 5>), "counter.atomic.2x5.bound3", "counter.atomic",
                 "the seed's 2 threads x 5 relaxed fetch_add end at exactly 10", Search::bounded(3));

}  // namespace
}  // namespace interleave::models
