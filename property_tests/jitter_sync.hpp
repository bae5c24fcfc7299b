// property_tests/jitter_sync.hpp — std_sync with a random pause before a
// mutex is taken, for property tests that must meet a narrow window.
//
// A lost wake-up needs a writer to land between a thread's unlocked check and
// its lock: a window of a few instructions that real threads on 2 cores
// almost never hit. jitter_sync is the std backend (same threads, atomics,
// clock) whose mutex, before each lock(), sometimes yields and sometimes
// pauses a few microseconds, as a preemption at that point would. The pause
// only widens windows that exist in the code under test; it orders nothing
// (no check waits on it), and the fixed primitives run the same properties
// on this backend and must pass them.
#pragma once

#include <interleave/sync.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace interleave::props {

namespace detail {
// Sometimes nothing, sometimes a yield, sometimes a pause of 1..100 us.
inline void jitter() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const unsigned r = static_cast<unsigned>(rng());
  switch (r % 4) {
    case 0: std::this_thread::yield(); break;
    case 1: std::this_thread::sleep_for(std::chrono::microseconds(1 + (r >> 8) % 100)); break;
    default: break;
  }
}
}  // namespace detail

class INTERLEAVE_CAPABILITY("mutex") jitter_mutex {
 public:
  static constexpr bool interleave_backend_mutex = true;
  using loc = std::source_location;
  jitter_mutex() = default;
  jitter_mutex(const jitter_mutex&) = delete;
  jitter_mutex& operator=(const jitter_mutex&) = delete;

  void lock(loc = loc::current()) INTERLEAVE_ACQUIRE() {
    detail::jitter();
    m_.lock();
  }
  bool try_lock(loc = loc::current()) INTERLEAVE_TRY_ACQUIRE(true) { return m_.try_lock(); }
  void unlock(loc = loc::current()) INTERLEAVE_RELEASE() { m_.unlock(); }

 private:
  std::mutex m_;
};

// The backend's condition variable over jitter_mutex (re-locking after a wake
// goes through jitter_mutex::lock, so it jitters too).
class jitter_condition_variable {
 public:
  using loc = std::source_location;
  using lock_type = std::unique_lock<jitter_mutex>;

  void notify_one(loc = loc::current()) noexcept { cv_.notify_one(); }
  void notify_all(loc = loc::current()) noexcept { cv_.notify_all(); }
  void wait(lock_type& lk, loc = loc::current()) { cv_.wait(lk); }
  template <class Pred>
  void wait(lock_type& lk, Pred pred, loc = loc::current()) {
    while (!pred()) cv_.wait(lk);
  }
  template <class Rep, class Period>
  std::cv_status wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>& d,
                          loc = loc::current()) {
    return cv_.wait_for(lk, d);
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>& d, Pred pred,
                loc = loc::current()) {
    return cv_.wait_for(lk, d, std::move(pred));
  }
  template <class Clock, class Dur>
  std::cv_status wait_until(lock_type& lk, const std::chrono::time_point<Clock, Dur>& t,
                            loc = loc::current()) {
    return cv_.wait_until(lk, t);
  }
  template <class Clock, class Dur, class Pred>
  bool wait_until(lock_type& lk, const std::chrono::time_point<Clock, Dur>& t, Pred pred,
                  loc = loc::current()) {
    return cv_.wait_until(lk, t, std::move(pred));
  }

 private:
  std::condition_variable_any cv_;
};

struct jitter_sync : std_sync {
  static constexpr const char* name = "std+jitter";
  using mutex = jitter_mutex;
  using condition_variable = jitter_condition_variable;
};

}  // namespace interleave::props
