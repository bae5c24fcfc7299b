// property_tests/timeout_unit.cpp — unit tests of timeouts at their limits,
// on real threads with std_sync, one per primitive that takes a timeout:
//   - a huge timeout (hours::max(), duration::max()) neither overflows into
//     an immediate timeout nor makes a fast operation fail: the wait lasts
//     until a second thread completes the condition, and returns its value;
//   - a negative timeout is std::invalid_argument naming "timeout";
// and the destruction of a ThreadPool or a Thread from its own worker.
//
// Ordering between the waiting thread and the completing one goes through
// the primitive under test (its waiter count, a Thread's state), never
// through a sleep. Where a primitive has no observer of its waiters (Queue,
// Future, as_completed, wait, ThreadPool::map) the completing thread runs
// concurrently with the wait, so the test shows the value arrives through a
// huge wait; that the deadline handed to the backend is saturated (not
// wrapped) is shown deterministically for every primitive by
// backend_unit.cpp's virtual-clock tests.
#include <interleave/barrier.hpp>
#include <interleave/event.hpp>
#include <interleave/future.hpp>
#include <interleave/queue.hpp>
#include <interleave/stoppable.hpp>
#include <interleave/sync.hpp>
#include <interleave/thread.hpp>
#include <interleave/thread_pool.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testkit.hpp"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// The huge timeouts every primitive is tried with.
const auto kHours = std::chrono::hours::max();
const auto kNanos = std::chrono::nanoseconds::max();

template <class F>
void expect_names_timeout(F&& f, const char* what) {
  try {
    f();
    ADD_FAILURE() << what << ": a negative timeout was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("timeout must be >= 0"), std::string::npos)
        << what << ": " << e.what();
  }
}

// Spins (yielding) until `done()`; the condition is the primitive's own
// observer, so this is synchronisation through the primitive, not a sleep.
template <class Done>
void until(Done&& done) {
  while (!done()) std::this_thread::yield();
}

// --- std_sync's condition variable --------------------------------------------

TEST(HugeTimeout, condition_variable_waits_until_notified) {
  std_sync::mutex mu;
  std_sync::condition_variable cv;
  bool ready = false;
  std::unique_lock<std_sync::mutex> lk(mu);
  // The helper needs the mutex, which this thread gives up only inside the
  // wait: the notification can only come while the wait is in progress.
  std::thread helper([&] {
    std::unique_lock<std_sync::mutex> l(mu);
    ready = true;
    cv.notify_all();
  });
  EXPECT_TRUE(cv.wait_for(lk, kHours, [&] { return ready; }));
  lk.unlock();
  helper.join();
  lk.lock();
  EXPECT_EQ(cv.wait_for(lk, kNanos, [] { return true; }), true);
}

// --- Event ----------------------------------------------------------------------

TEST(HugeTimeout, event_wait_for_waits_for_the_set) {
  for (auto timeout : {std::chrono::duration_cast<std::chrono::nanoseconds>(1h), kNanos}) {
    Event<> ev;
    std::thread setter([&] {
      until([&] { return ev.n_waiting() == 1; });  // the main thread is inside wait_for
      ev.set();
    });
    EXPECT_TRUE(ev.wait_for(timeout));
    setter.join();
  }
  Event<> ev;
  std::thread setter([&] {
    until([&] { return ev.n_waiting() == 1; });
    ev.set();
  });
  EXPECT_TRUE(ev.wait_for(kHours));
  setter.join();
  EXPECT_TRUE(ev.wait_for(kHours));  // already set: returns at once, true
  expect_names_timeout([&] { ev.wait_for(-1ms); }, "Event::wait_for");
}

// --- Barrier --------------------------------------------------------------------

TEST(HugeTimeout, barrier_wait_for_waits_for_the_other_party) {
  Barrier<> b(2);
  std::size_t other = 99;
  std::thread party([&] {
    until([&] { return b.n_waiting() == 1; });  // the main thread is inside wait_for
    other = b.wait();
  });
  const std::size_t mine = b.wait_for(kHours);
  party.join();
  EXPECT_EQ(mine, 0u);
  EXPECT_EQ(other, 1u);
  EXPECT_FALSE(b.broken());
  Barrier<> one(1);
  EXPECT_EQ(one.wait_for(kNanos), 0u);  // completes at once
  expect_names_timeout([&] { b.wait_for(-1s); }, "Barrier::wait_for");
}

