// interleave/exit_hooks.hpp — work a process does when it ends normally,
// after its target returned (or threw): Python's multiprocessing finalizers.
//
// The inter-process Queue registers one hook per process that put into it:
// the process does not end until its feeder thread has written every item it
// was handed (unless cancel_join_thread() was called). BasicProcess runs the
// hooks of the ending process in its child body, after the target.
//
// Hooks are keyed by pid (Os::self()), not kept per address space: under the
// simulated OS all processes share one address space, and on POSIX a forked
// child inherits its parent's table, whose entries it must not run. A killed
// process runs none (SIGKILL runs nothing).
// Requires: a hook does not call add/remove/run itself.
// Guarantees: run(pid) runs each hook registered for pid exactly once, in
//   reverse order of registration, outside the table's lock, and removes it;
//   remove(id) of a hook that already ran is a no-op.
// The table's lock is a std::mutex held only to edit the list, never across
// a hook or an Os call, so it never blocks a model's fiber.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <utility>
#include <vector>

namespace interleave {

class exit_hooks {
 public:
  static std::uint64_t add(int pid, std::function<void()> hook) {
    used_.store(true, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lk(mu());
    const std::uint64_t id = ++next_id();
    table().push_back({pid, id, std::move(hook)});
    return id;
  }
  static void remove(std::uint64_t id) {
    std::lock_guard<std::mutex> lk(mu());
    table().remove_if([id](const entry& e) { return e.id == id; });
  }
  static void run(int pid) {
    // Nothing was ever added in this process (or, before a fork, its
    // parent): the table is not touched, so a forked child does not set up
    // its statics (guard, mutex, exit-time destructor), whose pages it
    // would copy on write. A hook is added by the process that later runs it,
    // so a relaxed load sees its own add.
    if (!used_.load(std::memory_order_relaxed)) return;
    std::vector<std::function<void()>> mine;
    {
      std::lock_guard<std::mutex> lk(mu());
      for (auto it = table().begin(); it != table().end();) {
        if (it->pid == pid) {
          mine.push_back(std::move(it->hook));
          it = table().erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto it = mine.rbegin(); it != mine.rend(); ++it) (*it)();
  }

 private:
  static inline std::atomic<bool> used_{false};
  struct entry {
    int pid;
    std::uint64_t id;
    std::function<void()> hook;
  };
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::list<entry>& table() {
    static std::list<entry> t;
    return t;
  }
  static std::uint64_t& next_id() {
    static std::uint64_t n = 0;
    return n;
  }
};

}  // namespace interleave
