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
// Dead means the target has returned (or thrown). The OS thread then still
// has work to do: it destroys the target (and whatever the target captured),
// and the OS runs the thread's `thread_local` destructors (among them the
// thread-exit hooks of ThreadLocal, thread_local.hpp). The thread has
// *exited* once all of that is done and the OS join of it has returned.
//
// ThreadRegistry: the set of Threads one program (or one model execution)
// knows. current_thread() is the Thread whose target the caller is running
// (nullptr for a thread not started by a Thread, like main). enumerate() is a
// snapshot of started, not yet finished threads, each with its state, taken
// under the registry's lock: it never lists an unstarted or a Dead (so
// never a joined) thread — as Python's enumerate(), which drops a thread
// when its run() ends.
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
//   - start() returns once the new thread runs its bookkeeping: ident() and
//     native_id() are set from then on (empty before start(), as Python's
//     ident / native_id are None).
//   - join() returns only once the thread has *exited* (see above), and so
//     does every join(), also several concurrent joins of the same thread
//     from several threads: the first joiner to find the thread Dead joins
//     the OS thread, the others wait until that OS join has returned
//     (CPython gh-110829 / gh-116372). join_for(d) returns whether the
//     thread exited; d bounds the wait for the target to return, the short
//     wait for the exit after it is not bounded (as CPython's join(timeout)).
//   - is_alive() is true from start() until the thread has exited: called on
//     a Dead thread, it completes the exit first (joins the OS thread, or
//     waits for the joiner that does), so false means exited (CPython
//     gh-137017). From the thread itself it is true.
//   - An exception escaping the target is kept (exception()), does not
//     terminate the program, and the thread leaves the registry as after a
//     normal return.
//   - Default names are "Thread-N", N = 1, 2, ... per registry.
// Memory ordering: everything before start() happens-before the target;
//   everything the thread did, up to and including its exit (destruction of
//   the target, thread_local destructors), happens-before the return of every
//   join() and of every join_for() that returns true and of every is_alive()
//   that returns false (the OS join, then the registry's mutex for joiners
//   that did not do the OS join themselves).
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
//
// Broken twins (kept on purpose: their checks must fail), each a Thread whose
// join has one realistic bug:
//   BrokenEarlyJoinThread<Sync>     a joiner that finds the OS join already
//                                   claimed by another joiner returns at
//                                   once, before the thread has exited (the
//                                   behaviour CPython fixed in gh-116372).
//   BrokenAnyDeathJoinThread<Sync>  a joiner waits on the registry's
//                                   condition variable once instead of in a
//                                   loop: woken by the death of *another*
//                                   thread of the registry, it returns as if
//                                   its own thread had exited.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
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
         (from == S::Running && to == S::NotRunning) ||
         (from == S::NotRunning && to == S::Running) || (from == S::Running && to == S::Dead);
}

template <SyncBackend Sync>
class Thread;

// Which join: the fixed one, or a broken twin's (see the header comment).
enum class thread_bug { none, early_join, any_death_join };

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
  // Notified when any thread of the registry starts running, becomes Dead, or
  // has exited: every waiter on it waits for its own predicate in a loop.
  typename Sync::condition_variable changed_;
  std::vector<Thread<Sync>*> alive_ INTERLEAVE_GUARDED_BY(mu_);
  std::map<std::size_t, Thread<Sync>*> running_
      INTERLEAVE_GUARDED_BY(mu_);  // by Sync::thread_index()
  typename Sync::template var<unsigned long> created_ INTERLEAVE_GUARDED_BY(mu_){0ul};
};

template <SyncBackend Sync = std_sync>
class Thread {
 public:
  Thread(ThreadRegistry<Sync>& registry, std::function<void()> target, std::string name = {})
      : Thread(registry, std::move(target), std::move(name), thread_bug::none) {}
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  // Joins a started thread; from the thread's own target, lets it go
  // instead (see "Destruction" in the header comment).
  ~Thread() {
    if (started_ && !release_if_own_target()) join();
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

  // The OS thread is created under the registry's lock, so a joiner (who
  // must take the lock first) always finds it assigned. Returns once the new
  // thread has recorded its identity (Python's start() waits the same way).
  void start() INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    if (state_.load() != static_cast<int>(ThreadState::New))
      throw std::logic_error("Thread::start: '" + name_ + "' already started");
    transition(ThreadState::Runnable);
    reg_.alive_.push_back(this);
    started_ = true;
    os_thread_ = typename Sync::thread([this] { run(); });
    while (ident_plus1_.load() == 0) reg_.changed_.wait(lk);
    // A target that destroys this Thread waits for this (release_if_own_target).
    start_returned_.store(true);
    if (self_release_waiting_.load()) reg_.changed_.notify_all();
  }

