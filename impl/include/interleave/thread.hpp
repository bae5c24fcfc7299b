// interleave/thread.hpp — a thread object with a name, a lifecycle and a
// registry, in the manner of Python's threading.Thread, current_thread() and
// enumerate().
//
// Seed scenarios: "States of thread" (New, Runnable, Running, Not-running,
// Dead) and "Starting a thread" (name, start, join, is_alive, status).
//
// States and the only transitions a Thread makes:
//
//   New --start()--> Runnable --scheduled--> Running --target returns--> Dead
//                                            Running <--> NotRunning
//
// NotRunning: the thread is blocked in this project's lifecycle primitives —
// ThreadRegistry::sleep_for(), or join()/join_for() of another Thread — and
// goes back to Running when it returns. (Blocking in other primitives, or
// being preempted by the OS, is not visible here.)
//
// ThreadRegistry: the set of Threads one program (or one model execution)
// knows. current_thread() is the Thread whose target the caller is running
// (nullptr for a thread not started by a Thread, like main). enumerate() is a
// snapshot of started, not yet finished threads, each with its state, taken
// under the registry's lock: it never lists an unstarted or a finished (so
// never a joined) thread.
//
// Requires: the registry outlives its Threads; a Thread's target is a
//   callable. start() at most once (std::logic_error "already started");
//   join()/join_for() only after start() (std::logic_error "not started") and
//   never from the thread itself (std::logic_error "cannot join itself");
//   timeouts >= 0 (std::invalid_argument naming "timeout"); a huge
//   join_for timeout saturates (interleave/deadline.hpp).
// Guarantees:
//   - Every state change follows the graph above (an illegal one throws
//     std::logic_error — it would be a bug in this file).
//   - join() returns once the target has returned (state Dead); join_for(d)
//     returns whether it did within d. Joining twice, or from several
//     threads, is allowed. An exception escaping the target is kept
//     (exception()) and does not terminate the program.
//   - Default names are "Thread-N", N = 1, 2, ... per registry.
// Memory ordering: everything before start() happens-before the target;
//   everything the target did happens-before the return of a join()/
//   join_for() that returns true (the registry's mutex, then the OS join).
// Destruction: a started Thread that was not joined is joined by its
//   destructor (never detached: its target may use the Thread object).
//   Destroyed from its own target (the target deletes or drops the last
//   owner of its Thread), the destructor cannot join the thread it runs on,
//   and std::thread's rule (std::terminate) would punish an ordinary
//   ownership pattern; so it lets the thread go: the Thread leaves the
//   registry at once (for the rest of the target, current_thread() is
//   nullptr and enumerate() omits it, since the object they would name is
//   gone), the OS thread is detached and finishes the target, and nothing
//   touches the destroyed object again. An exception escaping the target
//   after that has no Thread to be kept in and is dropped.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

enum class ThreadState { New, Runnable, Running, NotRunning, Dead };

inline const char* to_string(ThreadState s) {
  switch (s) {
    case ThreadState::New: return "New";
    case ThreadState::Runnable: return "Runnable";
    case ThreadState::Running: return "Running";
    case ThreadState::NotRunning: return "NotRunning";
    case ThreadState::Dead: return "Dead";
  }
  return "?";
}

// The edges of the state graph.
inline bool allowed_transition(ThreadState from, ThreadState to) {
  using S = ThreadState;
  return (from == S::New && to == S::Runnable) || (from == S::Runnable && to == S::Running) ||
         (from == S::Running && to == S::NotRunning) || (from == S::NotRunning && to == S::Running) ||
         (from == S::Running && to == S::Dead);
}

template <SyncBackend Sync>
class Thread;

struct ThreadInfo {
  std::string name;
  ThreadState state;
};

template <SyncBackend Sync = std_sync>
class ThreadRegistry {
 public:
  ThreadRegistry() = default;
  ThreadRegistry(const ThreadRegistry&) = delete;
  ThreadRegistry& operator=(const ThreadRegistry&) = delete;

