// interleave/barrier.hpp — a cyclic barrier for N parties, in the manner of
// Python's threading.Barrier.
//
// Seed scenario: "A thread's local data" (3 threads store a value, meet at a
// Barrier(3), read their own value back; see thread_local.hpp).
//
//   Barrier<Sync>                      the fixed barrier
//                                      (BasicBarrier<Sync>).
//   BrokenNoGenerationBarrier<Sync>    the broken twin (the same class with
//                                      barrier_bug::no_generation): a waiter
//                                      leaves when
//                                      the arrival count is back to 0 instead
//                                      of when the generation it arrived in
//                                      has completed. A fast thread that
//                                      re-enters for the next generation bumps
//                                      the count before a slow waiter of the
//                                      previous one wakes; the slow waiter
//                                      then sleeps into the next generation
//                                      and everybody deadlocks.
//
// Requires: parties >= 1 (else std::invalid_argument naming "parties");
//   timeouts >= 0, the constructor's default one too (else
//   std::invalid_argument naming "timeout"; a huge one saturates,
//   interleave/deadline.hpp). The completion action must not call this
//   barrier (it runs under its lock).
// Guarantees:
//   - wait() returns, in each generation, a distinct index 0..N-1: the order
//     of arrival in that generation (the last to arrive gets N-1).
//   - Nobody returns from wait() of generation g before all N parties of g
//     have arrived.
//   - The completion action runs exactly once per generation, on the last
//     arriving thread, before any party of that generation is released. If
//     it throws, the barrier breaks and the last thread gets the exception.
//   - abort() breaks the barrier: every thread waiting now and every later
//     wait() throws BrokenBarrierError ("barrier is broken"), until reset().
//   - reset() returns the barrier to its empty initial state; threads waiting
//     in the generation it cuts short throw BrokenBarrierError.
//   - wait_for(d): as wait(), but if d elapses before the generation
//     completes, the barrier breaks for everyone (as abort()) and the caller
//     throws BrokenBarrierError with "timed out".
//   - A default timeout given to the constructor (Python's
//     Barrier(parties, action, timeout)) applies to every wait() as
//     wait_for(timeout) would; wait_for(d) uses its own d. Without one, wait()
//     waits as long as it takes.
//   - More threads than parties may use one barrier: each generation takes
//     the first N to arrive, and a thread arriving while a generation is
//     being released belongs to the next one (it cannot leave before N
//     parties of its own generation arrived).
// Memory ordering: everything each party did before its wait() of
//   generation g happens-before everything any party does after its wait()
//   of g returns (all of it goes through the barrier's mutex), and before the
//   completion action of g.
// Destruction: no thread may be inside wait()/wait_for().
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// Thrown by wait()/wait_for() of a broken barrier.
class BrokenBarrierError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Which barrier: the fixed one, or the broken twin (see the header comment).
enum class barrier_bug { none, no_generation };

template <SyncBackend Sync = std_sync, barrier_bug Bug = barrier_bug::none>
class BasicBarrier {
  static constexpr bool kGenerations = Bug != barrier_bug::no_generation;

 public:
  explicit BasicBarrier(int parties, std::function<void()> completion = {})
      : parties_(check_parties(parties)), completion_(std::move(completion)) {}
  // With a default timeout for every wait() (Python's `timeout` argument).
  template <class Rep, class Period>
  BasicBarrier(int parties, std::function<void()> completion,
               const std::chrono::duration<Rep, Period>& timeout)
      : parties_(check_parties(parties)),
        completion_(std::move(completion)),
        has_default_timeout_(true),
        default_timeout_(check_timeout(timeout)) {}
  BasicBarrier(const BasicBarrier&) = delete;
  BasicBarrier& operator=(const BasicBarrier&) = delete;

  [[nodiscard]] int parties() const noexcept { return parties_; }

  // Waits for the generation to complete; with a default timeout, as
  // wait_for(that timeout).
  std::size_t wait() INTERLEAVE_EXCLUDES(mu_) {
    if (has_default_timeout_) return wait_for(default_timeout_);
    return wait_impl(false, {});
  }
  // The default timeout, if the constructor was given one.
  [[nodiscard]] std::optional<std::chrono::duration<long double>> timeout() const noexcept {
    if (!has_default_timeout_) return std::nullopt;
    return default_timeout_;
  }

