// models/thread_pool_model.cpp — Future/Promise, ThreadPool, as_completed and
// wait (seed: "Thread pools"), instantiated from
// impl/include/interleave/future.hpp and thread_pool.hpp with relacy_sync.
//
// The pool's workers are Relacy dynamic threads: the pool starts them itself
// through Sync::thread (rl::dyn_thread), so each suite declares
// dynamic_thread_count = max_workers. Task bodies yield (a scheduling point)
// so that a preemption can land inside a running task.
//
// What this cannot see: real time (a timed wait may time out at any
// scheduling point), the std::function/deque internals (plain memory, guarded
// by the pool's mutex, not var<T>), exceptions thrown inside model threads
// (the exception paths are covered by the property tests), and configurations
// beyond 3 workers x 5 tasks at context bound 2.
#include "relacy_sync.hpp"
//
#include "interleave/future.hpp"
#include "interleave/thread_pool.hpp"
#include "runner.hpp"

namespace interleave::models {
namespace {

using S = relacy_sync;

// Relacy explores, at every free(), whether to defer the memory's reuse: a
// binary choice per deallocation, and a pool execution frees dozens of
// blocks (futures' shared states, tasks, callbacks, containers), which
// multiplies every search by 2^dozens. These models therefore allocate
// untracked (Relacy's own disable_alloc_ switch, reached through a derived
// class): plain malloc/free, no deferred-reuse branching and no leak check.
// The heap blocks are plain memory that Relacy never race-checked anyway; the
// state the invariants rest on is in var<T>, mutexes and condition variables.
struct UntrackedAlloc {
  struct access : rl::context {
    static int& counter(rl::context& c) { return c.*(&access::disable_alloc_); }
  };
  UntrackedAlloc() { ++access::counter(rl::ctx()); }
  ~UntrackedAlloc() { --access::counter(rl::ctx()); }
  UntrackedAlloc(const UntrackedAlloc&) = delete;
  UntrackedAlloc& operator=(const UntrackedAlloc&) = delete;
};

// ---------------------------------------------------------------------------
// future
// ---------------------------------------------------------------------------

// A producer sets a value while a consumer adds two callbacks and gets it:
// get() returns the value, each callback runs exactly once, in the order added.
struct FutureSetGet : UntrackedAlloc, rl::test_suite<FutureSetGet, 2> {
  Promise<int, S> promise;
  Future<int, S> future = promise.get_future();
  int calls[2] = {0, 0};
  int order[2] = {-1, -1};
  int n = 0;
  int got = 0;

  void thread(unsigned t) {
    if (t == 0) {
      promise.set_value(42);
    } else {
      future.add_done_callback([this](const Future<int, S>& f) {
        ++calls[0];
        order[n++] = 0;
        RL_ASSERT(f.done());
      });
      future.add_done_callback([this](const Future<int, S>&) {
        ++calls[1];
        order[n++] = 1;
      });
      got = future.get();
    }
  }
  void after() {
    RL_ASSERT(got == 42);
    RL_ASSERT(calls[0] == 1 && calls[1] == 1);
    RL_ASSERT(order[0] == 0 && order[1] == 1);
    RL_ASSERT(future.done() && !future.cancelled());
  }
};

// cancel() races a runner's set_running_or_notify_cancel(): exactly one wins.
struct FutureCancelRace : UntrackedAlloc, rl::test_suite<FutureCancelRace, 2> {
  Promise<int, S> promise;
  Future<int, S> future = promise.get_future();
  bool ran = false;
  bool cancel_won = false;
  int callbacks = 0;

  void before() {
    future.add_done_callback([this](const Future<int, S>&) { ++callbacks; });
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
    RL_ASSERT(ran != cancel_won);
    RL_ASSERT(future.cancelled() == cancel_won);
    RL_ASSERT(future.done());
    RL_ASSERT(callbacks == 1);
  }
};

INTERLEAVE_MODEL((FutureSetGet), "future.set_get.full", "future",
                 "get() returns the value set; two callbacks run once each, in the order added", Search::full());
INTERLEAVE_MODEL((FutureCancelRace), "future.cancel_vs_run.full", "future",
                 "cancel() racing set_running_or_notify_cancel(): exactly one wins, the callback runs once",
                 Search::full());

// ---------------------------------------------------------------------------
// thread_pool
// ---------------------------------------------------------------------------

// One submitter, Workers workers (dynamic threads), Tasks tasks: at most
// Workers run at once, each runs exactly once, get() returns its value,
// shutdown(wait) returns only after all ran, at most Workers threads start.
// With GetFirst=false the submitter shuts down without get(): no task is
// lost and no worker sleeps through the shutdown.
template <pool_bug Flavor, int Workers, int Tasks, bool GetFirst,
          rl::test_result_e Expected = rl::test_result_success>
struct PoolRun : UntrackedAlloc, rl::test_suite<PoolRun<Flavor, Workers, Tasks, GetFirst, Expected>, 1, Expected> {
  static const rl::thread_id_t dynamic_thread_count = Workers;
  BasicThreadPool<S, Flavor> pool{Workers, "P"};
  int runs[Tasks] = {};
  int running = 0;
  int peak = 0;

