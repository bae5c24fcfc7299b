// interleave/sync.hpp — the sync backend interface and `std_sync`, the
// backend users get.
//
// Every primitive in interleave is a template over a *sync backend*
// (`template <SyncBackend Sync = std_sync>`), in the manner of folly's
// `template <typename> class Atom = std::atomic`. A backend is a struct that
// exposes, under the standard names:
//
//   Sync::mutex                   lock()/try_lock()/unlock(), each taking a
//                                 defaulted std::source_location; a clang
//                                 thread-safety capability
//   std::unique_lock<Sync::mutex> the scoped lock impl code uses (a
//                                 specialisation of interleave::unique_lock)
//   Sync::condition_variable      wait(lk) / wait(lk, pred) / wait_for /
//                                 wait_until / notify_one / notify_all; it may
//                                 wake spuriously (the Relacy backend does), so
//                                 waits belong in predicate loops
//   Sync::atomic<T>               std::atomic's interface
//   Sync::var<T>                  plain shared data: load()/store(); a checker
//                                 can watch it for data races, zero cost here
//   Sync::thread                  a joinable thread running a callable
//   Sync::jthread, stop_source,   std::jthread / std::stop_source /
//     stop_token                  std::stop_token (request_stop synchronises
//                                 with a stop_requested() that returns true)
//   Sync::thread_index()          a small integer naming the calling thread,
//                                 for thread-local data that a checker whose
//                                 threads are fibers can still tell apart
//   Sync::yield()                 a point where the scheduler may switch
//   Sync::sleep_for(d)            real sleep here; a scheduling point in models
//   Sync::clock                   the clock of every timed wait (std_sync:
//                                 steady_clock); impl code never names a
//                                 clock of its own, so a checker with
//                                 virtual time supplies its own here
//   Sync::name                    the backend's name, for reports
//
// Optional members (impl code uses each when present, and says what it does
// without it):
//   Sync::native_thread_id()      the OS's id of the calling thread
//                                 (Thread::native_id())
//   Sync::at_thread_exit(fn)      runs fn on the calling thread when it
//                                 exits (ThreadLocal frees a thread's value)
//
// The concept `SyncBackend<S>` below states this interface in code, and
// every impl template is constrained by it (`template <SyncBackend Sync =
// std_sync>`): a backend that lacks a member is rejected where it is used,
// with the concept's name and the missing requirement, not with a template
// error three headers deep. `static_assert(SyncBackend<B>)` next to a
// backend's definition checks it there too (std_sync below, both Relacy
// backends in models/relacy_sync.hpp).
//
// Timed waits take std::chrono durations and turn them into deadlines on
// Sync::clock through interleave/deadline.hpp (negative: an error naming the
// argument; huge: saturated). A backend must not need any change to impl
// code: the Relacy backend (models/relacy_sync.hpp) is the second
// implementation of this interface.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <source_location>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "interleave/deadline.hpp"
#include "interleave/thread_annotations.hpp"

// ---------------------------------------------------------------------------
// unique_lock: the scoped lock of every backend.
//
// impl code writes `std::unique_lock<typename Sync::mutex> lk(mu_);`. For
// every backend mutex (a type that declares `interleave_backend_mutex`),
// std::unique_lock is this partial specialisation: std::unique_lock's
// interface plus two things std's lacks: it is a clang
// scoped capability (so -Wthread-safety sees what it holds), and its
// constructor and lock() take a defaulted std::source_location, so a model's
// history names the impl line that locked, not a line inside <mutex>.
// ---------------------------------------------------------------------------
namespace std {

template <class Mutex>
  requires(Mutex::interleave_backend_mutex)
class INTERLEAVE_SCOPED_CAPABILITY unique_lock<Mutex> {
 public:
  using mutex_type = Mutex;
  using loc = std::source_location;

