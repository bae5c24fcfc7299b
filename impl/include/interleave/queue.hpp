// interleave/queue.hpp — a blocking FIFO queue with Python `queue.Queue`
// semantics (as of Python 3.13, including shutdown), for C++ users.
//
// Seed scenario: "Thread communication using queues" (producer/consumer with
// a sentinel, the main thread joining the queue); producer_consumer.hpp builds
// the seed's program on this queue.
//
//   Queue<T, Sync = std_sync>   the queue
//   BrokenNotifyOneQueue<T, S>  broken twin: shutdown() wakes ONE blocked
//                               getter and ONE blocked putter (notify_one)
//                               where every waiter must wake; the others stay
//                               blocked for ever (a lost wake-up)
//   BrokenJoinUnlockedQueue<T,S> broken twin: join() reads the unfinished
//                               count outside the lock: a data race, and a
//                               lost wake-up when the last task_done() lands
//                               between the check and the wait
//
// Operations (Python name in brackets):
//   put(x)            [put]          blocks while full; throws queue_shut_down
//   try_put(x)        [put_nowait]   false when full (x untouched); throws
//                                    queue_shut_down
//   put_for(x, d)     [put(timeout)] false when still full after d
//   get()             [get]          blocks while empty; throws queue_shut_down
//                                    once shut down AND empty
//   try_get()         [get_nowait]   std::nullopt when empty
//   get_for(d)        [get(timeout)] std::nullopt when still empty after d
//   task_done()       [task_done]    one put() item is finished
//   join()            [join]         waits until every item put has had its
//                                    task_done()
//   shutdown(imm)     [shutdown]     see below
//   size(), empty(), full(), maxsize(), is_shut_down()
//
// Why full/empty are return values and shutdown is an exception: a full or
// empty queue is the ordinary answer of a try_/timed call on a hot path; a
// shut-down queue is a terminal state every caller must leave through, which
// an exception makes impossible to ignore (Python raises ShutDown for the same
// reason).
//
// Requires:
//   - maxsize <= 0 means unbounded; otherwise at most maxsize items are held.
//   - timeouts are non-negative (std::invalid_argument naming the timeout
//     otherwise); a huge one (hours::max()) saturates and waits as long as
//     it takes (interleave/deadline.hpp).
//   - task_done() is called at most once per item put (std::logic_error
//     "task_done() called more times than items were put" otherwise).
// Guarantees:
//   - FIFO: items come out in the order their put() calls took effect (each
//     call is linearizable at the moment it holds the internal mutex).
//   - A bounded queue never holds more than maxsize items.
//   - join() returns once the unfinished count is zero: every item ever put
//     has had its task_done() (or was dropped by shutdown(immediate=true)).
//     join() with nothing outstanding returns at once.
//   - shutdown(immediate = false): afterwards every put form throws
//     queue_shut_down; get forms drain what is left and then throw it.
//     Putters blocked on a full queue and getters blocked on an empty one
//     all wake (notify_all) and throw it: no waiter is stranded.
//   - shutdown(immediate = true): as above, and the items still queued are
//     dropped, the unfinished count is reduced by their number (Python 3.13),
//     and join() wakes: it returns as soon as items already taken by getters
//     have had their task_done(). A task_done() beyond that count throws.
//   - Exception safety: if copying or moving an element throws, the queue is
//     unchanged (put: the item is not added and not counted; get: with a
//     nothrow-move or copyable T the item stays at the front, otherwise it
//     stays there in whatever state its throwing move left it) and the
//     wake-up it may have consumed is passed on to the next waiter.
//   - size(), empty(), full() are advisory: exact when taken, stale at once
//     under concurrency. Never use them to decide whether a put or get will
//     block; use the try_ forms.
// Destruction: no thread may be inside any member function. When join()
//   returns, or get() has returned an item and no other thread uses the
//   queue, it may be destroyed (every notify happens under the lock, so no
//   thread touches the queue after the mutex is released for the last time).
// Memory ordering: everything a thread did before put(x) happens-before
//   everything after the get() that returns x; everything before task_done()
//   happens-before join() returns; everything before shutdown() happens-before
//   any call throwing queue_shut_down. All of it through the one mutex.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// Thrown by put forms after shutdown(), and by get forms once the queue is
// shut down and empty. (Python: queue.ShutDown.) The message is a string
// literal naming the call: throwing it allocates nothing beyond the exception
// object itself.
class queue_shut_down : public std::exception {
 public:
  explicit queue_shut_down(const char* what) noexcept : what_(what) {}
  const char* what() const noexcept override { return what_; }

 private:
  const char* what_;
};

// Which deliberate bug a queue carries: none for the real thing.
enum class queue_bug { none, notify_one_on_shutdown, join_unlocked };

