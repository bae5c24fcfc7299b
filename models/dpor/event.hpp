// models/dpor/event.hpp — the visible operations of a model thread, the
// events they become, and the dependency relation between them.
//
// A model thread announces its next visible operation (a `Pending`) and
// yields to the scheduler; when the scheduler picks it, the operation takes
// effect and is committed as an `Event`. An event touches a few objects (a
// condition-variable wait unlocks its mutex and registers on the cv in one
// step; an await-mode wake-up relocks the mutex and reads the atomics of its
// predicate), each with an `Access` kind. Plain `var<T>` accesses are not events:
// they are race-checked against the causality clocks instead.
//
// Dependency (`depends(earlier, later)`), per object, after the table of
// Nidhugg and loom:
//   mutex   lock/lock: reversible race; try_lock that failed vs the lock it
//           saw (earlier) and vs the unlock after it: reversible; unlock ->
//           a try_lock that succeeded: reversible (it would have failed);
//           unlock -> later lock: happens-before only (the lock was
//           disabled, so the pair cannot be reordered: the reversible race
//           is lock/lock).
//   cv      register (a wait) vs notify, notify vs notify, notify vs timeout:
//           reversible; notify -> the wake it caused: reversible in the sense
//           that the waiter may instead time out before the notify (only
//           when its wait is timed or may wake spuriously; otherwise the
//           waiter is disabled there and no branch is added).
//   atomic  load vs store/RMW, store/RMW vs store/RMW: reversible; two loads
//           commute (a failed compare-exchange is a load).
// Declaring two events dependent when they commute costs redundant
// (sleep-set-blocked) runs, never a missed trace; the relation above errs
// only that way.
#pragma once

#include <cstdint>
#include <source_location>

#include "vector_clock.hpp"

namespace interleave::dpor {

inline constexpr std::uint32_t kNone = 0xffffffffu;

enum class Op : std::uint8_t {
  start,  // a new thread's first step
  yield,  // yield() / sleep_for(): a scheduling point, dependent with nothing
  join,   // obj = the target thread
  lock,
  try_lock,
  unlock,
  cv_wait,    // unlock the mutex (obj2) and register on the cv (obj)
  cv_resume,  // woken (or timed out): relock obj2
  await,      // await mode: a predicate wait whose predicate holds relocks obj2
  notify_one,
  notify_all,
  load,
  store,  // store, RMW, successful compare-exchange
};

const char* op_name(Op op) noexcept;

enum class Access : std::uint8_t {
  none,
  m_lock,
  m_trylock_ok,  // a try_lock that took the mutex
  m_unlock,
  m_trylock_fail,
  cv_register,
  cv_notify,
  cv_wake,
  cv_timeout,
  a_load,
  a_store,
};

// 0: independent; 1: happens-before, not reorderable; 2: a reversible race.
inline int depends(Access earlier, Access later) noexcept {
  using A = Access;
  switch (earlier) {
    case A::m_lock:
    case A::m_trylock_ok:
      return later == A::m_lock || later == A::m_trylock_ok || later == A::m_trylock_fail ? 2
             : later == A::m_unlock                                                       ? 1
                                                                                          : 0;
    // A try_lock never blocks: after an unlock it could have come first
    // (and failed), so that pair is a reversible race; a lock could not.
    case A::m_unlock: return later == A::m_trylock_ok ? 2 : later == A::m_lock ? 1 : 0;
    case A::m_trylock_fail:
      return later == A::m_unlock ? 2 : later == A::m_lock || later == A::m_trylock_ok ? 1 : 0;
    case A::cv_register: return later == A::cv_notify ? 2 : 0;
    case A::cv_notify:
      return later == A::cv_notify || later == A::cv_register || later == A::cv_timeout ||
                     later == A::cv_wake
                 ? 2
                 : 0;
    case A::cv_timeout: return later == A::cv_notify ? 2 : 0;
    case A::cv_wake: return 0;
    case A::a_load: return later == A::a_store ? 2 : 0;
    case A::a_store: return later == A::a_load || later == A::a_store ? 2 : 0;
    case A::none: return 0;
  }
  return 0;
}

// Atomics an await-mode predicate may read (their loads are part of the
// wake-up event).
inline constexpr unsigned kAwaitAtoms = 3;

struct Pending {
  Op op = Op::start;
  std::uint32_t obj = kNone;   // for join: the target thread
  std::uint32_t obj2 = kNone;  // the mutex of a cv wait
  std::source_location loc{};
  // Op::await: the atomics its predicate read when last evaluated
  std::uint32_t atoms[kAwaitAtoms] = {kNone, kNone, kNone};
};

// Whether two announced operations may fail to commute (sleep sets): they
// share an object and are not both loads. Conservative by design.
inline bool pending_dependent(const Pending& a, const Pending& b) noexcept {
  auto plain = [](Op op) { return op == Op::start || op == Op::yield || op == Op::join; };
  if (plain(a.op) || plain(b.op)) return false;
  if (a.op == Op::load && b.op == Op::load) return false;
  auto shares = [](std::uint32_t x, const Pending& p) {
    if (x == kNone) return false;
    if (x == p.obj || x == p.obj2) return true;
    for (std::uint32_t a : p.atoms)
      if (a == x) return true;
    return false;
  };
  if (shares(a.obj, b) || shares(a.obj2, b)) return true;
  for (std::uint32_t x : a.atoms)
    if (shares(x, b)) return true;
  return false;
}

// Objects one event may touch: a wait's cv and mutex, an await's cv, mutex
// and the atomics its predicate read.
inline constexpr unsigned kSlots = 2 + kAwaitAtoms;

struct Event {
  std::uint32_t tid = 0;
  std::uint32_t seq = 0;   // 1-based index among tid's events
  std::uint32_t node = 0;  // the path node that scheduled it
  Op op = Op::start;
  Access acc[kSlots] = {};  // Access::none
  std::uint32_t obj[kSlots] = {kNone, kNone, kNone, kNone, kNone};
  std::source_location loc{};
  std::uint32_t stale = 0;  // a stale load: how many stores older than the latest it read
  VectorClock vc;           // dependence clock
};

}  // namespace interleave::dpor