  void thread(unsigned) {
    std::vector<Future<int, S>> fs;
    for (int i = 0; i < Tasks; ++i)
      fs.push_back(pool.submit([this, i] {
        ++running;
        peak = std::max(peak, running);
        S::yield();
        ++runs[i];
        --running;
        return i * 10;
      }));
    if (GetFirst)
      for (int i = 0; i < Tasks; ++i) RL_ASSERT(fs[i].get() == i * 10);
    pool.shutdown(/*wait=*/true);
    for (int i = 0; i < Tasks; ++i) {
      RL_ASSERT(runs[i] == 1);
      RL_ASSERT(fs[i].done());
    }
  }
  void after() {
    RL_ASSERT(peak <= Workers);
    RL_ASSERT(pool.worker_count() <= Workers);
  }
};

// Two submitters at once on a 2-worker pool.
struct PoolTwoSubmitters : UntrackedAlloc, rl::test_suite<PoolTwoSubmitters, 2> {
  static const rl::thread_id_t dynamic_thread_count = 2;
  ThreadPool<S> pool{2, "P"};
  int runs[4] = {};
  int got[4] = {};
  S::atomic<int> finished{0};

  void thread(unsigned t) {
    Future<int, S> a = pool.submit([this, t] { return ++runs[2 * t], static_cast<int>(2 * t); });
    Future<int, S> b = pool.submit([this, t] { return ++runs[2 * t + 1], static_cast<int>(2 * t + 1); });
    got[2 * t] = a.get();
    got[2 * t + 1] = b.get();
    if (finished.fetch_add(1) == 1) pool.shutdown();  // the last submitter shuts down
  }
  void after() {
    for (int i = 0; i < 4; ++i) RL_ASSERT(runs[i] == 1 && got[i] == i);
    RL_ASSERT(pool.worker_count() <= 2);
  }
};

constexpr auto fixed = pool_bug::none;
INTERLEAVE_MODEL((PoolRun<fixed, 2, 2, true>), "thread_pool.2w2t.bound3", "thread_pool",
                 "2 workers x 2 tasks: each runs once, get() returns its value, <= 2 at once, <= 2 threads",
                 Search::bounded(3));
INTERLEAVE_MODEL((PoolRun<fixed, 2, 3, false>), "thread_pool.2w3t.shutdown.bound3", "thread_pool",
                 "2 workers x 3 tasks, shutdown(wait) without get(): returns after every task ran once; "
                 "no worker sleeps through shutdown",
                 Search::bounded(3));
INTERLEAVE_MODEL((PoolRun<fixed, 3, 5, true>), "thread_pool.3w5t.bound1", "thread_pool",
                 "the seed's size, 3 workers x 5 tasks: each runs once, values returned, <= 3 at once, <= 3 threads "
                 "(bound 2 did not finish in 150 s)",
                 Search::bounded(1));
INTERLEAVE_MODEL((PoolRun<fixed, 3, 3, true>), "thread_pool.3w3t.bound2", "thread_pool",
                 "the seed's 3 workers x 3 tasks: each runs once, values returned, <= 3 at once, <= 3 threads",
                 Search::bounded(2));
INTERLEAVE_MODEL((PoolTwoSubmitters), "thread_pool.2submitters.bound1", "thread_pool",
                 "2 concurrent submitters x 2 tasks on 2 workers: each task runs once, each get() its own value",
                 Search::bounded(1));

// --- the broken twins --------------------------------------------------------
INTERLEAVE_MODEL((PoolRun<pool_bug::unlocked_check, 2, 2, true, rl::test_result_data_race>),
                 "thread_pool.broken_unlocked_check.2w2t", "thread_pool.broken_unlocked_check",
                 "a worker that checks the queue count without the lock races with submit() (DATA RACE)",
                 Search::deepen(3));
INTERLEAVE_MODEL((PoolRun<pool_bug::shutdown_notify_one, 2, 2, true, rl::test_result_deadlock>),
                 "thread_pool.broken_shutdown_notify_one.2w2t", "thread_pool.broken_shutdown_notify_one",
                 "shutdown() that wakes one idle worker leaves the other asleep: shutdown(wait) never returns",
                 Search::deepen(3));

// ---------------------------------------------------------------------------
// thread_pool.reuse
// ---------------------------------------------------------------------------

// Sequential submit + get on a 3-worker pool: the worker that ran the last
// task is reused, never a second one started, in every interleaving.
template <int Rounds>
struct PoolReuse : UntrackedAlloc, rl::test_suite<PoolReuse<Rounds>, 1> {
  static const rl::thread_id_t dynamic_thread_count = 3;
  ThreadPool<S> pool{3, "P"};
  void thread(unsigned) {
    for (int i = 0; i < Rounds; ++i) {
      RL_ASSERT(pool.submit([i] { return i; }).get() == i);
      RL_ASSERT(pool.worker_count() == 1);
    }
    pool.shutdown();
  }
};

// Two tasks at once on a 3-worker pool start at most 2 workers; after both
// are done, a third task starts none.
struct PoolReuseAfterBurst : UntrackedAlloc, rl::test_suite<PoolReuseAfterBurst, 1> {
  static const rl::thread_id_t dynamic_thread_count = 3;
  ThreadPool<S> pool{3, "P"};
  void thread(unsigned) {
    Future<int, S> a = pool.submit([] { return 1; });
    Future<int, S> b = pool.submit([] { return 2; });
    RL_ASSERT(a.get() + b.get() == 3);
    const int before = pool.worker_count();
    RL_ASSERT(before >= 1 && before <= 2);
    RL_ASSERT(pool.submit([] { return 3; }).get() == 3);
    RL_ASSERT(pool.worker_count() == before);
    pool.shutdown();
  }
};

INTERLEAVE_MODEL((PoolReuse<3>), "thread_pool.reuse.3rounds.full", "thread_pool.reuse",
                 "3 rounds of submit + get on a 3-worker pool run on 1 worker: an idle worker is reused",
                 Search::full());
INTERLEAVE_MODEL((PoolReuseAfterBurst), "thread_pool.reuse.burst.bound3", "thread_pool.reuse",
                 "2 tasks at once start <= 2 workers; a later task starts none", Search::bounded(3));

// ---------------------------------------------------------------------------
// thread_pool.cancel_race
// ---------------------------------------------------------------------------

// Future::cancel() from the submitter races the worker taking the task:
// the task runs exactly when cancel() failed.
struct PoolCancelRace : UntrackedAlloc, rl::test_suite<PoolCancelRace, 1> {
  static const rl::thread_id_t dynamic_thread_count = 1;
  ThreadPool<S> pool{1, "P"};
  int runs = 0;
  void thread(unsigned) {
    Future<int, S> f = pool.submit([this] { return ++runs; });
    const bool cancelled = f.cancel();
    pool.shutdown();
    RL_ASSERT(f.done());
    RL_ASSERT(f.cancelled() == cancelled);
    RL_ASSERT(runs == (cancelled ? 0 : 1));
  }
};

// shutdown(wait, cancel_futures) racing 2 workers on 3 tasks: every task
// either ran once or was cancelled, never both, never neither.
struct PoolShutdownCancel : UntrackedAlloc, rl::test_suite<PoolShutdownCancel, 1> {
  static const rl::thread_id_t dynamic_thread_count = 2;
  ThreadPool<S> pool{2, "P"};
  int runs[3] = {};
  void thread(unsigned) {
    std::vector<Future<int, S>> fs;
    for (int i = 0; i < 3; ++i) fs.push_back(pool.submit([this, i] { return ++runs[i]; }));
    pool.shutdown(/*wait=*/true, /*cancel_futures=*/true);
    for (int i = 0; i < 3; ++i) {
      RL_ASSERT(fs[i].done());
      RL_ASSERT(runs[i] + (fs[i].cancelled() ? 1 : 0) == 1);
    }
  }
};

INTERLEAVE_MODEL((PoolCancelRace), "thread_pool.cancel_race.1w.full", "thread_pool.cancel_race",
                 "cancel() racing the worker: the task runs iff cancel() failed, never both, never neither",
                 Search::full());
INTERLEAVE_MODEL((PoolShutdownCancel), "thread_pool.cancel_race.shutdown_cancel.bound3", "thread_pool.cancel_race",
                 "shutdown(cancel_futures) racing 2 workers x 3 tasks: each task ran once xor was cancelled",
                 Search::bounded(3));

// ---------------------------------------------------------------------------
// as_completed and wait
// ---------------------------------------------------------------------------

// Two producers complete two promises while a consumer iterates
// as_completed over [f0, f1, f0]: each distinct future comes out once.
struct AsCompletedPromises : UntrackedAlloc, rl::test_suite<AsCompletedPromises, 3> {
  Promise<int, S> p[2];
  std::vector<Future<int, S>> fs{p[0].get_future(), p[1].get_future(), p[0].get_future()};
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
      RL_ASSERT(n == 2);
    }
  }
  void after() { RL_ASSERT(seen[0] == 1 && seen[1] == 1); }
};

