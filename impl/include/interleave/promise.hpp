// interleave/promise.hpp — Future<T> and Promise<T> on the sync backend: one
// result, the side that produces it, and the threads that wait for it.
//
// Seed scenario: "Thread pools" (ThreadPoolExecutor.submit returns a future).
// These are not std::future: their whole state (status, waiters, callbacks)
// lives in backend objects, so a Relacy model sees every access. Waiting on
// many futures at once (as_completed, wait) is interleave/as_completed.hpp;
// interleave/future.hpp includes both.
//
// Future<T, Sync>   a shared handle (copyable) on one result. States:
//                   pending -> running -> finished, or pending -> cancelled.
//   get()           waits, then returns the value (const T&; void for T=void)
//                   or rethrows the task's exception; CancelledError if it
//                   was cancelled; PoolDeadlockError (thread_pool.hpp) if a
//                   pool detects that the wait can never end.
//   wait(), wait_for(d), wait_until(t)   the timed forms return done().
//   done(), running(), cancelled()
//   cancel()        succeeds (true) only while pending, or if already
//                   cancelled; false once running or finished.
//   add_done_callback(cb)   cb(const Future&) runs exactly once: in the
//                   completing thread, in the order added, for callbacks added
//                   before completion; at once, in the caller, if already
//                   done. A callback that throws is reported (to the
//                   reporter set_callback_error_reporter() installs, stderr
//                   by default, and in callback_errors()) and does not stop
//                   the others; the future stays done with its result, and
//                   a get() on it (in the same or another thread) is not
//                   affected.
// Promise<T, Sync>  the producing side (move-only): set_value / set_exception
//                   (a second result is an InvalidStateError and the first is
//                   kept), set_running_or_notify_cancel() (pending -> running,
//                   or false if cancelled). Destroying a Promise that never
//                   produced a result completes its future with BrokenPromise.
//
// Requires: a negative timeout is an std::invalid_argument naming `timeout`;
//   a huge one (hours::max()) saturates (interleave/deadline.hpp); a deadline
//   on another clock is converted to Sync::clock by the time left.
//   Callbacks must not call get()/wait() on a future the completing thread
//   itself must complete.
// Guarantees: one transition to a done state per future; every waiter, every
//   callback and every watcher (as_completed/wait) is told exactly once.
// Memory ordering: everything the producer did before set_value /
//   set_exception / cancel happens-before get(), wait(), or a done callback
//   that observes the future done (all go through the future's mutex). Timed
//   waits that return false give no ordering.
// Destruction: a Future handle may be destroyed at any time (the state is
//   shared).
// Lock order: future -> (as_completed/wait watcher), future -> pool; nothing
//   takes a future's lock while holding a pool's or a watcher's lock.
// Not public: the pool's hooks (a promise owned by a pool, a future's state)
//   are reached through detail::FutureAccess only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

class CancelledError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};
class InvalidStateError : public std::logic_error {
  using std::logic_error::logic_error;
};
class BrokenPromise : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class FutureStatus : int { pending = 0, running = 1, cancelled = 2, finished = 3 };

template <class T, SyncBackend Sync>
class Future;
template <class T, SyncBackend Sync>
class Promise;

namespace detail {

// Told, under the future's lock, that the future with `tag` is done.
struct CompletionWatcher {
  virtual void future_done(std::size_t tag, bool failed) = 0;

 protected:
  ~CompletionWatcher() = default;
};

// The pool a future belongs to: lets get() detect a wait that can never end.
struct FutureOwner {
  // Called with the future's lock held. Returns whether the caller is one of
  // the owner's workers (then leave_wait_on_own_future() must follow); throws
  // PoolDeadlockError if the wait could never end.
  virtual bool enter_wait_on_own_future() = 0;
  virtual void leave_wait_on_own_future() = 0;

 protected:
  ~FutureOwner() = default;
};

template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

inline std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

inline void print_callback_error(const std::string& what) {
  std::fprintf(stderr, "interleave: a done callback threw: %s\n", what.c_str());
}
inline std::atomic<void (*)(const std::string&)>& callback_error_reporter() {
  static std::atomic<void (*)(const std::string&)> reporter{&print_callback_error};
  return reporter;
}
inline void report_callback_error(const std::string& what) {
  callback_error_reporter().load(std::memory_order_acquire)(what);
}

template <class T, SyncBackend Sync>
class FutureState {
 public:
  using Handle = Future<T, Sync>;
  using Callback = std::function<void(const Handle&)>;

