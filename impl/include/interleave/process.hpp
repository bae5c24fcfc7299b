// interleave/process.hpp — a child process running a callable, after
// Python's multiprocessing.Process, written once against the OS interface
// (interleave/os.hpp): `Process` runs on POSIX, `BasicProcess<sim_os<Sync>>`
// on the simulated OS the model checkers explore.
//
// Seed scenarios: "Starting a process" (start_proc below) and "Stopping a
// process".
//
//   Process p(target, args...);                    // name "Process-<n>"
//   Process p = Process::named("worker", target, args...);
//   p.start();  p.join();  p.join(timeout);  p.is_alive();
//   p.pid();  p.exitcode();  p.terminate();  p.kill();  p.close();
//   Process::active_children();
//
// Requires: start() at most once (a second start is std::logic_error naming
//   the process and its pid); join(), terminate() and kill() only after
//   start() (std::logic_error "... was never started"), and only from the
//   process that started it (std::logic_error "can only join a child
//   process"); a timeout >= 0 (std::invalid_argument naming "timeout"; a huge
//   one saturates, interleave/deadline.hpp); close() only once the process is
//   not running (std::logic_error), after which every method but name() is
//   std::logic_error "... is closed". The target and its arguments are
//   copied into the process object; in the child they are the parent's values
//   at start() (fork semantics).
// Guarantees (Python's):
//   - exitcode() is empty before start() and while the child runs; 0 after
//     the target returned (void, or any non-int result); the target's int
//     result (mod 256) if it returned an int; 1 if an exception escaped the
//     target, whose message the child writes to its stderr; -N if the child
//     was ended by signal N, so terminate() gives -SIGTERM and kill()
//     -SIGKILL (unless the child had already ended).
//   - join(timeout) returns true once the child has ended (its exit code is
//     then known) and false if the timeout ran out first; join() waits.
//   - terminate()/kill() on a child that has already been reaped do nothing.
//   - Before the child ends normally it runs this process's exit hooks
//     (interleave/exit_hooks.hpp): an inter-process Queue's feeder flushes
//     what the child put, so joining a child before draining what it put can
//     deadlock (Python's documented trap; the ipc.queue.join_before_drain
//     row).
//   - active_children() reaps every child of the calling process that has
//     ended and returns the ones still running.
//   - No error path leaks a child or a descriptor: start() that throws has
//     started nothing.
// Threads: the methods may be called from several threads of the parent.
//   One thread at a time waits for the child in the OS (join, and the
//   reaping in exitcode/is_alive); the others wait on the process object's
//   condition variable for that thread's result, each until its own deadline:
//   a join(timeout) behind a join() still returns when its timeout runs out,
//   and when the waiting thread's deadline passes first, another joiner takes
//   over the wait. A non-blocking call that finds another thread waiting
//   reports the state it knows (running until that waiter has reaped), it
//   does not wait behind it. The broken twin
//   BasicProcess<Os, process_bug::timed_join_waits_behind_joiner> serialises
//   the waits with a mutex instead, so a join(timeout) queued behind a join()
//   waits as long as that join (the process.lifecycle models find the
//   deadlock).
// Memory ordering: everything the parent did before start() is visible to
//   the child (fork copies it, or the simulated OS starts a thread after it);
//   the child's effects reach the parent only through the OS (its exit code,
//   pipes), never through memory.
// Destruction: destroying a Process whose child still runs does not wait for
//   or kill it: it stays a child of the caller, and active_children() (or the
//   end of the program) reaps it, as in Python. On POSIX: a terminate() that
//   races a join() of another thread that has just reaped the child may
//   signal a pid the kernel has re-used (the window is the few instructions
//   between waitpid and storing the code; Linux allocates pids cyclically).
#pragma once

#include <atomic>
#include <csignal>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "interleave/deadline.hpp"
#include "interleave/exit_hooks.hpp"
#include "interleave/os.hpp"
#include "interleave/posix_os.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// A live child, as active_children() reports it.
struct child_info {
  int pid;
  std::string name;
};