  unique_lock() noexcept = default;
  explicit unique_lock(Mutex& m, loc where = loc::current()) INTERLEAVE_ACQUIRE(m) : m_(&m) {
    m_->lock(where);
    owns_ = true;
  }
  unique_lock(Mutex& m, std::defer_lock_t) noexcept INTERLEAVE_EXCLUDES(m) : m_(&m) {}
  unique_lock(Mutex& m, std::adopt_lock_t) noexcept INTERLEAVE_REQUIRES(m) : m_(&m), owns_(true) {}
  unique_lock(const unique_lock&) = delete;
  unique_lock& operator=(const unique_lock&) = delete;
  unique_lock(unique_lock&& o) noexcept
      : m_(std::exchange(o.m_, nullptr)), owns_(std::exchange(o.owns_, false)) {}
  unique_lock& operator=(unique_lock&& o) noexcept {
    if (owns_) m_->unlock(loc::current());
    m_ = std::exchange(o.m_, nullptr);
    owns_ = std::exchange(o.owns_, false);
    return *this;
  }
  ~unique_lock() INTERLEAVE_RELEASE() {
    if (owns_) m_->unlock(loc::current());
  }

  void lock(loc where = loc::current()) INTERLEAVE_ACQUIRE() {
    check_lockable("lock");
    m_->lock(where);
    owns_ = true;
  }
  bool try_lock(loc where = loc::current()) INTERLEAVE_TRY_ACQUIRE(true) {
    check_lockable("try_lock");
    owns_ = m_->try_lock(where);
    return owns_;
  }
  void unlock(loc where = loc::current()) INTERLEAVE_RELEASE() {
    if (!owns_)
      throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                              "unique_lock::unlock: lock not held");
    m_->unlock(where);
    owns_ = false;
  }
  Mutex* release() noexcept {
    owns_ = false;
    return std::exchange(m_, nullptr);
  }
  void swap(unique_lock& o) noexcept {
    std::swap(m_, o.m_);
    std::swap(owns_, o.owns_);
  }
  [[nodiscard]] bool owns_lock() const noexcept { return owns_; }
  explicit operator bool() const noexcept { return owns_; }
  [[nodiscard]] Mutex* mutex() const noexcept { return m_; }

 private:
  void check_lockable(const char* what) const {
    if (m_ == nullptr)
      throw std::system_error(std::make_error_code(std::errc::operation_not_permitted),
                              std::string("unique_lock::") + what + ": no mutex");
    if (owns_)
      throw std::system_error(std::make_error_code(std::errc::resource_deadlock_would_occur),
                              std::string("unique_lock::") + what + ": already held");
  }

  Mutex* m_ = nullptr;
  bool owns_ = false;
};

}  // namespace std