  // The Thread whose target the caller runs; nullptr otherwise.
  Thread<Sync>* current_thread() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return current_locked();
  }
  // Started, not yet finished threads, with their states, in start order.
  std::vector<ThreadInfo> enumerate() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    std::vector<ThreadInfo> out;
    for (const Thread<Sync>* t : alive_) out.push_back({t->name_, Thread<Sync>::state_of(t)});
    return out;
  }
  std::size_t active_count() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return alive_.size();
  }
  // Sleeps; the calling Thread (if any) is NotRunning meanwhile.
  template <class Rep, class Period>
  void sleep_for(const std::chrono::duration<Rep, Period>& d) INTERLEAVE_EXCLUDES(mu_) {
    detail::require_non_negative(d, "ThreadRegistry::sleep_for");
    Thread<Sync>* me = block_current();
    Sync::sleep_for(d);
    unblock(me);
  }

 private:
  friend class Thread<Sync>;

  Thread<Sync>* current_locked() const INTERLEAVE_REQUIRES(mu_) {
    auto it = running_.find(Sync::thread_index());
    return it == running_.end() ? nullptr : it->second;
  }
  Thread<Sync>* block_current() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    Thread<Sync>* me = current_locked();
    if (me) Thread<Sync>::transition_of(me, ThreadState::NotRunning);
    return me;
  }
  void unblock(Thread<Sync>* me) INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    if (me) Thread<Sync>::transition_of(me, ThreadState::Running);
  }

  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable died_;  // notified when any thread becomes Dead
  std::vector<Thread<Sync>*> alive_ INTERLEAVE_GUARDED_BY(mu_);
  std::map<std::size_t, Thread<Sync>*> running_ INTERLEAVE_GUARDED_BY(mu_);  // by Sync::thread_index()
  typename Sync::template var<unsigned long> created_ INTERLEAVE_GUARDED_BY(mu_){0ul};
};

template <SyncBackend Sync = std_sync>
class Thread {
 public:
  Thread(ThreadRegistry<Sync>& registry, std::function<void()> target, std::string name = {})
      : reg_(registry), target_(std::move(target)), name_(take_name(registry, std::move(name))) {
    if (!target_) throw std::invalid_argument("Thread: target must be a callable, got an empty function");
  }
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  // Joins a started thread; from the thread's own target, lets it go
  // instead (see "Destruction" in the header comment).
  ~Thread() {
    if (started_ && !release_if_own_target()) join();
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  // The OS thread is created under the registry's lock, so a joiner (who
  // must take the lock first) always finds it assigned.
  void start() INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    if (state_.load() != static_cast<int>(ThreadState::New))
      throw std::logic_error("Thread::start: '" + name_ + "' already started");
    transition(ThreadState::Runnable);
    reg_.alive_.push_back(this);
    started_ = true;
    os_thread_ = typename Sync::thread([this] { run(); });
  }

