// interleave/counter.hpp — the shared counter race and its fixes.
//
// Seed scenario: "Race conditions" (Scenarios A and B), "Simulate race
// condition" and "Fix for race condition". Two threads each increment a shared
// counter n times by reading it, pausing, and writing back the value read plus
// one; when the scheduler switches between one thread's read and its write,
// the other thread's increments are overwritten (Scenario B: A reads 1, B
// reads 1, both write 2).
//
// Four counters, one interface (`increment(pause)`, `value()`):
//
//   RacyCounter         read/pause/write on plain memory (`var<long>`): loses
//                       updates AND is a data race, undefined behaviour in
//                       C++. Kept on purpose, as the broken twin that
//                       ThreadSanitizer and Relacy's race detector must catch.
//   RelaxedRacyCounter  the same read/pause/write on a relaxed atomic: every
//                       access is well defined, but the read-modify-write is
//                       not atomic, so updates are still lost. The race that
//                       no sanitizer sees, only a model or a count.
//   LockedCounter       the seed's fix: the read/pause/write under a mutex.
//   AtomicCounter       one fetch_add; no lock, no lost update.
//
// Requires: nothing; `pause` is any callable, run between the read and the
//   write-back (the seed's `randsleep()`; a no-op by default). A pause that
//   takes a `long` is handed the value read (the seed's "post it to an API").
// Guarantees:
//   LockedCounter, AtomicCounter: after every incrementing thread has been
//     joined, value() == the number of increment() calls. No increment is
//     lost under any interleaving.
//   RacyCounter, RelaxedRacyCounter: only 0 <= value() <= calls; fewer when
//     a thread is preempted between its read and its write.
// Memory ordering:
//   LockedCounter: increment() and value() synchronise through the mutex;
//     value() sees every increment that released the lock before it.
//   AtomicCounter: fetch_add is relaxed — the count needs atomicity, not
//     ordering with other data; value() is a relaxed load, exact once the
//     incrementers have been joined (join synchronises with their end).
// Destruction: no thread may be inside increment().
#pragma once

#include <mutex>
#include <type_traits>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

struct no_pause {
  void operator()() const noexcept {}
};

namespace detail {
// The pause sees the value read when it can take it: the seed's "post that
// value to an API" step of Scenarios A and B.
template <class Pause>
void pause_after_read(Pause& pause, long read) {
  if constexpr (std::is_invocable_v<Pause&, long>)
    pause(read);
  else
    pause();
}
}  // namespace detail

template <SyncBackend Sync = std_sync>
class RacyCounter {
 public:
  explicit RacyCounter(long initial = 0) : value_(initial) {}

  template <class Pause = no_pause>
  void increment(Pause&& pause = {}) {
    const long current = value_.load();  // interleave:race-read counter.racy_plain
    detail::pause_after_read(pause, current);
    value_.store(current + 1);  // interleave:race-write counter.racy_plain
  }
  long value() const { return value_.load(); }

 private:
  typename Sync::template var<long> value_;
};

template <SyncBackend Sync = std_sync>
class RelaxedRacyCounter {
 public:
  explicit RelaxedRacyCounter(long initial = 0) : value_(initial) {}

  template <class Pause = no_pause>
  void increment(Pause&& pause = {}) {
    const long current = value_.load(std::memory_order_relaxed);  // interleave:bug counter.racy_relaxed
    detail::pause_after_read(pause, current);
    value_.store(current + 1, std::memory_order_relaxed);  // interleave:bug counter.racy_relaxed
  }
  long value() const { return value_.load(std::memory_order_relaxed); }

 private:
  typename Sync::template atomic<long> value_;
};

template <SyncBackend Sync = std_sync>
class LockedCounter {
 public:
  explicit LockedCounter(long initial = 0) : value_(initial) {}

  template <class Pause = no_pause>
  void increment(Pause&& pause = {}) INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    const long current = value_.load();
    detail::pause_after_read(pause, current);
    value_.store(current + 1);
  }
  long value() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return value_.load();
  }

 private:
  mutable typename Sync::mutex mu_;
  typename Sync::template var<long> value_ INTERLEAVE_GUARDED_BY(mu_);
};

template <SyncBackend Sync = std_sync>
class AtomicCounter {
 public:
  explicit AtomicCounter(long initial = 0) : value_(initial) {}

  template <class Pause = no_pause>
  void increment(Pause&& pause = {}) {
    const long before = value_.fetch_add(1, std::memory_order_relaxed);
    detail::pause_after_read(pause, before);  // the value this increment read
  }
  long value() const { return value_.load(std::memory_order_relaxed); }

 private:
  typename Sync::template atomic<long> value_;
};

}  // namespace interleave
