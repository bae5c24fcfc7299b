// property_tests/backend_unit.cpp — unit tests of the backend as an
// interface: the SyncBackend concept accepts the std backend and rejects an
// incomplete one; every timed wait in impl takes its deadline on the
// backend's clock (a virtual clock here), saturated when the timeout is huge;
// the deadline helper itself.
#include <interleave/barrier.hpp>
#include <interleave/event.hpp>
#include <interleave/future.hpp>
#include <interleave/queue.hpp>
#include <interleave/sync.hpp>
#include <interleave/thread.hpp>
#include <interleave/thread_pool.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "testkit.hpp"

namespace interleave {
namespace {

using namespace std::chrono_literals;

// --- the concept -------------------------------------------------------------

static_assert(SyncBackend<std_sync>);

// A backend that is std_sync with one member missing or wrong.
struct NoYield {
  static constexpr const char* name = "no-yield";
  using clock = std_sync::clock;
  using mutex = std_sync::mutex;
  using condition_variable = std_sync::condition_variable;
  template <class T>
  using atomic = std_sync::atomic<T>;
  template <class T>
  using var = std_sync::var<T>;
  using thread = std_sync::thread;
  using jthread = std_sync::jthread;
  using stop_source = std_sync::stop_source;
  using stop_token = std_sync::stop_token;
  static std::size_t thread_index() noexcept { return std_sync::thread_index(); }
  template <class Rep, class Period>
  static void sleep_for(const std::chrono::duration<Rep, Period>& d) {
    std_sync::sleep_for(d);
  }
};
struct NoClock : std_sync {
  using clock = void;
};
struct PlainStdMutex
    : std_sync {  // std::mutex is not a backend mutex (no interleave_backend_mutex)
  using mutex = std::mutex;
};

static_assert(!SyncBackend<NoYield>, "a backend without yield() must be rejected");
static_assert(!SyncBackend<NoClock>, "a backend without a clock must be rejected");
static_assert(!SyncBackend<PlainStdMutex>,
              "a backend whose mutex is not a backend mutex must be rejected");
static_assert(!backend_mutex<std::mutex>);
static_assert(backend_mutex<std_sync::mutex>);

// The impl templates are constrained by the concept: naming one with an
// incomplete backend is a constraint failure, not a deep template error.
template <class S>
concept queue_accepts = requires { typename Queue<int, S>; };
template <class S>
concept event_accepts = requires { typename Event<S>; };
template <class S>
concept pool_accepts = requires { typename ThreadPool<S>; };
static_assert(queue_accepts<std_sync> && event_accepts<std_sync> && pool_accepts<std_sync>);
static_assert(!queue_accepts<NoYield> && !event_accepts<NoYield> && !pool_accepts<NoYield>);

TEST(BackendConcept, std_backend_satisfies_and_incomplete_ones_are_rejected) {
  // The checks are the static_asserts above; this test names them in the
  // report, and checks the same at run time for the record.
  EXPECT_TRUE(SyncBackend<std_sync>);
  EXPECT_FALSE(SyncBackend<NoYield>);
  EXPECT_FALSE(SyncBackend<NoClock>);
  EXPECT_FALSE(SyncBackend<PlainStdMutex>);
}

// --- the deadline helper -----------------------------------------------------

using steady = std::chrono::steady_clock;

TEST(Deadline, huge_timeouts_saturate_instead_of_overflowing) {
  EXPECT_EQ(detail::deadline_after<steady>(std::chrono::hours::max(), "t"),
            steady::time_point::max());
  EXPECT_EQ(detail::deadline_after<steady>(std::chrono::nanoseconds::max(), "t"),
            steady::time_point::max());
  EXPECT_EQ(detail::deadline_after<steady>(std::chrono::seconds::max(), "t"),
            steady::time_point::max());
  EXPECT_EQ(detail::deadline_after<steady>(std::chrono::duration<double>::max(), "t"),
            steady::time_point::max());
  const auto before = steady::now();
  const auto d = detail::deadline_after<steady>(1s, "t");
  EXPECT_GE(d, before + 1s);
  EXPECT_LE(d, steady::now() + 1s);
}

TEST(Deadline, negative_timeouts_are_an_error_naming_the_argument) {
  try {
    (void)detail::deadline_after<steady>(-1ms, "Thing::wait_for");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Thing::wait_for: timeout must be >= 0"),
              std::string::npos)
        << e.what();
  }
  // The backend's own condition variable keeps std's rule: a past deadline.
  const auto past = detail::saturating_deadline<steady>(-1h);
  EXPECT_LE(past, steady::now());
}

TEST(Deadline, a_deadline_on_another_clock_converts_by_the_time_left) {
  EXPECT_EQ(detail::to_clock<steady>(std::chrono::system_clock::time_point::max()),
            steady::time_point::max());
  const auto past = detail::to_clock<steady>(std::chrono::system_clock::now() - 1h);
  EXPECT_LE(past, steady::now());
  const auto soon = detail::to_clock<steady>(std::chrono::system_clock::now() + 1h);
  EXPECT_GT(soon, steady::now() + 59min);
  // Same clock, coarser duration: no overflow either.
  using hours_tp = std::chrono::time_point<steady, std::chrono::hours>;
  EXPECT_EQ(detail::to_clock<steady>(hours_tp::max()), steady::time_point::max());
}

// --- a backend with a virtual clock -------------------------------------------
//
// Time stands still at 1000 h; a timed wait records its deadline and times
// out at once (the deadline "has passed" in the checker's sense). The
// static_assert in wait_until proves, at compile time, that impl hands the
// backend deadlines on the backend's clock and on no other. Untimed waits and
// notifications are real, so threads can still be joined.

struct virtual_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<virtual_clock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept { return time_point(std::chrono::hours(1000)); }
};

