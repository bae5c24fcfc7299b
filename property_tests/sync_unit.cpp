// property_tests/sync_unit.cpp — unit tests of the std backend's pieces that
// every primitive stands on: the scoped lock and the condition variable.
#include <interleave/sync.hpp>

#include <gtest/gtest.h>

#include <thread>

#include "testkit.hpp"

namespace interleave {
namespace {

using mutex = std_sync::mutex;
using lock = std::unique_lock<mutex>;

TEST(SyncUnit, unique_lock_holds_and_releases) {
  mutex mu;
  {
    lock lk(mu);
    EXPECT_TRUE(lk.owns_lock());
    EXPECT_FALSE(mu.try_lock());  // held by this scope
  }
  if (mu.try_lock())
    mu.unlock();
  else
    ADD_FAILURE() << "the mutex is still held after the scoped lock ended";
}

// These bodies misuse locks on purpose, which clang's thread-safety analysis
// (rightly) rejects; the analysis is off for them alone.
void misuse_lock_twice_unlock_twice_and_lock_nothing() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
  mutex mu;
  lock lk(mu);
  EXPECT_THROW(lk.lock(), std::system_error);  // already held: would self-deadlock
  lk.unlock();
  EXPECT_THROW(lk.unlock(), std::system_error);  // not held
  lock empty;
  EXPECT_THROW(empty.lock(), std::system_error);  // no mutex
}

TEST(SyncUnit, unique_lock_misuse_throws_instead_of_deadlocking) {
  misuse_lock_twice_unlock_twice_and_lock_nothing();
}

void defer_adopt_release_and_move() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
  mutex mu;
  lock deferred(mu, std::defer_lock);
  EXPECT_FALSE(deferred.owns_lock());
  deferred.lock();
  lock moved(std::move(deferred));
  EXPECT_TRUE(moved.owns_lock());
  EXPECT_FALSE(deferred.owns_lock());
  mutex* released = moved.release();
  EXPECT_EQ(released, &mu);
  lock adopted(mu, std::adopt_lock);
  EXPECT_TRUE(adopted.owns_lock());
}

TEST(SyncUnit, unique_lock_defer_adopt_release_and_move) { defer_adopt_release_and_move(); }

TEST(SyncUnit, condition_variable_wakes_a_waiter_with_the_predicate_true) {
  mutex mu;
  std_sync::condition_variable cv;
  bool ready = false;
  std::thread setter([&] {
    lock lk(mu);
    ready = true;
    cv.notify_all();
  });
  lock lk(mu);
  cv.wait(lk, [&] { return ready; });
  EXPECT_TRUE(ready);
  lk.unlock();
  setter.join();
}

TEST(SyncUnit, condition_variable_timed_wait_reports_the_timeout) {
  mutex mu;
  std_sync::condition_variable cv;
  lock lk(mu);
  EXPECT_FALSE(cv.wait_for(lk, std::chrono::milliseconds(1), [] { return false; }));
  EXPECT_TRUE(cv.wait_for(lk, std::chrono::milliseconds(1), [] { return true; }));
  EXPECT_TRUE(lk.owns_lock());
}

TEST(SyncUnit, thread_index_is_distinct_per_thread) {
  const auto mine = std_sync::thread_index();
  std::size_t theirs = mine;
  std::thread t([&] { theirs = std_sync::thread_index(); });
  t.join();
  EXPECT_NE(mine, theirs);
  EXPECT_EQ(mine, std_sync::thread_index());
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("unit")
