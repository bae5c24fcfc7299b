// interleave/thread_pool.hpp — a thread pool whose submit() returns a
// Future (interleave/promise.hpp; as_completed and wait are
// interleave/as_completed.hpp), after Python's ThreadPoolExecutor.
//
// Seed scenario: "Thread pools". A pool of 3 runs T0..T4; the output shows
// T3 and T4 on the threads that ran T0 and T1: workers start lazily, never
// more than max_workers, and an idle worker is reused before a new one starts.
//
//   ThreadPool<Sync> pool(max_workers = min(32, process_cpu_count() + 4),
//                         name_prefix = "ThreadPool-<n>", initializer = {});
//   Future<R> f = pool.submit(fn, args...);      [[nodiscard]]
//   MapResults<R> rs = pool.map(fn, range[, timeout[, chunksize = 1]]);
//   pool.shutdown(wait = true, cancel_futures = false);
//
// Semantics in short (Python's ThreadPoolExecutor, and where this differs):
//   - max_workers defaults to min(32, process_cpu_count() + 4), where
//     process_cpu_count() is the number of CPUs in the calling thread's
//     affinity mask (sched_getaffinity, like Python 3.13's
//     os.process_cpu_count()), falling back to
//     std::thread::hardware_concurrency() where there is no affinity mask,
//     and to 1 if that is unknown.
//   - map() submits every call at once (eagerly, before it returns) and
//     returns a range that yields the results lazily, in input order: the
//     i-th dereference waits for the i-th call only. chunksize (>= 1) groups
//     that many consecutive calls into one pool task (Python's thread pool
//     ignores it; here it trades scheduling overhead for parallelism, the
//     results are the same). A call that throws does not cancel the others:
//     its exception is rethrown by the dereference at its own position, and
//     the iteration may go on past it (CPython gh-108518). With a timeout
//     (counted from the map() call), a dereference whose result is not ready
//     by the deadline cancels the future it waited on and every later one
//     (those not yet running never run; CPython gh-95166), throws
//     TimeoutError, and ends the range; results already yielded stay
//     delivered. Destroying the range does not cancel anything: the
//     submitted calls run (shutdown(cancel_futures=true) cancels them).
//   - as_completed() and wait() (as_completed.hpp) take any input range of
//     Future<T, Sync>, not only a std::vector.
//
// Requires: max_workers > 0 (else std::invalid_argument naming max_workers);
//   no submit after shutdown (std::runtime_error) or after the pool broke
//   (BrokenThreadPool); shutdown(wait=true) is not called from one of the
//   pool's own workers (std::logic_error: it would wait for itself; the
//   destructor may be, see "Destruction"). map's timeout >= 0
//   (std::invalid_argument naming "timeout"; a huge one saturates,
//   interleave/deadline.hpp) and chunksize >= 1 (std::invalid_argument
//   naming "chunksize"); a MapResults range outlives the references its
//   dereferences returned. Tasks may submit to the pool.
// Guarantees:
//   - every submitted task runs exactly once or is cancelled (its future
//     cancelled) — never both, never neither — including when Future::cancel()
//     races the worker taking the task (Promise::set_running_or_notify_cancel
//     decides, under the future's lock);
//   - at most max_workers threads are ever started, hence at most max_workers
//     tasks run at once; a worker is started by submit() only when the queued
//     tasks outnumber the workers not holding a task. A worker counts as free
//     again *before* its task's future completes, so a submit that follows
//     get() on an otherwise idle pool reuses that worker, in every
//     interleaving (the thread_pool.reuse model);
//   - a task's exception lands in its future;
//   - a failing initializer breaks the pool: the queued tasks' futures and
//     every later submit fail with BrokenThreadPool naming the cause;
//   - shutdown(wait=true) returns only after every task that was not
//     cancelled ran and every worker exited; cancel_futures=true cancels the
//     tasks still queued. This holds for each of several threads calling it
//     at once, and for a call racing the destructor (which is
//     shutdown(wait=true) too): whichever joins the workers, every other
//     waits until they have all exited; a call that began before the
//     destructor keeps the pool's state alive until it returns;
//   - Future::get()/wait() from a worker, on a future of the same pool, when
//     every other worker is already blocked in such a wait, throws
//     PoolDeadlockError instead of hanging (no worker would be left to run
//     the awaited task). Waits from outside the pool, timed waits, and
//     cycles through other pools or locks are not detected.
// Memory ordering: everything before submit() happens-before the task runs
//   (the pool mutex); the task happens-before get() returns (the future's
//   mutex); every task happens-before shutdown(wait=true) returns (join).
// Destruction: the destructor is shutdown(wait=true, cancel_futures=false):
//   it runs what is queued and joins every worker. Futures outlive the pool;
//   when the pool is gone every one of its futures is done.
//   Destroyed from one of its own workers (a task drops the last owner of
//   the pool, e.g. a shared_ptr it captured), the destructor cannot join the
//   thread it runs on; it does what a user would expect of letting go of the
//   pool there, and never std::terminate: shutdown(wait=false) — no new
//   tasks, the queued ones still run — and the workers are detached. The
//   pool's state is shared with its workers and lives until the last one has
//   exited, so the worker that ran the destructor returns to a live pool.
//   Every future still completes (when its task runs); the caller has no
//   thread to join, so "every future is done" holds only once they ran.
//   (shutdown(wait=true) called explicitly from a worker is still an error,
//   std::logic_error, as above: a call can throw, a destructor cannot.)
// Lock order: future -> pool (get() asks the pool whether a wait can end);
//   the pool never takes a future's lock while holding its own.
//
// Broken twins (BasicThreadPool<Sync, pool_bug::X>, with an alias each),
// kept so the checkers prove they can see the bug:
//   BrokenUnlockedCheckThreadPool<Sync>       (pool_bug::unlocked_check) a
//                              worker reads the queue count without the lock
//                              before deciding to sleep: a data race, and a
//                              lost wake-up (a task queued between the check
//                              and the wait is never taken).
//   BrokenShutdownNotifyOneThreadPool<Sync>   (pool_bug::shutdown_notify_one)
//                              shutdown wakes one idle worker, not all: the
//                              others sleep forever and shutdown(wait) hangs.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