std::vector<virtual_clock::time_point>& recorded_deadlines() {
  static std::vector<virtual_clock::time_point> d;
  return d;
}
std::mutex recorded_mu;

class recording_condition_variable {
 public:
  using loc = std::source_location;
  using lock_type = std::unique_lock<detail::std_mutex>;
  void notify_one(loc = loc::current()) { real_.notify_one(); }
  void notify_all(loc = loc::current()) { real_.notify_all(); }
  void wait(lock_type& lk, loc = loc::current()) { real_.wait(lk); }
  template <class Pred>
  void wait(lock_type& lk, Pred pred, loc = loc::current()) {
    while (!pred()) wait(lk);
  }
  template <class Rep, class Period>
  std::cv_status wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>& d,
                          loc = loc::current()) {
    return wait_until(lk, detail::saturating_deadline<virtual_clock>(d));
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(lock_type& lk, const std::chrono::duration<Rep, Period>& d, Pred pred,
                loc = loc::current()) {
    return wait_until(lk, detail::saturating_deadline<virtual_clock>(d), pred);
  }
  template <class C, class Dur>
  std::cv_status wait_until(lock_type&, const std::chrono::time_point<C, Dur>& t,
                            loc = loc::current()) {
    static_assert(std::is_same_v<C, virtual_clock>,
                  "impl passed a deadline on another clock than Sync::clock");
    std::lock_guard<std::mutex> g(recorded_mu);
    recorded_deadlines().push_back(t);
    return std::cv_status::timeout;
  }
  template <class C, class Dur, class Pred>
  bool wait_until(lock_type& lk, const std::chrono::time_point<C, Dur>& t, Pred pred,
                  loc = loc::current()) {
    if (pred()) return true;
    wait_until(lk, t);
    return pred();
  }

 private:
  detail::std_condition_variable<std::chrono::steady_clock> real_;
};

struct virtual_sync : std_sync {
  static constexpr const char* name = "virtual-time";
  using clock = virtual_clock;
  using condition_variable = recording_condition_variable;
};
static_assert(SyncBackend<virtual_sync>);

const auto v_now = virtual_clock::now();
const auto v_max = virtual_clock::time_point::max();

virtual_clock::time_point last_deadline() {
  std::lock_guard<std::mutex> g(recorded_mu);
  return recorded_deadlines().empty() ? virtual_clock::time_point::min()
                                      : recorded_deadlines().back();
}

TEST(BackendClock, event_waits_on_the_backends_clock) {
  Event<virtual_sync> ev;
  EXPECT_FALSE(ev.wait_for(5s));
  EXPECT_EQ(last_deadline(), v_now + 5s);
  EXPECT_FALSE(
      ev.wait_for(std::chrono::hours::max()));  // the virtual clock says the deadline passed
  EXPECT_EQ(last_deadline(), v_max);
}

TEST(BackendClock, queue_waits_on_the_backends_clock) {
  Queue<int, virtual_sync> q(1);
  EXPECT_EQ(q.get_for(7s), std::nullopt);
  EXPECT_EQ(last_deadline(), v_now + 7s);
  EXPECT_EQ(q.get_for(std::chrono::nanoseconds::max()), std::nullopt);
  EXPECT_EQ(last_deadline(), v_max);
  ASSERT_TRUE(q.try_put(1));
  EXPECT_FALSE(q.put_for(2, std::chrono::hours::max()));
  EXPECT_EQ(last_deadline(), v_max);
}

TEST(BackendClock, barrier_waits_on_the_backends_clock) {
  Barrier<virtual_sync> b(2);
  EXPECT_THROW(b.wait_for(std::chrono::hours::max()), BrokenBarrierError);
  EXPECT_EQ(last_deadline(), v_max);
  b.reset();
  EXPECT_THROW(b.wait_for(3s), BrokenBarrierError);
  EXPECT_EQ(last_deadline(), v_now + 3s);
}

TEST(BackendClock, futures_wait_on_the_backends_clock) {
  Promise<int, virtual_sync> p;
  auto f = p.get_future();
  EXPECT_FALSE(f.wait_for(2s));
  EXPECT_EQ(last_deadline(), v_now + 2s);
  EXPECT_FALSE(f.wait_for(std::chrono::hours::max()));
  EXPECT_EQ(last_deadline(), v_max);
  EXPECT_FALSE(f.wait_until(v_now + 9s));
  EXPECT_EQ(last_deadline(), v_now + 9s);

  std::vector<Future<int, virtual_sync>> fs{f};
  auto range = as_completed(fs, 4s);
  EXPECT_THROW(range.next(), TimeoutError);
  EXPECT_EQ(last_deadline(), v_now + 4s);
  EXPECT_EQ(wait(fs, ALL_COMPLETED, std::chrono::hours::max()).not_done.size(), 1u);
  EXPECT_EQ(last_deadline(), v_max);
  p.set_value(1);
}

TEST(BackendClock, pool_map_and_thread_join_wait_on_the_backends_clock) {
  Event<> release;  // real time: the task waits until the test lets it go
  {
    ThreadPool<virtual_sync> pool(1);
    EXPECT_THROW(pool.map(
                         [&](int x) {
                           release.wait();
                           return x;
                         },
                         std::vector<int>{1}, 6s)
                     .to_vector(),
                 TimeoutError);
    EXPECT_EQ(last_deadline(), v_now + 6s);
    release.set();
  }
  ThreadRegistry<virtual_sync> reg;
  Event<> go;
  Thread<virtual_sync> t(reg, [&] { go.wait(); });
  t.start();
  EXPECT_FALSE(t.join_for(std::chrono::hours::max()));
  EXPECT_EQ(last_deadline(), v_max);
  go.set();
  t.join();
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("unit")