  explicit FutureState(FutureOwner* owner) : owner_(owner) {}

  int status() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return status_.load();
  }
  bool done() const INTERLEAVE_EXCLUDES(mu_) { return is_done(status()); }

  // Untimed wait until done; detects a wait from a saturated owner pool.
  void wait_done(std::unique_lock<typename Sync::mutex>& lk) INTERLEAVE_REQUIRES(mu_) {
    if (is_done(status_.load())) return;
    const bool counted = owner_ != nullptr && owner_->enter_wait_on_own_future();
    const int blocked = blocked_.load();
    blocked_.store(blocked + 1);
    cv_.wait(lk, [this]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
      return is_done(status_.load());
    });
    blocked_.store(blocked_.load() - 1);
    if (counted) owner_->leave_wait_on_own_future();
  }

  bool wait_done_until(typename Sync::clock::time_point deadline) INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    blocked_.store(blocked_.load() + 1);
    bool timed_out = false;
    while (!is_done(status_.load()) && !timed_out)
      timed_out = cv_.wait_until(lk, deadline) == std::cv_status::timeout;
    blocked_.store(blocked_.load() - 1);
    return is_done(status_.load());
  }

  // The outcome, once done: rethrows, or returns the stored value.
  const stored_t<T>& outcome(std::unique_lock<typename Sync::mutex>& lk) INTERLEAVE_REQUIRES(mu_) {
    wait_done(lk);
    if (status_.load() == static_cast<int>(FutureStatus::cancelled))
      throw CancelledError("Future::get: the task was cancelled");
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }

  std::exception_ptr exception() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    wait_done(lk);
    if (status_.load() == static_cast<int>(FutureStatus::cancelled))
      throw CancelledError("Future::exception: the task was cancelled");
    return error_;
  }

  // pending -> running: true; cancelled: false; otherwise InvalidStateError.
  bool set_running_or_notify_cancel() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    const int s = status_.load();
    if (s == static_cast<int>(FutureStatus::pending)) {
      status_.store(static_cast<int>(FutureStatus::running));
      return true;
    }
    if (s == static_cast<int>(FutureStatus::cancelled)) return false;
    throw InvalidStateError(
        "Promise::set_running_or_notify_cancel: the future is already " +
        std::string(s == static_cast<int>(FutureStatus::running) ? "running" : "finished"));
  }

  // Sets the result (value_ or error_) and completes; false if already done.
  template <class Set>
  static bool complete(const std::shared_ptr<FutureState>& self, FutureStatus to, Set&& set,
                       bool only_if_pending = false) {
    std::vector<Callback> callbacks;
    bool notify = false;
    {
      std::unique_lock<typename Sync::mutex> lk(self->mu_);
      const int s = self->status_.load();
      if (is_done(s)) return false;
      if (only_if_pending && s != static_cast<int>(FutureStatus::pending)) return false;
      set(*self);
      self->status_.store(static_cast<int>(to));
      callbacks.swap(self->callbacks_);
      const bool failed = to == FutureStatus::finished && self->error_ != nullptr;
      for (auto& [watcher, tag] : self->watchers_) watcher->future_done(tag, failed);
      self->watchers_.clear();
      notify = self->blocked_.load() > 0;
    }
    // Notified after the unlock: a waiter woken under the lock would block
    // at once on the mutex this thread still holds (two more context
    // switches per wake-up). `self` keeps the state alive; a waiter re-checks
    // the status under the lock, so no wake-up is lost.
    if (notify) self->cv_.notify_all();
    // Outside the lock: a callback may do anything with this future.
    const Handle handle(self);
    for (auto& cb : callbacks) self->invoke(cb, handle);
    return true;
  }

  // pending -> cancelled (true); already cancelled: true; else false.
  static bool cancel(const std::shared_ptr<FutureState>& self) {
    if (complete(self, FutureStatus::cancelled, [](FutureState&) {}, /*only_if_pending=*/true))
      return true;
    return self->status() == static_cast<int>(FutureStatus::cancelled);
  }

  static void add_callback(const std::shared_ptr<FutureState>& self, Callback cb) {
    {
      std::unique_lock<typename Sync::mutex> lk(self->mu_);
      if (!is_done(self->status_.load())) {
        self->callbacks_.push_back(std::move(cb));
        return;
      }
    }
    self->invoke(cb, Handle(self));
  }

  // Registers `w` unless already done; returns whether it was done (and
  // whether it failed).
  bool watch(CompletionWatcher* w, std::size_t tag, bool& failed) INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    const int s = status_.load();
    if (is_done(s)) {
      failed = s == static_cast<int>(FutureStatus::finished) && error_ != nullptr;
      return true;
    }
    watchers_.emplace_back(w, tag);
    return false;
  }
  void unwatch(CompletionWatcher* w) INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    std::erase_if(watchers_, [w](const auto& e) { return e.first == w; });
  }

  int callback_errors() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return callback_errors_.load();
  }

  static bool is_done(int s) {
    return s == static_cast<int>(FutureStatus::cancelled) ||
           s == static_cast<int>(FutureStatus::finished);
  }

  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable cv_;
  typename Sync::template var<int> status_
      INTERLEAVE_GUARDED_BY(mu_){static_cast<int>(FutureStatus::pending)};
  typename Sync::template var<int> blocked_ INTERLEAVE_GUARDED_BY(mu_){0};  // threads in cv_.wait
  typename Sync::template var<int> callback_errors_ INTERLEAVE_GUARDED_BY(mu_){0};
  std::optional<stored_t<T>> value_ INTERLEAVE_GUARDED_BY(mu_);
  std::exception_ptr error_ INTERLEAVE_GUARDED_BY(mu_);
  std::vector<Callback> callbacks_ INTERLEAVE_GUARDED_BY(mu_);
  std::vector<std::pair<CompletionWatcher*, std::size_t>> watchers_ INTERLEAVE_GUARDED_BY(mu_);
  FutureOwner* const owner_;

 private:
  void invoke(Callback& cb, const Handle& handle) INTERLEAVE_EXCLUDES(mu_) {
    std::string what;
    bool threw = false;
    try {
      cb(handle);
    } catch (...) {
      // Only plain work inside the handler: no lock taken while an
      // exception is being handled.
      threw = true;
      what = describe(std::current_exception());
    }
    if (!threw) return;
    report_callback_error(what);
    std::unique_lock<typename Sync::mutex> lk(mu_);
    callback_errors_.store(callback_errors_.load() + 1);
  }
};