namespace interleave {

// ---------------------------------------------------------------------------
// SyncBackend: the interface above, as a concept. Each part is its own named
// concept, so a compiler's "constraints not satisfied" names the part that
// is missing (backend_mutex, backend_condition_variable, ...).
// ---------------------------------------------------------------------------
namespace detail {

// Callables the concept starts threads with (never defined: only their
// types are used, in unevaluated checks).
struct backend_probe_task {
  void operator()() const;
};
template <class Token>
struct backend_probe_stop_task {
  void operator()(Token) const;
};

}  // namespace detail

// A mutex impl code can lock through std::unique_lock (the specialisation
// above, selected by `interleave_backend_mutex`).
template <class M>
concept backend_mutex = requires(M m) {
  requires bool(M::interleave_backend_mutex);
  m.lock();
  { m.try_lock() } -> std::convertible_to<bool>;
  m.unlock();
};

// std::condition_variable's waits on std::unique_lock<M>, timed ones on Clock.
template <class CV, class M, class Clock>
concept backend_condition_variable =
    std::default_initializable<CV> &&
    requires(CV cv, std::unique_lock<M>& lk, typename Clock::duration d,
             typename Clock::time_point t, bool (*pred)()) {
      cv.notify_one();
      cv.notify_all();
      cv.wait(lk);
      cv.wait(lk, pred);
      { cv.wait_for(lk, d) } -> std::same_as<std::cv_status>;
      { cv.wait_for(lk, d, pred) } -> std::convertible_to<bool>;
      { cv.wait_until(lk, t) } -> std::same_as<std::cv_status>;
      { cv.wait_until(lk, t, pred) } -> std::convertible_to<bool>;
    };

// std::atomic's interface, as far as impl code uses it.
template <class A, class T>
concept backend_atomic =
    std::constructible_from<A, T> && requires(A a, T v, T& expected, std::memory_order o) {
      { a.load() } -> std::convertible_to<T>;
      { a.load(o) } -> std::convertible_to<T>;
      a.store(v);
      a.store(v, o);
      { a.exchange(v, o) } -> std::convertible_to<T>;
      { a.fetch_add(v, o) } -> std::convertible_to<T>;
      { a.fetch_sub(v, o) } -> std::convertible_to<T>;
      { a.compare_exchange_strong(expected, v, o) } -> std::convertible_to<bool>;
    };

// Plain shared data a checker may watch for data races.
template <class V, class T>
concept backend_var = std::default_initializable<V> && std::constructible_from<V, T> &&
                      requires(V v, const V cv, T x) {
                        { cv.load() } -> std::convertible_to<T>;
                        v.store(x);
                      };

// A joinable thread running a callable.
template <class Th>
concept backend_thread = std::default_initializable<Th> && std::movable<Th> &&
                         std::constructible_from<Th, detail::backend_probe_task> && requires(Th t) {
                           { t.joinable() } -> std::convertible_to<bool>;
                           t.join();
                         };

// std::jthread, std::stop_source and std::stop_token.
template <class JT, class Source, class Token>
concept backend_jthread = std::default_initializable<JT> &&
                          std::constructible_from<JT, detail::backend_probe_stop_task<Token>> &&
                          std::constructible_from<JT, detail::backend_probe_task> &&
                          requires(JT t, Source s, const Token tok) {
                            { t.joinable() } -> std::convertible_to<bool>;
                            t.join();
                            t.request_stop();
                            { t.get_stop_token() } -> std::convertible_to<Token>;
                            { s.request_stop() } -> std::convertible_to<bool>;
                            { s.get_token() } -> std::convertible_to<Token>;
                            { tok.stop_requested() } -> std::convertible_to<bool>;
                          };

// The whole backend.
template <class S>
concept SyncBackend =
    requires {
      { S::name } -> std::convertible_to<const char*>;
      typename S::mutex;
      typename S::condition_variable;
      typename S::template atomic<int>;
      typename S::template var<int>;
      typename S::thread;
      typename S::jthread;
      typename S::stop_source;
      typename S::stop_token;
      typename S::clock;
    } && std::chrono::is_clock_v<typename S::clock> && backend_mutex<typename S::mutex> &&
    backend_condition_variable<typename S::condition_variable, typename S::mutex,
                               typename S::clock> &&
    backend_atomic<typename S::template atomic<int>, int> &&
    backend_atomic<typename S::template atomic<std::size_t>, std::size_t> &&
    backend_var<typename S::template var<int>, int> && backend_thread<typename S::thread> &&
    backend_jthread<typename S::jthread, typename S::stop_source, typename S::stop_token> &&
    requires(typename S::clock::duration d) {
      { S::thread_index() } -> std::convertible_to<std::size_t>;
      S::yield();
      S::sleep_for(d);
    };

// ---------------------------------------------------------------------------
// std_sync: the standard library, annotated, at zero cost.
// ---------------------------------------------------------------------------
namespace detail {

// std::mutex as a clang capability, with the backend's lock signature.
class INTERLEAVE_CAPABILITY("mutex") std_mutex {
 public:
  static constexpr bool interleave_backend_mutex = true;
  using loc = std::source_location;
  std_mutex() = default;
  std_mutex(const std_mutex&) = delete;
  std_mutex& operator=(const std_mutex&) = delete;

  void lock(loc = loc::current()) INTERLEAVE_ACQUIRE() { m_.lock(); }
  bool try_lock(loc = loc::current()) INTERLEAVE_TRY_ACQUIRE(true) { return m_.try_lock(); }
  void unlock(loc = loc::current()) INTERLEAVE_RELEASE() { m_.unlock(); }
  std::mutex& native() noexcept { return m_; }

 private:
  std::mutex m_;
};

// std::condition_variable over std_mutex's native handle: waiting adopts the
// held std::mutex for the duration of the wait and gives it back, so there is
// no condition_variable_any overhead.
template <class Clock>
class std_condition_variable {
 public:
  using loc = std::source_location;
  using lock_type = std::unique_lock<std_mutex>;

  void notify_one(loc = loc::current()) noexcept { cv_.notify_one(); }
  void notify_all(loc = loc::current()) noexcept { cv_.notify_all(); }