// --- Queue ----------------------------------------------------------------------

TEST(HugeTimeout, queue_get_for_and_put_for_return_the_item) {
  Queue<int> q(1);
  ASSERT_TRUE(q.put_for(1, kHours));                    // room: at once
  EXPECT_EQ(q.get_for(kNanos), std::optional<int>(1));  // an item: at once
  std::thread producer([&] { q.put(2); });
  EXPECT_EQ(q.get_for(kHours), std::optional<int>(2));
  producer.join();
  ASSERT_TRUE(q.try_put(3));
  std::thread consumer([&] { EXPECT_EQ(q.get(), 3); });
  EXPECT_TRUE(q.put_for(4, kHours));  // full until the consumer takes 3
  consumer.join();
  EXPECT_EQ(q.get_for(kHours), std::optional<int>(4));
  expect_names_timeout([&] { (void)q.get_for(-1ns); }, "Queue::get_for");
  expect_names_timeout([&] { (void)q.put_for(5, -1ns); }, "Queue::put_for");
}

// --- Future, as_completed, wait -------------------------------------------------

TEST(HugeTimeout, future_wait_for_returns_once_the_value_is_set) {
  Promise<int> p;
  Future<int> f = p.get_future();
  std::thread producer([&] { p.set_value(42); });
  EXPECT_TRUE(f.wait_for(kHours));
  EXPECT_EQ(f.get(), 42);
  producer.join();
  EXPECT_TRUE(f.wait_for(kNanos));  // done: at once
  EXPECT_TRUE(f.wait_until(std::chrono::system_clock::time_point::max()));
  expect_names_timeout([&] { f.wait_for(-1ms); }, "Future::wait_for");
}

TEST(HugeTimeout, as_completed_and_wait_return_every_future) {
  Promise<int> p1, p2;
  std::vector<Future<int>> fs{p1.get_future(), p2.get_future()};
  p1.set_value(1);
  std::thread producer([&] { p2.set_value(2); });
  int sum = 0, n = 0;
  for (const auto& f : as_completed(fs, kHours)) {
    sum += f.get();
    ++n;
  }
  producer.join();
  EXPECT_EQ(n, 2);
  EXPECT_EQ(sum, 3);

  Promise<int> p3;
  std::vector<Future<int>> gs{p3.get_future()};
  std::thread producer2([&] { p3.set_value(3); });
  const auto r = wait(gs, ALL_COMPLETED, kHours);
  producer2.join();
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_TRUE(r.not_done.empty());
  expect_names_timeout([&] { (void)as_completed(fs, -1ms); }, "as_completed");
  expect_names_timeout([&] { (void)wait(fs, ALL_COMPLETED, -1ms); }, "wait");
}

// --- ThreadPool -----------------------------------------------------------------

TEST(HugeTimeout, pool_map_returns_every_result) {
  ThreadPool<> pool(2);
  const std::vector<int> in{1, 2, 3, 4};
  EXPECT_EQ(pool.map([](int x) { return x * x; }, in, kHours).to_vector(),
            (std::vector<int>{1, 4, 9, 16}));
  EXPECT_EQ(pool.map([](int x) { return x + 1; }, in, kNanos).to_vector(),
            (std::vector<int>{2, 3, 4, 5}));
  auto f = pool.submit([] { return 7; });
  EXPECT_TRUE(f.wait_for(kHours));
  EXPECT_EQ(f.get(), 7);
  expect_names_timeout([&] { (void)pool.map([](int x) { return x; }, in, -1ms); },
                       "ThreadPool::map");
}

// --- Thread ---------------------------------------------------------------------