// The broken twin's flaw (see "Threads" above); none for the fixed process.
enum class process_bug { none, timed_join_waits_behind_joiner };

template <OsBackend Os, process_bug Bug = process_bug::none>
class BasicProcess {
  using Sync = typename Os::sync;
  using mutex = typename Sync::mutex;
  using clock = typename Sync::clock;

 public:
  template <class F, class... Args>
    requires std::invocable<std::decay_t<F>&, std::decay_t<Args>&...>
  explicit BasicProcess(F&& target, Args&&... args)
      : BasicProcess(default_name(), std::forward<F>(target), std::forward<Args>(args)...) {}

  template <class F, class... Args>
    requires std::invocable<std::decay_t<F>&, std::decay_t<Args>&...>
  static BasicProcess named(std::string name, F&& target, Args&&... args) {
    return BasicProcess(std::move(name), std::forward<F>(target), std::forward<Args>(args)...);
  }

  BasicProcess(BasicProcess&&) noexcept = default;
  BasicProcess& operator=(BasicProcess&&) noexcept = default;
  BasicProcess(const BasicProcess&) = delete;
  BasicProcess& operator=(const BasicProcess&) = delete;
  ~BasicProcess() = default;  // see "Destruction"

  const std::string& name() const noexcept { return s_->name; }

  void start() {
    {
      std::unique_lock<mutex> lk(s_->mu);
      require_open(lk, "start");
      if (s_->pid != 0 || s_->starting)
        throw std::logic_error(
            "Process::start: process '" + s_->name + "' already started" +
            (s_->pid != 0 ? " (pid " + std::to_string(s_->pid) + ")" : std::string()));
      s_->starting = true;
    }
    // No lock is held across the spawn: a forked child gets a copy of every
    // lock as it was, and may use this object's copy (active_children()).
    std::shared_ptr<state> s = s_;
    const int parent = Os::self();
    int pid = 0;
    try {
      pid = Os::spawn([s]() -> int {
        int code = 0;
        try {
          code = s->body();
        } catch (...) {
          exit_hooks::run(Os::self());
          throw;
        }
        exit_hooks::run(Os::self());
        return code;
      });
    } catch (...) {
      std::unique_lock<mutex> lk(s_->mu);
      s_->starting = false;  // nothing was started: start() may be tried again
      throw;
    }
    {
      std::unique_lock<mutex> lk(s_->mu);
      s_->pid = pid;
      s_->parent = parent;
      s_->starting = false;
    }
    registry::add(s_);
  }

  // Waits until the child has ended; returns true then (the exit code is known).
  bool join() { return join_until(clock::time_point::max(), "join"); }
  // Waits at most `timeout`; true if the child has ended.
  template <class Rep, class Period>
  bool join(const std::chrono::duration<Rep, Period>& timeout) {
    return join_until(detail::deadline_after<clock>(timeout, "Process::join"), "join");
  }

  bool is_alive() {
    {
      std::unique_lock<mutex> lk(s_->mu);
      require_open(lk, "is_alive");
      if (s_->pid == 0) return false;
    }
    return !poll_exit();
  }

  std::optional<int> pid() {
    std::unique_lock<mutex> lk(s_->mu);
    require_open(lk, "pid");
    return s_->pid == 0 ? std::nullopt : std::optional<int>(s_->pid);
  }

  std::optional<exit_code> exitcode() {
    {
      std::unique_lock<mutex> lk(s_->mu);
      require_open(lk, "exitcode");
      if (s_->pid == 0) return std::nullopt;
    }
    poll_exit();
    std::unique_lock<mutex> lk(s_->mu);
    return s_->code;
  }

  void terminate() { signal(SIGTERM, "terminate"); }
  void kill() { signal(SIGKILL, "kill"); }

  void close() {
    int pid = 0;
    {
      std::unique_lock<mutex> lk(s_->mu);
      require_open(lk, "close");
      if (s_->pid == 0) {
        s_->closed = true;
        return;
      }
      pid = s_->pid;
    }
    if (!poll_exit())
      throw std::logic_error("Process::close: process '" + s_->name + "' (pid " +
                             std::to_string(pid) +
                             ") is still running; join, terminate or kill it first");
    std::unique_lock<mutex> lk(s_->mu);
    s_->closed = true;
  }

