// models/dpor/atomic.hpp — the model atomic<T>: every access is a scheduling
// point, executed sequentially consistently (one value, no stale reads)
// unless the search explores stale reads (RunOptions::stale_reads, on for
// expected failures): then a relaxed load may return any store coherence
// allows (not older than one that happens-before it, nor than the last one
// its thread read or wrote), a data choice, the latest first. The memory
// orders written in impl code decide happens-before for var<T>: a release
// store (or an RMW continuing its release sequence) read by an acquire load
// synchronises; a relaxed one does not, so a relaxed publication of var<T>
// data is reported as a data race.
#pragma once

#include <atomic>
#include <source_location>
#include <utility>
#include <vector>

#include "execution.hpp"

namespace interleave::dpor {

inline bool is_acquire(std::memory_order o) {
  return o == std::memory_order_acquire || o == std::memory_order_acq_rel ||
         o == std::memory_order_seq_cst || o == std::memory_order_consume;
}
inline bool is_release(std::memory_order o) {
  return o == std::memory_order_release || o == std::memory_order_acq_rel ||
         o == std::memory_order_seq_cst;
}
inline std::memory_order failure_order(std::memory_order o) {
  return o == std::memory_order_acq_rel   ? std::memory_order_acquire
         : o == std::memory_order_release ? std::memory_order_relaxed
                                          : o;
}

template <class T>
class atomic {
 public:
  using loc = std::source_location;
  atomic() : atomic(T{}) {}
  // NOLINTNEXTLINE(google-explicit-constructor): std::atomic's converting constructor
  atomic(T v, loc where = loc::current())
      : id_(Execution::require("atomic").new_object(ObjKind::atomic, where)), v_(std::move(v)) {
    if (Execution::require("atomic").stale_reads()) history_.push_back(v_);
  }
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) const {
    Execution& x = Execution::require("atomic");
    if (x.peeking()) {  // an await predicate, read by the scheduler: no event
      x.peek_load(id_);
      return v_;
    }
    if (!x.announce(Op::load, id_, kNone, where)) return v_;
    if (o == std::memory_order_relaxed && !history_.empty()) {  // stale reads explored
      const std::uint32_t k = x.stale_index(id_);
      T r = history_[k];
      x.atomic_access(id_, false, false, false, false, static_cast<int>(k));
      return r;
    }
    T r = v_;
    x.atomic_access(id_, false, false, is_acquire(o), false);
    return r;
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) {
    Execution& x = Execution::require("atomic");
    if (!x.announce(Op::store, id_, kNone, where)) return;
    v_ = std::move(v);
    if (!history_.empty()) history_.push_back(v_);
    x.atomic_access(id_, true, false, false, is_release(o));
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) {
    return rmw([&](T) { return v; }, o, where);
  }
  T fetch_add(T v, std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) {
    return rmw([&](T old) { return static_cast<T>(old + v); }, o, where);
  }
  T fetch_sub(T v, std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) {
    return rmw([&](T old) { return static_cast<T>(old - v); }, o, where);
  }
  T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) {
    return rmw([&](T old) { return static_cast<T>(old | v); }, o, where);
  }
  T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst, loc where = loc::current()) {
    return rmw([&](T old) { return static_cast<T>(old & v); }, o, where);
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order o = std::memory_order_seq_cst,
                               loc where = loc::current()) {
    Execution& x = Execution::require("atomic");
    if (!x.announce(Op::store, id_, kNone, where)) return false;
    if (v_ == expected) {
      v_ = std::move(desired);
      if (!history_.empty()) history_.push_back(v_);
      x.atomic_access(id_, true, true, is_acquire(o), is_release(o));
      return true;
    }
    expected = v_;  // a failed compare-exchange is a load
    x.atomic_access(id_, false, false, is_acquire(failure_order(o)), false);
    return false;
  }
  // Never fails spuriously here (a weak CAS in a loop behaves the same).
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order o = std::memory_order_seq_cst,
                             loc where = loc::current()) {
    return compare_exchange_strong(expected, std::move(desired), o, where);
  }
  T operator++(int) { return fetch_add(1); }
  T operator--(int) { return fetch_sub(1); }
  operator T() const { return load(); }  // NOLINT(google-explicit-constructor)

 private:
  template <class F>
  T rmw(F f, std::memory_order o, const loc& where) {
    Execution& x = Execution::require("atomic");
    if (!x.announce(Op::store, id_, kNone, where)) return v_;
    T old = v_;
    v_ = f(old);
    if (!history_.empty()) history_.push_back(v_);
    x.atomic_access(id_, true, true, is_acquire(o), is_release(o));
    return old;
  }
  std::uint32_t id_;
  T v_;
  std::vector<T> history_;  // stale reads: every value stored, in modification order
};

}  // namespace interleave::dpor
