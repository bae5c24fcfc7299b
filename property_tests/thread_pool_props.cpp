// property_tests/thread_pool_props.cpp — Future/Promise, ThreadPool,
// as_completed and wait on real threads (seed: "Thread pools").
//
// What this cannot see: interleavings the OS does not happen to produce on
// this machine (the models cover those) and relaxed-memory effects x86-64
// does not show. Results are collected on the test's thread and asserted
// there; task durations are workload, never synchronisation (gates are).
#include <interleave/future.hpp>
#include <interleave/thread_pool.hpp>

#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <list>
#include <span>
#include <ranges>
#include <chrono>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jitter_sync.hpp"
#include "testkit.hpp"
// after gtest (testkit.hpp includes it)
#include <rapidcheck/gtest.h>

namespace interleave {
namespace {

using namespace std::chrono_literals;

// A gate tasks block on until the test opens it.
class Gate {
 public:
  void open() { p_.set_value(); }
  void pass() const { f_.wait(); }

 private:
  std::promise<void> p_;
  std::shared_future<void> f_ = p_.get_future().share();
};

void busy_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) std::this_thread::yield();
}

struct Boom : std::runtime_error {
  explicit Boom(int i) : std::runtime_error("boom " + std::to_string(i)), id(i) {}
  int id;
};

// ---------------------------------------------------------------------------
// future
// ---------------------------------------------------------------------------

// Callbacks (some throwing) added before and after completion run exactly
// once each, in the order added; a second result is refused and the first
// kept; callback_errors() counts the throwers.
INTERLEAVE_PROP(FutureProps, callbacks_run_once_in_order_and_first_result_is_kept, "future", ()) {
  const int before = *rc::gen::inRange(0, 6);
  const int after = *rc::gen::inRange(0, 6);
  const auto throws = *rc::gen::container<std::vector<bool>>(
      static_cast<std::size_t>(before + after), rc::gen::arbitrary<bool>());
  const int outcome = *rc::gen::inRange(0, 3);  // 0 value, 1 exception, 2 cancel
  Promise<int> p;
  Future<int> f = p.get_future();
  std::vector<int> order;
  int expected_errors = 0;
  auto add = [&](int i) {
    if (throws[static_cast<std::size_t>(i)]) ++expected_errors;
    f.add_done_callback(
        [&order, i, t = bool(throws[static_cast<std::size_t>(i)])](const Future<int>& g) {
          order.push_back(i);
          RC_ASSERT(g.done());
          if (t) throw std::runtime_error("callback " + std::to_string(i));
        });
  };
  for (int i = 0; i < before; ++i) add(i);
  if (outcome == 0) p.set_value(7);
  if (outcome == 1) p.set_exception(std::make_exception_ptr(Boom(1)));
  if (outcome == 2) RC_ASSERT(f.cancel());
  for (int i = before; i < before + after; ++i) add(i);
  std::vector<int> want(static_cast<std::size_t>(before + after));
  for (int i = 0; i < before + after; ++i) want[static_cast<std::size_t>(i)] = i;
  RC_ASSERT(order == want);
  RC_ASSERT(f.callback_errors() == expected_errors);
  RC_ASSERT(f.done());
  if (outcome != 2) {
    RC_ASSERT(!f.cancel());
    bool refused = false;
    try {
      p.set_value(8);
    } catch (const InvalidStateError&) {
      refused = true;
    }
    RC_ASSERT(refused);
  }
  if (outcome == 0) RC_ASSERT(f.get() == 7);
  if (outcome == 1) RC_ASSERT_THROWS_AS(f.get(), Boom);
  if (outcome == 2) {
    RC_ASSERT(f.cancelled());
    RC_ASSERT_THROWS_AS(f.get(), CancelledError);
  }
}

// One producer thread, several getter threads: every getter sees the value;
// the callbacks added concurrently run once each.
INTERLEAVE_PROP(FutureProps, every_getter_sees_the_value_set_on_another_thread, "future", ()) {
  const int getters = *rc::gen::inRange(1, 6);
  const int value = *rc::gen::arbitrary<int>();
  Promise<int> p;
  Future<int> f = p.get_future();
  std::atomic<int> callbacks{0};
  std::vector<int> seen(static_cast<std::size_t>(getters), 0);
  std::vector<std::thread> ts;
  for (int g = 0; g < getters; ++g)
    ts.emplace_back([&, g] {
      f.add_done_callback([&](const Future<int>&) { callbacks.fetch_add(1); });
      seen[static_cast<std::size_t>(g)] = f.get();
    });
  std::thread producer([&] { p.set_value(value); });
  producer.join();
  for (auto& t : ts) t.join();
  for (int v : seen) RC_ASSERT(v == value);
  RC_ASSERT(callbacks.load() == getters);
}

