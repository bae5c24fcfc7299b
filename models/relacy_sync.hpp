// models/relacy_sync.hpp — the Relacy backend of the sync interface.
//
// `relacy_sync` implements interleave/sync.hpp's interface with Relacy Race
// Detector types, so a model instantiates the impl's own templates
// (`Queue<int, relacy_sync>`) and Relacy explores their interleavings. Every
// method takes a defaulted std::source_location and hands it to Relacy as its
// rl::debug_info: a Relacy history therefore names the impl's own file,
// function and line, not this adapter.
//
// What this backend cannot see (say so next to each model that relies on it):
// real time (a timed wait may time out at any scheduling point, whatever the
// duration), processes, and anything outside the objects built from it
// (plain members that are not `var<T>` are not checked for races).
//
// Included first in a model translation unit (model.hpp -> relacy/adapter.hpp
// -> here): it includes the standard headers impl code needs, then Relacy,
// then undoes the macros Relacy defines. Checked with relacy-dev
// 0.0+git20191025, g++ 12 and clang 19: relacy_std.hpp's `using rl::atomic`
// collides with libstdc++ 12, so only <relacy/relacy.hpp> is included; a
// standard header included after Relacy without the #undefs below fails to
// compile (`= delete`, std::memory_order_relaxed); and because Relacy
// replaces the global operator new/delete, model executables are compiled
// with -fno-sized-deallocation (models/CMakeLists.txt).
#pragma once

// 1. Every standard header impl code may need, before Relacy.
#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <regex>
#include <set>
#include <source_location>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// 2. Relacy (not relacy_std.hpp: its `using rl::atomic` collides with
//    libstdc++ 12).
#include <relacy/relacy.hpp>

// 3. Undo the macros that break std headers, `= delete` and std::memory_order.
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef assert
#undef errno
// Relacy's errno and assert replace the C library's; give back the C
// library's errno (glibc's own definition) so later std headers compile, and
// make assert() a Relacy assertion inside models.
#define errno (*__errno_location())
#define assert(x) RL_ASSERT(x)

#include "interleave/sync.hpp"

namespace interleave::models {

using loc = std::source_location;

inline rl::debug_info info(const loc& l) {
  return rl::debug_info(l.function_name(), l.file_name(), l.line());
}

inline rl::memory_order mo(std::memory_order o) {
  switch (o) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    case std::memory_order_seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

// The failure order std derives from a success order for compare_exchange.
inline std::memory_order failure_order(std::memory_order o) {
  switch (o) {
    case std::memory_order_acq_rel: return std::memory_order_acquire;
    case std::memory_order_release: return std::memory_order_relaxed;
    default: return o;
  }
}

class INTERLEAVE_CAPABILITY("mutex") relacy_mutex {
 public:
  static constexpr bool interleave_backend_mutex = true;
  relacy_mutex() = default;
  relacy_mutex(const relacy_mutex&) = delete;
  relacy_mutex& operator=(const relacy_mutex&) = delete;

  void lock(loc l = loc::current()) INTERLEAVE_ACQUIRE() { m_.lock(info(l)); }
  bool try_lock(loc l = loc::current()) INTERLEAVE_TRY_ACQUIRE(true) {
    return m_.try_lock(info(l));
  }
  void unlock(loc l = loc::current()) INTERLEAVE_RELEASE() { m_.unlock(info(l)); }
  rl::mutex& native() noexcept { return m_; }

 private:
  rl::mutex m_;
};

// Relacy's condition variable may wake spuriously; every wait that takes a
// predicate loops on it.
class relacy_condition_variable {
 public:
  using lock_type = std::unique_lock<relacy_mutex>;

  void notify_one(loc l = loc::current()) { cv_.notify_one(info(l)); }
  void notify_all(loc l = loc::current()) { cv_.notify_all(info(l)); }

  void wait(lock_type& lk, loc l = loc::current()) { cv_.wait(lk.mutex()->native(), info(l)); }
  template <class Pred>
  void wait(lock_type& lk, Pred pred, loc l = loc::current()) {
    while (!pred()) wait(lk, l);
  }
  // Relacy models time as nondeterminism: the wait may time out at any point.
  template <class Rep, class Period>
  std::cv_status wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>&,
                          loc l = loc::current()) {
    return timed_wait(lk, l);
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>&, Pred pred,
                loc l = loc::current()) {
    return timed_wait_pred(lk, pred, l);
  }
  template <class Clock, class Dur>
  std::cv_status wait_until(lock_type& lk, const std::chrono::time_point<Clock, Dur>&,
                            loc l = loc::current()) {
    return timed_wait(lk, l);
  }
  template <class Clock, class Dur, class Pred>
  bool wait_until(lock_type& lk, const std::chrono::time_point<Clock, Dur>&, Pred pred,
                  loc l = loc::current()) {
    return timed_wait_pred(lk, pred, l);
  }

 private:
  std::cv_status timed_wait(lock_type& lk, const loc& l) {
    const bool woken = cv_.wait_for(lk.mutex()->native(), 0, info(l));
    return woken ? std::cv_status::no_timeout : std::cv_status::timeout;
  }
  template <class Pred>
  bool timed_wait_pred(lock_type& lk, Pred& pred, const loc& l) {
    while (!pred()) {
      if (timed_wait(lk, l) == std::cv_status::timeout) return pred();
    }
    return true;
  }
  rl::condition_variable cv_;
};

// std::atomic's interface over rl::atomic: each operation is a scheduling
// point and is checked against the C++ memory model. With SeqCst, every
// operation is sequentially consistent whatever order impl code asked for:
// the "interleavings only" rendering, in which a bug is a schedule, not a
// weak-memory effect.
template <class T, bool SeqCst = false>
class relacy_atomic {
  static rl::memory_order mo(std::memory_order o) {
    return SeqCst ? rl::mo_seq_cst : models::mo(o);
  }
  static std::memory_order failure_order(std::memory_order o) {
    return SeqCst ? std::memory_order_seq_cst : models::failure_order(o);
  }