  // Reaps the calling process's children that have ended; returns the live ones.
  static std::vector<child_info> active_children() { return registry::active(Os::self()); }

 private:
  struct state {
    std::string name;
    std::function<int()> body;
    mutex mu;
    typename Sync::condition_variable reaped;        // notified when a waiting thread stops waiting
    bool waiting INTERLEAVE_GUARDED_BY(mu) = false;  // a thread waits for the child in the OS
    mutex wait_mu;  // the broken twin's: held while waiting for the child
    int pid INTERLEAVE_GUARDED_BY(mu) = 0;
    int parent INTERLEAVE_GUARDED_BY(mu) = 0;
    std::optional<exit_code> code INTERLEAVE_GUARDED_BY(mu);
    bool closed INTERLEAVE_GUARDED_BY(mu) = false;
    bool starting INTERLEAVE_GUARDED_BY(mu) =
        false;  // between start()'s check and the spawn's return
  };

  // The children started by this program that are not yet reaped: what
  // active_children() looks through, and what keeps the state of a child
  // whose Process object was destroyed. A std::mutex held only to edit the
  // list (never across an Os call).
  struct registry {
    static void add(const std::shared_ptr<state>& s) {
      std::lock_guard<std::mutex> lk(mu());
      list().push_back(s);
    }
    static void remove(const state* s) {
      std::lock_guard<std::mutex> lk(mu());
      list().remove_if([s](const std::shared_ptr<state>& p) { return p.get() == s; });
    }
    static std::vector<child_info> active(int self) {
      std::vector<std::shared_ptr<state>> mine;
      {
        std::lock_guard<std::mutex> lk(mu());
        for (const auto& s : list()) mine.push_back(s);
      }
      std::vector<child_info> live;
      for (const auto& s : mine) {
        int pid = 0;
        {
          std::unique_lock<mutex> lk(s->mu);
          if (s->parent != self) continue;
          pid = s->pid;
        }
        if (!poll_exit(*s)) live.push_back({pid, s->name});
      }
      return live;
    }
    static std::mutex& mu() {
      static std::mutex m;
      return m;
    }
    static std::list<std::shared_ptr<state>>& list() {
      static std::list<std::shared_ptr<state>> l;
      return l;
    }
  };

  template <class F, class... Args>
  BasicProcess(std::string name, F&& target, Args&&... args) : s_(std::make_shared<state>()) {
    s_->name = std::move(name);
    s_->body =
        [f = std::decay_t<F>(std::forward<F>(target)),
         tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable -> int {
      using R = decltype(std::apply(f, tup));
      if constexpr (std::is_same_v<R, int>) {
        return std::apply(f, tup);
      } else {
        std::apply(f, tup);
        return 0;
      }
    };
  }

  static std::string default_name() {
    static std::atomic<unsigned> n{0};
    return "Process-" + std::to_string(n.fetch_add(1, std::memory_order_relaxed) + 1);
  }

  void require_open(std::unique_lock<mutex>&, const char* who) const
      INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    if (s_->closed)
      throw std::logic_error(std::string("Process::") + who + ": process '" + s_->name +
                             "' is closed");
  }