INTERLEAVE_TEST(FutureUnit, misuse_is_refused_with_a_message, "future") {
  Future<int> empty;
  EXPECT_THROW((void)empty.done(), InvalidStateError);
  Promise<int> p;
  Future<int> f = p.get_future();
  EXPECT_THROW((void)f.wait_for(-1ms), std::invalid_argument);
  try {
    (void)f.wait_for(-1ms);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(f.wait_for(0ms));
  EXPECT_TRUE(p.set_running_or_notify_cancel());
  EXPECT_FALSE(f.cancel()) << "a running future cannot be cancelled";
  EXPECT_TRUE(f.running());
  p.set_value(1);
  EXPECT_THROW(p.set_value(2), InvalidStateError);
  EXPECT_EQ(f.get(), 1);
  {
    Promise<int> dropped;
    Future<int> g = dropped.get_future();
    {
      Promise<int> gone = std::move(dropped);
    }
    EXPECT_THROW(g.get(), BrokenPromise);
  }
  testkit::cell(
      "future",
      "misuse refused: empty future, negative timeout, cancel while running, second result, "
      "dropped promise");
}

// ---------------------------------------------------------------------------
// thread_pool
// ---------------------------------------------------------------------------

struct TaskSpec {
  int duration_us;
  bool throws;
  bool cancel;
};

rc::Gen<TaskSpec> task_spec() {
  return rc::gen::build<TaskSpec>(
      rc::gen::set(&TaskSpec::duration_us, rc::gen::inRange(0, 300)),
      rc::gen::set(&TaskSpec::throws, rc::gen::weightedElement<bool>({{4, false}, {1, true}})),
      rc::gen::set(&TaskSpec::cancel, rc::gen::weightedElement<bool>({{4, false}, {1, true}})));
}

// The sequential run: task i returns i*i, or throws Boom(i).
int sequential(int i, const TaskSpec& t) {
  if (t.throws) throw Boom(i);
  return i * i;
}

// Random task lists on a random pool: every task's future holds what the
// sequential run gives (value or exception) unless cancel() won, in which
// case it never ran; at most max_workers ran at once on at most max_workers
// distinct threads; each done callback ran exactly once.
INTERLEAVE_PROP(PoolProps, results_equal_a_sequential_run_within_max_workers, "thread_pool", ()) {
  const int workers = *rc::gen::inRange(1, 7);
  const auto tasks = *rc::gen::container<std::vector<TaskSpec>>(task_spec());
  std::atomic<int> running{0}, peak{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::vector<std::atomic<int>> runs(tasks.size());
  std::vector<std::atomic<int>> callbacks(tasks.size());
  std::vector<Future<int>> fs;
  std::vector<bool> cancel_won(tasks.size(), false);
  {
    ThreadPool<> pool(workers, "prop");
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      fs.push_back(pool.submit([&, i] {
        const int now = running.fetch_add(1) + 1;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        {
          std::lock_guard<std::mutex> g(mu);
          threads.insert(std::this_thread::get_id());
        }
        runs[i].fetch_add(1);
        busy_for(std::chrono::microseconds(tasks[i].duration_us));
        running.fetch_sub(1);
        return sequential(static_cast<int>(i), tasks[i]);
      }));
      fs.back().add_done_callback(
          [&callbacks, i](const Future<int>&) { callbacks[i].fetch_add(1); });
      if (tasks[i].cancel) cancel_won[i] = fs.back().cancel();
    }
    RC_ASSERT(pool.worker_count() <= workers);
  }  // the destructor shuts down and joins
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    RC_ASSERT(fs[i].done());
    RC_ASSERT(callbacks[i].load() == 1);
    RC_ASSERT(fs[i].cancelled() == cancel_won[i]);
    RC_ASSERT(runs[i].load() == (cancel_won[i] ? 0 : 1));
    if (cancel_won[i]) continue;
    if (tasks[i].throws) {
      RC_ASSERT_THROWS_AS(fs[i].get(), Boom);
    } else {
      RC_ASSERT(fs[i].get() == static_cast<int>(i * i));
    }
  }
  RC_ASSERT(peak.load() <= workers);
  RC_ASSERT(static_cast<int>(threads.size()) <= workers);
}

