// property_tests/event_props.cpp — the event on real threads (seed: "Thread
// communication using sending events").
//
// What this cannot see: interleavings the OS does not happen to produce (the
// models cover those). A property here asserts only what must hold in every
// run.
#include <interleave/event.hpp>

#include <rapidcheck/state.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "jitter_sync.hpp"
#include "testkit.hpp"
#include "workloads.hpp"
// after gtest (testkit.hpp includes it)
#include <rapidcheck/gtest.h>

namespace interleave {
namespace {

using namespace std::chrono_literals;

INTERLEAVE_PROP(EventProps, set_wakes_every_waiter_even_if_cleared_at_once, "event", ()) {
  const int waiters = *rc::gen::inRange(1, 9);
  const bool set_early = *rc::gen::arbitrary<bool>();    // before or after the waiters block
  const bool clear_after = *rc::gen::arbitrary<bool>();  // clear() right after set()
  Event<> ev;
  std::vector<char> returned(static_cast<size_t>(waiters), 0);
  if (set_early && !clear_after) ev.set();
  std::vector<std::thread> pool;
  for (int w = 0; w < waiters; ++w)
    pool.emplace_back([&, w] { returned[static_cast<size_t>(w)] = ev.wait(); });
  if (!(set_early && !clear_after)) {
    checks::until_waiting(ev, waiters);  // every waiter is blocked: set() must wake them all
    ev.set();
    if (clear_after) ev.clear();
  }
  for (auto& t : pool) t.join();
  for (char r : returned) RC_ASSERT(r == 1);
  RC_ASSERT(ev.is_set() == !clear_after);
  RC_ASSERT(ev.n_waiting() == 0);
}

INTERLEAVE_PROP(EventProps, wait_for_is_false_only_when_no_set_came, "event", ()) {
  const int micros = *rc::gen::inRange(0, 2000);
  const bool set_first = *rc::gen::arbitrary<bool>();
  Event<> ev;
  if (set_first) ev.set();
  const bool got = ev.wait_for(std::chrono::microseconds(micros));
  RC_ASSERT(got == set_first);
  RC_ASSERT(ev.n_waiting() == 0);
}

// Sequential semantics: set/clear/is_set/wait_for(0) against a bool.
struct EventModel {
  bool flag = false;
};
using EventCmd = rc::state::Command<EventModel, Event<>>;
struct Set : EventCmd {
  void apply(EventModel& m) const override { m.flag = true; }
  void run(const EventModel&, Event<>& ev) const override { ev.set(); }
  void show(std::ostream& os) const override { os << "set"; }
};
struct Clear : EventCmd {
  void apply(EventModel& m) const override { m.flag = false; }
  void run(const EventModel&, Event<>& ev) const override { ev.clear(); }
  void show(std::ostream& os) const override { os << "clear"; }
};
struct Check : EventCmd {
  void run(const EventModel& m, Event<>& ev) const override {
    RC_ASSERT(ev.is_set() == m.flag);
    RC_ASSERT(ev.wait_for(0ms) == m.flag);
  }
  void show(std::ostream& os) const override { os << "check"; }
};

INTERLEAVE_PROP(EventProps, sequential_set_clear_matches_a_flag, "event", ()) {
  EventModel model;
  Event<> ev;
  rc::state::check(model, ev, rc::state::gen::execOneOfWithArgs<Set, Clear, Check>());
}

TEST(EventUnit, negative_timeout_is_refused_with_a_message) {
  Event<> ev;
  try {
    (void)ev.wait_for(-1ms);
    FAIL() << "wait_for(-1ms) did not throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
  }
}

// set() racing waiters that are only beginning to wait (not yet blocked):
// every waiter must return. Run on the jitter backend (a random pause before
// each lock), which widens the window between a waiter's first look at the
// flag and its lock, and under the watchdog, since the broken twin's lost
// wake-up is a waiter that never returns.
template <class Ev>
void set_racing_new_waiters_wakes_them_all() {
  const int waiters = *rc::gen::inRange(1, 5);
  const int rounds = *rc::gen::inRange(1, 30);
  testkit::watchdog(
      std::to_string(waiters) + " waiter(s) starting while set() runs, " + std::to_string(rounds) +
          " round(s): a wait()",
      [&] {
        for (int r = 0; r < rounds; ++r) {
          Ev ev;
          std::vector<char> returned(static_cast<size_t>(waiters), 0);
          std::vector<std::thread> pool;
          for (int w = 0; w < waiters; ++w)
            pool.emplace_back([&, w] { returned[static_cast<size_t>(w)] = ev.wait(); });
          ev.set();
          for (auto& t : pool) t.join();
          for (char x : returned) RC_ASSERT(x == 1);
        }
      });
}

INTERLEAVE_PROP(EventProps, set_wakes_waiters_that_are_just_beginning_to_wait, "event", ()) {
  set_racing_new_waiters_wakes_them_all<Event<props::jitter_sync>>();
}

// The broken twin held to the same guarantee: its unlocked check followed by
// a wait that does not re-check loses the set() that lands in between, and
// the waiter hangs; the watchdog reports it, RapidCheck shrinks it.
INTERLEAVE_PROP_FALSIFIED(EventProps, unlocked_check_twin_loses_a_racing_set_and_a_waiter_hangs,
                          "event.broken_unlocked_check", ()) {
  set_racing_new_waiters_wakes_them_all<BrokenUnlockedCheckEvent<props::jitter_sync>>();
}

// Without concurrency the twin behaves (set, then wait, returns at once): a
// sanity check of the twin, not a cell of the matrix.
RC_GTEST_PROP(EventProps, broken_event_alone_returns_after_set, ()) {
  const int times = *rc::gen::inRange(1, 50);
  BrokenUnlockedCheckEvent<> ev;
  ev.set();
  for (int i = 0; i < times; ++i) RC_ASSERT(ev.wait());
  ev.clear();
  RC_ASSERT(!ev.is_set());
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
