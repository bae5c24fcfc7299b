// models/dpor/condvar.hpp — the model condition variable, as C++ allows it:
//   - notify_one wakes *any* waiter: with several waiters the checker
//     explores each choice (not FIFO);
//   - a timed wait's timeout is a transition of the waiting thread, enabled
//     while it waits, dependent only with notifies on this cv: the search
//     tries it before and after each notify, not at every step;
//   - a bare wait(lk) may wake spuriously once per call (the same kind of
//     transition; RunOptions::spurious_wakeups turns it off); wait(lk, pred)
//     never wakes spuriously (its loop would absorb it anyway);
//   - await mode (RunOptions::await_mode, opt-in): wait(lk, pred) blocks
//     until pred holds and the mutex is free, with no notify or spurious
//     wake-up explored for it (Execution::cv_await); it cannot see a lost
//     wake-up, so the lost-wake-up checks run in exact mode;
//   - a waiter is disabled until notified (or timed out), and a notified
//     waiter then relocks the mutex like any lock; notify -> woken waiter is
//     a happens-before edge for var<T>.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <source_location>

#include "execution.hpp"
#include "mutex.hpp"

namespace interleave::dpor {

class condition_variable {
 public:
  using loc = std::source_location;
  using lock_type = std::unique_lock<mutex>;

  explicit condition_variable(loc where = loc::current())
      : id_(Execution::require("condition_variable").new_object(ObjKind::cv, where)) {}
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  void notify_one(loc where = loc::current()) { x().cv_notify(id_, false, where); }
  void notify_all(loc where = loc::current()) { x().cv_notify(id_, true, where); }

  void wait(lock_type& lk, loc where = loc::current()) { wait_(lk, WaitKind::spurious, where); }
  // Exact mode: a loop of waits that never wake spuriously (the loop would
  // absorb a spurious wake-up: pred is false again and the thread waits
  // again, with no other effect). Await mode: block until pred holds.
  template <class Pred>
  void wait(lock_type& lk, Pred pred, loc where = loc::current()) {
    Execution& ex = x();
    if (!ex.await_mode()) {
      while (!pred()) wait_(lk, WaitKind::plain, where);
      return;
    }
    check(lk);
    if (pred()) return;
    ex.await_failed_check(lk.mutex()->id());
    while (!pred())
      ex.cv_await(
          id_, lk.mutex()->id(),
          [](void* p) { return static_cast<bool>((*static_cast<Pred*>(p))()); }, &pred, where,
          code_key(pred));
  }
  template <class Rep, class Period>
  std::cv_status wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>&,
                          loc where = loc::current()) {
    return wait_(lk, WaitKind::timed, where);
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>&, Pred pred,
                loc where = loc::current()) {
    return timed_pred(lk, pred, where);
  }
  template <class Clock, class Dur>
  std::cv_status wait_until(lock_type& lk, const std::chrono::time_point<Clock, Dur>&,
                            loc where = loc::current()) {
    return wait_(lk, WaitKind::timed, where);
  }
  template <class Clock, class Dur, class Pred>
  bool wait_until(lock_type& lk, const std::chrono::time_point<Clock, Dur>&, Pred pred,
                  loc where = loc::current()) {
    return timed_pred(lk, pred, where);
  }

 private:
  static Execution& x() { return Execution::require("condition_variable"); }
  static void check(lock_type& lk) {
    if (lk.mutex() == nullptr || !lk.owns_lock())
      throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                              "condition_variable::wait: the lock does not hold a mutex");
  }
  std::cv_status wait_(lock_type& lk, WaitKind kind, const loc& where) {
    check(lk);
    return x().cv_wait(id_, lk.mutex()->id(), kind, where);
  }
  template <class Pred>
  bool timed_pred(lock_type& lk, Pred& pred, const loc& where) {
    while (!pred()) {
      if (wait_(lk, WaitKind::timed, where) == std::cv_status::timeout) return pred();
    }
    return true;
  }
  std::uint32_t id_;
};

}  // namespace interleave::dpor