// A failing initializer breaks the pool: the queued futures and every later
// submit fail with BrokenThreadPool naming the cause.
INTERLEAVE_TEST(PoolUnit, failing_initializer_breaks_the_pool, "thread_pool") {
  ThreadPool<> pool(2, "brk", [] { throw std::runtime_error("no database"); });
  std::vector<Future<int>> fs;
  int refused = 0;  // the pool may break while we are still submitting
  for (int i = 0; i < 5; ++i) {
    try {
      fs.push_back(pool.submit([i] { return i; }));
    } catch (const BrokenThreadPool& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("no database"), std::string::npos) << e.what();
    }
  }
  int broken = 0;
  for (auto& f : fs) {
    try {
      (void)f.get();
    } catch (const BrokenThreadPool& e) {
      ++broken;
      EXPECT_NE(std::string(e.what()).find("no database"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(broken + refused, 5) << "every task either failed in its future or was refused";
  EXPECT_GE(broken, 1) << "the first submit precedes any worker";
  EXPECT_THROW((void)pool.submit([] { return 0; }), BrokenThreadPool);
  testkit::cell("thread_pool", "failing initializer: " + std::to_string(broken) +
                                   " queued future(s) failed and " + std::to_string(refused + 1) +
                                   " submit(s) refused, all with BrokenThreadPool");
}

TEST(PoolUnit, misuse_is_refused_with_a_message) {
  try {
    ThreadPool<> bad(0);
    ADD_FAILURE() << "max_workers 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_workers"), std::string::npos);
  }
  EXPECT_THROW(ThreadPool<>(-3), std::invalid_argument);
  ThreadPool<> pool(2);
  EXPECT_THROW((void)pool.map([](int x) { return x; }, std::vector<int>{1}, -1ms),
               std::invalid_argument);
  // shutdown(wait) from a worker would wait for itself.
  auto f = pool.submit([&pool] {
    try {
      pool.shutdown(true);
    } catch (const std::logic_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  });
  EXPECT_NE(f.get().find("wait for itself"), std::string::npos) << f.get();
  pool.shutdown();
  EXPECT_THROW((void)pool.submit([] { return 0; }), std::runtime_error);
  pool.shutdown();  // twice is fine
}

// Waiting on the pool's own future from its last free worker is detected.
INTERLEAVE_TEST(PoolUnit, waiting_on_own_future_from_a_saturated_pool_is_detected, "thread_pool") {
  for (int workers : {1, 2, 3}) {
    Gate all_in;
    std::atomic<int> in{0};
    std::atomic<int> detected{0};
    ThreadPool<> pool(workers, "sat");
    std::vector<Future<int>> outer;
    // Every worker runs a task that waits on a task queued behind them.
    for (int w = 0; w < workers; ++w)
      outer.push_back(pool.submit([&] {
        // Every worker holds an outer task before any inner one is queued.
        if (in.fetch_add(1) + 1 == workers) all_in.open();
        all_in.pass();
        auto inner = pool.submit([] { return 1; });
        try {
          return inner.get();
        } catch (const PoolDeadlockError&) {
          detected.fetch_add(1);
          return -1;
        }
      }));
    int sum = 0;
    for (auto& f : outer) sum += f.get();
    EXPECT_GE(detected.load(), 1) << workers << " workers";
    EXPECT_EQ(sum, workers - 2 * detected.load()) << workers << " workers";
  }
  testkit::cell(
      "thread_pool",
      "wait on own future from a saturated pool: PoolDeadlockError with 1, 2, 3 workers, no hang");
}

// A count that tests wait for with a bound: the bound is a failure limit
// (a wait that runs out fails the test), never what orders the threads.
class Tally {
 public:
  void add() {
    std::lock_guard<std::mutex> lk(mu_);
    ++n_;
    cv_.notify_all();
  }
  bool reaches(int n, std::chrono::milliseconds bound = 5000ms) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, bound, [&] { return n_ >= n; });
  }
  int value() {
    std::lock_guard<std::mutex> lk(mu_);
    return n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

// The CPUs the calling thread may run on.
cpu_set_t affinity_of_this_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    throw std::runtime_error("sched_getaffinity failed");
  return set;
}

// max_workers defaults to min(32, CPUs in the affinity mask + 4), as Python
// 3.13's os.process_cpu_count(): pinned to one CPU, the default is 5 whatever
// the machine has online.
INTERLEAVE_TEST(PoolUnit, default_max_workers_counts_the_cpus_of_the_affinity_mask, "thread_pool") {
  const cpu_set_t saved = affinity_of_this_thread();
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int pinned = ThreadPool<>::default_max_workers();
  int pool_default = 0;
  {
    ThreadPool<> pool;
    pool_default = pool.max_workers();
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(pinned, 5);
  EXPECT_EQ(pool_default, 5);
  const int all = CPU_COUNT(&saved);
  EXPECT_EQ(ThreadPool<>::default_max_workers(), std::min(32, all + 4));
  testkit::cell("thread_pool",
                "default max_workers: " + std::to_string(pinned) + " pinned to 1 CPU, " +
                    std::to_string(ThreadPool<>::default_max_workers()) + " with the " +
                    std::to_string(all) + " CPU(s) of this process's mask (" +
                    std::to_string(std::thread::hardware_concurrency()) + " online)");
}

// map submits every call before it returns (all 4 start before anything is
// dereferenced) and yields each result when that one is ready: call 1 waits
// for the consumer to have received result 0, which a map that collected
// every result before returning would never deliver (call 1 then gives up
// after its 5 s bound and the test fails).
INTERLEAVE_TEST(PoolUnit, map_submits_every_call_eagerly_and_yields_results_lazily_in_order,
                "thread_pool") {
  ThreadPool<> pool(4);
  Tally started;
  std::promise<void> got_first;
  std::shared_future<void> got_first_f = got_first.get_future().share();
  std::atomic<bool> call1_saw_result0{false};
  const std::vector<int> xs{0, 1, 2, 3};
  auto results = pool.map(
      [&](int x) {
        started.add();
        if (x == 1) call1_saw_result0 = got_first_f.wait_for(5s) == std::future_status::ready;
        return 10 * x;
      },
      xs);
  EXPECT_TRUE(started.reaches(4)) << "map returned with calls not submitted";
  std::vector<int> got;
  for (const int& r : results) {
    got.push_back(r);
    if (got.size() == 1) got_first.set_value();
  }
  pool.shutdown();
  EXPECT_EQ(got, (std::vector<int>{0, 10, 20, 30}));
  EXPECT_TRUE(call1_saw_result0.load()) << "result 0 was not yielded before call 1 finished";
  testkit::cell("thread_pool",
                "map: 4 calls submitted before the first dereference; result 0 yielded while call "
                "1 still ran");
}

// An exception from one call surfaces at its own position, and only there:
// the other calls run and their results are yielded, before and after it,
// for generated sizes, chunk sizes, pool sizes and throwing positions. The
// calls in chunks after the first throwing one wait (at most 5 s) until the
// consumer has received that exception, so that they are still queued or
// running when it surfaces: a map that cancelled the rest on an exception
// would cancel them here.
INTERLEAVE_PROP(PoolProps, map_exception_surfaces_at_its_position_and_cancels_nothing,
                "thread_pool", ()) {
  const int n = *rc::gen::inRange(0, 30);
  const auto chunksize = static_cast<std::size_t>(*rc::gen::inRange(1, 6));
  const int workers = *rc::gen::inRange(1, 5);
  const auto throws = *rc::gen::container<std::vector<bool>>(static_cast<std::size_t>(n),
                                                             rc::gen::arbitrary<bool>());
  std::vector<int> xs(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) xs[static_cast<std::size_t>(i)] = i;
  const auto first = std::find(throws.begin(), throws.end(), true);
  const std::size_t first_chunk =
      first == throws.end() ? SIZE_MAX
                            : static_cast<std::size_t>(first - throws.begin()) / chunksize;
  std::promise<void> received;
  std::shared_future<void> received_f = received.get_future().share();
  bool opened = false;
  std::atomic<int> ran{0};
  std::vector<int> got;
  {
    ThreadPool<> pool(workers);
    auto results = pool.map(
        [&](int x) {
          if (static_cast<std::size_t>(x) / chunksize > first_chunk) (void)received_f.wait_for(5s);
          ran.fetch_add(1);
          if (throws[static_cast<std::size_t>(x)]) throw Boom(x);
          return 2 * x;
        },
        xs, std::nullopt, chunksize);
    RC_ASSERT(results.size() == xs.size());
    for (auto it = results.begin(); it != results.end(); ++it) {
      try {
        got.push_back(*it);
      } catch (const Boom& b) {
        got.push_back(-1 - b.id);
      } catch (const CancelledError&) {
        got.push_back(-1000);
      }
      if (!opened && got.back() < 0) {
        opened = true;
        received.set_value();
      }
    }
    if (!opened) received.set_value();
  }
  RC_ASSERT(ran.load() == n);
  for (int i = 0; i < n; ++i)
    RC_ASSERT(got[static_cast<std::size_t>(i)] ==
              (throws[static_cast<std::size_t>(i)] ? -1 - i : 2 * i));
}

// map's timeout: the results already yielded stay delivered; the future being
// waited on and every later one are cancelled (calls not yet running never
// run); TimeoutError names how many results were not yielded, and the range
// ends. First with the awaited call running (it finishes, cancel cannot stop
// it), then with the awaited call still queued behind a blocked worker (it
// never runs).
INTERLEAVE_TEST(PoolUnit, map_timeout_keeps_yielded_results_and_cancels_the_awaited_and_later_calls,
                "thread_pool") {
  std::mutex mu;
  std::set<int> ran;
  std::string message;
  const int* first = nullptr;
  {
    Gate gate;
    ThreadPool<> pool(1);
    auto results = pool.map(
        [&](int x) {
          {
            std::lock_guard<std::mutex> lk(mu);
            ran.insert(x);
          }
          if (x == 1) gate.pass();
          return 100 + x;
        },
        std::vector<int>{0, 1, 2, 3}, 300ms);
    auto it = results.begin();
    first = &*it;
    EXPECT_EQ(*first, 100);
    ++it;
    try {
      (void)*it;
      ADD_FAILURE() << "no TimeoutError";
    } catch (const TimeoutError& e) {
      message = e.what();
    }
    EXPECT_TRUE(results.timed_out());
    EXPECT_TRUE(it == results.end()) << "the range goes on after its timeout";
    gate.open();
    pool.shutdown();
    EXPECT_EQ(*first, 100) << "a yielded result changed after the timeout";
  }
  EXPECT_EQ(message, "ThreadPool::map: timed out with 3 of 4 results not yielded");
  EXPECT_EQ(ran.count(2) + ran.count(3), 0u) << "a call after the awaited one ran";
  EXPECT_EQ(ran.count(0), 1u);

  std::set<int> ran_queued;
  {
    Gate gate;
    ThreadPool<> pool(1);
    auto blocker = pool.submit([&gate] { gate.pass(); });
    auto results = pool.map(
        [&](int x) {
          std::lock_guard<std::mutex> lk(mu);
          ran_queued.insert(x);
          return x;
        },
        std::vector<int>{0, 1}, 20ms);
    EXPECT_THROW((void)*results.begin(), TimeoutError);
    gate.open();
    pool.shutdown();
  }
  EXPECT_TRUE(ran_queued.empty()) << "the awaited call ran after map timed out";
  testkit::cell("thread_pool", "map timeout: \"" + message +
                                   "\"; the yielded result kept, calls 2 and 3 never ran; " +
                                   "a queued awaited call cancelled (never ran)");
}

// chunksize groups consecutive calls into one pool task: 7 calls with
// chunksize 3 queue 3 tasks behind a busy worker, and yield the same results
// in the same order; chunksize 0 is refused, naming it.
INTERLEAVE_TEST(PoolUnit, map_chunksize_groups_calls_into_pool_tasks, "thread_pool") {
  Gate gate;
  Tally running;
  ThreadPool<> pool(1);
  auto blocker = pool.submit([&] {
    running.add();
    gate.pass();
  });
  ASSERT_TRUE(running.reaches(1));  // the worker holds the blocker, the queue is empty
  std::vector<int> xs{0, 1, 2, 3, 4, 5, 6};
  auto results = pool.map([](int x) { return x * x; }, xs, std::nullopt, 3);
  const std::size_t queued = pool.pending();
  gate.open();
  EXPECT_EQ(results.to_vector(), (std::vector<int>{0, 1, 4, 9, 16, 25, 36}));
  EXPECT_EQ(queued, 3u);
  try {
    (void)pool.map([](int x) { return x; }, xs, std::nullopt, 0);
    ADD_FAILURE() << "chunksize 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("chunksize"), std::string::npos) << e.what();
  }
  testkit::cell("thread_pool", "map chunksize 3: 7 calls queued as " + std::to_string(queued) +
                                   " tasks, results in order");
}

// Tasks that throw: each throwing task's future holds its own exception,
// the others their values, whatever the pool size and order; the pool's
// bookkeeping is whole afterwards (nothing pending, at most max_workers
// started, every worker exited after shutdown) and a task submitted after
// the throws still runs.
INTERLEAVE_PROP(PoolProps, a_throwing_task_fails_only_its_own_future_and_the_pool_goes_on,
                "thread_pool", ()) {
  const int workers = *rc::gen::inRange(1, 5);
  const auto throws = *rc::gen::container<std::vector<bool>>(
      static_cast<std::size_t>(*rc::gen::inRange(1, 20)), rc::gen::arbitrary<bool>());
  ThreadPool<> pool(workers);
  std::vector<Future<int>> fs;
  for (std::size_t i = 0; i < throws.size(); ++i)
    fs.push_back(pool.submit([i, t = bool(throws[i])] {
      if (t) throw Boom(static_cast<int>(i));
      return static_cast<int>(i);
    }));
  for (std::size_t i = 0; i < throws.size(); ++i) {
    if (throws[i]) {
      try {
        (void)fs[i].get();
        RC_FAIL("no exception from a throwing task");
      } catch (const Boom& b) {
        RC_ASSERT(b.id == static_cast<int>(i));
      }
    } else {
      RC_ASSERT(fs[i].get() == static_cast<int>(i));
    }
  }
  RC_ASSERT(pool.submit([] { return -7; }).get() == -7);
  RC_ASSERT(pool.worker_count() <= workers);
  pool.shutdown();
  RC_ASSERT(pool.pending() == 0u);
  RC_ASSERT(pool.live_workers() == 0);
}

// shutdown(wait=true) from several threads at once, and racing the
// destructor: every caller returns only after every accepted task finished.
// Tasks count themselves when they finish; each shutdown caller reads the
// count right after it returns; the owner destroys the pool while the other
// callers' shutdown() is in progress. Under the watchdog (a caller that never
// returns is a falsification) and, in ./ci/test, under ASan (a call that
// outlived the pool's state would be a use after free).
INTERLEAVE_PROP(PoolProps, concurrent_shutdowns_and_the_destructor_each_return_after_every_task,
                "thread_pool", ()) {
  const int workers = *rc::gen::inRange(1, 4);
  const int tasks = *rc::gen::inRange(0, 12);
  const int callers = *rc::gen::inRange(1, 4);
  const bool destroy = *rc::gen::arbitrary<bool>();
  testkit::watchdog(std::to_string(callers) + " shutdown caller(s)" +
                        (destroy ? " + the destructor" : "") + ", " + std::to_string(tasks) +
                        " task(s) on " + std::to_string(workers) + " worker(s)",
                    [&] {
                      auto pool = std::make_unique<ThreadPool<>>(workers);
                      std::atomic<int> finished{0};
                      for (int i = 0; i < tasks; ++i)
                        (void)pool->submit([&finished] {
                          busy_for(std::chrono::microseconds(200));
                          finished.fetch_add(1);
                        });
                      std::vector<int> seen(static_cast<std::size_t>(callers), -1);
                      std::atomic<int> returned{0};
                      std::vector<std::thread> ts;
                      for (int c = 0; c < callers; ++c)
                        ts.emplace_back([&, c] {
                          pool->shutdown(/*wait=*/true);
                          seen[static_cast<std::size_t>(c)] = finished.load();
                          returned.fetch_add(1);
                        });
                      int seen_by_destructor = -1;
                      if (destroy) {
                        // Every caller's shutdown() has begun (the contract for racing the
                        // destructor): each has returned or is in progress. (returned is
                        // read first, so no caller is counted twice.)
                        for (;;) {
                          const int r = returned.load();
                          if (r == callers) break;
                          if (r + pool->shutdowns_in_progress() >= callers) break;
                          std::this_thread::yield();
                        }
                        pool.reset();
                        seen_by_destructor = finished.load();
                      }
                      for (auto& t : ts) t.join();
                      for (int v : seen) RC_ASSERT(v == tasks);
                      if (seen_by_destructor >= 0) RC_ASSERT(seen_by_destructor == tasks);
                    });
}

// --- the broken twins, held to the fixed pool's guarantees -----------------

// shutdown(wait=true) returns while every worker is asleep waiting for work.
// `workers` tasks meet at a latch, so the pool starts all `workers` threads;
// once their results are in, the workers go idle and shutdown() must wake
// them all. The notify-one twin wakes one: the others sleep for ever and
// shutdown() hangs, which the watchdog reports.
template <pool_bug Flavor>
void shutdown_returns_with_every_worker_idle() {
  const int workers = *rc::gen::inRange(1, 5);
  testkit::watchdog(std::to_string(workers) + " idle worker(s): shutdown(wait=true)", [&] {
    BasicThreadPool<std_sync, Flavor> pool(workers, "idle");
    std::latch all_started(workers);
    std::vector<Future<int>> fs;
    for (int i = 0; i < workers; ++i)
      fs.push_back(pool.submit([&all_started, i] {
        all_started.arrive_and_wait();
        return i;
      }));
    for (int i = 0; i < workers; ++i) RC_ASSERT(fs[static_cast<std::size_t>(i)].get() == i);
    RC_ASSERT(pool.worker_count() == workers);
    pool.shutdown(true);
  });
}

INTERLEAVE_PROP(PoolProps, shutdown_wakes_every_idle_worker_and_returns, "thread_pool", ()) {
  shutdown_returns_with_every_worker_idle<pool_bug::none>();
}

INTERLEAVE_PROP_FALSIFIED(PoolProps, notify_one_twin_leaves_idle_workers_asleep_and_shutdown_hangs,
                          "thread_pool.broken_shutdown_notify_one", ()) {
  shutdown_returns_with_every_worker_idle<pool_bug::shutdown_notify_one>();
}

// A task submitted right after the previous one's get() runs: the single
// worker, between finishing a task and sleeping, must not miss it. On the
// jitter backend (a random pause before each lock) the unlocked-check twin's
// window between its look at the queue and its sleep is wide enough for the
// submit to land in it; its worker then sleeps on a queued task and get()
// never returns, which the watchdog reports. (The twin's unlocked read is
// also a data race; this layer does not claim to see that, only the hang.)
template <pool_bug Flavor>
void submit_after_get_is_always_run() {
  const int rounds = *rc::gen::inRange(1, 60);
  testkit::watchdog("1 worker, " + std::to_string(rounds) + " submit-then-get round(s): a get()",
                    [&] {
                      BasicThreadPool<props::jitter_sync, Flavor> pool(1, "one");
                      for (int i = 0; i < rounds; ++i)
                        RC_ASSERT(pool.submit([i] { return i; }).get() == i);
                      pool.shutdown(true);
                    });
}

INTERLEAVE_PROP(PoolProps, a_task_submitted_right_after_a_get_runs, "thread_pool", ()) {
  submit_after_get_is_always_run<pool_bug::none>();
}

INTERLEAVE_PROP_FALSIFIED(PoolProps, unlocked_check_twin_sleeps_on_a_queued_task_and_get_hangs,
                          "thread_pool.broken_unlocked_check", ()) {
  submit_after_get_is_always_run<pool_bug::unlocked_check>();
}

// Sanity checks of the twins where their bug cannot fire (not cells of the
// matrix): with one worker that alone submits, or one worker at shutdown,
// each twin runs every task once.
RC_GTEST_PROP(PoolProps, unlocked_check_twin_is_correct_when_only_its_worker_submits, ()) {
  const int n = *rc::gen::inRange(0, 40);
  BrokenUnlockedCheckThreadPool<> pool(1, "twin");
  std::vector<Future<int>> inner;
  auto first = pool.submit([&] {
    for (int i = 0; i < n; ++i) inner.push_back(pool.submit([i] { return i; }));
    return n;
  });
  RC_ASSERT(first.get() == n);
  for (int i = 0; i < n; ++i) RC_ASSERT(inner[static_cast<std::size_t>(i)].get() == i);
  pool.shutdown();
}

RC_GTEST_PROP(PoolProps, notify_one_twin_shuts_down_with_a_single_worker, ()) {
  const int n = *rc::gen::inRange(0, 40);
  const bool let_it_sleep = *rc::gen::arbitrary<bool>();
  std::vector<Future<int>> fs;
  {
    BrokenShutdownNotifyOneThreadPool<> pool(1, "twin");
    for (int i = 0; i < n; ++i) fs.push_back(pool.submit([i] { return i; }));
    if (let_it_sleep && n > 0) (void)fs.back().get();  // sometimes let the worker sleep first
  }
  for (int i = 0; i < n; ++i) RC_ASSERT(fs[static_cast<std::size_t>(i)].get() == i);
}

// ---------------------------------------------------------------------------
// thread_pool.reuse
// ---------------------------------------------------------------------------

INTERLEAVE_PROP(PoolProps, sequential_submit_get_reuses_one_worker, "thread_pool.reuse", ()) {
  const int workers = *rc::gen::inRange(1, 9);
  const int rounds = *rc::gen::inRange(1, 50);
  ThreadPool<> pool(workers);
  std::set<std::thread::id> threads;
  for (int r = 0; r < rounds; ++r) {
    threads.insert(pool.submit([] { return std::this_thread::get_id(); }).get());
    RC_ASSERT(pool.worker_count() == 1);
  }
  RC_ASSERT(threads.size() == 1u);
}

// The seed's program: a pool of 3 runs T0..T4, each sleeping briefly and
// returning (name, value); printed as the seed prints it; at most 3 distinct
// workers served all 5, so some were reused.
INTERLEAVE_TEST(PoolSeed, seed_pool_of_3_runs_5_tasks_on_at_most_3_workers, "thread_pool.reuse") {
  ThreadPool<> pool(3, "ThreadPoolExecutor-0");
  std::mutex out_mu;
  std::vector<std::string> lines;
  std::vector<Future<std::pair<std::string, int>>> futures;
  for (int i = 0; i < 5; ++i)
    futures.push_back(pool.submit([&, i] {
      std::this_thread::sleep_for(5ms);  // the seed's sleep(.05): workload
      const std::string name = "T" + std::to_string(i);
      const int value = (i * 37 + 11) % 100;
      {
        std::lock_guard<std::mutex> g(out_mu);
        lines.push_back("Hi, I am " + name + " (" + pool.current_worker_name() +
                        ") and my value is " + std::to_string(value));
      }
      return std::make_pair(name, value);
    }));
  int returned = 0;
  for (const auto& f : as_completed(futures)) {
    const auto& [name, value] = f.get();
    std::lock_guard<std::mutex> g(out_mu);
    lines.push_back("Thread " + name + " returned " + std::to_string(value));
    ++returned;
  }
  std::set<std::string> workers;
  for (const auto& l : lines) {
    std::printf("%s\n", l.c_str());
    const auto open = l.find('(');
    if (open != std::string::npos) workers.insert(l.substr(open + 1, l.find(')') - open - 1));
  }
  EXPECT_EQ(returned, 5);
  EXPECT_GE(workers.size(), 1u);
  EXPECT_LE(workers.size(), 3u);
  EXPECT_LE(pool.worker_count(), 3);
  std::string names;
  for (const auto& w : workers) names += (names.empty() ? "" : ", ") + w;
  testkit::cell("thread_pool.reuse", "seed program: T0..T4 on a pool of 3 served by " +
                                         std::to_string(workers.size()) + " distinct workers (" +
                                         names + "), 5 of 5 returned");
}

// ---------------------------------------------------------------------------
// thread_pool.cancel_race
// ---------------------------------------------------------------------------

// cancel() right after submit races the workers: each task ran exactly when
// cancel() returned false; shutdown(cancel_futures) leaves every future done,
// run once or cancelled.
INTERLEAVE_PROP(PoolProps, each_task_runs_once_or_is_cancelled_never_both,
                "thread_pool.cancel_race", ()) {
  const int workers = *rc::gen::inRange(1, 5);
  const auto cancel = *rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>());
  const bool shutdown_cancels = *rc::gen::arbitrary<bool>();
  std::vector<std::atomic<int>> runs(cancel.size());
  std::vector<Future<int>> fs;
  std::vector<bool> won(cancel.size(), false);
  ThreadPool<> pool(workers);
  for (std::size_t i = 0; i < cancel.size(); ++i) {
    fs.push_back(pool.submit([&runs, i] { return runs[i].fetch_add(1) + 1; }));
    if (cancel[i]) won[i] = fs.back().cancel();
  }
  pool.shutdown(true, shutdown_cancels);
  for (std::size_t i = 0; i < cancel.size(); ++i) {
    RC_ASSERT(fs[i].done());
    const int r = runs[i].load();
    RC_ASSERT(r + (fs[i].cancelled() ? 1 : 0) == 1);
    if (won[i]) RC_ASSERT(fs[i].cancelled());
    if (cancel[i] && !won[i]) RC_ASSERT(r == 1);
    if (r == 1) RC_ASSERT(fs[i].get() == 1);
  }
}

// ---------------------------------------------------------------------------
// as_completed
// ---------------------------------------------------------------------------

// Futures already done come first; each distinct future once, even if
// passed several times; in total exactly the distinct ones.
INTERLEAVE_PROP(AsCompletedProps, each_future_once_already_done_first, "as_completed", ()) {
  const int n = *rc::gen::inRange(1, 12);
  const int done_first = *rc::gen::inRange(0, n + 1);
  const auto picks = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, n));
  Gate gate;
  ThreadPool<> pool(*rc::gen::inRange(1, 5));
  std::vector<Future<int>> base;
  for (int i = 0; i < n; ++i)
    base.push_back(i < done_first ? pool.submit([i] { return i; }) : pool.submit([&gate, i] {
      gate.pass();
      return i;
    }));
  for (int i = 0; i < done_first; ++i) base[static_cast<std::size_t>(i)].wait();
  std::vector<Future<int>> passed = base;
  for (int p : picks) passed.push_back(base[static_cast<std::size_t>(p)]);  // duplicates
  std::vector<int> order;
  {
    auto ac = as_completed(passed);
    gate.open();
    for (const auto& f : ac) order.push_back(f.get());
  }
  RC_ASSERT(static_cast<int>(order.size()) == n);
  std::set<int> distinct(order.begin(), order.end());
  RC_ASSERT(static_cast<int>(distinct.size()) == n);
  std::set<int> first(order.begin(), order.begin() + done_first);
  for (int i = 0; i < done_first; ++i) RC_ASSERT(first.count(i) == 1u);
}

