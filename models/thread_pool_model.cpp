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
// What this cannot see: real time (a timed wait may time out at any
// scheduling point), the std::function/deque internals (plain memory, guarded
// by the pool's mutex, not var<T>), exceptions thrown inside model threads
// (the exception paths are covered by the property tests), and configurations
// beyond 3 workers x 5 tasks at context bound 2.
#include "model.hpp"
//
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

INTERLEAVE_MODEL(FutureSetGet, "future.set_get.full", "future",
                 "get() returns the value set; two callbacks run once each, in the order added", Expect::holds, Search::full());
INTERLEAVE_MODEL(FutureCancelRace, "future.cancel_vs_run.full", "future",
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
    Future<int, Sync> b = pool.submit([this, t] { return ++runs[2 * t + 1], static_cast<int>(2 * t + 1); });
    got[2 * t] = a.get();
    got[2 * t + 1] = b.get();
    if (finished.fetch_add(1) == 1) pool.shutdown();  // the last submitter shuts down
  }
  void after() {
    for (int i = 0; i < 4; ++i) INTERLEAVE_MODEL_CHECK(runs[i] == 1 && got[i] == i);
    INTERLEAVE_MODEL_CHECK(pool.worker_count() <= 2);
  }
};

constexpr auto fixed = pool_bug::none;
template <class Sync> using Pool2w2t = PoolRun<Sync, fixed, 2, 2, true>;
template <class Sync> using Pool2w3tShutdown = PoolRun<Sync, fixed, 2, 3, false>;
template <class Sync> using Pool3w5t = PoolRun<Sync, fixed, 3, 5, true>;
template <class Sync> using Pool3w3t = PoolRun<Sync, fixed, 3, 3, true>;
template <class Sync> using PoolUnlockedCheck = PoolRun<Sync, pool_bug::unlocked_check, 2, 2, true>;
template <class Sync> using PoolShutdownNotifyOne = PoolRun<Sync, pool_bug::shutdown_notify_one, 2, 2, true>;
INTERLEAVE_MODEL(Pool2w2t, "thread_pool.2w2t.bound3", "thread_pool",
                 "2 workers x 2 tasks: each runs once, get() returns its value, <= 2 at once, <= 2 threads",
                 Expect::holds, Search::bounded(3),
                 DporSearch{}.no_spurious());
INTERLEAVE_MODEL(Pool2w3tShutdown, "thread_pool.2w3t.shutdown.bound3", "thread_pool",
                 "2 workers x 3 tasks, shutdown(wait) without get(): returns after every task ran once; "
                 "no worker sleeps through shutdown",
                 Expect::holds, Search::bounded(3),
                 DporSearch{}.no_spurious());
// The seed's pool sizes are beyond exhaustive search on either checker: the
// DPOR checker searches them in await mode (the worker's and the future's
// predicate waits block until their predicates hold) under its budget and
// says "bounded by budget"; `./ci/verify --budget S` searches longer.
INTERLEAVE_MODEL(Pool3w5t, "thread_pool.3w5t.bound1", "thread_pool",
                 "the seed's size, 3 workers x 5 tasks: each runs once, values returned, <= 3 at once, <= 3 threads "
                 "(bound 2 did not finish in 150 s)",
                 Expect::holds, Search::bounded(1),
                 DporSearch{}.no_spurious().await());
INTERLEAVE_MODEL(Pool3w3t, "thread_pool.3w3t.bound2", "thread_pool",
                 "the seed's 3 workers x 3 tasks: each runs once, values returned, <= 3 at once, <= 3 threads",
                 Expect::holds, Search::bounded(2),
                 DporSearch{}.no_spurious().await());
INTERLEAVE_MODEL(PoolTwoSubmitters, "thread_pool.2submitters.bound1", "thread_pool",
                 "2 concurrent submitters x 2 tasks on 2 workers: each task runs once, each get() its own value",
                 Expect::holds, Search::bounded(1),
                 DporSearch{}.no_spurious());

// --- the broken twins --------------------------------------------------------
INTERLEAVE_MODEL(PoolUnlockedCheck,
                 "thread_pool.broken_unlocked_check.2w2t", "thread_pool.broken_unlocked_check",
                 "a worker that checks the queue count without the lock races with submit() (DATA RACE)",
                 Expect::data_race, Search::deepen(3));
INTERLEAVE_MODEL(PoolShutdownNotifyOne,
                 "thread_pool.broken_shutdown_notify_one.2w2t", "thread_pool.broken_shutdown_notify_one",
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
INTERLEAVE_MODEL(PoolReuse3, "thread_pool.reuse.3rounds.full", "thread_pool.reuse",
                 "3 rounds of submit + get on a 3-worker pool run on 1 worker: an idle worker is reused",
                 Expect::holds, Search::full(),
                 DporSearch{}.no_spurious());
INTERLEAVE_MODEL(PoolReuseAfterBurst, "thread_pool.reuse.burst.bound3", "thread_pool.reuse",
                 "2 tasks at once start <= 2 workers; a later task starts none", Expect::holds, Search::bounded(3),
                 DporSearch{}.no_spurious());

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

INTERLEAVE_MODEL(PoolCancelRace, "thread_pool.cancel_race.1w.full", "thread_pool.cancel_race",
                 "cancel() racing the worker: the task runs iff cancel() failed, never both, never neither",
                 Expect::holds, Search::full());
INTERLEAVE_MODEL(PoolShutdownCancel, "thread_pool.cancel_race.shutdown_cancel.bound3", "thread_pool.cancel_race",
                 "shutdown(cancel_futures) racing 2 workers x 3 tasks: each task ran once xor was cancelled",
                 Expect::holds, Search::bounded(3),
                 DporSearch{}.no_spurious());

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

INTERLEAVE_MODEL(AsCompletedPromises, "as_completed.promises.bound3", "as_completed",
                 "2 producers, consumer iterates as_completed([f0, f1, f0]): each distinct future once",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(AsCompletedPool, "as_completed.pool.2w3t.bound2", "as_completed",
                 "2 workers x 3 tasks: as_completed yields each future exactly once", Expect::holds, Search::bounded(2),
                 DporSearch{}.no_spurious());

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
                 "FIRST_COMPLETED returns with at least one done future; each future once", Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(WaitFirstException, "wait.first_exception.bound3", "wait",
                 "FIRST_EXCEPTION returns once the failing future is done (or all are)", Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(WaitAllCompleted, "wait.all_completed.bound3", "wait",
                 "ALL_COMPLETED returns with every future done", Expect::holds, Search::bounded(3));

}  // namespace
}  // namespace interleave::models