 public:
  relacy_atomic() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): std::atomic's converting constructor
  relacy_atomic(T v) : a_(v) {}
  relacy_atomic(const relacy_atomic&) = delete;
  relacy_atomic& operator=(const relacy_atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) const {
    return a_.load(mo(o), info(l));
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) {
    a_.store(v, mo(o), info(l));
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) {
    return a_.exchange(v, mo(o), info(l));
  }
  T fetch_add(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) {
    return a_.fetch_add(v, mo(o), info(l));
  }
  T fetch_sub(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) {
    return a_.fetch_sub(v, mo(o), info(l));
  }
  T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) {
    return a_.fetch_or(v, mo(o), info(l));
  }
  T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst, loc l = loc::current()) {
    return a_.fetch_and(v, mo(o), info(l));
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order o = std::memory_order_seq_cst,
                               loc l = loc::current()) {
    return a_.compare_exchange_strong(expected, desired, mo(o), info(l), mo(failure_order(o)),
                                      info(l));
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order o = std::memory_order_seq_cst,
                             loc l = loc::current()) {
    return a_.compare_exchange_weak(expected, desired, mo(o), info(l), mo(failure_order(o)),
                                    info(l));
  }
  T operator++(int) { return fetch_add(1); }
  T operator--(int) { return fetch_sub(1); }
  operator T() const { return load(); }  // NOLINT(google-explicit-constructor)

 private:
  mutable rl::atomic<T> a_;
};

// Plain shared data under Relacy's data-race detector.
template <class T>
class relacy_var {
 public:
  relacy_var() : v_(T{}) {}
  explicit relacy_var(T v) : v_(std::move(v)) {}
  T load(loc l = loc::current()) const { return v_(info(l)).load(); }
  void store(T v, loc l = loc::current()) { v_(info(l)).store(std::move(v)); }

 private:
  rl::var<T> v_;
};

// A model thread: Relacy's dynamic thread running a callable. The test suite
// must declare enough `dynamic_thread_count` for the threads impl code starts.
//
// The adapter's own bookkeeping (the callable's copy, the rl::dyn_thread)
// lives in C-heap memory that Relacy does not track: Relacy explores every
// free() of model memory as a choice (reuse now or later, for ABA), and the
// adapter's frees are not the code under test; counting them would double
// the executions explored for every thread started.
class relacy_thread {
 public:
  relacy_thread() noexcept = default;
  template <class F>
  explicit relacy_thread(F&& f) {
    using Fn = std::decay_t<F>;
    void* mem = std::malloc(sizeof(Block<Fn>));
    if (mem == nullptr) throw std::bad_alloc();
    auto* block = ::new (mem) Block<Fn>(std::forward<F>(f));
    b_ = block;
    block->thread.start(&trampoline<Fn>, block);
  }
  relacy_thread(relacy_thread&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  relacy_thread& operator=(relacy_thread&& o) noexcept {
    if (joinable()) std::terminate();
    b_ = std::exchange(o.b_, nullptr);
    return *this;
  }
  ~relacy_thread() {
    if (joinable()) std::terminate();  // std::thread's rule
  }
  [[nodiscard]] bool joinable() const noexcept { return b_ != nullptr; }
  void join() {
    if (!joinable())
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "relacy_thread::join: not joinable");
    b_->thread.join();
    b_->destroy(b_);
    std::free(b_);
    b_ = nullptr;
  }

 private:
  struct BlockBase {
    rl::dyn_thread thread;
    void (*destroy)(BlockBase*) = nullptr;
  };
  template <class Fn>
  struct Block : BlockBase {
    template <class F>
    explicit Block(F&& f) : fn(std::forward<F>(f)) {
      this->destroy = [](BlockBase* b) { static_cast<Block*>(b)->~Block(); };
    }
    Fn fn;
  };
  template <class Fn>
  static void* trampoline(void* p) {
    static_cast<Block<Fn>*>(p)->fn();
    return nullptr;
  }
  BlockBase* b_ = nullptr;
};