INTERLEAVE_TEST(AsCompletedUnit, expiry_names_how_many_of_how_many_are_unfinished, "as_completed") {
  Gate gate;
  ThreadPool<> pool(2);
  std::vector<Future<int>> fs{pool.submit([] { return 0; })};
  for (int i = 1; i < 4; ++i)
    fs.push_back(pool.submit([&gate, i] {
      gate.pass();
      return i;
    }));
  fs.push_back(fs[0]);
  fs[0].wait();
  std::string message;
  int yielded = 0;
  try {
    for (const auto& f : as_completed(fs, 20ms)) {
      (void)f;
      ++yielded;
    }
  } catch (const TimeoutError& e) {
    message = e.what();
  }
  gate.open();
  EXPECT_EQ(yielded, 1);
  EXPECT_EQ(message, "as_completed: 3 (of 4) futures unfinished");
  EXPECT_THROW((void)as_completed(fs, -1ms), std::invalid_argument);
  testkit::cell("as_completed", "expiry after 20 ms: \"" + message + "\"");
}

// as_completed() and wait() take any input range of futures (the FutureRange
// concept), not only a std::vector: a list, an array, a span, a filtered view
// and a transformed view, each yielding every distinct future once.
static_assert(FutureRange<std::list<Future<int>>>);
static_assert(FutureRange<std::array<Future<int>, 2>&>);
static_assert(FutureRange<std::span<const Future<int>>>);
static_assert(!FutureRange<std::vector<int>>);
INTERLEAVE_TEST(AsCompletedUnit, as_completed_and_wait_accept_any_range_of_futures,
                "as_completed") {
  std::array<Promise<int>, 3> ps;
  std::array<Future<int>, 3> fs{ps[0].get_future(), ps[1].get_future(), ps[2].get_future()};
  for (int i = 0; i < 3; ++i) ps[static_cast<std::size_t>(i)].set_value(i);
  const auto yielded = [](auto&& range) {
    std::multiset<int> got;
    for (const auto& f : as_completed(std::forward<decltype(range)>(range))) got.insert(f.get());
    return got;
  };
  const std::multiset<int> all{0, 1, 2};
  const std::list<Future<int>> list(fs.begin(), fs.end());
  EXPECT_EQ(yielded(list), all);
  EXPECT_EQ(yielded(fs), all);
  EXPECT_EQ(yielded(std::span<const Future<int>>(fs)), all);
  EXPECT_EQ(yielded(fs | std::views::filter([](const Future<int>& f) { return f.get() != 1; })),
            (std::multiset<int>{0, 2}));
  const std::vector<int> idx{2, 0, 2};
  EXPECT_EQ(
      yielded(idx | std::views::transform([&](int i) { return fs[static_cast<std::size_t>(i)]; })),
      (std::multiset<int>{0, 2}));
  EXPECT_EQ(wait(list).done.size(), 3u);
  EXPECT_EQ(wait(std::span<const Future<int>>(fs), FIRST_COMPLETED, 1s).not_done.size(), 0u);
  EXPECT_EQ(wait(fs | std::views::take(2), ALL_COMPLETED).done.size(), 2u);
  testkit::cell("as_completed",
                "as_completed/wait over a list, an array, a span, filter/transform/take views: "
                "each distinct future once");
}

