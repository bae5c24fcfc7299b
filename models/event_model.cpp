// models/event_model.cpp — the event (seed: "Thread communication using
// sending events"), instantiated from impl/include/interleave/event.hpp.
//
// What this cannot see: real time (a wait_for may time out at any scheduling
// point, whatever its duration), and events not built from the backend.
#include "model.hpp"
//
#include "interleave/event.hpp"

namespace interleave::models {
namespace {

// 1 setter, W waiters that call wait(): every waiter returns true. A lost
// wake-up would leave a waiter blocked forever, which the checker reports as a
// deadlock (all threads blocked) — so a passing search means none is lost.
template <class Sync, unsigned Waiters>
struct SetWakesEveryWaiter {
  static constexpr unsigned threads = 1 + Waiters;
  Event<Sync> ev;
  bool returned[1 + Waiters] = {};  // each thread writes only its own slot

  void thread(unsigned t) {
    if (t == 0) {
      ev.set();
    } else {
      returned[t] = ev.wait();
    }
  }
  void after() {
    for (unsigned t = 1; t <= Waiters; ++t) INTERLEAVE_MODEL_CHECK(returned[t]);
    INTERLEAVE_MODEL_CHECK(ev.is_set());
  }
};

// 1 setter that sets and then clears at once, 2 waiters. The setter fires
// only once both waiters are blocked (it polls n_waiting(), a scheduling
// point each time): set() must wake both even though clear() follows before
// either is scheduled (the documented rule), and the event ends clear.
template <class Sync>
struct SetThenClearWakesWaitersAlreadyWaiting {
  static constexpr unsigned threads = 3;
  Event<Sync> ev;
  bool returned[3] = {};

  void thread(unsigned t) {
    if (t == 0) {
      while (ev.n_waiting() < 2) Sync::yield();
      ev.set();
      ev.clear();
    } else {
      returned[t] = ev.wait();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(returned[1] && returned[2]);
    INTERLEAVE_MODEL_CHECK(!ev.is_set());
  }
};

// A clear() racing with set() and the waiters, from its own thread; the
// setter sets again at the end so the event ends set. Whatever the order,
// every waiter returns (none sleeps through the final set()).
template <class Sync>
struct RacingClearLosesNoWakeup {
  static constexpr unsigned threads = 4;
  Event<Sync> ev;
  bool returned[4] = {};

  void thread(unsigned t) {
    if (t == 0) {
      ev.set();
    } else if (t == 1) {
      ev.clear();
      ev.set();
    } else {
      returned[t] = ev.wait();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(returned[2] && returned[3]);
    INTERLEAVE_MODEL_CHECK(ev.is_set());
  }
};

// wait_for with a timeout (which the checker may fire at any scheduling point):
// if set() had returned before wait_for began, wait_for returns true; if it
// returns true, the event is set; it never leaves itself counted as waiting.
template <class Sync>
struct WaitForTimesOutOnlyBeforeSet {
  static constexpr unsigned threads = 2;
  Event<Sync> ev;
  typename Sync::template atomic<int> set_done{0};
  bool got = false;
  int set_before_wait = 0;

  void thread(unsigned t) {
    if (t == 0) {
      ev.set();
      set_done.store(1, std::memory_order_seq_cst);
    } else {
      set_before_wait = set_done.load(std::memory_order_seq_cst);
      got = ev.wait_for(std::chrono::milliseconds(10));
    }
  }
  void after() {
    if (set_before_wait) INTERLEAVE_MODEL_CHECK(got);
    if (got) INTERLEAVE_MODEL_CHECK(ev.is_set());
    INTERLEAVE_MODEL_CHECK(ev.n_waiting() == 0);
  }
};

// The broken twin: the unlocked read of the flag is a data race.
template <class Sync>
struct BrokenUnlockedCheck {
  static constexpr unsigned threads = 3;
  BrokenUnlockedCheckEvent<Sync> ev;
  void thread(unsigned t) {
    if (t == 0)
      ev.set();
    else
      ev.wait();
  }
};

// What set() publishes: the setter writes plain data (a Sync::var, which the
// checkers race-check), then set(); one reader that finds is_set() true and
// one waiter whose wait() may take the lock-free fast path both read the
// data. On the fixed event the flag's release/acquire pair orders the write
// before both reads; with the flag weakened to relaxed (the twin) nothing
// does, and the read races with the write.
template <class Sync, event_bug Bug>
struct SetPublishesWhatPrecedesIt {
  static constexpr unsigned threads = 3;
  BasicEvent<Sync, Bug> ev;
  typename Sync::template var<int> data{0};
  int seen[3] = {0, 0, 0};

