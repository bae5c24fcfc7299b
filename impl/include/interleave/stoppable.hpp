// interleave/stoppable.hpp — a cooperatively stoppable worker: the seed's
// Fibonacci printer, which produces Fibonacci numbers until asked to stop.
//
// Seed scenario: "Stopping a thread" (class Fibo with a `_running` flag that
// stop() clears and run() polls).
//
// Three ways to carry the stop request, one worker:
//
//   StoppableFibonacci<PlainStopFlag<Sync>, Sync>   the broken twin: a plain
//       bool, written by stop() and read by the worker with no
//       synchronisation — a data race, undefined behaviour in C++ (and in
//       practice the compiler may hoist the read out of the loop). Relacy
//       and TSan report it at the lines marked
//       `interleave:race-* stop.plain_flag`.
//   StoppableFibonacci<AtomicStopFlag<Sync>, Sync>  the fix: an atomic flag.
//       Memory order: stop() stores with RELEASE, the worker loads with
//       ACQUIRE. Why: stop(reason) hands the worker a value (the reason it
//       reports in its last line) written just before the flag; the
//       release/acquire pair makes that write visible to the worker once it
//       sees the flag. With relaxed orders (AtomicStopFlag<Sync,
//       relaxed, relaxed>, kept so the model can show it) the worker's read
//       of the reason is a data race. Termination alone would not need
//       ordering, and the values the worker produced reach the joiner through
//       join(), whatever the flag's order.
//   JthreadFibonacci<Sync>                          std::jthread +
//       std::stop_token (Sync::jthread / Sync::stop_token): the worker polls
//       its token; request_stop() synchronises with a stop_requested() that
//       returns true (the standard's guarantee); the destructor requests stop
//       and joins, so the worker cannot outlive its owner.
//
// Requires: start(), stop(), join() and the accessors are called by one
//   controlling thread (the seed's main program). limit <= 92 (the last
//   Fibonacci number that fits in a long) and pause >= 0, else
//   std::invalid_argument naming the argument. start() at most once
//   (std::logic_error "already started"); join() only after start()
//   (std::logic_error "not started"); values()/reason_seen() only after
//   join() (std::logic_error "still running").
// Guarantees:
//   - The worker produces 0, 1, 1, 2, 3, 5, ... (a prefix of the Fibonacci
//     sequence), pausing `pause` (Sync::sleep_for) after each value, until a
//     stop is requested or `limit` values are produced.
//   - Once stop() has returned and join() has returned, the worker has
//     terminated, produces nothing more, and every value it produced is
//     visible to the joiner (values()).
//   - If the worker ended because of the stop request, reason_seen() is the
//     reason passed to stop(); otherwise it ended at the limit.
// Memory ordering: stop() → the worker: release/acquire (atomic flag), or the
//   standard's stop_token guarantee; worker → joiner: join().
//   JthreadFibonacci::stop() before start() throws std::logic_error (the
//   jthread's stop state is born with the thread); StoppableFibonacci's may
//   precede start() (the worker then produces nothing, as in the seed).
// Destruction: both request stop and join a worker still running, so the
//   worker never outlives the object it writes to.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// --- stop flags ------------------------------------------------------------

template <SyncBackend Sync = std_sync>
class PlainStopFlag {
 public:
  void request_stop() { stop_.store(true); }  // interleave:race-write stop.plain_flag
  [[nodiscard]] bool stop_requested() const { return stop_.load(); }  // interleave:race-read stop.plain_flag

 private:
  typename Sync::template var<bool> stop_{false};
};

template <SyncBackend Sync = std_sync, std::memory_order Publish = std::memory_order_release,
          std::memory_order Observe = std::memory_order_acquire>
class AtomicStopFlag {
 public:
  void request_stop() { stop_.store(true, Publish); }
  [[nodiscard]] bool stop_requested() const { return stop_.load(Observe); }

 private:
  typename Sync::template atomic<bool> stop_{false};
};

// The weaker order, kept so the model can show what it breaks.
template <SyncBackend Sync = std_sync>
using RelaxedStopFlag = AtomicStopFlag<Sync, std::memory_order_relaxed, std::memory_order_relaxed>;

namespace detail {

// The worker's state and loop, shared by both front ends.
template <SyncBackend Sync>
class FiboCore {
 public:
  static constexpr std::size_t kMaxLimit = 92;  // fib(92) is the last that fits in a long

  FiboCore(std::size_t limit, std::chrono::nanoseconds pause)
      : limit_(check_limit(limit)), pause_(check_pause(pause)) {
    values_.reserve(limit_);
    for (std::size_t i = 0; i < limit_; ++i)
      values_.emplace_back(std::make_unique<typename Sync::template var<long>>(0));
  }

  // The worker: produce until stop_requested() or the limit.
  template <class StopRequested>
  void run(StopRequested&& stop_requested) {
    long a = 0, b = 1;
    std::size_t n = 0;
    bool stopped = false;
    for (;;) {
      if (stop_requested()) {
        stopped = true;
        break;
      }
      if (n == limit_) break;
      values_[n]->store(a);
      count_.store(n + 1);
      const long next = a + b;
      a = b;
      b = next;
      ++n;
      Sync::sleep_for(pause_);  // the seed's sleep(0.07)
    }
    if (stopped) reason_seen_.store(reason_.load());  // what stop() handed over
    stopped_by_request_.store(stopped);
  }

