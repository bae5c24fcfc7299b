// interleave/event.hpp — a manual-reset event: set / clear / is_set / wait /
// wait_for, in the manner of Python's threading.Event.
//
// Seed scenario: "Thread communication using sending events" (one thread
// fires, another listens).
//
//   Event<Sync>                    the fixed event (BasicEvent<Sync>).
//   BrokenUnlockedCheckEvent<Sync> the broken twin (the same class with
//                                  event_bug::unlocked_check): wait() reads the flag
//                                  without the lock and then waits once
//                                  without re-checking. The unlocked read is a
//                                  data race (Relacy's race detector and TSan
//                                  report it at the line marked
//                                  `interleave:race-read event.broken_unlocked_check`),
//                                  and a set() that lands between the check
//                                  and the wait is a lost wake-up.
//   BrokenRelaxedFlagEvent<Sync>   the broken twin event_bug::relaxed_flag:
//                                  the lock-free flag that is_set() and
//                                  wait()'s fast path read is stored and
//                                  loaded with memory_order_relaxed, so a
//                                  thread that sees the flag set may not see
//                                  what the setter wrote before set(): a data
//                                  race on the published data (the models
//                                  report it; TSan too), invisible on x86's
//                                  real threads.
//
// Requires: timeouts are >= 0 (a negative timeout throws
//   std::invalid_argument naming "timeout"); a huge one (hours::max())
//   saturates and waits as long as it takes (interleave/deadline.hpp).
// Guarantees:
//   - set() makes the flag true and wakes EVERY thread blocked in wait() or
//     wait_for() (notify_all; no lost wake-up).
//   - What wait() returns when set() and clear() both happen before a waiter
//     runs: a waiter that had already begun waiting when set() ran returns
//     true even if clear() follows before it is scheduled (Python's rule; the
//     event counts its set() calls and a waiter leaves when the count moved
//     since it began). A thread that begins waiting after the clear() waits
//     for the next set().
//   - wait() returns true; wait_for(d) returns true if the flag was set when
//     it began, or a set() happened while it waited; false if d elapsed first.
// Memory ordering: everything a thread did before set() happens-before
//   everything a thread does after its wait()/wait_for()/is_set() returned
//   true because of that set(): the blocking paths take the event's mutex;
//   is_set() and wait()'s fast path (a waiter that finds the flag already
//   set returns without the lock, like Python's Event.is_set()) read a
//   lock-free copy of the flag with memory_order_acquire, which set() stores
//   with memory_order_release under the mutex.
// Destruction: no thread may be inside wait()/wait_for() (wake them with
//   set() and join them first).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// Which event: the fixed one, or the broken twin (see the header comment).
enum class event_bug { none, unlocked_check, relaxed_flag };

template <SyncBackend Sync = std_sync, event_bug Bug = event_bug::none>
class BasicEvent {
 public:
  BasicEvent() = default;
  BasicEvent(const BasicEvent&) = delete;
  BasicEvent& operator=(const BasicEvent&) = delete;

  void set() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    flag_.store(true);  // interleave:race-write event.broken_unlocked_check
    published_.store(true, kPublish);  // interleave:bug event.broken_relaxed_flag
    sets_.store(sets_.load() + 1);
    cv_.notify_all();
  }
  void clear() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    flag_.store(false);
    published_.store(false, kPublish);
  }
  // Lock-free: the flag as the last set()/clear() published it.
  [[nodiscard]] bool is_set() const INTERLEAVE_EXCLUDES(mu_) {
    return published_.load(kObserve);  // interleave:bug event.broken_relaxed_flag
  }
  // Blocks until the flag is set, or a set() happened since this call began.
  bool wait() INTERLEAVE_EXCLUDES(mu_) {
    if constexpr (Bug == event_bug::unlocked_check) {
      // BUG: the flag is read without the lock, and the wait does not
      // re-check it: a set() between the two is never seen.
      if (read_flag_unlocked()) return true;
      std::unique_lock<typename Sync::mutex> lk(mu_);
      cv_.wait(lk);
      return true;
    }
    if (published_.load(kObserve)) return true;  // already set: no lock needed
    std::unique_lock<typename Sync::mutex> lk(mu_);
    const unsigned long began = sets_.load();
    waiting_.store(waiting_.load() + 1);
    while (!flag_.load() && sets_.load() == began) cv_.wait(lk);
    waiting_.store(waiting_.load() - 1);
    return true;
  }
  // As wait(), but gives up after `timeout`: false if no set() was seen.
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) INTERLEAVE_EXCLUDES(mu_) {
    const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "Event::wait_for");
    std::unique_lock<typename Sync::mutex> lk(mu_);
    const unsigned long began = sets_.load();
    waiting_.store(waiting_.load() + 1);
    bool seen = true;
    while (!flag_.load() && sets_.load() == began) {
      if (cv_.wait_until(lk, deadline) == std::cv_status::timeout) {
        seen = flag_.load() || sets_.load() != began;
        break;
      }
    }
    waiting_.store(waiting_.load() - 1);
    return seen;
  }
  // Threads currently blocked in wait()/wait_for() (for tests and monitoring).
  [[nodiscard]] int n_waiting() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return waiting_.load();
  }

 private:
  // The broken twin's unlocked read (a data race by design).
  bool read_flag_unlocked() const INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    return flag_.load();  // interleave:race-read event.broken_unlocked_check
  }

  static constexpr std::memory_order kPublish =
      Bug == event_bug::relaxed_flag ? std::memory_order_relaxed : std::memory_order_release;
  static constexpr std::memory_order kObserve =
      Bug == event_bug::relaxed_flag ? std::memory_order_relaxed : std::memory_order_acquire;

  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable cv_;
  typename Sync::template var<bool> flag_ INTERLEAVE_GUARDED_BY(mu_){false};
  // flag_'s value, for is_set() and wait()'s fast path; written under mu_.
  typename Sync::template atomic<bool> published_{false};
  typename Sync::template var<unsigned long> sets_ INTERLEAVE_GUARDED_BY(mu_){0ul};
  typename Sync::template var<int> waiting_ INTERLEAVE_GUARDED_BY(mu_){0};
};

template <SyncBackend Sync = std_sync>
using Event = BasicEvent<Sync, event_bug::none>;

// The broken twin (see the header comment). Kept on purpose: its checks must
// fail.
template <SyncBackend Sync = std_sync>
using BrokenUnlockedCheckEvent = BasicEvent<Sync, event_bug::unlocked_check>;
template <SyncBackend Sync = std_sync>
using BrokenRelaxedFlagEvent = BasicEvent<Sync, event_bug::relaxed_flag>;

}  // namespace interleave