  // Returns once the thread has exited (see Guarantees).
  void join() INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    check_joinable_locked("join");
    Thread* me = reg_.current_locked();
    if (me) transition_of(me, ThreadState::NotRunning);
    wait_dead_locked(lk, nullptr);
    wait_exited_locked(lk);
    if (me) transition_of(me, ThreadState::Running);
  }

  // Whether the thread exited; `timeout` bounds the wait for the target to
  // return.
  template <class Rep, class Period>
  bool join_for(const std::chrono::duration<Rep, Period>& timeout) INTERLEAVE_EXCLUDES(reg_.mu_) {
    const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "Thread::join_for");
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    check_joinable_locked("join_for");
    Thread* me = reg_.current_locked();
    if (me) transition_of(me, ThreadState::NotRunning);
    const bool dead = wait_dead_locked(lk, &deadline);
    if (dead) wait_exited_locked(lk);
    if (me) transition_of(me, ThreadState::Running);
    return dead;
  }

  [[nodiscard]] ThreadState state() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    return static_cast<ThreadState>(state_.load());
  }
  // True from start() until the thread has exited. On a Dead thread it
  // completes the exit first (see Guarantees), so it may wait for the OS
  // thread's last steps (thread_local destructors).
  [[nodiscard]] bool is_alive() INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    const auto s = static_cast<ThreadState>(state_.load());
    if (s == ThreadState::New) return false;
    if (s != ThreadState::Dead || called_by_self_locked()) return true;
    wait_exited_locked(lk);
    return false;
  }
  // Python's Thread.ident: the backend's index of the thread that runs the
  // target (Sync::thread_index()); empty before start(). As in Python, an
  // ident may name a later thread once this one has exited only on
  // backends that reuse indices (std_sync never does).
  [[nodiscard]] std::optional<std::size_t> ident() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    const std::size_t id = ident_plus1_.load();
    return id == 0 ? std::nullopt : std::optional<std::size_t>(id - 1);
  }
  // Python's Thread.native_id: the operating system's id of the thread
  // (Linux: its kernel thread id), from the backend's native_thread_id();
  // a backend without one (a model checker's fibers have no OS id) gives
  // the ident. Empty before start().
  [[nodiscard]] std::optional<unsigned long> native_id() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    if (ident_plus1_.load() == 0) return std::nullopt;
    return native_id_.load();
  }
  // The exception that escaped the target, if any (read after join()).
  [[nodiscard]] std::exception_ptr exception() const INTERLEAVE_EXCLUDES(reg_.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
    return error_;
  }

 protected:
  // For the broken twins only.
  Thread(ThreadRegistry<Sync>& registry, std::function<void()> target, std::string name,
         thread_bug bug)
      : reg_(registry),
        target_(std::move(target)),
        name_(take_name(registry, std::move(name))),
        bug_(bug) {
    if (!target_)
      throw std::invalid_argument("Thread: target must be a callable, got an empty function");
  }

 private:
  friend class ThreadRegistry<Sync>;

  static std::string take_name(ThreadRegistry<Sync>& reg, std::string name)
      INTERLEAVE_EXCLUDES(reg.mu_) {
    std::unique_lock<typename Sync::mutex> lk(reg.mu_);
    const unsigned long n = reg.created_.load() + 1;
    reg.created_.store(n);
    return name.empty() ? "Thread-" + std::to_string(n) : std::move(name);
  }

  void transition(ThreadState to) INTERLEAVE_REQUIRES(reg_.mu_) {
    const auto from = static_cast<ThreadState>(state_.load());
    if (!allowed_transition(from, to))
      throw std::logic_error(std::string("Thread '") + name_ + "': illegal state transition " +
                             to_string(from) + " -> " + to_string(to));
    state_.store(static_cast<int>(to));
  }

  // Whether the caller is this Thread's own OS thread (also after its target
  // returned, e.g. from a thread_local destructor).
  bool called_by_self_locked() const INTERLEAVE_REQUIRES(reg_.mu_) {
    const std::size_t id = ident_plus1_.load();
    return id != 0 && id - 1 == Sync::thread_index();
  }

  void check_joinable_locked(const char* what) INTERLEAVE_REQUIRES(reg_.mu_) {
    if (state_.load() == static_cast<int>(ThreadState::New))
      throw std::logic_error(std::string("Thread::") + what + ": '" + name_ + "' was not started");
    if (reg_.current_locked() == this || called_by_self_locked())
      throw std::logic_error(std::string("Thread::") + what + ": '" + name_ +
                             "' cannot join itself");
  }

  // Waits until the target has returned (state Dead); with a deadline,
  // returns false if it passed first.
  bool wait_dead_locked(std::unique_lock<typename Sync::mutex>& lk,
                        const typename Sync::clock::time_point* deadline)
      INTERLEAVE_REQUIRES(reg_.mu_) {
    const auto dead = [this]() INTERLEAVE_REQUIRES(reg_.mu_) {
      return state_.load() == static_cast<int>(ThreadState::Dead);
    };
    if (bug_ == thread_bug::any_death_join) {
      // BUG (the broken twin): one wait, no loop: a notify for another
      // thread's death ends it.
      if (!dead()) reg_.changed_.wait(lk);  // interleave:bug thread.broken_any_death_join
      return true;
    }
    while (!dead()) {
      if (deadline == nullptr) {
        reg_.changed_.wait(lk);
      } else if (reg_.changed_.wait_until(lk, *deadline) == std::cv_status::timeout) {
        return dead();
      }
    }
    return true;
  }

  // The target has returned: waits until the thread has exited. The first
  // caller joins the OS thread (outside the lock: the thread may still be
  // finishing), records the exit and wakes the others; every other caller
  // waits for that record. (The analysis cannot follow the caller's lock
  // through `lk` being released and re-taken here; it is held on return.)
  void wait_exited_locked(std::unique_lock<typename Sync::mutex>& lk) INTERLEAVE_REQUIRES(reg_.mu_)
  INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    if (!join_claimed_.load()) {
      join_claimed_.store(true);
      lk.unlock();
      os_thread_.join();
      lk.lock();
      exited_.store(true);
      reg_.changed_.notify_all();
      return;
    }
    if (bug_ == thread_bug::early_join) return;  // interleave:bug thread.broken_early_join
    if (bug_ == thread_bug::any_death_join) {
      if (!exited_.load()) reg_.changed_.wait(lk);  // interleave:bug thread.broken_any_death_join
      return;
    }
    while (!exited_.load()) reg_.changed_.wait(lk);
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
    // start() may still be about to read this object after its wait.
    if (!start_returned_.load()) {
      self_release_waiting_.store(true);
      while (!start_returned_.load()) reg_.changed_.wait(lk);
    }
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

  static unsigned long native_thread_id() {
    if constexpr (requires { Sync::native_thread_id(); })
      return static_cast<unsigned long>(Sync::native_thread_id());
    else
      return static_cast<unsigned long>(Sync::thread_index());
  }

  // Everything run() needs after the target returns is on its own stack or
  // in the registry (which outlives its Threads), so the target may destroy
  // this Thread. The target (and what it captured) is destroyed after the
  // thread is Dead, on this thread: part of its exit, which joiners wait for.
  void run() INTERLEAVE_EXCLUDES(reg_.mu_) {
    ThreadRegistry<Sync>& reg = reg_;
    const std::size_t me = Sync::thread_index();
    std::function<void()> target;
    {
      std::unique_lock<typename Sync::mutex> lk(reg_.mu_);
      reg_.running_[me] = this;
      native_id_.store(native_thread_id());
      ident_plus1_.store(me + 1);
      transition(ThreadState::Running);
      target = std::move(target_);
      reg_.changed_.notify_all();  // start() waits for the ident
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
    reg_.changed_.notify_all();
  }

  ThreadRegistry<Sync>& reg_;
  std::function<void()> target_;  // moved out by run(), on the new thread, under the registry lock
  const std::string name_;
  const thread_bug bug_;
  typename Sync::template var<int> state_
      INTERLEAVE_GUARDED_BY(reg_.mu_){static_cast<int>(ThreadState::New)};
  // ident + 1 (0: not yet recorded) and the native id, set together by run().
  typename Sync::template var<std::size_t> ident_plus1_ INTERLEAVE_GUARDED_BY(reg_.mu_){0};
  typename Sync::template var<unsigned long> native_id_ INTERLEAVE_GUARDED_BY(reg_.mu_){0ul};
  std::exception_ptr error_ INTERLEAVE_GUARDED_BY(reg_.mu_);
  typename Sync::template var<bool> join_claimed_ INTERLEAVE_GUARDED_BY(reg_.mu_){false};
  typename Sync::template var<bool> exited_
      INTERLEAVE_GUARDED_BY(reg_.mu_){false};  // the OS join returned
  typename Sync::template var<bool> start_returned_ INTERLEAVE_GUARDED_BY(reg_.mu_){false};
  typename Sync::template var<bool> self_release_waiting_ INTERLEAVE_GUARDED_BY(reg_.mu_){false};
  bool started_ = false;  // touched by the starting thread and the destructor only
  typename Sync::thread os_thread_;
};

// The broken twins (see the header comment). Kept on purpose: their checks
// must fail.
template <SyncBackend Sync = std_sync>
class BrokenEarlyJoinThread : public Thread<Sync> {
 public:
  BrokenEarlyJoinThread(ThreadRegistry<Sync>& registry, std::function<void()> target,
                        std::string name = {})
      : Thread<Sync>(registry, std::move(target), std::move(name), thread_bug::early_join) {}
};
template <SyncBackend Sync = std_sync>
class BrokenAnyDeathJoinThread : public Thread<Sync> {
 public:
  BrokenAnyDeathJoinThread(ThreadRegistry<Sync>& registry, std::function<void()> target,
                           std::string name = {})
      : Thread<Sync>(registry, std::move(target), std::move(name), thread_bug::any_death_join) {}
};

}  // namespace interleave