// std::stop_source / std::stop_token over a shared Relacy atomic. The
// standard's contract is what is modelled: request_stop() synchronises with
// a stop_requested() that returns true (release / acquire here; libstdc++
// uses stronger orders). Stop callbacks are not modelled.
struct relacy_stop_state {
  rl::atomic<bool> requested{false};
};
class relacy_stop_token {
 public:
  relacy_stop_token() noexcept = default;
  explicit relacy_stop_token(std::shared_ptr<relacy_stop_state> s) noexcept : s_(std::move(s)) {}
  [[nodiscard]] bool stop_requested(loc l = loc::current()) const {
    return s_ && s_->requested.load(rl::mo_acquire, info(l));
  }
  [[nodiscard]] bool stop_possible() const noexcept { return s_ != nullptr; }

 private:
  std::shared_ptr<relacy_stop_state> s_;
};
class relacy_stop_source {
 public:
  relacy_stop_source() : s_(std::make_shared<relacy_stop_state>()) {}
  // Returns true if this call made the request (std's rule).
  bool request_stop(loc l = loc::current()) {
    return !s_->requested.exchange(true, rl::mo_acq_rel, info(l));
  }
  [[nodiscard]] bool stop_requested(loc l = loc::current()) const {
    return s_->requested.load(rl::mo_acquire, info(l));
  }
  [[nodiscard]] relacy_stop_token get_token() const noexcept { return relacy_stop_token(s_); }

 private:
  std::shared_ptr<relacy_stop_state> s_;
};

// std::jthread over a model thread: passes a stop token to a callable that
// takes one; the destructor requests stop and joins.
class relacy_jthread {
 public:
  relacy_jthread() noexcept = default;
  template <class F>
  explicit relacy_jthread(F&& f) {
    if constexpr (std::is_invocable_v<std::decay_t<F>&, relacy_stop_token>)
      t_ = relacy_thread([fn = std::forward<F>(f), tok = src_.get_token()]() mutable { fn(tok); });
    else
      t_ = relacy_thread(std::forward<F>(f));
  }
  relacy_jthread(relacy_jthread&&) noexcept = default;
  relacy_jthread& operator=(
      relacy_jthread&& o) noexcept {  // std::jthread's: stop and join the old one
    if (joinable()) {
      src_.request_stop();
      t_.join();
    }
    src_ = std::move(o.src_);
    t_ = std::move(o.t_);
    return *this;
  }
  ~relacy_jthread() {
    if (joinable()) {
      src_.request_stop();
      t_.join();
    }
  }
  [[nodiscard]] bool joinable() const noexcept { return t_.joinable(); }
  void join() { t_.join(); }
  bool request_stop(loc l = loc::current()) { return src_.request_stop(l); }
  [[nodiscard]] relacy_stop_source get_stop_source() const { return src_; }
  [[nodiscard]] relacy_stop_token get_stop_token() const { return src_.get_token(); }

 private:
  relacy_stop_source src_;
  relacy_thread t_;
};

template <bool SeqCst>
struct basic_relacy_sync {
  static constexpr const char* name = SeqCst ? "relacy-sc" : "relacy";
  using mutex = relacy_mutex;
  using condition_variable = relacy_condition_variable;
  template <class T>
  using atomic = relacy_atomic<T, SeqCst>;
  template <class T>
  using var = relacy_var<T>;
  using thread = relacy_thread;
  using jthread = relacy_jthread;
  using stop_source = relacy_stop_source;
  using stop_token = relacy_stop_token;
  using clock = std::chrono::steady_clock;

  // Model threads are fibers on one OS thread: thread_local cannot tell them
  // apart, Relacy's own index can.
  static std::size_t thread_index() { return rl::thread_index(); }
  static void yield(loc l = loc::current()) { rl::yield(1, info(l)); }
  // INTERLEAVE_MODEL_CHECK (models/model.hpp): a false condition fails the
  // execution as a Relacy assertion, named by its text and source line.
  static void model_check(bool ok, const char* text, loc l) {
    if (ok) return;
    static char desc[512];  // Relacy copies it; no model-heap allocation here
    std::snprintf(desc, sizeof desc, "assertion: %s", text);
    rl::ctx().fail_test(desc, rl::test_result_user_assert_failed, info(l));
  }
  template <class Rep, class Period>
  static void sleep_for(const std::chrono::duration<Rep, Period>&, loc l = loc::current()) {
    rl::yield(1, info(l));
  }
};

// The backend models use: the C++ memory model as written in impl code.
using relacy_sync = basic_relacy_sync<false>;
// Every atomic access sequentially consistent: interleavings only.
using relacy_sc_sync = basic_relacy_sync<true>;
static_assert(SyncBackend<relacy_sync> && SyncBackend<relacy_sc_sync>,
              "the Relacy backends implement sync.hpp's interface");

}  // namespace interleave::models