  void join() INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    check_joinable_locked("join");
    Thread* me = reg_.current_locked();
    if (me) transition_of(me, ThreadState::NotRunning);
    while (state_.load() != static_cast<int>(ThreadState::Dead)) reg_.died_.wait(lk);
    if (me) transition_of(me, ThreadState::Running);
    // The first joiner to see Dead joins the OS thread (outside the lock: the
    // thread may still be leaving run()); later joiners have nothing to do.
    if (!join_claimed_) {
      join_claimed_ = true;
      lk.unlock();
      os_thread_.join();
    }
  }

  // Whether the thread finished within `timeout`.
  template <class Rep, class Period>
  bool join_for(const std::chrono::duration<Rep, Period>& timeout) INTERLEAVE_EXCLUDES(reg_.mu_) {
    const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "Thread::join_for");
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    check_joinable_locked("join_for");
    Thread* me = reg_.current_locked();
    if (me) transition_of(me, ThreadState::NotRunning);
    while (state_.load() != static_cast<int>(ThreadState::Dead)) {
      if (reg_.died_.wait_until(lk, deadline) == std::cv_status::timeout) break;
    }
    if (me) transition_of(me, ThreadState::Running);
    if (state_.load() != static_cast<int>(ThreadState::Dead)) return false;
    if (!join_claimed_) {
      join_claimed_ = true;
      lk.unlock();
      os_thread_.join();
    }
    return true;
  }

  [[nodiscard]] ThreadState state() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    return static_cast<ThreadState>(state_.load());
  }
  [[nodiscard]] bool is_alive() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    const ThreadState s = state();
    return s != ThreadState::New && s != ThreadState::Dead;
  }
  // The exception that escaped the target, if any (read after join()).
  [[nodiscard]] std::exception_ptr exception() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    return error_;
  }

 private:
  friend class ThreadRegistry<Sync>;

  static std::string take_name(ThreadRegistry<Sync>& reg, std::string name) INTERLEAVE_EXCLUDES(reg.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg.mu_);
    const unsigned long n = reg.created_.load() + 1;
    reg.created_.store(n);
    return name.empty() ? "Thread-" + std::to_string(n) : std::move(name);
  }

  void transition(ThreadState to) INTERLEAVE_REQUIRES(reg_.mu_) {
    const auto from = static_cast<ThreadState>(state_.load());
    if (!allowed_transition(from, to))
      throw std::logic_error(std::string("Thread '") + name_ + "': illegal state transition " + to_string(from) +
                             " -> " + to_string(to));
    state_.store(static_cast<int>(to));
  }

  void check_joinable_locked(const char* what) INTERLEAVE_REQUIRES(reg_.mu_) {
    if (state_.load() == static_cast<int>(ThreadState::New))
      throw std::logic_error(std::string("Thread::") + what + ": '" + name_ + "' was not started");
    if (reg_.current_locked() == this)
      throw std::logic_error(std::string("Thread::") + what + ": '" + name_ + "' cannot join itself");
  }

  // Another Thread of the same registry (found through current_locked(), so
  // its state is guarded by the registry mutex the caller holds; the analysis
  // cannot see that two Threads share one registry).
  static void transition_of(Thread* t, ThreadState to) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    t->transition(to);
  }
  static ThreadState state_of(const Thread* t) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    return static_cast<ThreadState>(t->state_.load());
  }

  // Called by the destructor. If the caller is this Thread's own target, the
  // Thread leaves the registry now, its OS thread is detached, and run()
  // will not touch the object again; returns true. Otherwise false.
  bool release_if_own_target() INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    if (reg_.current_locked() != this) return false;
    reg_.running_[Sync::thread_index()] = nullptr;  // run() reads this as "the Thread is gone"
    reg_.alive_.erase(std::find(reg_.alive_.begin(), reg_.alive_.end(), this));
    if constexpr (requires { os_thread_.detach(); }) {
      os_thread_.detach();
    } else {
      // A backend whose threads cannot be detached: keep the handle (leaked)
      // rather than destroy a joinable thread (std::terminate).
      new typename Sync::thread(std::move(os_thread_));  // NOLINT: deliberately never freed
    }
    return true;
  }

  // Everything run() needs after the target returns is on its own stack or
  // in the registry (which outlives its Threads), so the target may destroy
  // this Thread.
  void run() INTERLEAVE_EXCLUDES(reg_.mu_) {
    ThreadRegistry<Sync>& reg = reg_;
    const std::size_t me = Sync::thread_index();
    std::function<void()> target;
    {
      std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
      reg_.running_[me] = this;
      transition(ThreadState::Running);
      target = std::move(target_);
    }
    std::exception_ptr error;
    try {
      target();
    } catch (...) {
      error = std::current_exception();
    }
    std::unique_lock<typename Sync::mutex> lk(reg.mu_);
    if (const auto it = reg.running_.find(me); it != reg.running_.end() && it->second == nullptr) {
      reg.running_.erase(it);  // destroyed by its own target: nothing left to update
      return;
    }
    finish_locked(error);
  }

  // The target returned and the Thread still exists. Called with the
  // registry's mutex held (through run()'s alias of reg_, which the analysis
  // cannot tie to reg_.mu_).
  void finish_locked(std::exception_ptr error) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    error_ = std::move(error);
    transition(ThreadState::Dead);
    reg_.running_.erase(Sync::thread_index());
    reg_.alive_.erase(std::find(reg_.alive_.begin(), reg_.alive_.end(), this));
    reg_.died_.notify_all();
  }

  ThreadRegistry<Sync>& reg_;
  std::function<void()> target_;  // moved out by run(), on the new thread, under the registry lock
  const std::string name_;
  typename Sync::template var<int> state_ INTERLEAVE_GUARDED_BY(reg_.mu_){static_cast<int>(ThreadState::New)};
  std::exception_ptr error_ INTERLEAVE_GUARDED_BY(reg_.mu_);
  bool join_claimed_ INTERLEAVE_GUARDED_BY(reg_.mu_) = false;
  bool started_ = false;  // touched by the starting thread and the destructor only
  typename Sync::thread os_thread_;
};

}  // namespace interleave