TEST(HugeTimeout, thread_join_for_waits_for_the_target) {
  ThreadRegistry<> reg;
  Event<> go;
  Thread<> target(reg, [&] { go.wait(); }, "target");
  bool joined = false;
  Thread<> joiner(reg, [&] { joined = target.join_for(kHours); }, "joiner");
  target.start();
  joiner.start();
  // The joiner is NotRunning only while inside join_for: then let the target end.
  until([&] { return joiner.state() == ThreadState::NotRunning; });
  go.set();
  joiner.join();
  EXPECT_TRUE(joined);
  EXPECT_EQ(target.state(), ThreadState::Dead);
  EXPECT_TRUE(target.join_for(kNanos));  // already dead: at once
  expect_names_timeout([&] { (void)target.join_for(-1ms); }, "Thread::join_for");
  try {
    reg.sleep_for(-1ms);
    ADD_FAILURE() << "a negative sleep was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("must be >= 0"), std::string::npos) << e.what();
  }
}

// --- Stoppable: no timed wait, only a pause (a sleep) ---------------------------

TEST(HugeTimeout, stoppable_pause_is_not_a_timeout_and_rejects_negatives_by_name) {
  try {
    StoppableFibonacci<AtomicStopFlag<>> w(10, -1ns);
    ADD_FAILURE() << "a negative pause was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pause must be >= 0"), std::string::npos) << e.what();
  }
}

// --- destruction from the object's own worker -----------------------------------

// Signals when the calling thread exits (thread_local destructors run after
// the thread's function, with everything it held, is gone).
struct ExitSignal {
  Event<>* ev = nullptr;
  ~ExitSignal() {
    if (ev) ev->set();
  }
};
thread_local ExitSignal exit_signal;

TEST(OwnWorker, pool_destroyed_from_its_own_task_does_not_terminate) {
  static Event<> exited;  // static: set() may still be leaving when wait() returns
  exited.clear();         // (a repeated run reuses it)
  Event<> released;
  auto pool = std::make_shared<ThreadPool<>>(2, "self");
  auto f = pool->submit([&released, p = pool]() mutable {
    exit_signal.ev = &exited;
    released.wait();  // the test has let go of the pool
    p.reset();        // the last owner: ~ThreadPool runs here, on its own worker
    return 42;
  });
  pool.reset();
  released.set();
  EXPECT_EQ(f.get(), 42);  // the task finished after destroying its pool
  exited.wait();           // and its worker exited (nobody could join it)
}

TEST(OwnWorker, pool_dropped_by_a_task_capture_runs_the_queued_tasks) {
  static Event<> exited;
  exited.clear();
  std::vector<Future<int>> fs;
  {
    auto pool = std::make_shared<ThreadPool<>>(1, "drop");
    Event<> hold;
    fs.push_back(pool->submit([&hold, p = pool] {
      exit_signal.ev = &exited;
      hold.wait();
      return 1;
    }));
    for (int i = 2; i <= 4; ++i) fs.push_back(pool->submit([i] { return i; }));
    pool.reset();  // the first task's capture is now the last owner
    hold.set();    // when that task object is destroyed, so is the pool
    int sum = 0;
    for (auto& f : fs) sum += f.get();
    EXPECT_EQ(sum, 10);  // the queued tasks still ran: shutdown(wait=false)
  }
  exited.wait();
}

TEST(OwnWorker, thread_destroyed_from_its_own_target_does_not_terminate) {
  ThreadRegistry<> reg;
  static Event<> exited;
  exited.clear();
  Event<> started;
  Thread<>* self = nullptr;
  Thread<>* seen_after = reinterpret_cast<Thread<>*>(1);
  auto* t = new Thread<>(
      reg,
      [&] {
        exit_signal.ev = &exited;
        started.wait();  // `self` is assigned
        EXPECT_EQ(reg.current_thread(), self);
        delete self;  // ~Thread on its own thread
        seen_after = reg.current_thread();
      },
      "self-deleting");
  self = t;
  t->start();
  started.set();
  exited.wait();
  EXPECT_EQ(seen_after, nullptr);  // the Thread left the registry with its object
  EXPECT_EQ(reg.active_count(), 0u);
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("unit")
