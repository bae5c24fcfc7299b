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
// Requires: T is default-constructible and copyable. get()/set() are not
//   called from a thread_local destructor (the thread's exit hooks may
//   already have run).
// Guarantees:
//   - get() returns the value the calling thread last set(), or T{} if it
//     never did; it never returns another thread's value.
//   - has_value() tells whether the calling thread ever set().
//   - Each slot is touched only by its own thread (the slot is a backend
//     `var<T>`, so a model would report a data race if two threads ever
//     shared one).
//   - A thread's value is destroyed when that thread exits (as Python frees
//     a thread's attributes of a threading.local), on a backend with
//     `Sync::at_thread_exit` (std_sync: among the thread's thread_local
//     destructors, so before a Thread::join() of it returns). A long-lived
//     ThreadLocal used by many short threads therefore holds only the slots
//     of threads still running. On a backend without the hook (the model
//     checkers' fibers) slots live until the ThreadLocal is destroyed.
// Memory ordering: none between threads (there is nothing to share); the map
//   of slots is guarded by a mutex, held only to find, create or erase a
//   slot.
// Destruction / lifetime: no thread may be inside get()/set() at
//   destruction. The ThreadLocal may die before threads that used it: their
//   exit hooks hold only a weak reference to its slots and then do nothing.
//   The remaining values are destroyed with the ThreadLocal.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
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

  void set(T value) {
    Slot& s = slot();
    s.value.store(std::move(value));
    s.set.store(true);
  }
  [[nodiscard]] T get() { return slot().value.load(); }
  [[nodiscard]] bool has_value() { return slot().set.load(); }
  // Threads that have a slot (with the exit hook: running threads that
  // touched this ThreadLocal).
  [[nodiscard]] std::size_t size() const {
    std::unique_lock<typename Sync::mutex> lk(slots_->mu);
    return slots_->map.size();
  }

 private:
  struct Slot {
    typename Sync::template var<T> value;
    typename Sync::template var<bool> set{false};
  };
  struct Slots {
    mutable typename Sync::mutex mu;
    std::map<std::size_t, Slot> map INTERLEAVE_GUARDED_BY(mu);
  };

  // The calling thread's slot; std::map nodes never move, so the reference
  // stays valid after the lock is released (only this thread erases it, at
  // its exit).
  Slot& slot() {
    const std::size_t me = Sync::thread_index();
    std::unique_lock<typename Sync::mutex> lk(slots_->mu);
    auto [it, created] = slots_->map.try_emplace(me);
    if constexpr (requires { Sync::at_thread_exit(std::function<void()>{}); }) {
      if (created) {
        lk.unlock();
        Sync::at_thread_exit([weak = std::weak_ptr<Slots>(slots_), me] {
          if (const std::shared_ptr<Slots> s = weak.lock()) {
            std::unique_lock<typename Sync::mutex> l(s->mu);
            s->map.erase(me);  // destroys the value here, on the exiting thread
          }
        });
      }
    }
    return it->second;
  }

  // Shared with the exit hooks of the threads that have a slot.
  const std::shared_ptr<Slots> slots_ = std::make_shared<Slots>();
};

}  // namespace interleave
