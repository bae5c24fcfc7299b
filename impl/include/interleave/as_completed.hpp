// interleave/as_completed.hpp — waiting on many futures: as_completed() and
// wait(), after Python's concurrent.futures.
//
// Seed scenario: "Thread pools" (`as_completed(futures)` yields them as they
// finish). Futures and promises themselves are interleave/promise.hpp.
//
// `futures` is any input range whose elements are Future<T, Sync> (a
// std::vector, std::list, std::array, std::span, a view...: the FutureRange
// concept); it is read once, when the call is made.
//
// as_completed(futures[, timeout])   yields each distinct future once: those
//                   already done first, then in completion order; when the
//                   timeout (counted from the call) expires, throws
//                   TimeoutError "as_completed: K (of N) futures unfinished".
// wait(futures, FIRST_COMPLETED | FIRST_EXCEPTION | ALL_COMPLETED[, timeout])
//                   returns {done, not_done}, each future once.
//
// Requires: every future is valid (std::invalid_argument naming `futures`
//   otherwise); a negative timeout is an std::invalid_argument naming
//   `timeout`; a huge one (hours::max()) saturates (interleave/deadline.hpp).
// Guarantees: each distinct future is yielded (as_completed) or listed
//   (wait) exactly once; a future that completes while being watched is
//   told to the watcher exactly once.
// Memory ordering: everything the producer did before set_value /
//   set_exception / cancel happens-before an as_completed/wait return that
//   observes the future done (through the future's mutex, then the watcher's).
// Destruction: an AsCompleted range must outlive its iteration; it stops
//   watching its futures when destroyed.
// Lock order: future -> watcher; nothing takes a future's lock while holding
//   a watcher's lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "interleave/promise.hpp"
#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// as_completed() or ThreadPool::map() ran out of time.
class TimeoutError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class ReturnWhen { first_completed, first_exception, all_completed };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::first_completed;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::first_exception;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::all_completed;

namespace detail {

// Collects completions for as_completed() and wait().
template <SyncBackend Sync>
class Watcher final : public CompletionWatcher {
 public:
  void future_done(std::size_t tag, bool failed) override INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    ready_.push_back(tag);
    done_.store(done_.load() + 1);
    if (failed) failed_.store(failed_.load() + 1);
    cv_.notify_all();
  }

  typename Sync::mutex mu_;
  typename Sync::condition_variable cv_;
  std::deque<std::size_t> ready_ INTERLEAVE_GUARDED_BY(mu_);
  typename Sync::template var<int> done_ INTERLEAVE_GUARDED_BY(mu_){0};
  typename Sync::template var<int> failed_ INTERLEAVE_GUARDED_BY(mu_){0};
};

template <class F>
struct future_traits : std::false_type {};
template <class T, SyncBackend Sync>
struct future_traits<Future<T, Sync>> : std::true_type {
  using value_type = T;
  using sync = Sync;
};

template <class T, SyncBackend Sync>
std::vector<Future<T, Sync>> distinct(const std::vector<Future<T, Sync>>& fs, const char* who) {
  std::vector<Future<T, Sync>> out;
  std::unordered_set<const void*> seen;
  out.reserve(fs.size());
  for (const auto& f : fs) {
    if (!f.valid())
      throw std::invalid_argument(std::string(who) + ": futures holds an invalid (empty) future");
    if (seen.insert(f.id()).second) out.push_back(f);
  }
  return out;
}

}  // namespace detail

// An input range of futures of one type: what as_completed() and wait() take.
template <class R>
concept FutureRange =
    std::ranges::input_range<R> &&
    detail::future_traits<std::remove_cvref_t<std::ranges::range_value_t<R>>>::value;

namespace detail {
template <FutureRange R>
using range_future_t = std::remove_cvref_t<std::ranges::range_value_t<R>>;
template <FutureRange R>
using range_value_of_t = typename future_traits<range_future_t<R>>::value_type;
template <FutureRange R>
using range_sync_t = typename future_traits<range_future_t<R>>::sync;

// The futures of any FutureRange, copied into a vector (one pass).
template <FutureRange R>
std::vector<range_future_t<R>> collect_futures(R&& futures) {
  std::vector<range_future_t<R>> out;
  if constexpr (std::ranges::sized_range<R>) out.reserve(std::ranges::size(futures));
  for (auto&& f : futures) out.push_back(f);
  return out;
}
}  // namespace detail

// The range as_completed() returns: iterate it once (input range).
template <class T, SyncBackend Sync = std_sync>
class AsCompleted {
 public:
  using time_point = typename Sync::clock::time_point;

  AsCompleted(const std::vector<Future<T, Sync>>& futures, std::optional<time_point> deadline)
      : futures_(detail::distinct(futures, "as_completed")), deadline_(deadline) {
    for (std::size_t i = 0; i < futures_.size(); ++i) {
      bool failed = false;
      if (detail::FutureAccess::state(futures_[i]).watch(&watcher_, i, failed))
        already_done_.push_back(i);
      else
        registered_.push_back(i);
    }
  }
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;
  ~AsCompleted() {
    for (std::size_t i : registered_) detail::FutureAccess::state(futures_[i]).unwatch(&watcher_);
  }