  void thread(unsigned t) {
    if (t == 0) {
      data.store(42);
      ev.set();
    } else if (t == 1) {
      if (ev.is_set())
        seen[1] = data.load();
      else
        seen[1] = 42;  // nothing published yet: nothing to read
    } else {
      ev.wait();
      seen[2] = data.load();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(seen[1] == 42);
    INTERLEAVE_MODEL_CHECK(seen[2] == 42);
  }
};

// set() racing a waiter that is only beginning to wait (no polling: the
// waiter may be before its fast-path check, between it and the lock, or
// already blocked), with a clear() from a third thread: a waiter that began
// before the clear returns, and its read of what the setter wrote is ordered
// (no race); the final set() means no waiter can be left behind. Two
// waiters, so one may take the fast path while the other blocks.
template <class Sync>
struct SetRacesAWaiterBeginningToWait {
  static constexpr unsigned threads = 3;
  Event<Sync> ev;
  typename Sync::template var<int> data{0};
  bool returned[3] = {};

  void thread(unsigned t) {
    if (t == 0) {
      data.store(1);
      ev.set();
      ev.clear();
      ev.set();
    } else {
      returned[t] = ev.wait();
      INTERLEAVE_MODEL_CHECK(data.load() == 1);
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(returned[1] && returned[2]);
    INTERLEAVE_MODEL_CHECK(ev.is_set());
    INTERLEAVE_MODEL_CHECK(ev.n_waiting() == 0);
  }
};

template <class Sync> using SetPublishesFixed = SetPublishesWhatPrecedesIt<Sync, event_bug::none>;
template <class Sync> using SetPublishesRelaxed =
    SetPublishesWhatPrecedesIt<Sync, event_bug::relaxed_flag>;

template <class Sync> using SetWakes2Waiters = SetWakesEveryWaiter<Sync, 2>;
template <class Sync> using SetWakes3Waiters = SetWakesEveryWaiter<Sync, 3>;

INTERLEAVE_MODEL(SetWakes2Waiters, "event.set_wakes_2_waiters.full", "event",
                 "1 setter, 2 waiters: set() wakes every waiter, no lost wake-up", Expect::holds,
                 Search::full());
INTERLEAVE_MODEL(SetWakes3Waiters, "event.set_wakes_3_waiters.bound3", "event",
                 "1 setter, 3 waiters: set() wakes every waiter", Expect::holds,
                 Search::bounded(3));
INTERLEAVE_MODEL(RacingClearLosesNoWakeup, "event.racing_clear.bound2", "event",
                 "set(), a racing clear()+set(), 2 waiters: every waiter returns", Expect::holds,
                 Search::bounded(2));
INTERLEAVE_MODEL(
    SetThenClearWakesWaitersAlreadyWaiting, "event.set_then_clear.bound3", "event",
    "set() then clear() at once still wakes both waiters already waiting (Python's rule)",
    Expect::holds, Search::bounded(3), DporSearch{}.spin());  // polls n_waiting() in a yield loop
INTERLEAVE_MODEL(WaitForTimesOutOnlyBeforeSet, "event.wait_for.full", "event",
                 "wait_for returns true only with the event set, and never leaves a waiter counted",
                 Expect::holds, Search::full());
INTERLEAVE_MODEL(
    SetPublishesFixed, "event.publish.full", "event",
    "what the setter wrote before set() is visible, race-free, to is_set()==true and to wait()",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    SetRacesAWaiterBeginningToWait, "event.set_races_beginning_waiter.bound3", "event",
    "set()/clear()/set() racing 2 waiters beginning wait(): no lost wake-up, the published data "
    "is ordered",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(
    SetPublishesRelaxed, "event.broken_relaxed_flag.publish", "event.broken_relaxed_flag",
    "the flag stored and loaded relaxed: a reader that sees it set races with the setter's data",
    Expect::data_race, Search::deepen(2));
INTERLEAVE_MODEL(BrokenUnlockedCheck, "event.broken_unlocked_check.1x2",
                 "event.broken_unlocked_check",
                 "checking the flag outside the lock is a data race on the flag", Expect::data_race,
                 Search::deepen(2));

}  // namespace
}  // namespace interleave::models
