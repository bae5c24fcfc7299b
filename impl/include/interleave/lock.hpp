// interleave/lock.hpp — a lock in the manner of Python's threading.Lock: not
// owned by a thread, released by anyone, acquired blocking, non-blocking or
// with a timeout.
//
// Seed scenario: "Fix for race condition" (the counter's increment under a
// lock).
//
//   Lock<Sync>                       the fixed lock (BasicLock<Sync>).
//   BrokenUnlockedReleaseLock<Sync>  the broken twin (lock_bug::unlocked_release):
//                                    release() checks and clears the flag and
//                                    notifies without taking the lock's
//                                    mutex (a "fast" release). The flag is
//                                    then written unordered with an
//                                    acquirer's read (a data race), and an
//                                    acquirer that has just seen the lock
//                                    held and is about to wait misses the
//                                    notify: a lost wake-up, a hang.
//
// Python correspondence: acquire(blocking=True, timeout=-1) is
//   acquire() / acquire(false) / acquire(true, timeout); release();
//   locked(); `with lock:` is std::lock_guard / std::unique_lock /
//   std::scoped_lock (Lock meets Lockable and TimedLockable: lock(),
//   try_lock(), try_lock_for(), try_lock_until(), unlock()).
//
// Requires: a timeout >= 0 or exactly Lock::forever (else
//   std::invalid_argument naming "timeout", as Python's ValueError "timeout
//   value must be a non-negative number"); no timeout with blocking=false
//   (std::invalid_argument naming "timeout": Python's "can't specify a
//   timeout for a non-blocking call"); release() only of a locked lock (else
//   std::runtime_error "release unlocked lock", Python's RuntimeError). A
//   huge timeout saturates (interleave/deadline.hpp).
// Guarantees:
//   - Mutual exclusion: between an acquire that returned true and the next
//     release(), no other acquire returns true.
//   - The lock is not owned: any thread may release it (Python allows it;
//     std::mutex does not), and a thread that acquires it twice without a
//     release blocks (not recursive).
//   - acquire(false) never blocks; acquire(true, d) returns false only if the
//     lock stayed held for d; a timed-out acquire leaves no trace: the lock
//     is usable as before.
//   - release() wakes one blocked acquirer, if any. No fairness: a thread
//     arriving at acquire() may take the lock first.
// Memory ordering: everything a thread did before release() happens-before
//   everything the thread whose acquire() then returns true does after it
//   (both go through the lock's mutex).
// Destruction: the lock may be destroyed when no thread is inside acquire()
//   or release(); whether it is locked then does not matter (Python's).
#pragma once

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>

#include "interleave/deadline.hpp"
#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// Which lock: the fixed one, or the broken twin (see the header comment).
enum class lock_bug { none, unlocked_release };

template <SyncBackend Sync = std_sync, lock_bug Bug = lock_bug::none>
class BasicLock {
 public:
  // Python's timeout=-1: wait as long as it takes.
  static constexpr std::chrono::duration<double> forever{-1.0};

  BasicLock() = default;
  BasicLock(const BasicLock&) = delete;
  BasicLock& operator=(const BasicLock&) = delete;

  // Python's acquire(): blocks until the lock is free, takes it, returns true.
  bool acquire() INTERLEAVE_EXCLUDES(mu_) { return acquire_impl(true, nullptr); }
  // Python's acquire(blocking): acquire(false) takes the lock only if it is
  // free now, and says whether it did.
  bool acquire(bool blocking) INTERLEAVE_EXCLUDES(mu_) { return acquire_impl(blocking, nullptr); }
  // Python's acquire(blocking, timeout): waits at most `timeout` (forever:
  // Lock::forever); returns whether it took the lock.
  template <class Rep, class Period>
  bool acquire(bool blocking, const std::chrono::duration<Rep, Period>& timeout)
      INTERLEAVE_EXCLUDES(mu_) {
    if (timeout == forever) return acquire_impl(blocking, nullptr);
    if (!blocking)
      throw std::invalid_argument("Lock::acquire: timeout cannot be given with blocking=false");
    const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "Lock::acquire");
    return acquire_impl(true, &deadline);
  }

  // Python's release(): frees the lock, from any thread, and wakes one
  // waiting acquirer.
  void release() INTERLEAVE_EXCLUDES(mu_) {
    if constexpr (Bug == lock_bug::unlocked_release) {
      // BUG (the broken twin): flag checked and cleared, and the waiter
      // notified, without the mutex.
      if (!unguarded_locked()) throw std::runtime_error("Lock::release: release unlocked lock");
      unguarded_clear();  // interleave:race-write lock.broken_unlocked_release
      cv_.notify_one();
    } else {
      std::unique_lock<typename Sync::mutex> lk(mu_);
      if (!locked_.load()) throw std::runtime_error("Lock::release: release unlocked lock");
      locked_.store(false);
      cv_.notify_one();
    }
  }

  // Python's locked(): whether some thread holds the lock now (a snapshot).
  [[nodiscard]] bool locked() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return locked_.load();
  }

  // Lockable / TimedLockable, for std::lock_guard, std::unique_lock and
  // std::scoped_lock.
  void lock() INTERLEAVE_EXCLUDES(mu_) { acquire(); }
  bool try_lock() INTERLEAVE_EXCLUDES(mu_) { return acquire(false); }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& d) INTERLEAVE_EXCLUDES(mu_) {
    // std's rule: a negative duration is "do not wait", not an error.
    if (d <= d.zero()) return acquire(false);
    return acquire(true, d);
  }
  template <class Clock, class Dur>
  bool try_lock_until(const std::chrono::time_point<Clock, Dur>& t) INTERLEAVE_EXCLUDES(mu_) {
    return try_lock_for(t - Clock::now());
  }
  void unlock() INTERLEAVE_EXCLUDES(mu_) { release(); }

 private:
  bool acquire_impl(bool blocking, const typename Sync::clock::time_point* deadline)
      INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    while (locked_.load()) {  // interleave:race-read lock.broken_unlocked_release
      if (!blocking) return false;
      if (deadline == nullptr) {
        cv_.wait(lk);
      } else if (cv_.wait_until(lk, *deadline) == std::cv_status::timeout && locked_.load()) {
        return false;
      }
    }
    locked_.store(true);
    return true;
  }

  // The twin's unguarded accesses (the analysis is told they are deliberate).
  bool unguarded_locked() const INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS { return locked_.load(); }
  void unguarded_clear() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS { locked_.store(false); }

  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable cv_;
  typename Sync::template var<bool> locked_ INTERLEAVE_GUARDED_BY(mu_){false};
};

template <SyncBackend Sync = std_sync>
using Lock = BasicLock<Sync, lock_bug::none>;
// The broken twin (see the header comment). Kept on purpose: its checks must
// fail.
template <SyncBackend Sync = std_sync>
using BrokenUnlockedReleaseLock = BasicLock<Sync, lock_bug::unlocked_release>;

}  // namespace interleave
