// models/lock_model.cpp — the Python-style Lock (seed: "Fix for race
// condition"), instantiated from impl/include/interleave/lock.hpp.
//
// What this cannot see: real time (a timed acquire may time out at any
// scheduling point, whatever its duration), and fairness (a model checker
// explores every order; the lock promises none).
#include "model.hpp"
//
#include "interleave/lock.hpp"

namespace interleave::models {
namespace {

// Threads x critical sections under the lock: inside, a var is read and
// written back plus one (a race or a lost update if two threads were ever
// inside at once), and a holder count stays at 1.
template <class Sync, template <class> class L, unsigned Threads, unsigned Sections>
struct MutualExclusion {
  static constexpr unsigned threads = Threads;
  L<Sync> lock;
  typename Sync::template var<int> counter{0};
  int holders = 0;  // fibers of one OS thread: an exact record of the schedule

  void thread(unsigned) {
    for (unsigned i = 0; i < Sections; ++i) {
      INTERLEAVE_MODEL_CHECK(lock.acquire());
      ++holders;
      INTERLEAVE_MODEL_CHECK(holders == 1);
      const int v = counter.load();
      Sync::yield();
      counter.store(v + 1);
      --holders;
      lock.release();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(counter.load() == static_cast<int>(Threads * Sections));
    INTERLEAVE_MODEL_CHECK(!lock.locked());
  }
};

// The lock is not owned: thread 0 takes it and blocks taking it again;
// thread 1 waits until it is held and releases it from outside, which must
// wake thread 0 (a missed wake-up would be a deadlock); thread 0's second
// acquire sees what thread 1 wrote before its release.
template <class Sync>
struct ReleaseFromAnotherThread {
  static constexpr unsigned threads = 2;
  Lock<Sync> lock;
  typename Sync::template var<int> handed{0};
  void thread(unsigned t) {
    if (t == 0) {
      lock.acquire();
      lock.acquire();  // blocks until thread 1 releases
      INTERLEAVE_MODEL_CHECK(handed.load() == 1);
      lock.release();
      return;
    }
    while (!lock.locked()) Sync::yield();
    handed.store(1);
    lock.release();
  }
  void after() { INTERLEAVE_MODEL_CHECK(!lock.locked()); }
};

// A timed acquire against a holder: it either takes the lock (after the
// release) or times out while the lock is held; either way the lock is
// usable afterwards, and an acquire(false) fails only while it is held.
template <class Sync>
struct TimedAcquireLeavesLockUsable {
  static constexpr unsigned threads = 2;
  Lock<Sync> lock;
  bool got = false;
  void thread(unsigned t) {
    if (t == 0) {
      lock.acquire();
      lock.release();
      return;
    }
    got = lock.acquire(true, std::chrono::milliseconds(5));
    if (got) lock.release();
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(!lock.locked());
    INTERLEAVE_MODEL_CHECK(lock.acquire(false));
    INTERLEAVE_MODEL_CHECK(!lock.acquire(false));  // not recursive: held now
    lock.release();
  }
};

template <class Sync> using Lock2x2 = MutualExclusion<Sync, Lock, 2, 2>;
template <class Sync> using Lock3x1 = MutualExclusion<Sync, Lock, 3, 1>;
template <class Sync> using Lock2x5 = MutualExclusion<Sync, Lock, 2, 5>;
template <class Sync> using UnlockedRelease2x1 =
    MutualExclusion<Sync, BrokenUnlockedReleaseLock, 2, 1>;

INTERLEAVE_MODEL(
    Lock2x2, "lock.2x2.full", "lock",
    "2 threads x 2 critical sections: one holder at a time, the counter ends at exactly 4",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    Lock3x1, "lock.3x1.full", "lock",
    "3 threads x 1 critical section: one holder at a time, the counter ends at exactly 3",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(Lock2x5, "lock.2x5.bound3", "lock",
                 "the seed's 2 threads x 5 increments end at exactly 10", Expect::holds,
                 Search::bounded(3));
INTERLEAVE_MODEL(
    ReleaseFromAnotherThread, "lock.release_from_other.full", "lock",
    "a lock released by a thread that did not acquire it wakes the blocked acquirer, with "
    "happens-before from the releaser",
    Expect::holds, Search::full(), DporSearch{}.spin());  // polls locked() in a yield loop
INTERLEAVE_MODEL(
    TimedAcquireLeavesLockUsable, "lock.timed_acquire.full", "lock",
    "a timed acquire takes the lock or times out while it is held; the lock is usable afterwards",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    UnlockedRelease2x1, "lock.broken_unlocked_release.2x1", "lock.broken_unlocked_release",
    "a release that clears the flag without the mutex races with an acquirer's read of it",
    Expect::data_race, Search::deepen(3));

}  // namespace
}  // namespace interleave::models