// The seed's loop on a pool: 2 workers, 3 tasks, as_completed yields each
// future exactly once, already-done ones first.
struct AsCompletedPool : UntrackedAlloc, rl::test_suite<AsCompletedPool, 1> {
  static const rl::thread_id_t dynamic_thread_count = 2;
  ThreadPool<S> pool{2, "P"};
  void thread(unsigned) {
    std::vector<Future<int, S>> fs;
    for (int i = 0; i < 3; ++i) fs.push_back(pool.submit([i] { return i; }));
    int seen[3] = {0, 0, 0};
    int n = 0;
    for (const auto& f : as_completed(fs)) {
      ++seen[f.get()];
      ++n;
    }
    RL_ASSERT(n == 3 && seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    pool.shutdown();
  }
};

INTERLEAVE_MODEL((AsCompletedPromises), "as_completed.promises.bound3", "as_completed",
                 "2 producers, consumer iterates as_completed([f0, f1, f0]): each distinct future once",
                 Search::bounded(3));
INTERLEAVE_MODEL((AsCompletedPool), "as_completed.pool.2w3t.bound2", "as_completed",
                 "2 workers x 3 tasks: as_completed yields each future exactly once", Search::bounded(2));

// wait(): FIRST_COMPLETED returns with >= 1 done; FIRST_EXCEPTION returns
// when the failing one is done (or all are); ALL_COMPLETED with all done.
template <ReturnWhen When>
struct WaitSuite : UntrackedAlloc, rl::test_suite<WaitSuite<When>, 3> {
  Promise<int, S> p[2];
  std::vector<Future<int, S>> fs{p[0].get_future(), p[1].get_future(), p[1].get_future()};
  void thread(unsigned t) {
    if (t == 0) {
      p[0].set_value(0);
    } else if (t == 1) {
      p[1].set_exception(std::make_exception_ptr(7));
    } else {
      const auto r = wait(fs, When);
      RL_ASSERT(r.done.size() + r.not_done.size() == 2);
      for (const auto& f : r.done) RL_ASSERT(f.done());
      if (When == ReturnWhen::first_completed) RL_ASSERT(!r.done.empty());
      if (When == ReturnWhen::all_completed) RL_ASSERT(r.done.size() == 2);
      if (When == ReturnWhen::first_exception) {
        bool failed_done = false;
        for (const auto& f : r.done) failed_done = failed_done || f == fs[1];
        RL_ASSERT(failed_done || r.done.size() == 2);
      }
    }
  }
};

INTERLEAVE_MODEL((WaitSuite<ReturnWhen::first_completed>), "wait.first_completed.bound3", "wait",
                 "FIRST_COMPLETED returns with at least one done future; each future once", Search::bounded(3));
INTERLEAVE_MODEL((WaitSuite<ReturnWhen::first_exception>), "wait.first_exception.bound3", "wait",
                 "FIRST_EXCEPTION returns once the failing future is done (or all are)", Search::bounded(3));
INTERLEAVE_MODEL((WaitSuite<ReturnWhen::all_completed>), "wait.all_completed.bound3", "wait",
                 "ALL_COMPLETED returns with every future done", Search::bounded(3));

}  // namespace
}  // namespace interleave::models