  void set_reason(int reason) { reason_.store(reason); }

  std::vector<long> values() const {
    std::vector<long> out;
    const std::size_t n = count_.load();
    for (std::size_t i = 0; i < n; ++i) out.push_back(values_[i]->load());
    return out;
  }
  bool stopped_by_request() const { return stopped_by_request_.load(); }
  int reason_seen() const { return reason_seen_.load(); }

 private:
  static std::size_t check_limit(std::size_t limit) {
    if (limit > kMaxLimit)
      throw std::invalid_argument(
          "StoppableFibonacci: limit must be <= 92 (fib(92) is the last long), got " +
          std::to_string(limit));
    return limit;
  }
  static std::chrono::nanoseconds check_pause(std::chrono::nanoseconds pause) {
    detail::require_non_negative(pause, "StoppableFibonacci", "pause");
    return pause;
  }

  const std::size_t limit_;
  const std::chrono::nanoseconds pause_;
  std::vector<std::unique_ptr<typename Sync::template var<long>>>
      values_;  // written by the worker only
  typename Sync::template var<std::size_t> count_{0};
  typename Sync::template var<int> reason_{-1};       // written by stop(), before the request
  typename Sync::template var<int> reason_seen_{-1};  // written by the worker
  typename Sync::template var<bool> stopped_by_request_{false};
};

}  // namespace detail

namespace detail {

// The controlling thread's side of a Fibonacci worker, shared by both front
// ends: start once, join once, read the results only after the join. The
// thread is the last member, so it is destroyed (a jthread: stopped and
// joined) before the state its worker writes to.
template <SyncBackend Sync, class Thread>
class FiboHandle {
 public:
  FiboHandle(const FiboHandle&) = delete;
  FiboHandle& operator=(const FiboHandle&) = delete;

  void join() {
    if (!started_) throw std::logic_error(std::string(name_) + "::join: not started");
    if (!joined_) {
      thread_.join();
      joined_ = true;
    }
  }
  [[nodiscard]] std::vector<long> values() const {
    require_joined("values");
    return core_.values();
  }
  [[nodiscard]] bool stopped_by_request() const {
    require_joined("stopped_by_request");
    return core_.stopped_by_request();
  }
  [[nodiscard]] int reason_seen() const {
    require_joined("reason_seen");
    return core_.reason_seen();
  }

 protected:
  FiboHandle(const char* name, std::size_t limit, std::chrono::nanoseconds pause)
      : name_(name), core_(limit, pause) {}
  ~FiboHandle() = default;

  void mark_started() {
    if (started_) throw std::logic_error(std::string(name_) + "::start: already started");
    started_ = true;
  }
  void require_joined(const char* what) const {
    if (started_ && !joined_)
      throw std::logic_error(std::string(name_) + "::" + what + ": still running (join first)");
  }

  const char* name_;
  FiboCore<Sync> core_;
  bool started_ = false;  // the controlling thread's own bookkeeping
  bool joined_ = false;
  Thread thread_;
};

}  // namespace detail

// A worker on Sync::thread, stopped through `Flag`.
template <class Flag, SyncBackend Sync = std_sync>
class StoppableFibonacci : public detail::FiboHandle<Sync, typename Sync::thread> {
  using Base = detail::FiboHandle<Sync, typename Sync::thread>;

 public:
  explicit StoppableFibonacci(std::size_t limit = detail::FiboCore<Sync>::kMaxLimit,
                              std::chrono::nanoseconds pause = std::chrono::nanoseconds::zero())
      : Base("StoppableFibonacci", limit, pause) {}
  // A worker still running is stopped and joined (never left detached).
  ~StoppableFibonacci() {
    if (this->started_ && !this->joined_) {
      flag_.request_stop();
      this->thread_.join();
    }
  }

  void start() {
    this->mark_started();
    this->thread_ = typename Sync::thread(
        [this] { this->core_.run([this] { return flag_.stop_requested(); }); });
  }
  // Requests the stop and returns at once; the worker sees it at its next poll.
  void stop(int reason = 0) {
    this->core_.set_reason(reason);
    flag_.request_stop();
  }

 private:
  Flag flag_;
};

// The std::jthread / std::stop_token worker.
template <SyncBackend Sync = std_sync>
class JthreadFibonacci : public detail::FiboHandle<Sync, typename Sync::jthread> {
  using Base = detail::FiboHandle<Sync, typename Sync::jthread>;

 public:
  explicit JthreadFibonacci(std::size_t limit = detail::FiboCore<Sync>::kMaxLimit,
                            std::chrono::nanoseconds pause = std::chrono::nanoseconds::zero())
      : Base("JthreadFibonacci", limit, pause) {}
  // (the jthread requests stop and joins when the base is destroyed)

  void start() {
    this->mark_started();
    this->thread_ = typename Sync::jthread([this](typename Sync::stop_token token) {
      this->core_.run([&token] { return token.stop_requested(); });
    });
  }
  void stop(int reason = 0) {
    if (!this->started_)
      throw std::logic_error(
          "JthreadFibonacci::stop: not started (a jthread's stop state begins with it)");
    this->core_.set_reason(reason);
    this->thread_.request_stop();
  }
};

}  // namespace interleave
