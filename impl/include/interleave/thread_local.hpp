// interleave/thread_local.hpp — per-thread data that goes through the sync
// backend, in the manner of Python's threading.local.
//
// Seed scenario: "A thread's local data": three threads each store a random
// value in one shared `local` object, meet at a Barrier(3), and each reads
// back its own value (not the last one written).
//
// Why not C++ `thread_local`: under a model checker whose threads are fibers
// on one OS thread (Relacy), every model thread would share one
// `thread_local`. ThreadLocal keys each slot by `Sync::thread_index()`, which
// tells model threads apart too.
//
// Requires: nothing. T is default-constructible and copyable.
// Guarantees:
//   - get() returns the value the calling thread last set(), or T{} if it
//     never did; it never returns another thread's value.
//   - has_value() tells whether the calling thread ever set().
//   - Each slot is touched only by its own thread (the slot is a backend
//     `var<T>`, so a model would report a data race if two threads ever
//     shared one).
// Memory ordering: none between threads (there is nothing to share); the map
//   of slots is guarded by a mutex, held only to find or create a slot.
// Destruction / lifetime: slots live as long as the ThreadLocal object (one
//   per thread that ever touched it; std_sync never reuses a thread index, so
//   a new thread never inherits a dead thread's value). No thread may be
//   inside get()/set() at destruction.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

template <class T, SyncBackend Sync = std_sync>
class ThreadLocal {
 public:
  ThreadLocal() = default;
  ThreadLocal(const ThreadLocal&) = delete;
  ThreadLocal& operator=(const ThreadLocal&) = delete;

  void set(T value) INTERLEAVE_EXCLUDES(mu_) {
    Slot& s = slot();
    s.value.store(std::move(value));
    s.set.store(true);
  }
  [[nodiscard]] T get() INTERLEAVE_EXCLUDES(mu_) { return slot().value.load(); }
  [[nodiscard]] bool has_value() INTERLEAVE_EXCLUDES(mu_) { return slot().set.load(); }
  // Threads that have a slot.
  [[nodiscard]] std::size_t size() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return slots_.size();
  }

 private:
  struct Slot {
    typename Sync::template var<T> value;
    typename Sync::template var<bool> set{false};
  };

  // The calling thread's slot; std::map nodes never move, so the reference
  // stays valid after the lock is released.
  Slot& slot() INTERLEAVE_EXCLUDES(mu_) {
    const std::size_t me = Sync::thread_index();
    std::unique_lock<typename Sync::mutex> lk(mu_);
    auto [it, created] = slots_.try_emplace(me);
    (void)created;
    return it->second;
  }

  mutable typename Sync::mutex mu_;
  std::map<std::size_t, Slot> slots_ INTERLEAVE_GUARDED_BY(mu_);
};

}  // namespace interleave