#include "interleave/as_completed.hpp"
#include "interleave/promise.hpp"
#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

class BrokenThreadPool : public std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Future::get()/wait() from a worker of a saturated pool on the pool's own
// future (see "Guarantees").
class PoolDeadlockError : public std::logic_error {
  using std::logic_error::logic_error;
};

// Which pool: the fixed one, or a broken twin (see the header comment).
enum class pool_bug { none, unlocked_check, shutdown_notify_one };

namespace detail {

// A queued task, type-erased. run() and publish() are split so that the
// worker can count itself free between them (see "reuse" above).
struct PoolTask {
  virtual ~PoolTask() = default;
  virtual void run() noexcept = 0;                       // the user's code, result kept
  virtual void publish() noexcept = 0;                   // completes the future
  virtual void cancel() noexcept = 0;                    // shutdown(cancel_futures)
  virtual void fail(std::exception_ptr e) noexcept = 0;  // broken pool
};

template <class R, class Fn, SyncBackend Sync>
class PoolTaskImpl final : public PoolTask {
 public:
  PoolTaskImpl(Fn fn, FutureOwner* owner)
      : fn_(std::move(fn)), promise_(FutureAccess::owned_promise<R, Sync>(owner)) {}
  Future<R, Sync> future() const { return promise_.get_future(); }

