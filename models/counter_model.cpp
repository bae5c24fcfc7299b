// models/counter_model.cpp — the shared counter race and its fixes
// (seed: "Race conditions", "Simulate race condition", "Fix for race
// condition"), instantiated from impl/include/interleave/counter.hpp.
//
// What this cannot see: real time (the seed's random sleeps are scheduling
// points here, which is all they ever were), and counters other than the
// ones built from the backend.
#include "model.hpp"
//
#include "interleave/counter.hpp"

namespace interleave::models {
namespace {

// Threads × increments on a counter; after every thread has finished, the
// total must be exact.
template <class Sync, template <class> class Counter, unsigned Threads, unsigned Incs>
struct Count {
  static constexpr unsigned threads = Threads;
  Counter<Sync> counter;

  void thread(unsigned) {
    for (unsigned i = 0; i < Incs; ++i) counter.increment();
  }
  void after() { INTERLEAVE_MODEL_CHECK(counter.value() == static_cast<long>(Threads * Incs)); }
};

// The seed's Scenarios A and B, interleavings only (every atomic access
// sequentially consistent): the counter holds 1, threads A and B each read
// it, post the value read to "the API", and write back value + 1. Scenario A
// (A's read-post-write, then B's) posts 1 and 2 and leaves 3. The model
// asserts exactly that, so the checker must produce Scenario B: A reads 1, B
// reads 1, both write 2, the API sees 1 twice.
template <class Sync>
struct ScenarioB {
  static constexpr unsigned threads = 2;
  static constexpr Memory memory = Memory::seq_cst;
  RelaxedRacyCounter<Sync> counter{1};
  long posted[2] = {0, 0};  // each thread writes only its own slot

  void thread(unsigned t) {
    counter.increment([&](long read) { posted[t] = read; });
  }
  void after() {
    const bool scenario_a =
        (posted[0] == 1 && posted[1] == 2) || (posted[0] == 2 && posted[1] == 1);
    INTERLEAVE_MODEL_CHECK(scenario_a && counter.value() == 3);
  }
};

template <class Sync> using RacyPlain2x1 = Count<Sync, RacyCounter, 2, 1>;
template <class Sync> using RacyRelaxed2x1 = Count<Sync, RelaxedRacyCounter, 2, 1>;
template <class Sync> using RacyRelaxed2x5 = Count<Sync, RelaxedRacyCounter, 2, 5>;
template <class Sync> using Locked2x3 = Count<Sync, LockedCounter, 2, 3>;
template <class Sync> using Locked3x2 = Count<Sync, LockedCounter, 3, 2>;
template <class Sync> using Locked2x5 = Count<Sync, LockedCounter, 2, 5>;
template <class Sync> using Atomic2x3 = Count<Sync, AtomicCounter, 2, 3>;
template <class Sync> using Atomic3x2 = Count<Sync, AtomicCounter, 3, 2>;
template <class Sync> using Atomic2x5 = Count<Sync, AtomicCounter, 2, 5>;

// --- the broken twins: each must be caught ---------------------------------
INTERLEAVE_MODEL(RacyPlain2x1, "counter.racy_plain.2x1", "counter.racy_plain",
                 "read/pause/write on plain memory is a data race (found by the race detector)",
                 Expect::data_race, Search::deepen(3));
INTERLEAVE_MODEL(
    RacyRelaxed2x1, "counter.racy_relaxed.2x1", "counter.racy_relaxed",
    "read/pause/write on relaxed atomics loses an update: 2 threads x 1 increment end below 2 "
    "(with no preemption at all: a relaxed load may read a stale value)",
    Expect::assertion, Search::deepen(3));
INTERLEAVE_MODEL(RacyRelaxed2x5, "counter.racy_relaxed.2x5", "counter.racy_relaxed",
                 "at the seed's size (2 threads x 5 increments) the total ends below 10",
                 Expect::assertion, Search::deepen(3));
INTERLEAVE_MODEL(ScenarioB, "counter.scenario_b.sc", "counter.racy_relaxed",
                 "seed Scenario B, sequentially consistent: A reads 1, B reads 1, both write 2",
                 Expect::assertion, Search::deepen(3));

// --- regression tests of one interleaving each, as `--reproduce` prints them:
// each re-runs exactly its token's execution (on the checker the token names)
// and must end in the data race again.
INTERLEAVE_MODEL_REPLAY(
    RacyPlain2x1, "counter.racy_plain.2x1.replay_dpor", "counter.racy_plain",
    "replays the data race that --reproduce found", Expect::data_race,
    "dpor:counter.racy_plain.2x1:bound:0:dpor1,t1.1021-t0.7b3c,400babd0ed7df1f9:2ca83c33");
INTERLEAVE_MODEL_REPLAY(RacyPlain2x1, "counter.racy_plain.2x1.replay_relacy", "counter.racy_plain",
                        "replays the data race that --reproduce found", Expect::data_race,
                        "relacy:counter.racy_plain.2x1:bound:0:1,1,2,0,0:620c08dc");

// --- the fixes: every interleaving keeps every increment --------------------
INTERLEAVE_MODEL(Locked2x3, "counter.locked.2x3.full", "counter.locked",
                 "2 threads x 3 increments under the mutex end at exactly 6", Expect::holds,
                 Search::full());
INTERLEAVE_MODEL(Locked3x2, "counter.locked.3x2.full", "counter.locked",
                 "3 threads x 2 increments under the mutex end at exactly 6", Expect::holds,
                 Search::full());
INTERLEAVE_MODEL(Locked2x5, "counter.locked.2x5.bound3", "counter.locked",
                 "the seed's 2 threads x 5 increments end at exactly 10", Expect::holds,
                 Search::bounded(3));
INTERLEAVE_MODEL(Atomic2x3, "counter.atomic.2x3.full", "counter.atomic",
                 "2 threads x 3 relaxed fetch_add end at exactly 6", Expect::holds, Search::full());
INTERLEAVE_MODEL(Atomic3x2, "counter.atomic.3x2.full", "counter.atomic",
                 "3 threads x 2 relaxed fetch_add end at exactly 6", Expect::holds, Search::full());
INTERLEAVE_MODEL(Atomic2x5, "counter.atomic.2x5.bound3", "counter.atomic",
                 "the seed's 2 threads x 5 relaxed fetch_add end at exactly 10", Expect::holds,
                 Search::bounded(3));

}  // namespace
}  // namespace interleave::models
