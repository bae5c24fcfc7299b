// models/thread_pool_model.cpp — Future/Promise, ThreadPool, as_completed and
// wait (seed: "Thread pools"), instantiated from
// impl/include/interleave/future.hpp and thread_pool.hpp with the model
// backend.
//
// The pool's workers are dynamic threads: the pool starts them itself
// through Sync::thread, so each model declares dynamic_threads = max_workers.
// Task bodies yield (a scheduling point) so that a preemption can land inside
// a running task.
//
// Every model here declares heap_under_test = false: a pool execution
// allocates and frees dozens of heap blocks (futures' shared states, tasks,
// callbacks, containers) that are bookkeeping, not state under test; a
// checker that branches on the reuse of every freed block would multiply the
// search by 2^dozens. The state the invariants rest on is in Sync::var,
// mutexes and condition variables. So these models check no leaks or
// use-after-free of those blocks.
//
// Exceptions: a task and a done callback that throw are modelled (the
// *_throws models); the impl catches each where it is thrown and takes no
// lock inside a handler, which matters here: every model thread is a fiber
// on one OS thread, sharing the C++ runtime's per-thread record of the
// exceptions being handled.
//
// What this cannot see: real time (a timed wait may time out at any
// scheduling point), the std::function/deque internals (plain memory, guarded
// by the pool's mutex, not var<T>), and configurations beyond 3 workers x 5
// tasks at context bound 2.
#include "model.hpp"
//
#include <optional>
#include <stdexcept>
#include <string>
#include "interleave/future.hpp"
#include "interleave/thread_pool.hpp"

namespace interleave::models {
namespace {

// ---------------------------------------------------------------------------
// future
// ---------------------------------------------------------------------------

// A producer sets a value while a consumer adds two callbacks and gets it:
// get() returns the value, each callback runs exactly once, in the order added.
template <class Sync>
struct FutureSetGet {
  static constexpr unsigned threads = 2;
  static constexpr bool heap_under_test = false;
  Promise<int, Sync> promise;
  Future<int, Sync> future = promise.get_future();
  int calls[2] = {0, 0};
  int order[2] = {-1, -1};
  int n = 0;
  int got = 0;

  void thread(unsigned t) {
    if (t == 0) {
      promise.set_value(42);
    } else {
      future.add_done_callback([this](const Future<int, Sync>& f) {
        ++calls[0];
        order[n++] = 0;
        INTERLEAVE_MODEL_CHECK(f.done());
      });
      future.add_done_callback([this](const Future<int, Sync>&) {
        ++calls[1];
        order[n++] = 1;
      });
      got = future.get();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(got == 42);
    INTERLEAVE_MODEL_CHECK(calls[0] == 1 && calls[1] == 1);
    INTERLEAVE_MODEL_CHECK(order[0] == 0 && order[1] == 1);
    INTERLEAVE_MODEL_CHECK(future.done() && !future.cancelled());
  }
};

// cancel() races a runner's set_running_or_notify_cancel(): exactly one wins.
template <class Sync>
struct FutureCancelRace {
  static constexpr unsigned threads = 2;
  static constexpr bool heap_under_test = false;
  Promise<int, Sync> promise;
  Future<int, Sync> future = promise.get_future();
  bool ran = false;
  bool cancel_won = false;
  int callbacks = 0;

  void before() {
    future.add_done_callback([this](const Future<int, Sync>&) { ++callbacks; });
  }
  void thread(unsigned t) {
    if (t == 0) {
      if (promise.set_running_or_notify_cancel()) {
        ran = true;
        promise.set_value(1);
      }
    } else {
      cancel_won = future.cancel();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(ran != cancel_won);
    INTERLEAVE_MODEL_CHECK(future.cancelled() == cancel_won);
    INTERLEAVE_MODEL_CHECK(future.done());
    INTERLEAVE_MODEL_CHECK(callbacks == 1);
  }
};

// A done callback that throws, added while another thread completes the
// future: the callback after it still runs, once; a getter still gets the
// value; the throw is counted once. Whichever thread runs the callbacks (the
// completing one, or the adder when the future is already done), every
// bookkeeping step after the throw happens.
template <class Sync>
struct FutureCallbackThrows {
  static constexpr unsigned threads = 3;
  static constexpr bool heap_under_test = false;
  Promise<int, Sync> promise;
  Future<int, Sync> future = promise.get_future();
  int calls[2] = {0, 0};
  int got = 0;