// ---------------------------------------------------------------------------
// wait
// ---------------------------------------------------------------------------

INTERLEAVE_PROP(WaitProps, return_when_holds_and_sets_partition_the_distinct_futures, "wait", ()) {
  const int n = *rc::gen::inRange(0, 10);
  const auto fail = *rc::gen::container<std::vector<bool>>(
      static_cast<std::size_t>(n), rc::gen::weightedElement<bool>({{3, false}, {1, true}}));
  const auto delay =
      *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(n), rc::gen::inRange(0, 500));
  const int mode = *rc::gen::inRange(0, 3);
  const ReturnWhen when = mode == 0 ? FIRST_COMPLETED : mode == 1 ? FIRST_EXCEPTION : ALL_COMPLETED;
  ThreadPool<> pool(3);
  std::vector<Future<int>> fs;
  for (int i = 0; i < n; ++i)
    fs.push_back(pool.submit(
        [i, f = bool(fail[static_cast<std::size_t>(i)]), d = delay[static_cast<std::size_t>(i)]] {
          busy_for(std::chrono::microseconds(d));
          if (f) throw Boom(i);
          return i;
        }));
  std::vector<Future<int>> passed = fs;
  if (n > 0) passed.push_back(fs[0]);
  const auto r = wait(passed, when);
  RC_ASSERT(static_cast<int>(r.done.size() + r.not_done.size()) == n);
  for (const auto& f : r.done) RC_ASSERT(f.done());
  std::set<const void*> ids;
  for (const auto& f : r.done) ids.insert(f.id());
  for (const auto& f : r.not_done) ids.insert(f.id());
  RC_ASSERT(static_cast<int>(ids.size()) == n);
  if (n > 0 && when == FIRST_COMPLETED) RC_ASSERT(!r.done.empty());
  if (when == ALL_COMPLETED) RC_ASSERT(static_cast<int>(r.done.size()) == n);
  if (when == FIRST_EXCEPTION && !r.not_done.empty()) {
    bool failed = false;
    for (const auto& f : r.done) failed = failed || f.exception() != nullptr;
    RC_ASSERT(failed);
  }
}

INTERLEAVE_TEST(WaitUnit, timeout_returns_the_unfinished_as_not_done, "wait") {
  Gate gate;
  ThreadPool<> pool(2);
  std::vector<Future<int>> fs{pool.submit([] { return 0; }), pool.submit([&gate] {
                                gate.pass();
                                return 1;
                              })};
  fs[0].wait();
  const auto r = wait(fs, ALL_COMPLETED, 20ms);
  gate.open();
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.not_done.size(), 1u);
  EXPECT_THROW((void)wait(fs, ALL_COMPLETED, -5ms), std::invalid_argument);
  testkit::cell("wait", "timeout 20 ms: 1 done, 1 not done, returned without hanging");
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
