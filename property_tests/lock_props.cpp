// property_tests/lock_props.cpp — the Python-style Lock on real threads
// (seed: "Fix for race condition"): mutual exclusion for generated threads
// and critical sections, release from another thread, timed acquires that
// leave the lock usable, the argument errors, and use through
// std::lock_guard / std::unique_lock / std::scoped_lock.
//
// What this cannot see: interleavings the OS does not happen to produce (the
// models cover those), and the broken twin's lost wake-up, whose window is a
// few instructions between a waiter's check and its wait (the model and TSan
// see the twin's unlocked write itself).
#include <interleave/lock.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testkit.hpp"

namespace interleave {
namespace {

// Threads x critical sections, every acquire in one of its three forms
// (blocking, non-blocking retried, timed retried): one holder at a time,
// nothing lost, the lock free at the end.
INTERLEAVE_PROP(Lock, MutualExclusionHoldsForEveryFormOfAcquire, "lock", ()) {
  const int threads = *rc::gen::inRange(1, 7);
  const int sections = *rc::gen::inRange(1, 200);
  const auto forms =
      *rc::gen::container<std::vector<int>>(static_cast<size_t>(threads), rc::gen::inRange(0, 3));
  Lock<> lock;
  long counter = 0;  // plain: only the lock orders it
  std::atomic<int> holders{0}, overlaps{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, form = forms[static_cast<size_t>(t)]] {
      for (int i = 0; i < sections; ++i) {
        if (form == 0) {
          lock.acquire();
        } else if (form == 1) {
          while (!lock.acquire(false)) std::this_thread::yield();
        } else {
          while (!lock.acquire(true, std::chrono::microseconds(50))) {
          }
        }
        if (holders.fetch_add(1) != 0) overlaps.fetch_add(1);
        ++counter;
        holders.fetch_sub(1);
        lock.release();
      }
    });
  for (auto& t : ts) t.join();
  RC_ASSERT(overlaps.load() == 0);
  RC_ASSERT(counter == static_cast<long>(threads) * sections);
  RC_ASSERT(!lock.locked());
}

// The lock is not owned: one thread acquires, another releases, and the
// first can then take it again (its blocked acquire is woken).
INTERLEAVE_PROP(Lock, ReleaseFromAnotherThreadWakesTheBlockedAcquirer, "lock", ()) {
  const int rounds = *rc::gen::inRange(1, 50);
  testkit::watchdog(
      std::to_string(rounds) + " round(s) of acquire here, release there: an acquire()", [&] {
        for (int r = 0; r < rounds; ++r) {
          Lock<> lock;
          int handed = 0;
          bool saw_handed = false;
          std::thread holder([&] {
            lock.acquire();
            lock.acquire();  // blocks until the other thread releases
            saw_handed = handed == 1;
            lock.release();
          });
          while (!lock.locked()) std::this_thread::yield();
          handed = 1;  // before the release: visible to the holder's second acquire
          lock.release();
          holder.join();
          RC_ASSERT(saw_handed);
          RC_ASSERT(!lock.locked());
        }
      });
}

// A timed acquire of a held lock returns false no sooner than its timeout
// and leaves no trace: the holder's release makes the lock free, and the
// next acquire(false) takes it.
INTERLEAVE_PROP(Lock, TimedOutAcquireLeavesTheLockUsable, "lock", ()) {
  const int timeout_us = *rc::gen::inRange(0, 3000);
  Lock<> lock;
  lock.acquire();
  bool got = true;
  std::chrono::steady_clock::duration waited{};
  std::thread other([&] {
    const auto t0 = std::chrono::steady_clock::now();
    got = lock.acquire(true, std::chrono::microseconds(timeout_us));
    waited = std::chrono::steady_clock::now() - t0;
  });
  other.join();
  RC_ASSERT(!got);
  RC_ASSERT(waited >= std::chrono::microseconds(timeout_us));
  RC_ASSERT(lock.locked());
  lock.release();
  RC_ASSERT(!lock.locked());
  RC_ASSERT(lock.acquire(false));
  lock.release();
}

INTERLEAVE_TEST(Lock, ArgumentErrorsNameTheArgumentOrTheState, "lock") {
  Lock<> lock;
  const auto message_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_THROW(lock.acquire(true, std::chrono::milliseconds(-5)), std::invalid_argument);
  EXPECT_NE(message_of([&] { lock.acquire(true, std::chrono::milliseconds(-5)); }).find("timeout"),
            std::string::npos);
  EXPECT_THROW(lock.acquire(false, std::chrono::milliseconds(5)), std::invalid_argument);
  EXPECT_NE(message_of([&] { lock.acquire(false, std::chrono::milliseconds(5)); }).find("timeout"),
            std::string::npos);
  EXPECT_THROW(lock.release(), std::runtime_error);
  EXPECT_NE(message_of([&] { lock.release(); }).find("release unlocked lock"), std::string::npos);
  EXPECT_FALSE(lock.locked());                       // none of the refused calls changed it
  EXPECT_TRUE(lock.acquire(true, Lock<>::forever));  // Python's timeout=-1
  EXPECT_FALSE(lock.acquire(false));                 // not recursive
  EXPECT_FALSE(lock.acquire(true, std::chrono::hours(0)));
  lock.release();
  EXPECT_TRUE(
      lock.acquire(true, std::chrono::hours(1'000'000)));  // huge: saturated, not overflowed
  lock.release();
  testkit::cell(
      "lock",
      "negative timeout and timeout with blocking=false refused naming 'timeout', release of an "
      "unlocked lock refused ('release unlocked lock'), state unchanged after each");
}

INTERLEAVE_TEST(Lock, WorksWithLockGuardUniqueLockAndScopedLock, "lock") {
  Lock<> a, b;
  {
    std::lock_guard<Lock<>> g(a);
    EXPECT_TRUE(a.locked());
  }
  EXPECT_FALSE(a.locked());
  {
    std::unique_lock<Lock<>> u(a, std::defer_lock);
    EXPECT_TRUE(u.try_lock_for(std::chrono::milliseconds(1)));
    EXPECT_TRUE(a.locked());
    std::thread other([&] {
      std::unique_lock<Lock<>> v(a, std::try_to_lock);
      EXPECT_FALSE(v.owns_lock());
      EXPECT_FALSE(
          v.try_lock_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(2)));
    });
    other.join();
  }
  EXPECT_FALSE(a.locked());
  {
    std::scoped_lock both(a, b);  // std::lock's deadlock avoidance over two Locks
    EXPECT_TRUE(a.locked() && b.locked());
  }
  EXPECT_FALSE(a.locked() || b.locked());
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