// The door through which the rest of impl (as_completed/wait, the thread
// pool) reaches what is not public: a future's shared state, and a promise
// whose future belongs to a pool. Not part of the API.
struct FutureAccess {
  template <class T, SyncBackend Sync>
  static FutureState<T, Sync>& state(const Future<T, Sync>& f) {
    return f.st();
  }
  template <class T, SyncBackend Sync>
  static Promise<T, Sync> owned_promise(FutureOwner* owner) {
    return Promise<T, Sync>(owner);
  }
};

}  // namespace detail

// Where a done callback's exception is reported (besides the future's
// callback_errors()): stderr unless replaced. Returns the previous reporter;
// nullptr restores stderr. The reporter must not throw.
inline void (*set_callback_error_reporter(void (*reporter)(const std::string&)))(
    const std::string&) {
  return detail::callback_error_reporter().exchange(
      reporter ? reporter : &detail::print_callback_error, std::memory_order_acq_rel);
}

template <class T, SyncBackend Sync = std_sync>
class Future {
  using State = detail::FutureState<T, Sync>;

 public:
  using value_type = T;
  Future() = default;

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

  // The value (const T&), or rethrows the task's exception; CancelledError if
  // cancelled; PoolDeadlockError if called from a worker of the owning pool
  // when every other worker is already waiting on that pool's futures.
  decltype(auto) get() const {
    std::unique_lock<typename Sync::mutex> lk(st().mu_);
    const auto& v = st().outcome(lk);
    if constexpr (std::is_void_v<T>) {
      (void)v;
      return;
    } else {
      return static_cast<const T&>(v);
    }
  }
  // The task's exception (nullptr if it returned normally), once done.
  std::exception_ptr exception() const { return st().exception(); }