  void run() noexcept override {
    if (!promise_.set_running_or_notify_cancel()) return;  // cancelled first: never runs
    started_ = true;
    try {
      if constexpr (std::is_void_v<R>) {
        fn_();
        value_.emplace();
      } else {
        value_.emplace(fn_());
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  void publish() noexcept override {
    if (!started_) return;
    try {
      if (error_)
        promise_.set_exception(error_);
      else if constexpr (std::is_void_v<R>)
        promise_.set_value();
      else
        promise_.set_value(std::move(*value_));
    } catch (...) {
      // Unreachable: a running future can be completed only by its promise.
    }
  }
  void cancel() noexcept override {
    try {
      promise_.get_future().cancel();
    } catch (...) {
    }
  }
  void fail(std::exception_ptr e) noexcept override {
    try {
      if (promise_.set_running_or_notify_cancel()) promise_.set_exception(std::move(e));
    } catch (...) {
    }
  }

 private:
  Fn fn_;
  Promise<R, Sync> promise_;
  bool started_ = false;  // touched only by the worker that owns the task
  std::optional<stored_t<R>> value_;
  std::exception_ptr error_;
};

// The CPUs the calling thread may run on (its affinity mask, as Python's
// os.process_cpu_count()); std::thread::hardware_concurrency() where there is
// no affinity mask to read; 1 if neither is known.
inline unsigned process_cpu_count() {
#if defined(__linux__)
  // The mask is sized for the kernel's CPU count, which may exceed
  // CPU_SETSIZE: grow it while the kernel says it is too small (EINVAL).
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) break;
    const std::size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    const bool ok = sched_getaffinity(0, size, set) == 0;
    const int error = errno;
    const int count = ok ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (ok && count > 0) return static_cast<unsigned>(count);
    if (ok || error != EINVAL) break;
  }
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1u;
}

inline int next_pool_number() {
  static std::atomic<int> n{0};
  return n.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace detail

namespace detail {
// One call of a map(): its value, or the exception it threw.
template <class R>
using CallOutcome = std::variant<R, std::exception_ptr>;
}  // namespace detail

// The range ThreadPool::map() returns: the calls' results in input order,
// each waited for only when it is dereferenced (an input range: iterate it
// once). See the header comment for timeouts, exceptions and chunksize.
template <class R, SyncBackend Sync = std_sync>
class MapResults {
  using Chunk = std::vector<detail::CallOutcome<R>>;

 public:
  using value_type = R;
  using time_point = typename Sync::clock::time_point;

  MapResults(std::vector<Future<Chunk, Sync>> chunks, std::size_t size, std::size_t chunksize,
             std::optional<time_point> deadline)
      : chunks_(std::move(chunks)), size_(size), chunksize_(chunksize), deadline_(deadline) {}
  MapResults(MapResults&&) noexcept = default;
  MapResults& operator=(MapResults&&) noexcept = default;
  MapResults(const MapResults&) = delete;
  MapResults& operator=(const MapResults&) = delete;

  // The number of calls (also after a timeout ended the iteration).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // Whether a timeout ended the iteration.
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

  // The i-th call's result: waits for it (until the deadline, if any);
  // rethrows the exception that call threw; TimeoutError when the deadline
  // passes first (then the awaited future and every later one are
  // cancelled, and the range is over); CancelledError if someone else
  // cancelled the call. The reference lives as long as this range.
  const R& at(std::size_t i) {
    if (i >= size_)
      throw std::out_of_range("MapResults::at: index " + std::to_string(i) + " >= size " +
                              std::to_string(size_));
    if (timed_out_) throw TimeoutError("ThreadPool::map: the range already timed out");
    const std::size_t c = i / chunksize_;
    if (deadline_ && !chunks_[c].wait_until(*deadline_)) {
      timed_out_ = true;
      for (std::size_t j = c; j < chunks_.size(); ++j) chunks_[j].cancel();
      throw TimeoutError("ThreadPool::map: timed out with " + std::to_string(size_ - i) + " of " +
                         std::to_string(size_) + " results not yielded");
    }
    const detail::CallOutcome<R>& out = chunks_[c].get()[i % chunksize_];
    if (out.index() == 1) std::rethrow_exception(std::get<1>(out));
    return std::get<0>(out);
  }

  struct sentinel {};
  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(MapResults* owner) : owner_(owner) {}
    const R& operator*() const { return owner_->at(i_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++*this; }
    // Past the last call, or a timeout ended the range.
    friend bool operator==(const iterator& it, sentinel) {
      return it.i_ >= it.owner_->size() || it.owner_->timed_out();
    }

   private:
    MapResults* owner_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() { return iterator(this); }
  sentinel end() { return {}; }

  // Every remaining result, in order, into a vector (rethrows the first
  // exception met, as a plain loop would).
  std::vector<R> to_vector() {
    std::vector<R> out;
    out.reserve(size_);
    for (const R& r : *this) out.push_back(r);
    return out;
  }

 private:
  std::vector<Future<Chunk, Sync>> chunks_;
  std::size_t size_ = 0;
  std::size_t chunksize_ = 1;
  std::optional<time_point> deadline_;
  bool timed_out_ = false;
};

namespace detail {

// The pool's state and workers. BasicThreadPool is a handle on it; each
// worker holds it too (shared), so a pool destroyed from one of its own
// workers leaves that worker a live pool to return to.
template <SyncBackend Sync, pool_bug Bug>
class PoolCore final : private FutureOwner,
                       public std::enable_shared_from_this<PoolCore<Sync, Bug>> {
  using Lock = std::unique_lock<typename Sync::mutex>;
  using TaskPtr = std::unique_ptr<detail::PoolTask>;

 public:
  static int default_max_workers() {
    return static_cast<int>(std::min(32u, detail::process_cpu_count() + 4u));
  }

  PoolCore(int max_workers, std::string name_prefix, std::function<void()> initializer)
      : max_workers_(check_max_workers(max_workers)),
        prefix_(name_prefix.empty() ? "ThreadPool-" + std::to_string(detail::next_pool_number())
                                    : std::move(name_prefix)),
        initializer_(std::move(initializer)),
        worker_ids_(
            new
            typename Sync::template atomic<std::size_t>[static_cast<std::size_t>(max_workers_)]) {}

  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;
  ~PoolCore() = default;

  // The handle's destructor. From a thread outside the pool:
  // shutdown(wait=true). From one of the pool's own workers (which cannot
  // join itself): shutdown(wait=false), and the workers are detached; each
  // holds the core, which lives until the last of them exits.
  void close() INTERLEAVE_EXCLUDES(mu_) {
    if (worker_slot() < 0) {
      shutdown(/*wait=*/true, /*cancel_futures=*/false);
      return;
    }
    shutdown(/*wait=*/false, /*cancel_futures=*/false);
    std::vector<typename Sync::thread> threads;
    {
      Lock lk(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) detach_or_keep(std::move(t));
  }

  // Queues f(args...) and returns its future; may start a worker.
  template <class F, class... Args>
  [[nodiscard]] auto submit(F&& f, Args&&... args) INTERLEAVE_EXCLUDES(mu_) {
    using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>;
    auto fn = [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable -> R {
      return std::invoke(f, args...);
    };
    auto task = std::make_unique<PoolTaskImpl<R, decltype(fn), Sync>>(
        std::move(fn), static_cast<FutureOwner*>(this));
    Future<R, Sync> future = task->future();
    Lock lk(mu_);
    const int stop = stop_.load();
    if (stop == kBroken) throw BrokenThreadPool(broken_reason_);
    if (stop == kShutdown)
      throw std::runtime_error("ThreadPool::submit: cannot schedule new futures after shutdown");
    queue_.push_back(std::move(task));
    const std::size_t queued = queued_.load() + 1;
    queued_.store(queued);
    if (waiting_.load() > 0) work_cv_.notify_one();
    // Start a worker only if the queued tasks outnumber the workers that do
    // not hold a task (idle, or about to look at the queue).
    const int started = started_.load();
    if (started < max_workers_ && queued > static_cast<std::size_t>(started - busy_.load())) {
      try {
        start_worker(started);
      } catch (...) {
        if (started == 0) {  // nobody will ever run it: take it back
          queue_.pop_back();
          queued_.store(queued - 1);
        }
        throw;
      }
    }
    return future;
  }

  // f over every element: every call submitted now, results yielded lazily
  // in input order (MapResults; see the header comment).
  template <class F, std::ranges::input_range Range>
  auto map(F f, Range&& range, std::optional<typename Sync::clock::time_point> deadline,
           std::size_t chunksize) {
    using Elem = std::decay_t<std::ranges::range_reference_t<Range>>;
    using R = std::decay_t<std::invoke_result_t<F&, Elem&>>;
    static_assert(!std::is_void_v<R>, "ThreadPool::map: fn must return a value");
    if (chunksize < 1)
      throw std::invalid_argument("ThreadPool::map: chunksize must be >= 1, got 0");
    using Chunk = std::vector<detail::CallOutcome<R>>;
    std::vector<Future<Chunk, Sync>> chunks;
    std::size_t n = 0;
    std::vector<Elem> items;
    const auto flush = [&] {
      chunks.push_back(submit([f, items = std::move(items)]() mutable {
        Chunk out;
        out.reserve(items.size());
        for (auto& x : items) {
          try {
            out.emplace_back(std::in_place_index<0>, std::invoke(f, x));
          } catch (...) {  // this call's own outcome: the others still run
            out.emplace_back(std::in_place_index<1>, std::current_exception());
          }
        }
        return out;
      }));
      items = std::vector<Elem>();
    };
    for (auto&& x : range) {
      items.push_back(std::forward<decltype(x)>(x));
      ++n;
      if (items.size() == chunksize) flush();
    }
    if (!items.empty()) flush();
    return MapResults<R, Sync>(std::move(chunks), n, chunksize, deadline);
  }

  // Stops accepting tasks. cancel_futures: cancel the queued ones. wait:
  // return after every remaining task ran and every worker exited.
  void shutdown(bool wait = true, bool cancel_futures = false) INTERLEAVE_EXCLUDES(mu_) {
    std::deque<TaskPtr> cancelled;
    std::vector<typename Sync::thread> to_join;
    {
      Lock lk(mu_);
      if (wait && is_worker_locked())
        throw std::logic_error(
            "ThreadPool::shutdown(wait=true) called from one of the pool's own workers: it would "
            "wait for itself");
      shutdown_calls_.store(shutdown_calls_.load() + 1);
      if (stop_.load() == kOpen) stop_.store(kShutdown);
      if (cancel_futures) {
        cancelled.swap(queue_);
        queued_.store(0);
      }
      if constexpr (Bug == pool_bug::shutdown_notify_one)
        work_cv_.notify_one();  // interleave:bug thread_pool.broken_shutdown_notify_one
      else
        work_cv_.notify_all();
      if (wait) to_join.swap(threads_);
    }
    for (auto& t : cancelled) t->cancel();  // outside the pool lock (lock order)
    cancelled.clear();
    if (wait) {
      for (auto& t : to_join) t.join();
    }
    Lock lk(mu_);
    // Workers another shutdown() (or the destructor) swapped out and joins:
    // this call, too, returns only once every one of them has exited, that
    // is after every task they accepted finished.
    if (wait)
      exit_cv_.wait(lk, [this]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
        return live_.load() == 0;
      });
    shutdown_calls_.store(shutdown_calls_.load() - 1);
  }

  [[nodiscard]] int max_workers() const noexcept { return max_workers_; }
  // Workers started so far (never more than max_workers()).
  [[nodiscard]] int worker_count() const INTERLEAVE_EXCLUDES(mu_) {
    Lock lk(mu_);
    return started_.load();
  }
  // Tasks queued and not yet taken by a worker.
  [[nodiscard]] std::size_t pending() const INTERLEAVE_EXCLUDES(mu_) {
    Lock lk(mu_);
    return queued_.load();
  }
  // Workers asleep waiting for a task.
  [[nodiscard]] int idle_workers() const INTERLEAVE_EXCLUDES(mu_) {
    Lock lk(mu_);
    return waiting_.load();
  }
  // Workers not yet exited.
  [[nodiscard]] int live_workers() const INTERLEAVE_EXCLUDES(mu_) {
    Lock lk(mu_);
    return live_.load();
  }
  // shutdown() calls (the destructor's included) begun and not yet returned.
  [[nodiscard]] int shutdowns_in_progress() const INTERLEAVE_EXCLUDES(mu_) {
    Lock lk(mu_);
    return shutdown_calls_.load();
  }
  // "<prefix>_<i>" for the calling worker, "" if the caller is not one.
  [[nodiscard]] std::string current_worker_name() const INTERLEAVE_EXCLUDES(mu_) {
    const int slot = worker_slot();
    return slot < 0 ? std::string() : prefix_ + "_" + std::to_string(slot);
  }
  [[nodiscard]] const std::string& name_prefix() const noexcept { return prefix_; }

 private:
  static int check_max_workers(int n) {
    if (n <= 0)
      throw std::invalid_argument("ThreadPool: max_workers must be > 0, got " + std::to_string(n));
    return n;
  }

  // The calling thread's worker slot, or -1: lock-free, so that get() from
  // a thread outside the pool never touches the pool's mutex. A worker
  // registers its id before it runs anything, so it always finds itself; ids
  // are never reused, so no other thread ever matches.
  int worker_slot() const {
    const auto id = Sync::thread_index();
    const int n = registered_.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i)
      if (worker_ids_[static_cast<std::size_t>(i)].load(std::memory_order_relaxed) == id) return i;
    return -1;
  }
  bool is_worker_locked() const INTERLEAVE_REQUIRES(mu_) { return worker_slot() >= 0; }

  void start_worker(int started) INTERLEAVE_REQUIRES(mu_) {
    threads_.emplace_back([self = this->shared_from_this()] { self->worker_main(); });
    started_.store(started + 1);
    live_.store(live_.load() + 1);
  }

  // Takes the front task; `queued` is queued_'s value (> 0).
  TaskPtr pop_locked(std::size_t queued) INTERLEAVE_REQUIRES(mu_) {
    TaskPtr t = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(queued - 1);
    busy_.store(busy_.load() + 1);
    return t;
  }

  // The broken twin's check for work, made without the lock.
  std::size_t unlocked_queued() const INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    return queued_.load();  // interleave:race-read thread_pool.broken_unlocked_check
  }

  void worker_main() INTERLEAVE_EXCLUDES(mu_) {
    {
      Lock lk(mu_);
      const int slot = registered_.load(std::memory_order_relaxed);
      worker_ids_[static_cast<std::size_t>(slot)].store(Sync::thread_index(),
                                                        std::memory_order_relaxed);
      registered_.store(slot + 1, std::memory_order_release);
    }
    if (initializer_) {
      try {
        initializer_();
      } catch (...) {
        break_pool(std::current_exception());
        Lock lk(mu_);
        worker_exit_locked();
        return;
      }
    }
    Lock lk(mu_);
    for (;;) {
      std::size_t queued = 0;
      if constexpr (Bug == pool_bug::unlocked_check) {
        // BROKEN: the check for work is made without the lock, so the
        // decision to sleep is stale by the time the worker waits.
        lk.unlock();
        const bool empty = unlocked_queued() == 0;
        lk.lock();
        if (empty && stop_.load() == kOpen) {
          sleep_locked(lk);
          continue;
        }
        queued = queued_.load();
      } else {
        if (queued_.load() == 0 && stop_.load() == kOpen) {
          // Predicate form: a checker may treat it as "block until it holds".
          waiting_.store(waiting_.load() + 1);
          work_cv_.wait(lk, [this]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {  // runs under mu_
            return queued_.load() != 0 || stop_.load() != kOpen;
          });
          waiting_.store(waiting_.load() - 1);
        }
        queued = queued_.load();
      }
      if (queued == 0) break;  // shut down (or broken) and drained
      TaskPtr task = pop_locked(queued);
      lk.unlock();
      while (task) {
        task->run();
        lk.lock();
        busy_.store(busy_.load() - 1);  // free again before the future completes
        queued = queued_.load();
        TaskPtr next = queued > 0 ? pop_locked(queued) : nullptr;
        lk.unlock();
        task->publish();
        task = std::move(next);  // the finished task is destroyed outside the lock
      }
      lk.lock();
    }
    worker_exit_locked();
  }

  void sleep_locked(Lock& lk) INTERLEAVE_REQUIRES(mu_) {
    const int waiting = waiting_.load();
    waiting_.store(waiting + 1);
    work_cv_.wait(lk);
    waiting_.store(waiting_.load() - 1);
  }

  void worker_exit_locked() INTERLEAVE_REQUIRES(mu_) {
    live_.store(live_.load() - 1);
    exit_cv_.notify_all();
  }

  void break_pool(std::exception_ptr cause) INTERLEAVE_EXCLUDES(mu_) {
    std::deque<TaskPtr> failed;
    std::string reason;
    {
      Lock lk(mu_);
      if (stop_.load() != kBroken) {
        stop_.store(kBroken);
        broken_reason_ =
            "ThreadPool " + prefix_ + " is broken: a worker initializer failed: " + describe(cause);
      }
      reason = broken_reason_;
      failed.swap(queue_);
      queued_.store(0);
      work_cv_.notify_all();
    }
    const auto error = std::make_exception_ptr(BrokenThreadPool(reason));
    for (auto& t : failed) t->fail(error);
  }

  // detail::FutureOwner: called by Future::get()/wait() with the future's
  // lock held (lock order future -> pool).
  bool enter_wait_on_own_future() override INTERLEAVE_EXCLUDES(mu_) {
    if (worker_slot() < 0) return false;  // not one of ours: no lock taken
    Lock lk(mu_);
    const int others = self_waiting_.load();
    if (others + 1 >= max_workers_)
      throw PoolDeadlockError(
          "Future::get: a worker of " + prefix_ + " waits on a future of its own pool while all " +
          std::to_string(max_workers_) +
          " workers would be waiting on it: no worker is left to run the task (deadlock)");
    self_waiting_.store(others + 1);
    return true;
  }
  void leave_wait_on_own_future() override INTERLEAVE_EXCLUDES(mu_) {
    Lock lk(mu_);
    self_waiting_.store(self_waiting_.load() - 1);
  }

  // A worker's thread object that nobody will join: detached if the backend
  // can; a backend whose threads cannot be detached keeps it (leaked) rather
  // than destroying a joinable thread (std::terminate).
  static void detach_or_keep(typename Sync::thread&& t) {
    if constexpr (requires { t.detach(); }) {
      if (t.joinable()) t.detach();
    } else {
      new typename Sync::thread(std::move(t));  // NOLINT: deliberately never freed
    }
  }

  const int max_workers_;
  const std::string prefix_;
  const std::function<void()> initializer_;

  mutable typename Sync::mutex mu_;
  typename Sync::condition_variable work_cv_;  // workers wait for tasks
  typename Sync::condition_variable exit_cv_;  // shutdown waits for workers to exit
  std::deque<TaskPtr> queue_ INTERLEAVE_GUARDED_BY(mu_);
  typename Sync::template var<std::size_t> queued_
      INTERLEAVE_GUARDED_BY(mu_){0};                                        // == queue_.size()
  typename Sync::template var<int> started_ INTERLEAVE_GUARDED_BY(mu_){0};  // workers ever started
  typename Sync::template var<int> live_ INTERLEAVE_GUARDED_BY(mu_){0};  // workers not yet exited
  typename Sync::template var<int> busy_ INTERLEAVE_GUARDED_BY(mu_){0};  // workers holding a task
  typename Sync::template var<int> waiting_
      INTERLEAVE_GUARDED_BY(mu_){0};  // workers in work_cv_.wait
  typename Sync::template var<int> self_waiting_
      INTERLEAVE_GUARDED_BY(mu_){0};  // workers in get() on our futures
  typename Sync::template var<int> shutdown_calls_
      INTERLEAVE_GUARDED_BY(mu_){0};  // shutdown() calls in progress
  static constexpr int kOpen = 0, kShutdown = 1, kBroken = 2;
  typename Sync::template var<int> stop_
      INTERLEAVE_GUARDED_BY(mu_){kOpen};  // kOpen, kShutdown or kBroken
  std::string broken_reason_ INTERLEAVE_GUARDED_BY(mu_);
  std::vector<typename Sync::thread> threads_ INTERLEAVE_GUARDED_BY(mu_);
  // Sync::thread_index() of each worker, by slot (written once, under mu_).
  const std::unique_ptr<typename Sync::template atomic<std::size_t>[]> worker_ids_;
  typename Sync::template atomic<int> registered_{0};  // slots written
};

}  // namespace detail

// The pool users hold: a handle on its core (see the header comment).
template <SyncBackend Sync = std_sync, pool_bug Bug = pool_bug::none>
class BasicThreadPool {
  using Core = detail::PoolCore<Sync, Bug>;

 public:
  static int default_max_workers() { return Core::default_max_workers(); }

  explicit BasicThreadPool(int max_workers = default_max_workers(), std::string name_prefix = "",
                           std::function<void()> initializer = {})
      : core_(std::make_shared<Core>(max_workers, std::move(name_prefix), std::move(initializer))) {
  }
  BasicThreadPool(const BasicThreadPool&) = delete;
  BasicThreadPool& operator=(const BasicThreadPool&) = delete;
  // shutdown(wait=true); from one of the pool's own workers, shutdown(wait=
  // false) instead (see "Destruction" in the header comment).
  ~BasicThreadPool() { core_->close(); }

  template <class F, class... Args>
  [[nodiscard]] auto submit(F&& f, Args&&... args) {
    return core_->submit(std::forward<F>(f), std::forward<Args>(args)...);
  }
  // fn over every element of `range` (see the header comment): every call
  // is submitted before map() returns; the results come lazily, in order.
  template <class F, std::ranges::input_range Range>
  auto map(F f, Range&& range) {
    return core_->map(std::move(f), std::forward<Range>(range), std::nullopt, 1);
  }
  template <class F, std::ranges::input_range Range, class Rep, class Period>
  auto map(F f, Range&& range, const std::chrono::duration<Rep, Period>& timeout,
           std::size_t chunksize = 1) {
    const auto deadline = detail::deadline_after<typename Sync::clock>(timeout, "ThreadPool::map");
    return core_->map(std::move(f), std::forward<Range>(range), deadline, chunksize);
  }
  template <class F, std::ranges::input_range Range>
  auto map(F f, Range&& range, std::nullopt_t /*no timeout*/, std::size_t chunksize) {
    return core_->map(std::move(f), std::forward<Range>(range), std::nullopt, chunksize);
  }
  // Safe from several threads at once, and while the destructor runs if
  // the call began first: the call holds the pool's state itself, so the
  // state outlives the call even when the destructor releases the handle's.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    const std::shared_ptr<Core> core = core_;
    core->shutdown(wait, cancel_futures);
  }

  [[nodiscard]] int max_workers() const noexcept { return core_->max_workers(); }
  [[nodiscard]] int worker_count() const { return core_->worker_count(); }
  [[nodiscard]] std::size_t pending() const { return core_->pending(); }
  [[nodiscard]] int idle_workers() const { return core_->idle_workers(); }
  [[nodiscard]] int live_workers() const { return core_->live_workers(); }
  [[nodiscard]] int shutdowns_in_progress() const { return core_->shutdowns_in_progress(); }
  [[nodiscard]] std::string current_worker_name() const { return core_->current_worker_name(); }
  [[nodiscard]] const std::string& name_prefix() const noexcept { return core_->name_prefix(); }

 private:
  const std::shared_ptr<Core> core_;
};

template <SyncBackend Sync = std_sync>
using ThreadPool = BasicThreadPool<Sync, pool_bug::none>;
// The broken twins (see the header comment). Kept on purpose: their checks
// must fail.
template <SyncBackend Sync = std_sync>
using BrokenUnlockedCheckThreadPool = BasicThreadPool<Sync, pool_bug::unlocked_check>;
template <SyncBackend Sync = std_sync>
using BrokenShutdownNotifyOneThreadPool = BasicThreadPool<Sync, pool_bug::shutdown_notify_one>;

}  // namespace interleave