template <class T, SyncBackend Sync = std_sync, queue_bug Bug = queue_bug::none>
class Queue {
  using lock_t = std::unique_lock<typename Sync::mutex>;
  using clock = typename Sync::clock;

 public:
  using value_type = T;

  explicit Queue(long maxsize = 0) : maxsize_(maxsize > 0 ? maxsize : 0) {}
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // --- put -----------------------------------------------------------------
  void put(const T& item) INTERLEAVE_EXCLUDES(mu_) { put_until(item, nullptr, kPutShut); }
  void put(T&& item) INTERLEAVE_EXCLUDES(mu_) { put_until(std::move(item), nullptr, kPutShut); }

  // False, with `item` untouched, when the queue is full.
  [[nodiscard]] bool try_put(const T& item) INTERLEAVE_EXCLUDES(mu_) { return try_put_impl(item); }
  [[nodiscard]] bool try_put(T&& item) INTERLEAVE_EXCLUDES(mu_) {
    return try_put_impl(std::move(item));
  }

  // False, with `item` untouched, when the queue is still full after `timeout`.
  template <class Rep, class Period>
  [[nodiscard]] bool put_for(const T& item, const std::chrono::duration<Rep, Period>& timeout)
      INTERLEAVE_EXCLUDES(mu_) {
    const auto deadline = deadline_after(timeout, "Queue::put_for");
    return put_until(item, &deadline, kPutForShut);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool put_for(T&& item, const std::chrono::duration<Rep, Period>& timeout)
      INTERLEAVE_EXCLUDES(mu_) {
    const auto deadline = deadline_after(timeout, "Queue::put_for");
    return put_until(std::move(item), &deadline, kPutForShut);
  }

  // --- get -----------------------------------------------------------------
  T get() INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    // Predicate form: a checker may treat it as "block until it holds".
    not_empty_.wait(lk, [this]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
      return !items_.empty() || shutdown_.load();
    });
    if (items_.empty()) throw queue_shut_down("Queue::get: the queue is shut down and empty");
    return take_front();
  }

  // std::nullopt when the queue is empty.
  [[nodiscard]] std::optional<T> try_get() INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    if (items_.empty()) {
      if (shutdown_.load())
        throw queue_shut_down("Queue::try_get: the queue is shut down and empty");
      return std::nullopt;
    }
    return take_front<std::optional<T>>();
  }

  // std::nullopt when the queue is still empty after `timeout`.
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> get_for(const std::chrono::duration<Rep, Period>& timeout)
      INTERLEAVE_EXCLUDES(mu_) {
    const auto deadline = deadline_after(timeout, "Queue::get_for");
    lock_t lk(mu_);
    while (items_.empty()) {
      if (shutdown_.load())
        throw queue_shut_down("Queue::get_for: the queue is shut down and empty");
      if (not_empty_.wait_until(lk, deadline) == std::cv_status::timeout && items_.empty()) {
        if (shutdown_.load())
          throw queue_shut_down("Queue::get_for: the queue is shut down and empty");
        return std::nullopt;
      }
    }
    return take_front<std::optional<T>>();
  }

  // --- task accounting -----------------------------------------------------
  void task_done() INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    const long unfinished = unfinished_.load();
    if (unfinished <= 0)
      throw std::logic_error("Queue::task_done: called more times than items were put");
    unfinished_.store(unfinished - 1);
    if (unfinished == 1) all_tasks_done_.notify_all();
  }

  void join() INTERLEAVE_EXCLUDES(mu_) {
    if constexpr (Bug == queue_bug::join_unlocked) {
      // BROKEN: the count is read without the lock (a data race), and a
      // task_done() that lands between this read and the wait below notifies
      // nobody: join() then sleeps for ever.
      while (read_unfinished_unlocked() != 0) {
        lk_wait_all_tasks_done();
      }
    } else {
      lock_t lk(mu_);
      all_tasks_done_.wait(lk, [this]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
        return unfinished_.load() == 0;
      });
    }
  }

  // --- shutdown ------------------------------------------------------------
  void shutdown(bool immediate = false) INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    shutdown_.store(true);
    if (immediate) {
      const long dropped = static_cast<long>(items_.size());
      items_.clear();
      const long unfinished = unfinished_.load();
      unfinished_.store(unfinished > dropped ? unfinished - dropped : 0);
      all_tasks_done_.notify_all();
    }
    if constexpr (Bug == queue_bug::notify_one_on_shutdown) {
      // BROKEN: one blocked getter and one blocked putter wake; the rest stay
      // blocked although the queue will never change again.
      not_empty_.notify_one();  // interleave:bug queue.broken_notify_one
      not_full_.notify_one();
    } else {
      not_empty_.notify_all();
      not_full_.notify_all();
    }
  }

  // --- advisory observers ----------------------------------------------------
  [[nodiscard]] std::size_t size() const INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    return items_.size();
  }
  [[nodiscard]] bool empty() const INTERLEAVE_EXCLUDES(mu_) { return size() == 0; }
  [[nodiscard]] bool full() const INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    return is_full();
  }
  [[nodiscard]] long maxsize() const noexcept { return maxsize_; }
  [[nodiscard]] bool is_shut_down() const INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    return shutdown_.load();
  }
  // The number of items put and not yet task_done() (advisory).
  [[nodiscard]] long unfinished_tasks() const INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    return unfinished_.load();
  }

 private:
  using time_point = typename clock::time_point;
  static constexpr const char* kPutShut = "Queue::put: the queue is shut down";
  static constexpr const char* kPutForShut = "Queue::put_for: the queue is shut down";

  // interleave/deadline.hpp: negative throws, huge saturates.
  template <class Rep, class Period>
  static time_point deadline_after(const std::chrono::duration<Rep, Period>& timeout,
                                   const char* what) {
    return detail::deadline_after<clock>(timeout, what);
  }

  bool is_full() const INTERLEAVE_REQUIRES(mu_) {
    return maxsize_ > 0 && static_cast<long>(items_.size()) >= maxsize_;
  }

  // deadline == nullptr: wait for ever. Returns false on timeout.
  template <class U>
  bool put_until(U&& item, const time_point* deadline, const char* shut_message)
      INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    if (deadline == nullptr) {
      not_full_.wait(lk, [this]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
        return shutdown_.load() || !is_full();
      });
      if (shutdown_.load()) throw queue_shut_down(shut_message);
      push_back(std::forward<U>(item));
      return true;
    }
    while (true) {
      if (shutdown_.load()) throw queue_shut_down(shut_message);
      if (!is_full()) break;
      if (not_full_.wait_until(lk, *deadline) == std::cv_status::timeout) {
        if (shutdown_.load()) throw queue_shut_down(shut_message);
        if (is_full()) return false;
      }
    }
    push_back(std::forward<U>(item));
    return true;
  }

  template <class U>
  bool try_put_impl(U&& item) INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    if (shutdown_.load()) throw queue_shut_down("Queue::try_put: the queue is shut down");
    if (is_full()) return false;
    push_back(std::forward<U>(item));
    return true;
  }

  template <class U>
  void push_back(U&& item) INTERLEAVE_REQUIRES(mu_) {
    try {
      items_.push_back(std::forward<U>(item));  // strong guarantee: nothing added if it throws
    } catch (...) {
      // This putter may have taken a not_full wake-up; hand it on.
      if (maxsize_ > 0) not_full_.notify_one();
      throw;
    }
    unfinished_.store(unfinished_.load() + 1);
    not_empty_.notify_one();
  }

  // Constructs the result (T, or std::optional<T> in place) directly in the
  // caller's object from the front item, then pops it: no further move can
  // throw once the item has left the queue. If the construction throws, the
  // item stays and the wake-up this getter took goes to the next one.
  template <class R = T>
  R take_front() INTERLEAVE_REQUIRES(mu_) {
    struct Finish {
      Queue& q;
      int exceptions = std::uncaught_exceptions();
      ~Finish() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
        if (std::uncaught_exceptions() == exceptions) {
          q.items_.pop_front();
          if (q.maxsize_ > 0) q.not_full_.notify_one();
        } else {
          q.not_empty_.notify_one();
        }
      }
    } finish{*this};
    if constexpr (std::is_same_v<R, T>)
      return T(std::move_if_noexcept(items_.front()));
    else
      return R(std::in_place, std::move_if_noexcept(items_.front()));
  }

  // The broken twin's pieces, kept apart so the race has one line to name.
  long read_unfinished_unlocked() const INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    return unfinished_.load();  // interleave:race-read queue.broken_join_unlocked
  }
  void lk_wait_all_tasks_done() INTERLEAVE_EXCLUDES(mu_) {
    lock_t lk(mu_);
    all_tasks_done_.wait(lk);
  }

  const long maxsize_;
  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable not_empty_;       // items_ became non-empty, or shutdown
  typename Sync::condition_variable not_full_;        // items_ lost one, or shutdown
  typename Sync::condition_variable all_tasks_done_;  // unfinished_ reached 0
  std::deque<T> items_ INTERLEAVE_GUARDED_BY(mu_);
  typename Sync::template var<long> unfinished_ INTERLEAVE_GUARDED_BY(mu_){0};
  typename Sync::template var<bool> shutdown_ INTERLEAVE_GUARDED_BY(mu_){false};
};

template <class T, SyncBackend Sync = std_sync>
using BrokenNotifyOneQueue = Queue<T, Sync, queue_bug::notify_one_on_shutdown>;
template <class T, SyncBackend Sync = std_sync>
using BrokenJoinUnlockedQueue = Queue<T, Sync, queue_bug::join_unlocked>;

}  // namespace interleave