  // The next future to complete; nullopt once all were yielded. Throws
  // TimeoutError when the deadline passes first.
  std::optional<Future<T, Sync>> next() {
    if (!already_done_.empty()) {
      const std::size_t i = already_done_.front();
      already_done_.pop_front();
      ++yielded_;
      return futures_[i];
    }
    if (yielded_ == futures_.size()) return std::nullopt;
    std::size_t tag = 0;
    {
      std::unique_lock<typename Sync::mutex> lk(watcher_.mu_);
      while (watcher_.ready_.empty()) {
        if (!deadline_) {
          watcher_.cv_.wait(lk);
        } else if (watcher_.cv_.wait_until(lk, *deadline_) == std::cv_status::timeout &&
                   watcher_.ready_.empty()) {
          throw TimeoutError("as_completed: " + std::to_string(futures_.size() - yielded_) +
                             " (of " + std::to_string(futures_.size()) + ") futures unfinished");
        }
      }
      tag = watcher_.ready_.front();
      watcher_.ready_.pop_front();
    }
    ++yielded_;
    return futures_[tag];
  }

  [[nodiscard]] std::size_t size() const noexcept { return futures_.size(); }

  struct sentinel {};
  class iterator {
   public:
    using value_type = Future<T, Sync>;
    using difference_type = std::ptrdiff_t;
    explicit iterator(AsCompleted* owner) : owner_(owner), cur_(owner->next()) {}
    const Future<T, Sync>& operator*() const { return *cur_; }
    iterator& operator++() {
      cur_ = owner_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, sentinel) { return !it.cur_.has_value(); }

   private:
    AsCompleted* owner_;
    std::optional<Future<T, Sync>> cur_;
  };
  iterator begin() { return iterator(this); }
  sentinel end() { return {}; }

 private:
  std::vector<Future<T, Sync>> futures_;
  std::optional<time_point> deadline_;
  detail::Watcher<Sync> watcher_;
  std::deque<std::size_t> already_done_;
  std::vector<std::size_t> registered_;
  std::size_t yielded_ = 0;
};

template <FutureRange R>
auto as_completed(R&& futures) {
  using T = detail::range_value_of_t<R>;
  using Sync = detail::range_sync_t<R>;
  return AsCompleted<T, Sync>(detail::collect_futures(std::forward<R>(futures)), std::nullopt);
}
template <FutureRange R, class Rep, class Period>
auto as_completed(R&& futures, const std::chrono::duration<Rep, Period>& timeout) {
  using T = detail::range_value_of_t<R>;
  using Sync = detail::range_sync_t<R>;
  const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "as_completed");
  return AsCompleted<T, Sync>(detail::collect_futures(std::forward<R>(futures)), deadline);
}

template <class T, SyncBackend Sync = std_sync>
struct DoneAndNotDone {
  std::vector<Future<T, Sync>> done;
  std::vector<Future<T, Sync>> not_done;
};

namespace detail {

template <class T, SyncBackend Sync>
DoneAndNotDone<T, Sync> wait_impl(const std::vector<Future<T, Sync>>& futures, ReturnWhen when,
                                  std::optional<typename Sync::clock::time_point> deadline) {
  const std::vector<Future<T, Sync>> fs = distinct(futures, "wait");
  const int n = static_cast<int>(fs.size());
  Watcher<Sync> watcher;
  std::vector<std::size_t> registered;
  int done = 0, failed = 0;
  for (std::size_t i = 0; i < fs.size(); ++i) {
    bool f = false;
    if (FutureAccess::state(fs[i]).watch(&watcher, i, f)) {
      ++done;
      if (f) ++failed;
    } else {
      registered.push_back(i);
    }
  }
  const auto satisfied = [&](int d, int x) {
    if (d == n) return true;
    switch (when) {
      case ReturnWhen::first_completed: return d >= 1;
      case ReturnWhen::first_exception: return x >= 1;
      case ReturnWhen::all_completed: return false;
    }
    return true;
  };
  if (!satisfied(done, failed)) {
    std::unique_lock<typename Sync::mutex> lk(watcher.mu_);
    while (!satisfied(done + watcher.done_.load(), failed + watcher.failed_.load())) {
      if (!deadline) {
        watcher.cv_.wait(lk);
      } else if (watcher.cv_.wait_until(lk, *deadline) == std::cv_status::timeout) {
        break;
      }
    }
  }
  for (std::size_t i : registered) FutureAccess::state(fs[i]).unwatch(&watcher);
  DoneAndNotDone<T, Sync> out;
  for (const auto& f : fs) (f.done() ? out.done : out.not_done).push_back(f);
  return out;
}

}  // namespace detail

// Waits until `when` holds (or the timeout, counted from the call, passes);
// returns the distinct futures split into done and not done.
template <FutureRange R>
auto wait(R&& futures, ReturnWhen when = ALL_COMPLETED) {
  return detail::wait_impl(detail::collect_futures(std::forward<R>(futures)), when, std::nullopt);
}
template <FutureRange R, class Rep, class Period>
auto wait(R&& futures, ReturnWhen when, const std::chrono::duration<Rep, Period>& timeout) {
  using Sync = detail::range_sync_t<R>;
  const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "wait");
  return detail::wait_impl(detail::collect_futures(std::forward<R>(futures)), when, deadline);
}

}  // namespace interleave