  static void silent(const std::string&) {}
  static void before_search() {
    set_callback_error_reporter(&silent);
  }  // one line per execution otherwise

  void thread(unsigned t) {
    if (t == 0) {
      promise.set_value(42);
    } else if (t == 1) {
      future.add_done_callback([this](const Future<int, Sync>&) {
        ++calls[0];
        throw std::runtime_error("callback");
      });
      future.add_done_callback([this](const Future<int, Sync>& f) {
        ++calls[1];
        INTERLEAVE_MODEL_CHECK(f.get() == 42);
      });
    } else {
      got = future.get();
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(got == 42);
    INTERLEAVE_MODEL_CHECK(calls[0] == 1 && calls[1] == 1);
    INTERLEAVE_MODEL_CHECK(future.callback_errors() == 1);
    INTERLEAVE_MODEL_CHECK(future.done() && !future.cancelled());
  }
};

INTERLEAVE_MODEL(FutureSetGet, "future.set_get.full", "future",
                 "get() returns the value set; two callbacks run once each, in the order added",
                 Expect::holds, Search::full());
INTERLEAVE_MODEL(
    FutureCallbackThrows, "future.callback_throws.full", "future",
    "a throwing done callback racing set_value() and get(): the next callback runs once, get() "
    "returns the value, the throw is counted once",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    FutureCancelRace, "future.cancel_vs_run.full", "future",
    "cancel() racing set_running_or_notify_cancel(): exactly one wins, the callback runs once",
    Expect::holds, Search::full());

// ---------------------------------------------------------------------------
// thread_pool
// ---------------------------------------------------------------------------

// One submitter, Workers workers (dynamic threads), Tasks tasks: at most
// Workers run at once, each runs exactly once, get() returns its value,
// shutdown(wait) returns only after all ran, at most Workers threads start.
// With GetFirst=false the submitter shuts down without get(): no task is
// lost and no worker sleeps through the shutdown.
template <class Sync, pool_bug Flavor, int Workers, int Tasks, bool GetFirst>
struct PoolRun {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = Workers;
  static constexpr bool heap_under_test = false;
  BasicThreadPool<Sync, Flavor> pool{Workers, "P"};
  int runs[Tasks] = {};
  int running = 0;
  int peak = 0;

  void thread(unsigned) {
    std::vector<Future<int, Sync>> fs;
    for (int i = 0; i < Tasks; ++i)
      fs.push_back(pool.submit([this, i] {
        ++running;
        peak = std::max(peak, running);
        Sync::yield();
        ++runs[i];
        --running;
        return i * 10;
      }));
    if (GetFirst)
      for (int i = 0; i < Tasks; ++i) INTERLEAVE_MODEL_CHECK(fs[i].get() == i * 10);
    pool.shutdown(/*wait=*/true);
    for (int i = 0; i < Tasks; ++i) {
      INTERLEAVE_MODEL_CHECK(runs[i] == 1);
      INTERLEAVE_MODEL_CHECK(fs[i].done());
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(peak <= Workers);
    INTERLEAVE_MODEL_CHECK(pool.worker_count() <= Workers);
  }
};

// Two submitters at once on a 2-worker pool.
template <class Sync>
struct PoolTwoSubmitters {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{2, "P"};
  int runs[4] = {};
  int got[4] = {};
  typename Sync::template atomic<int> finished{0};