  void wait() const {
    std::unique_lock<typename Sync::mutex> lk(st().mu_);
    st().wait_done(lk);
  }
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    return st().wait_done_until(
        detail::deadline_after<typename Sync::clock>(timeout, "Future::wait_for"));
  }
  template <class Clock, class Dur>
  bool wait_until(const std::chrono::time_point<Clock, Dur>& deadline) const {
    return st().wait_done_until(detail::to_clock<typename Sync::clock>(deadline));
  }

  [[nodiscard]] bool done() const { return st().done(); }
  [[nodiscard]] bool running() const {
    return st().status() == static_cast<int>(FutureStatus::running);
  }
  [[nodiscard]] bool cancelled() const {
    return st().status() == static_cast<int>(FutureStatus::cancelled);
  }
  [[nodiscard]] FutureStatus status() const { return static_cast<FutureStatus>(st().status()); }
  bool cancel() { return State::cancel(shared()); }

  template <class F>
  void add_done_callback(F&& f) {
    static_assert(std::is_invocable_v<F&, const Future&>, "a done callback takes (const Future&)");
    State::add_callback(shared(), typename State::Callback(std::forward<F>(f)));
  }
  // How many done callbacks of this future threw.
  [[nodiscard]] int callback_errors() const { return st().callback_errors(); }

  // Identity: two handles on the same state are the same future.
  [[nodiscard]] const void* id() const noexcept { return state_.get(); }
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

 private:
  friend class Promise<T, Sync>;
  friend struct detail::FutureAccess;
  friend class detail::FutureState<T, Sync>;

  explicit Future(std::shared_ptr<State> s) : state_(std::move(s)) {}
  State& st() const {
    if (!state_) throw InvalidStateError("Future: no state (default-constructed or moved-from)");
    return *state_;
  }
  const std::shared_ptr<State>& shared() const {
    st();
    return state_;
  }

  std::shared_ptr<State> state_;
};

template <class T, SyncBackend Sync = std_sync>
class Promise {
  using State = detail::FutureState<T, Sync>;

 public:
  Promise() : state_(std::make_shared<State>(nullptr)) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& o) noexcept {
    if (this != &o) {
      abandon();
      state_ = std::move(o.state_);
    }
    return *this;
  }
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;
  ~Promise() { abandon(); }

  [[nodiscard]] Future<T, Sync> get_future() const { return Future<T, Sync>(live("get_future")); }

  template <class U = T>
    requires(!std::is_void_v<U>)
  void set_value(U&& v) {
    if (!State::complete(live("set_value"), FutureStatus::finished,
                         [&](State& s) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
                           s.value_.emplace(std::forward<U>(v));
                         }))
      throw InvalidStateError(
          "Promise::set_value: the future already has a result (the first is kept)");
  }
  void set_value()
    requires std::is_void_v<T>
  {
    if (!State::complete(live("set_value"), FutureStatus::finished,
                         [&](State& s)
                             INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS { s.value_.emplace(); }))
      throw InvalidStateError(
          "Promise::set_value: the future already has a result (the first is kept)");
  }
  void set_exception(std::exception_ptr e) {
    if (!e) throw std::invalid_argument("Promise::set_exception: exception must not be null");
    if (!State::complete(live("set_exception"), FutureStatus::finished,
                         [&](State& s)
                             INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS { s.error_ = std::move(e); }))
      throw InvalidStateError(
          "Promise::set_exception: the future already has a result (the first is kept)");
  }
  // pending -> running (true), or false if the future was cancelled.
  bool set_running_or_notify_cancel() {
    return live("set_running_or_notify_cancel")->set_running_or_notify_cancel();
  }

 private:
  friend struct detail::FutureAccess;

  // A promise whose future belongs to `owner` (a pool: detail::FutureAccess).
  explicit Promise(detail::FutureOwner* owner) : state_(std::make_shared<State>(owner)) {}

  const std::shared_ptr<State>& live(const char* who) const {
    if (!state_) throw InvalidStateError(std::string("Promise::") + who + ": moved-from promise");
    return state_;
  }
  void abandon() noexcept {
    if (!state_) return;
    try {
      State::complete(
          state_, FutureStatus::finished, [](State& s) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
            s.error_ =
                std::make_exception_ptr(BrokenPromise("Promise destroyed before it set a result"));
          });
    } catch (...) {
    }
    state_.reset();
  }
  std::shared_ptr<State> state_;
};

}  // namespace interleave
