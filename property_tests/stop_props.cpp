// property_tests/stop_props.cpp — stopping the Fibonacci worker on real
// threads (seed: "Stopping a thread").
//
// What this cannot see: interleavings the OS does not happen to produce, and
// the data race of the plain flag. That race is undefined behaviour with no
// observable symptom here: the worker's loop calls into the library (its
// pause) on every step, so the compiler reloads the flag and a stop is seen;
// no hang or wrong value follows for a watchdog or an assertion to catch.
// The model and TSan layers show the race; the matrix says n/a here.
#include <interleave/stoppable.hpp>

#include <chrono>
#include <thread>

#include "testkit.hpp"
// after gtest (testkit.hpp includes it)
#include <rapidcheck/gtest.h>
#include "workloads.hpp"

namespace interleave {
namespace {

template <class Worker>
void stop_then_join_property() {
  const auto limit = static_cast<std::size_t>(*rc::gen::inRange(0, 93));
  const int pause_us = *rc::gen::inRange(0, 50);
  const int yields = *rc::gen::inRange(0, 300);
  const int reason = *rc::gen::inRange(0, 1000);
  Worker worker(limit, std::chrono::microseconds(pause_us));
  worker.start();
  for (int i = 0; i < yields; ++i) std::this_thread::yield();
  worker.stop(reason);
  worker.join();
  const auto v = worker.values();
  RC_ASSERT(v.size() <= limit);
  RC_ASSERT(checks::is_fibonacci_prefix(v));
  if (worker.stopped_by_request())
    RC_ASSERT(worker.reason_seen() == reason);
  else
    RC_ASSERT(v.size() == limit);
}

INTERLEAVE_PROP(StopProps, atomic_flag_stop_then_join_leaves_a_fibonacci_prefix_and_the_reason,
                "stop.atomic_flag", ()) {
  stop_then_join_property<StoppableFibonacci<AtomicStopFlag<>>>();
}

INTERLEAVE_PROP(StopProps, stop_token_stop_then_join_leaves_a_fibonacci_prefix_and_the_reason,
                "stop.stop_token", ()) {
  stop_then_join_property<JthreadFibonacci<>>();
}

// The plain-flag twin where it cannot race: stopped before start (thread
// creation orders the write before every read), or never stopped. A sanity
// check of the twin, not a cell of the matrix: the twin's only bug is the
// data race, which this layer cannot observe (see the header comment).
RC_GTEST_PROP(StopProps, plain_flag_without_concurrent_stop_behaves, ()) {
  const auto limit = static_cast<std::size_t>(*rc::gen::inRange(0, 93));
  const bool stop_first = *rc::gen::arbitrary<bool>();
  StoppableFibonacci<PlainStopFlag<>> worker(limit);
  if (stop_first) worker.stop(3);
  worker.start();
  worker.join();
  const auto v = worker.values();
  RC_ASSERT(checks::is_fibonacci_prefix(v));
  if (stop_first) {
    RC_ASSERT(v.empty());
    RC_ASSERT(worker.stopped_by_request() && worker.reason_seen() == 3);
  } else {
    RC_ASSERT(v.size() == limit);
  }
}

TEST(StopUnit, the_jthread_worker_is_stopped_and_joined_by_its_destructor) {
  {
    JthreadFibonacci<> w(92, std::chrono::milliseconds(1));
    w.start();
  }  // must not hang or terminate
  {
    StoppableFibonacci<AtomicStopFlag<>> w(92, std::chrono::milliseconds(1));
    w.start();
  }
  SUCCEED();
}

template <class Worker>
void expect_misuse_refused() {
  Worker w(5);
  EXPECT_THROW(w.join(), std::logic_error);  // not started
  w.start();
  try {
    w.start();
    ADD_FAILURE() << "second start() did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("already started"), std::string::npos) << e.what();
  }
  w.join();
  EXPECT_NO_THROW(w.join());  // joining again is harmless
  try {
    Worker bad(93);
    ADD_FAILURE() << "limit 93 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
  }
  try {
    Worker bad(5, std::chrono::nanoseconds(-1));
    ADD_FAILURE() << "negative pause accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pause"), std::string::npos) << e.what();
  }
}

TEST(StopUnit, misuse_is_refused_with_a_message_atomic_flag) {
  expect_misuse_refused<StoppableFibonacci<AtomicStopFlag<>>>();
}
TEST(StopUnit, misuse_is_refused_with_a_message_jthread) {
  expect_misuse_refused<JthreadFibonacci<>>();
  JthreadFibonacci<> w(5);
  EXPECT_THROW(w.stop(), std::logic_error);  // before start
}

TEST(StopUnit, values_before_join_is_refused) {
  StoppableFibonacci<AtomicStopFlag<>> w(92, std::chrono::milliseconds(1));
  w.start();
  EXPECT_THROW((void)w.values(), std::logic_error);
  w.stop();
  w.join();
  EXPECT_TRUE(w.stopped_by_request());
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