  void thread(unsigned t) {
    Future<int, Sync> a = pool.submit([this, t] { return ++runs[2 * t], static_cast<int>(2 * t); });
    Future<int, Sync> b =
        pool.submit([this, t] { return ++runs[2 * t + 1], static_cast<int>(2 * t + 1); });
    got[2 * t] = a.get();
    got[2 * t + 1] = b.get();
    if (finished.fetch_add(1) == 1) pool.shutdown();  // the last submitter shuts down
  }
  void after() {
    for (int i = 0; i < 4; ++i) INTERLEAVE_MODEL_CHECK(runs[i] == 1 && got[i] == i);
    INTERLEAVE_MODEL_CHECK(pool.worker_count() <= 2);
  }
};

struct TaskError : std::runtime_error {
  TaskError() : std::runtime_error("task 0") {}
};

// Tasks that throw, on 1 or 2 workers: each throwing task's future holds
// its exception, the others their values; the worker that ran a thrower
// goes on taking tasks (a task submitted after the throws runs), the
// bookkeeping is whole afterwards (nothing pending, every worker exits at
// shutdown) and shutdown(wait) returns.
template <class Sync, int Workers>
struct PoolTaskThrows {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = Workers;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{Workers, "P"};
  int runs[3] = {};

  void thread(unsigned) {
    auto f0 = pool.submit([this]() -> int {
      ++runs[0];
      Sync::yield();
      throw TaskError();
    });
    auto f1 = pool.submit([this] { return ++runs[1], 1; });
    bool threw = false;
    try {
      (void)f0.get();
    } catch (const TaskError&) {
      threw = true;  // the task's own exception (not, e.g., BrokenPromise)
    }
    INTERLEAVE_MODEL_CHECK(threw);
    INTERLEAVE_MODEL_CHECK(f1.get() == 1);
    auto f2 = pool.submit([this] { return ++runs[2], 2; });
    INTERLEAVE_MODEL_CHECK(f2.get() == 2);
    INTERLEAVE_MODEL_CHECK(f0.exception() != nullptr && f1.exception() == nullptr);
    pool.shutdown(/*wait=*/true);
    INTERLEAVE_MODEL_CHECK(pool.live_workers() == 0);
  }
  void after() {
    for (int i = 0; i < 3; ++i) INTERLEAVE_MODEL_CHECK(runs[i] == 1);
    INTERLEAVE_MODEL_CHECK(pool.pending() == 0);
    INTERLEAVE_MODEL_CHECK(pool.worker_count() <= Workers);
  }
};

// shutdown(wait=true) from two threads at once, each also submitting a task
// first: a task whose submit() was accepted (it came before either
// shutdown took the pool's lock) has finished when EITHER shutdown returns.
// Each task writes plain data (a Sync::var) that both shutdown callers read
// after returning: the read must be ordered after the write (no race) and
// see it. A submit() after the other thread's shutdown is refused, and its
// task counted as never accepted.
template <class Sync>
struct PoolShutdownFromTwoThreads {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{2, "P"};
  typename Sync::template var<int> done[2] = {typename Sync::template var<int>(0),
                                              typename Sync::template var<int>(0)};
  typename Sync::template atomic<int> accepted[2] = {0, 0};

  void thread(unsigned t) {
    try {
      (void)pool.submit([this, t] {
        Sync::yield();
        done[t].store(1);
      });
      accepted[t].store(1, std::memory_order_seq_cst);
    } catch (const std::runtime_error&) {
      // the other thread's shutdown came first: refused, never run
    }
    pool.shutdown(/*wait=*/true);
    for (int i = 0; i < 2; ++i)
      if (accepted[i].load(std::memory_order_seq_cst)) INTERLEAVE_MODEL_CHECK(done[i].load() == 1);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(pool.live_workers() == 0);
    INTERLEAVE_MODEL_CHECK(pool.shutdowns_in_progress() == 0);
  }
};

// shutdown(wait=true) racing the destructor: the owner destroys the pool
// while another thread's shutdown() is in progress (it polls
// shutdowns_in_progress(): the call began first, as the contract requires).
// Both return only after both tasks finished (their plain data is written
// and ordered before each read), and the other thread's call, still running
// after the destructor returned, does not use the released handle.
template <class Sync>
struct PoolShutdownRacesDestructor {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  std::optional<ThreadPool<Sync>> pool;
  typename Sync::template var<int> done[2] = {typename Sync::template var<int>(0),
                                              typename Sync::template var<int>(0)};
  typename Sync::template atomic<int> returned{0};