  template <class Rep, class Period>
  std::size_t wait_for(const std::chrono::duration<Rep, Period>& timeout) INTERLEAVE_EXCLUDES(mu_) {
    return wait_impl(true,
                     detail::deadline_after<typename Sync::clock>(timeout, "Barrier::wait_for"));
  }

  void abort() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    break_locked();
  }

  void reset() INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    resets_.store(resets_.load() + 1);  // current waiters see this and throw
    broken_.store(false);
    count_.store(0);
    cv_.notify_all();
  }

  [[nodiscard]] bool broken() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return broken_.load();
  }
  // Threads currently blocked in this generation.
  [[nodiscard]] int n_waiting() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return broken_.load() ? 0 : count_.load();
  }
  // Completed generations. (The broken twin has no generation counter, so it
  // has no such member.)
  // (The thread-safety attribute leads: clang does not take one between the
  // declarator and a requires-clause.)
  [[nodiscard]] INTERLEAVE_EXCLUDES(mu_) unsigned long generation() const
    requires(kGenerations)
  {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return generation_.load();
  }

 private:
  static int check_parties(int parties) {
    if (parties < 1)
      throw std::invalid_argument("Barrier: parties must be >= 1, got " + std::to_string(parties));
    return parties;
  }

  template <class Rep, class Period>
  static std::chrono::duration<long double> check_timeout(
      const std::chrono::duration<Rep, Period>& timeout) {
    detail::require_non_negative(timeout, "Barrier");
    return std::chrono::duration<long double>(timeout);
  }

  void break_locked() INTERLEAVE_REQUIRES(mu_) {
    broken_.store(true);
    cv_.notify_all();
  }

  std::size_t wait_impl(bool timed, typename Sync::clock::time_point deadline)
      INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    if (broken_.load()) throw BrokenBarrierError("barrier is broken");
    const int index = count_.load();
    count_.store(index + 1);
    if (index + 1 == parties_) {  // the last party: complete the generation
      if (completion_) {
        try {
          completion_();
        } catch (...) {
          break_locked();
          throw;
        }
      }
      count_.store(0);
      if constexpr (kGenerations) generation_.store(generation_.load() + 1);
      cv_.notify_all();
      return static_cast<std::size_t>(index);
    }
    const unsigned long gen = generation_.load();
    const unsigned long resets = resets_.load();
    while (!released(gen, resets) && !broken_.load() && resets_.load() == resets) {
      if (timed) {
        if (cv_.wait_until(lk, deadline) == std::cv_status::timeout && !released(gen, resets) &&
            !broken_.load() && resets_.load() == resets) {
          break_locked();
          throw BrokenBarrierError("barrier is broken: wait_for timed out");
        }
      } else {
        // Predicate form: a checker may treat it as "block until it holds".
        cv_.wait(lk, [&]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
          return released(gen, resets) || broken_.load() || resets_.load() != resets;
        });
      }
    }
    if (resets_.load() != resets)
      throw BrokenBarrierError("barrier is broken: reset() while waiting");
    if (released(gen, resets)) return static_cast<std::size_t>(index);
    throw BrokenBarrierError("barrier is broken");
  }

  // Whether the generation this waiter arrived in has completed.
  bool released(unsigned long gen, unsigned long) const INTERLEAVE_REQUIRES(mu_) {
    if constexpr (kGenerations) {
      return generation_.load() != gen;
    } else {
      // BUG (the broken twin): "the count went back to 0" stands in for "my
      // generation completed"; a fast re-entry makes it non-zero again.
      return count_.load() == 0;  // interleave:bug barrier.broken_no_generation
    }
  }

  const int parties_;
  const std::function<void()> completion_;
  const bool has_default_timeout_ = false;
  const std::chrono::duration<long double> default_timeout_{0};
  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable cv_;
  typename Sync::template var<int> count_ INTERLEAVE_GUARDED_BY(mu_){0};
  typename Sync::template var<unsigned long> generation_ INTERLEAVE_GUARDED_BY(mu_){0ul};
  typename Sync::template var<unsigned long> resets_ INTERLEAVE_GUARDED_BY(mu_){0ul};
  typename Sync::template var<bool> broken_ INTERLEAVE_GUARDED_BY(mu_){false};
};

template <SyncBackend Sync = std_sync>
using Barrier = BasicBarrier<Sync, barrier_bug::none>;
// The broken twin (see the header comment). Kept on purpose: its checks must
// fail.
template <SyncBackend Sync = std_sync>
using BrokenNoGenerationBarrier = BasicBarrier<Sync, barrier_bug::no_generation>;

}  // namespace interleave