  void wait(lock_type& lk, loc = loc::current()) {
    Adopted a(lk);
    cv_.wait(a.native);
  }
  template <class Pred>
  void wait(lock_type& lk, Pred pred, loc where = loc::current()) {
    while (!pred()) wait(lk, where);
  }
  // Returns std::cv_status::timeout when the duration elapsed. The duration
  // is counted on Clock (the backend's), saturating (deadline.hpp): a huge
  // one never overflows into an immediate timeout; a negative one is an
  // immediate timeout, as in std.
  template <class Rep, class Period>
  std::cv_status wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>& d,
                          loc where = loc::current()) {
    return wait_until(lk, saturating_deadline<Clock>(d), where);
  }
  // Returns pred() at the end: false only if the time ran out first.
  template <class Rep, class Period, class Pred>
  bool wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>& d, Pred pred,
                loc where = loc::current()) {
    return wait_until(lk, saturating_deadline<Clock>(d), std::move(pred), where);
  }
  template <class C, class Dur>
  std::cv_status wait_until(lock_type& lk, const std::chrono::time_point<C, Dur>& t,
                            loc = loc::current()) {
    const typename Clock::time_point deadline = to_clock<Clock>(t);
    Adopted a(lk);
    return cv_.wait_until(a.native, deadline);
  }
  template <class C, class Dur, class Pred>
  bool wait_until(lock_type& lk, const std::chrono::time_point<C, Dur>& t, Pred pred,
                  loc where = loc::current()) {
    while (!pred()) {
      if (wait_until(lk, t, where) == std::cv_status::timeout) return pred();
    }
    return true;
  }

 private:
  // The std::unique_lock<std::mutex> view of a held std_mutex.
  struct Adopted {
    explicit Adopted(lock_type& lk) : native(lk.mutex()->native(), std::adopt_lock) {}
    ~Adopted() { native.release(); }
    std::unique_lock<std::mutex> native;
  };
  std::condition_variable cv_;
};

// Plain shared data. With std it is the value itself; the load/store spelling
// lets a checking backend see every access.
template <class T>
class plain_var {
 public:
  using loc = std::source_location;
  plain_var() = default;
  explicit plain_var(T v) : v_(std::move(v)) {}
  T load(loc = loc::current()) const { return v_; }
  void store(T v, loc = loc::current()) { v_ = std::move(v); }

 private:
  T v_{};
};

inline std::size_t next_thread_index() noexcept {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace detail

struct std_sync {
  static constexpr const char* name = "std";
  using clock = std::chrono::steady_clock;
  using mutex = detail::std_mutex;
  using condition_variable = detail::std_condition_variable<clock>;
  template <class T>
  using atomic = std::atomic<T>;
  template <class T>
  using var = detail::plain_var<T>;
  using thread = std::thread;
  using jthread = std::jthread;
  using stop_source = std::stop_source;
  using stop_token = std::stop_token;

  // A process-wide index, stable for the calling thread's lifetime and never
  // reused (so thread-local slots of a finished thread are never inherited).
  static std::size_t thread_index() noexcept {
    thread_local const std::size_t index = detail::next_thread_index();
    return index;
  }
  static void yield(std::source_location = std::source_location::current()) noexcept {
    std::this_thread::yield();
  }
  // The kernel's id of the calling thread (Linux gettid()).
  static unsigned long native_thread_id() noexcept {
    return static_cast<unsigned long>(::gettid());
  }
  // Runs `fn` when the calling thread exits, among its thread_local
  // destructors; hooks of one thread run in reverse order of registration.
  // A hook must not register another one.
  static void at_thread_exit(std::function<void()> fn) {
    struct Hooks {
      std::vector<std::function<void()>> fns;
      ~Hooks() {
        while (!fns.empty()) {
          std::function<void()> f = std::move(fns.back());
          fns.pop_back();
          f();
        }
      }
    };
    thread_local Hooks hooks;
    hooks.fns.push_back(std::move(fn));
  }
  template <class Rep, class Period>
  static void sleep_for(const std::chrono::duration<Rep, Period>& d,
                        std::source_location = std::source_location::current()) {
    std::this_thread::sleep_for(d);
  }
};

static_assert(SyncBackend<std_sync>, "std_sync must implement the sync backend interface");

}  // namespace interleave