  void before() {
    pool.emplace(2, "P");
    for (int i = 0; i < 2; ++i)
      (void)pool->submit([this, i] {
        Sync::yield();
        done[i].store(1);
      });
  }
  void thread(unsigned t) {
    if (t == 0) {
      while (pool->shutdowns_in_progress() == 0 && returned.load(std::memory_order_seq_cst) == 0)
        Sync::yield();
      pool.reset();  // the destructor: shutdown(wait=true)
    } else {
      pool->shutdown(/*wait=*/true);
      returned.store(1, std::memory_order_seq_cst);
    }
    INTERLEAVE_MODEL_CHECK(done[0].load() == 1 && done[1].load() == 1);
  }
};

// Read-only accessors while writers run: an observer reads every counter of
// the pool while a submitter submits and the workers run; each value it
// reads is within its invariant (0 <= idle, live <= started <= max_workers,
// pending <= tasks submitted), never a torn or transient impossible state.
template <class Sync>
struct PoolAccessorsWhileSubmitting {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{2, "P"};

  void thread(unsigned t) {
    if (t == 0) {
      auto a = pool.submit([] { return 1; });
      auto b = pool.submit([] { return 2; });
      INTERLEAVE_MODEL_CHECK(a.get() + b.get() == 3);
      pool.shutdown(/*wait=*/true);
    } else {
      for (int round = 0; round < 2; ++round) {
        const int started = pool.worker_count();
        const int live = pool.live_workers();
        const int idle = pool.idle_workers();
        const std::size_t pending = pool.pending();
        INTERLEAVE_MODEL_CHECK(started >= 0 && started <= 2);
        INTERLEAVE_MODEL_CHECK(live >= 0 && idle >= 0 && idle <= 2);
        INTERLEAVE_MODEL_CHECK(pending <= 2);
        (void)live;
      }
    }
  }
  void after() { INTERLEAVE_MODEL_CHECK(pool.live_workers() == 0 && pool.pending() == 0); }
};

constexpr auto fixed = pool_bug::none;
template <class Sync> using Pool2w2t = PoolRun<Sync, fixed, 2, 2, true>;
template <class Sync> using Pool2w3tShutdown = PoolRun<Sync, fixed, 2, 3, false>;
template <class Sync> using Pool3w5t = PoolRun<Sync, fixed, 3, 5, true>;
template <class Sync> using Pool3w3t = PoolRun<Sync, fixed, 3, 3, true>;
template <class Sync> using PoolUnlockedCheck = PoolRun<Sync, pool_bug::unlocked_check, 2, 2, true>;
template <class Sync> using PoolShutdownNotifyOne =
    PoolRun<Sync, pool_bug::shutdown_notify_one, 2, 2, true>;
INTERLEAVE_MODEL(
    Pool2w2t, "thread_pool.2w2t.bound3", "thread_pool",
    "2 workers x 2 tasks: each runs once, get() returns its value, <= 2 at once, <= 2 threads",
    Expect::holds, Search::bounded(3), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(
    Pool2w3tShutdown, "thread_pool.2w3t.shutdown.bound3", "thread_pool",
    "2 workers x 3 tasks, shutdown(wait) without get(): returns after every task ran once; "
    "no worker sleeps through shutdown",
    Expect::holds, Search::bounded(3), DporSearch{}.no_spurious());
// The seed's pool sizes are beyond exhaustive search on either checker: the
// DPOR checker searches them in await mode (the worker's and the future's
// predicate waits block until their predicates hold) with symmetry between
// the workers (started with the same closure, interchangeable while idle in
// the same wait: each holds nothing of its own there, and the pool uses a
// worker's thread id only to tell workers apart) under its budget and says
// "bounded by budget"; `./ci/verify --budget S` searches longer.
INTERLEAVE_MODEL(Pool3w5t, "thread_pool.3w5t.bound1", "thread_pool",
                 "the seed's size, 3 workers x 5 tasks: each runs once, values returned, <= 3 at "
                 "once, <= 3 threads "
                 "(bound 2 did not finish in 150 s)",
                 Expect::holds, Search::bounded(1), DporSearch{}.no_spurious().await().symmetric());
INTERLEAVE_MODEL(
    Pool3w3t, "thread_pool.3w3t.bound2", "thread_pool",
    "the seed's 3 workers x 3 tasks: each runs once, values returned, <= 3 at once, <= 3 threads",
    Expect::holds, Search::bounded(2), DporSearch{}.no_spurious().await().symmetric());
INTERLEAVE_MODEL(
    PoolTwoSubmitters, "thread_pool.2submitters.bound1", "thread_pool",
    "2 concurrent submitters x 2 tasks on 2 workers: each task runs once, each get() its own value",
    Expect::holds, Search::bounded(1), DporSearch{}.no_spurious());

template <class Sync> using PoolTaskThrows1w = PoolTaskThrows<Sync, 1>;
template <class Sync> using PoolTaskThrows2w = PoolTaskThrows<Sync, 2>;
INTERLEAVE_MODEL(PoolTaskThrows1w, "thread_pool.task_throws.1w3t.bound3", "thread_pool",
                 "1 worker, a throwing task then 2 more: the exception lands in its future, the "
                 "worker takes the "
                 "next tasks, nothing pending, shutdown returns with the worker exited (a full "
                 "search took 120 s)",
                 Expect::holds, Search::bounded(3), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(PoolTaskThrows2w, "thread_pool.task_throws.2w3t.bound2", "thread_pool",
                 "the same on 2 workers", Expect::holds, Search::bounded(2),
                 DporSearch{}.no_spurious());
INTERLEAVE_MODEL(
    PoolShutdownFromTwoThreads, "thread_pool.shutdown_from_2_threads.bound2", "thread_pool",
    "2 threads each submit a task and call shutdown(wait=true): each returns only after every "
    "accepted task finished (its data written and ordered before the read)",
    Expect::holds, Search::bounded(2), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(
    PoolShutdownRacesDestructor, "thread_pool.shutdown_races_destructor.bound1", "thread_pool",
    "shutdown(wait=true) in progress while the owner destroys the pool: both return only after "
    "both tasks finished (bound 2: 2.7 million executions, 54 s)",
    Expect::holds, Search::bounded(1),
    // A shutdown() that returned without waiting for the workers another caller
    // joins is found by Relacy at bound 1; the DPOR checker did not reach it within
    // 30 s (this model's polling loop is slow to explore there).
    DporSearch{}.no_spurious().spin());
INTERLEAVE_MODEL(
    PoolAccessorsWhileSubmitting, "thread_pool.accessors_while_running.bound2", "thread_pool",
    "worker_count/live/idle/pending read while a submitter and 2 workers run: always within bounds",
    Expect::holds, Search::bounded(2), DporSearch{}.no_spurious());

// --- the broken twins --------------------------------------------------------
INTERLEAVE_MODEL(
    PoolUnlockedCheck, "thread_pool.broken_unlocked_check.2w2t",
    "thread_pool.broken_unlocked_check",
    "a worker that checks the queue count without the lock races with submit() (DATA RACE)",
    Expect::data_race, Search::deepen(3));
INTERLEAVE_MODEL(
    PoolShutdownNotifyOne, "thread_pool.broken_shutdown_notify_one.2w2t",
    "thread_pool.broken_shutdown_notify_one",
    "shutdown() that wakes one idle worker leaves the other asleep: shutdown(wait) never returns",
    Expect::deadlock, Search::deepen(3));

// ---------------------------------------------------------------------------
// thread_pool.reuse
// ---------------------------------------------------------------------------

// Sequential submit + get on a 3-worker pool: the worker that ran the last
// task is reused, never a second one started, in every interleaving.
template <class Sync, int Rounds>
struct PoolReuse {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{3, "P"};
  void thread(unsigned) {
    for (int i = 0; i < Rounds; ++i) {
      INTERLEAVE_MODEL_CHECK(pool.submit([i] { return i; }).get() == i);
      INTERLEAVE_MODEL_CHECK(pool.worker_count() == 1);
    }
    pool.shutdown();
  }
};

// Two tasks at once on a 3-worker pool start at most 2 workers; after both
// are done, a third task starts none.
template <class Sync>
struct PoolReuseAfterBurst {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{3, "P"};
  void thread(unsigned) {
    Future<int, Sync> a = pool.submit([] { return 1; });
    Future<int, Sync> b = pool.submit([] { return 2; });
    INTERLEAVE_MODEL_CHECK(a.get() + b.get() == 3);
    const int before = pool.worker_count();
    INTERLEAVE_MODEL_CHECK(before >= 1 && before <= 2);
    INTERLEAVE_MODEL_CHECK(pool.submit([] { return 3; }).get() == 3);
    INTERLEAVE_MODEL_CHECK(pool.worker_count() == before);
    pool.shutdown();
  }
};

template <class Sync> using PoolReuse3 = PoolReuse<Sync, 3>;
INTERLEAVE_MODEL(
    PoolReuse3, "thread_pool.reuse.3rounds.full", "thread_pool.reuse",
    "3 rounds of submit + get on a 3-worker pool run on 1 worker: an idle worker is reused",
    Expect::holds, Search::full(), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(PoolReuseAfterBurst, "thread_pool.reuse.burst.bound3", "thread_pool.reuse",
                 "2 tasks at once start <= 2 workers; a later task starts none", Expect::holds,
                 Search::bounded(3), DporSearch{}.no_spurious());

// ---------------------------------------------------------------------------
// thread_pool.cancel_race
// ---------------------------------------------------------------------------

// Future::cancel() from the submitter races the worker taking the task:
// the task runs exactly when cancel() failed.
template <class Sync>
struct PoolCancelRace {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{1, "P"};
  int runs = 0;
  void thread(unsigned) {
    Future<int, Sync> f = pool.submit([this] { return ++runs; });
    const bool cancelled = f.cancel();
    pool.shutdown();
    INTERLEAVE_MODEL_CHECK(f.done());
    INTERLEAVE_MODEL_CHECK(f.cancelled() == cancelled);
    INTERLEAVE_MODEL_CHECK(runs == (cancelled ? 0 : 1));
  }
};

// shutdown(wait, cancel_futures) racing 2 workers on 3 tasks: every task
// either ran once or was cancelled, never both, never neither.
template <class Sync>
struct PoolShutdownCancel {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{2, "P"};
  int runs[3] = {};
  void thread(unsigned) {
    std::vector<Future<int, Sync>> fs;
    for (int i = 0; i < 3; ++i) fs.push_back(pool.submit([this, i] { return ++runs[i]; }));
    pool.shutdown(/*wait=*/true, /*cancel_futures=*/true);
    for (int i = 0; i < 3; ++i) {
      INTERLEAVE_MODEL_CHECK(fs[i].done());
      INTERLEAVE_MODEL_CHECK(runs[i] + (fs[i].cancelled() ? 1 : 0) == 1);
    }
  }
};

INTERLEAVE_MODEL(
    PoolCancelRace, "thread_pool.cancel_race.1w.full", "thread_pool.cancel_race",
    "cancel() racing the worker: the task runs iff cancel() failed, never both, never neither",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    PoolShutdownCancel, "thread_pool.cancel_race.shutdown_cancel.bound3", "thread_pool.cancel_race",
    "shutdown(cancel_futures) racing 2 workers x 3 tasks: each task ran once xor was cancelled",
    Expect::holds, Search::bounded(3), DporSearch{}.no_spurious());

// ---------------------------------------------------------------------------
// as_completed and wait
// ---------------------------------------------------------------------------

// Two producers complete two promises while a consumer iterates
// as_completed over [f0, f1, f0]: each distinct future comes out once.
template <class Sync>
struct AsCompletedPromises {
  static constexpr unsigned threads = 3;
  static constexpr bool heap_under_test = false;
  Promise<int, Sync> p[2];
  std::vector<Future<int, Sync>> fs{p[0].get_future(), p[1].get_future(), p[0].get_future()};
  int seen[2] = {0, 0};
  void thread(unsigned t) {
    if (t < 2) {
      p[t].set_value(static_cast<int>(t));
    } else {
      int n = 0;
      for (const auto& f : as_completed(fs)) {
        ++seen[f.get()];
        ++n;
      }
      INTERLEAVE_MODEL_CHECK(n == 2);
    }
  }
  void after() { INTERLEAVE_MODEL_CHECK(seen[0] == 1 && seen[1] == 1); }
};

// The seed's loop on a pool: 2 workers, 3 tasks, as_completed yields each
// future exactly once, already-done ones first.
template <class Sync>
struct AsCompletedPool {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{2, "P"};
  void thread(unsigned) {
    std::vector<Future<int, Sync>> fs;
    for (int i = 0; i < 3; ++i) fs.push_back(pool.submit([i] { return i; }));
    int seen[3] = {0, 0, 0};
    int n = 0;
    for (const auto& f : as_completed(fs)) {
      ++seen[f.get()];
      ++n;
    }
    INTERLEAVE_MODEL_CHECK(n == 3 && seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    pool.shutdown();
  }
};

INTERLEAVE_MODEL(
    AsCompletedPromises, "as_completed.promises.bound3", "as_completed",
    "2 producers, consumer iterates as_completed([f0, f1, f0]): each distinct future once",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(AsCompletedPool, "as_completed.pool.2w3t.bound2", "as_completed",
                 "2 workers x 3 tasks: as_completed yields each future exactly once", Expect::holds,
                 Search::bounded(2), DporSearch{}.no_spurious());

// wait(): FIRST_COMPLETED returns with >= 1 done; FIRST_EXCEPTION returns
// when the failing one is done (or all are); ALL_COMPLETED with all done.
template <class Sync, ReturnWhen When>
struct WaitModel {
  static constexpr unsigned threads = 3;
  static constexpr bool heap_under_test = false;
  Promise<int, Sync> p[2];
  std::vector<Future<int, Sync>> fs{p[0].get_future(), p[1].get_future(), p[1].get_future()};
  void thread(unsigned t) {
    if (t == 0) {
      p[0].set_value(0);
    } else if (t == 1) {
      p[1].set_exception(std::make_exception_ptr(7));
    } else {
      const auto r = wait(fs, When);
      INTERLEAVE_MODEL_CHECK(r.done.size() + r.not_done.size() == 2);
      for (const auto& f : r.done) INTERLEAVE_MODEL_CHECK(f.done());
      if (When == ReturnWhen::first_completed) INTERLEAVE_MODEL_CHECK(!r.done.empty());
      if (When == ReturnWhen::all_completed) INTERLEAVE_MODEL_CHECK(r.done.size() == 2);
      if (When == ReturnWhen::first_exception) {
        bool failed_done = false;
        for (const auto& f : r.done) failed_done = failed_done || f == fs[1];
        INTERLEAVE_MODEL_CHECK(failed_done || r.done.size() == 2);
      }
    }
  }
};

template <class Sync> using WaitFirstCompleted = WaitModel<Sync, ReturnWhen::first_completed>;
template <class Sync> using WaitFirstException = WaitModel<Sync, ReturnWhen::first_exception>;
template <class Sync> using WaitAllCompleted = WaitModel<Sync, ReturnWhen::all_completed>;
INTERLEAVE_MODEL(WaitFirstCompleted, "wait.first_completed.bound3", "wait",
                 "FIRST_COMPLETED returns with at least one done future; each future once",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(WaitFirstException, "wait.first_exception.bound3", "wait",
                 "FIRST_EXCEPTION returns once the failing future is done (or all are)",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(WaitAllCompleted, "wait.all_completed.bound3", "wait",
                 "ALL_COMPLETED returns with every future done", Expect::holds, Search::bounded(3));

}  // namespace
}  // namespace interleave::models