  // pid to act on for a blocking or signalling call: started, and called in
  // the process that started the child.
  int require_child(const char* who) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<mutex> lk(s_->mu);
    require_open(lk, who);
    if (s_->pid == 0)
      throw std::logic_error(std::string("Process::") + who + ": process '" + s_->name +
                             "' was never started");
    if (s_->parent != Os::self())
      throw std::logic_error(std::string("Process::") + who + ": can only " + who +
                             " a child process ('" + s_->name + "' was started by pid " +
                             std::to_string(s_->parent) + ", this is pid " +
                             std::to_string(Os::self()) + ")");
    return s_->pid;
  }

  bool join_until(typename clock::time_point deadline, const char* who)
      INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    const int pid = require_child(who);
    if constexpr (Bug == process_bug::timed_join_waits_behind_joiner) {
      // The broken twin: the wait lock is taken without a deadline, so this
      // join waits behind another thread's untimed join whatever `deadline` is.
      std::unique_lock<mutex> wl(s_->wait_mu);
      {
        std::unique_lock<mutex> lk(s_->mu);
        if (s_->code) return true;
      }
      const std::optional<exit_code> code = Os::wait_until(pid, deadline);
      if (!code) return false;
      record(*s_, *code);
      return true;
    } else {
      state& s = *s_;
      std::unique_lock<mutex> lk(s.mu);
      while (!s.code) {
        if (!s.waiting) return wait_in_os(s, lk, pid, deadline, true);
        // Another thread waits for the child: wait for its result, or for it
        // to give up the wait (its deadline passed), until our own deadline.
        if (deadline == clock::time_point::max()) {
          s.reaped.wait(lk);
        } else if (s.reaped.wait_until(lk, deadline) == std::cv_status::timeout) {
          return s.code.has_value();
        }
      }
      return true;
    }
  }

  // Waits for the child in the OS as the one waiting thread: `lk` holds s.mu
  // on entry and on return, and is released for the wait. True if the child
  // ended (its code is recorded), false if the deadline passed first (or,
  // with block false, if the child is still running).
  static bool wait_in_os(state& s, std::unique_lock<mutex>& lk, int pid,
                         typename clock::time_point deadline, bool block)
      INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    s.waiting = true;
    lk.unlock();
    std::optional<exit_code> code;
    try {
      code = block ? Os::wait_until(pid, deadline) : Os::try_wait(pid);
    } catch (...) {
      lk.lock();
      s.waiting = false;
      s.reaped.notify_all();
      throw;
    }
    if (code) registry::remove(&s);
    lk.lock();
    s.waiting = false;
    if (code) s.code = code;
    s.reaped.notify_all();  // the result, or the wait is free for another joiner
    return code.has_value();
  }

  // True if the child has ended (reaping it if no other thread is waiting).
  bool poll_exit() { return poll_exit(*s_); }
  static bool poll_exit(state& s) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    int pid = 0;
    {
      std::unique_lock<mutex> lk(s.mu);
      if (s.code) return true;
      if (s.parent != Os::self()) return false;  // not ours to reap (a forked child's copy)
      pid = s.pid;
    }
    if constexpr (Bug == process_bug::timed_join_waits_behind_joiner) {
      std::unique_lock<mutex> wl(s.wait_mu, std::defer_lock);
      if (!wl.try_lock()) return false;  // another thread is waiting: running until it has reaped
      {
        std::unique_lock<mutex> lk(s.mu);
        if (s.code) return true;
      }
      const std::optional<exit_code> code = Os::try_wait(pid);
      if (!code) return false;
      record(s, *code);
      return true;
    } else {
      std::unique_lock<mutex> lk(s.mu);
      if (s.code) return true;
      if (s.waiting) return false;  // another thread is waiting: running until it has reaped
      return wait_in_os(s, lk, pid, {}, false);
    }
  }

  static void record(state& s, exit_code code) {
    {
      std::unique_lock<mutex> lk(s.mu);
      s.code = code;
    }
    registry::remove(&s);
  }

  void signal(int sig, const char* who) {
    const int pid = require_child(who);
    std::unique_lock<mutex> lk(s_->mu);
    if (s_->code) return;  // already reaped: nothing to signal
    Os::kill(pid, sig);
  }

  std::shared_ptr<state> s_;
};

// What users get: processes on POSIX.
using Process = BasicProcess<posix_os>;

// The seed's start_proc: a child that says where it runs. `out` receives the
// line (the seed prints it); the child's exit code is 0.
template <OsBackend Os, class Out>
exit_code start_proc(Out out) {
  BasicProcess<Os> p(
      [out]() mutable { out("Process running in child pid " + std::to_string(Os::self())); });
  p.start();
  p.join();
  return *p.exitcode();
}

}  // namespace interleave
