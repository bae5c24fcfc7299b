// models/dpor/dpor_unit.cpp — the checker checks itself.
//
// Closed-form trace counts (a DPOR that drops or repeats traces fails them),
// every verdict on a program built to produce it, replay and divergence, and
// a differential test against naive enumeration on random small programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dpor_sync.hpp"
#include "explorer.hpp"
#include "interleave/barrier.hpp"
#include "interleave/counter.hpp"
#include "interleave/queue.hpp"
#include "interleave/interleavings.hpp"
#include "interleave/thread.hpp"
#include "testkit.hpp"

namespace interleave {
namespace {

using dpor::Mode;
using dpor::Options;
using dpor::Result;
using dpor::Verdict;
using S = dpor_sync;

std::uint64_t binomial(unsigned n, unsigned k) {
  std::uint64_t r = 1;
  for (unsigned i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}
std::uint64_t factorial(unsigned n) { return n <= 1 ? 1 : n * factorial(n - 1); }

Options mode(Mode m) {
  Options o;
  o.mode = m;
  return o;
}

// `threads` threads, each `n` increments of Counter, joined, then checked.
template <template <class> class Counter>
Result counter_run(unsigned threads, unsigned n, const Options& o, bool check_exact = true) {
  return dpor::explore(
      [=] {
        Counter<S> c;
        std::vector<S::thread> ts;
        for (unsigned t = 0; t < threads; ++t)
          ts.emplace_back([&c, n] {
            for (unsigned i = 0; i < n; ++i) c.increment();
          });
        for (auto& t : ts) t.join();
        if (check_exact)
          S::model_check(c.value() == static_cast<long>(threads * n), "no increment is lost");
      },
      o);
}

TEST(DporCounts, two_threads_times_n_locked_increments_explore_binomial_2n_n) {
  for (unsigned n = 1; n <= 5; ++n) {
    const Result r = counter_run<LockedCounter>(2, n, {});
    EXPECT_EQ(r.verdict, Verdict::holds) << r.detail;
    EXPECT_TRUE(r.exhaustive);
    EXPECT_EQ(r.executions, binomial(2 * n, n)) << "n=" << n << ": " << r.summary();
    std::printf("locked counter 2x%u: %s\n", n, r.summary().c_str());
    Options hi;
    hi.prefer_highest = true;
    EXPECT_EQ(counter_run<LockedCounter>(2, n, hi).executions, binomial(2 * n, n))
        << "highest-first, n=" << n;
  }
}

TEST(DporCounts, n_threads_one_locked_increment_each_explore_n_factorial) {
  for (unsigned n = 2; n <= 5; ++n) {
    const Result r = counter_run<LockedCounter>(n, 1, {});
    EXPECT_EQ(r.verdict, Verdict::holds) << r.detail;
    EXPECT_EQ(r.executions, factorial(n)) << "n=" << n << ": " << r.summary();
    Options hi;
    hi.prefer_highest = true;
    EXPECT_EQ(counter_run<LockedCounter>(n, 1, hi).executions, factorial(n))
        << "highest-first, n=" << n;
    std::printf("locked counter %ux1: %s\n", n, r.summary().c_str());
  }
}

TEST(DporCounts, independent_threads_explore_one_execution) {
  const Result r = dpor::explore([] {
    LockedCounter<S> a, b, c;
    S::atomic<int> x{0};
    S::thread t1([&] {
      a.increment();
      a.increment();
    });
    S::thread t2([&] { b.increment(); });
    S::thread t3([&] {
      c.increment();
      x.store(1);
    });
    t1.join();
    t2.join();
    t3.join();
  });
  EXPECT_EQ(r.verdict, Verdict::holds) << r.detail;
  EXPECT_EQ(r.executions, 1u) << r.summary();
  EXPECT_EQ(r.blocked, 0u);
}

TEST(DporCounts, naive_enumeration_agrees_on_small_counters) {
  // 2x2 locked: naive enumerates every interleaving of the lock/unlock steps
  // and start/join steps; DPOR one per order of critical sections.
  const Result naive = counter_run<LockedCounter>(2, 2, mode(Mode::naive));
  const Result dp = counter_run<LockedCounter>(2, 2, {});
  EXPECT_EQ(naive.verdict, Verdict::holds);
  EXPECT_GT(naive.executions, dp.executions);
  EXPECT_EQ(dp.executions, 6u);
  std::printf("locked counter 2x2: naive %llu executions, DPOR %llu\n",
              static_cast<unsigned long long>(naive.executions),
              static_cast<unsigned long long>(dp.executions));
}

// The seed's Obi-Wan/Anakin stream: 4 + 3 lines printed on one locked log.
TEST(DporCounts, obi_wan_and_anakin_lines_explore_exactly_the_35_merges) {
  std::set<long> masks;
  unsigned not_merge = 0;
  long last = -2;
  Options o;
  o.on_execution = [&](Verdict) {
    if (last == -1)
      ++not_merge;
    else
      masks.insert(last);
  };
  const Result r = dpor::explore(
      [&] {
        LineLog<S> out;
        S::thread obi([&] {
          for (int i = 0; i < 4; ++i) {
            out.print(hello_line("Obi-Wan", i));
            S::sleep_for(std::chrono::milliseconds(1));
          }
        });
        S::thread ani([&] {
          for (int i = 0; i < 3; ++i) {
            out.print(hello_line("Anakin", i));
            S::sleep_for(std::chrono::milliseconds(1));
          }
        });
        obi.join();
        ani.join();
        last = merge_mask(out.lines());
      },
      o);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.detail;
  EXPECT_EQ(r.executions, 35u) << r.summary();
  EXPECT_EQ(not_merge, 0u);
  EXPECT_EQ(masks.size(), 35u);
  std::printf("Obi-Wan/Anakin on LineLog: %s, %zu distinct merges\n", r.summary().c_str(),
              masks.size());
}

// The same program through the seed's ThreadRegistry (starwars()): the
// registry's own mutex adds critical sections (start, current_thread, the
// state changes, join) whose orders are further traces.
TEST(DporCounts, starwars_through_the_thread_registry_sees_every_merge) {
  std::set<long> masks;
  unsigned not_merge = 0;
  long last = -2;
  Options o;
  o.on_execution = [&](Verdict) {
    if (last == -1)
      ++not_merge;
    else
      masks.insert(last);
  };
  auto body = [&] {
    ThreadRegistry<S> reg;
    LineLog<S> out;
    starwars(reg, out, [] { S::sleep_for(std::chrono::milliseconds(1)); });
    last = merge_mask(out.lines());
  };
  const Result r = dpor::explore(body, o);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.detail;
  EXPECT_TRUE(r.exhaustive);
  EXPECT_EQ(not_merge, 0u);
  EXPECT_EQ(masks.size(), 35u);
  std::printf("starwars() with ThreadRegistry: %s, %zu distinct merges\n", r.summary().c_str(),
              masks.size());
  // The same traces whichever thread each new node tries first.
  o.prefer_highest = true;
  const Result other = dpor::explore(body, o);
  EXPECT_EQ(other.executions, r.executions) << other.summary();
}

// The impl's own blocking primitives, exact condition-variable semantics
// with spurious wake-ups off (their bare waits sit in predicate loops): the
// counts of the enumeration in the project's explorer brief.
TEST(DporCounts, unbounded_queue_one_producer_one_consumer_n_items_explore_binomial_2n_n) {
  Options o;
  o.spurious_wakeups = false;
  for (int n = 1; n <= 5; ++n) {
    const Result r = dpor::explore(
        [n] {
          Queue<int, S> q;
          std::vector<int> got;
          S::thread p([&] {
            for (int i = 1; i <= n; ++i) q.put(i);
          });
          S::thread c([&] {
            for (int i = 0; i < n; ++i) got.push_back(q.get());
          });
          p.join();
          c.join();
          for (int i = 0; i < n; ++i)
            S::model_check(got[static_cast<std::size_t>(i)] == i + 1, "FIFO");
        },
        o);
    EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
    EXPECT_EQ(r.executions, binomial(2 * static_cast<unsigned>(n), static_cast<unsigned>(n)))
        << "n=" << n << ": " << r.summary();
  }
}

TEST(DporCounts, three_party_barrier_explores_12_per_round_and_360_reused_twice) {
  Options o;
  o.spurious_wakeups = false;
  const std::uint64_t expected[] = {12, 360};
  for (int rounds = 1; rounds <= 2; ++rounds) {
    const Result r = dpor::explore(
        [rounds] {
          Barrier<S> b{3};
          auto party = [&] {
            for (int g = 0; g < rounds; ++g) b.wait();
          };
          S::thread t1(party), t2(party), t3(party);
          t1.join();
          t2.join();
          t3.join();
        },
        o);
    EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
    EXPECT_EQ(r.executions, expected[rounds - 1]) << "rounds=" << rounds << ": " << r.summary();
    std::printf("barrier 3 parties x %d: %s\n", rounds, r.summary().c_str());
  }
}

TEST(DporCounts, relaxed_atomic_counter_two_by_five) {
  // Each fetch_add is one RMW on one atomic: every pair is dependent, so the
  // traces are the orders of the ten RMWs: C(10,5) = 252.
  const Result r = counter_run<AtomicCounter>(2, 5, {});
  EXPECT_EQ(r.verdict, Verdict::holds) << r.detail;
  EXPECT_EQ(r.executions, 252u) << r.summary();
  std::printf("atomic (relaxed fetch_add) counter 2x5: %s\n", r.summary().c_str());
}

TEST(DporCounts, relaxed_racy_counter_loses_updates_and_dpor_agrees_with_naive) {
  // load + store per increment, 2 threads x 2: DPOR and naive reach the same
  // final values; the lost update is among them.
  auto outcomes = [](Mode m, Result& r) {
    std::set<long> finals;
    long last = -1;
    Options o = mode(m);
    o.on_execution = [&](Verdict) { finals.insert(last); };
    r = dpor::explore(
        [&] {
          RelaxedRacyCounter<S> c;
          S::thread a([&] {
            c.increment();
            c.increment();
          });
          S::thread b([&] {
            c.increment();
            c.increment();
          });
          a.join();
          b.join();
          last = c.value();
        },
        o);
    return finals;
  };
  Result rd, rn;
  const auto d = outcomes(Mode::dpor, rd), n = outcomes(Mode::naive, rn);
  EXPECT_EQ(d, n);
  EXPECT_TRUE(d.count(2) == 1 && d.count(4) == 1);
  std::printf(
      "relaxed racy counter 2x2: DPOR %llu executions (+%llu blocked), naive %llu, finals %zu\n",
      static_cast<unsigned long long>(rd.executions), static_cast<unsigned long long>(rd.blocked),
      static_cast<unsigned long long>(rn.executions), d.size());
  const Result r5 = counter_run<RelaxedRacyCounter>(2, 5, {}, false);
  std::printf("relaxed racy counter 2x5: %s\n", r5.summary().c_str());
  EXPECT_TRUE(r5.exhaustive);
}

// ---------------------------------------------------------------- verdicts

TEST(DporVerdicts, plain_var_counter_is_a_data_race_naming_both_lines) {
  const Result r = counter_run<RacyCounter>(2, 1, {});
  ASSERT_EQ(r.verdict, Verdict::data_race) << r.summary();
  EXPECT_NE(r.detail.find("counter.hpp"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("T1"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("T2"), std::string::npos) << r.detail;
  std::printf("%s\n", r.summary().c_str());
}

TEST(DporVerdicts, relaxed_publication_of_a_var_is_a_data_race) {
  auto publish = [](std::memory_order store_order, std::memory_order load_order) {
    return dpor::explore([=] {
      S::var<int> data{0};
      S::atomic<bool> ready{false};
      S::thread w([&] {
        data.store(42);
        ready.store(true, store_order);
      });
      S::thread r([&] {
        if (ready.load(load_order)) S::model_check(data.load() == 42, "published data is seen");
      });
      w.join();
      r.join();
    });
  };
  const Result relaxed = publish(std::memory_order_relaxed, std::memory_order_relaxed);
  EXPECT_EQ(relaxed.verdict, Verdict::data_race) << relaxed.summary();
  const Result ok = publish(std::memory_order_release, std::memory_order_acquire);
  EXPECT_EQ(ok.verdict, Verdict::holds) << ok.summary();
}

TEST(DporVerdicts, lock_order_inversion_is_a_deadlock_naming_each_thread_and_its_locks) {
  const Result r = dpor::explore([] {
    S::mutex a, b;
    S::thread t1([&] {
      std::unique_lock<S::mutex> x(a);
      std::unique_lock<S::mutex> y(b);
    });
    S::thread t2([&] {
      std::unique_lock<S::mutex> y(b);
      std::unique_lock<S::mutex> x(a);
    });
    t1.join();
    t2.join();
  });
  ASSERT_EQ(r.verdict, Verdict::deadlock) << r.summary();
  EXPECT_NE(r.detail.find("T1 blocked in lock mutex#1"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("T2 blocked in lock mutex#0"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("holding mutex#0"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("T0 blocked in join of T1"), std::string::npos) << r.detail;
  std::printf("%s\n%s", r.summary().c_str(), r.listing.c_str());
}

// The report a person reads: both accesses of a race, as steps of the
// execution, with the steps between them; each blocked thread of a deadlock
// with the locks it holds; a failed check at its step.
TEST(DporReport, a_data_race_names_both_accesses_and_their_steps) {
  const Result r = counter_run<RacyCounter>(2, 1, {});
  ASSERT_EQ(r.verdict, Verdict::data_race) << r.summary();
  const dpor::Report& rep = r.report;
  ASSERT_EQ(rep.race.size(), 2u);
  const dpor::ReportAccess &first = rep.race[0], &second = rep.race[1];
  EXPECT_NE(first.tid, second.tid);
  EXPECT_TRUE(first.op.rfind("write var#", 0) == 0 || second.op.rfind("write var#", 0) == 0)
      << first.op << " / " << second.op;
  EXPECT_NE(std::string(first.loc.file_name()).find("counter.hpp"), std::string::npos);
  EXPECT_NE(std::string(second.loc.file_name()).find("counter.hpp"), std::string::npos);
  ASSERT_GE(first.step, 0);
  ASSERT_GT(second.step, first.step);
  ASSERT_LT(static_cast<std::size_t>(second.step), rep.steps.size());
  // the steps the indices name are those accesses
  EXPECT_EQ(rep.steps[static_cast<std::size_t>(first.step)].op, first.op);
  EXPECT_EQ(rep.steps[static_cast<std::size_t>(first.step)].tid, first.tid);
  EXPECT_EQ(rep.steps[static_cast<std::size_t>(second.step)].op, second.op);
  EXPECT_EQ(rep.steps[static_cast<std::size_t>(second.step)].loc.line(), second.loc.line());
  EXPECT_EQ(dpor::thread_name(0), "main");
  EXPECT_EQ(dpor::thread_name(1), "T0");
}

TEST(DporReport, a_deadlock_names_each_blocked_thread_its_operation_and_the_lock_it_holds) {
  const Result r = dpor::explore([] {
    S::mutex a, b;
    S::thread t1([&] {
      std::unique_lock<S::mutex> x(a);
      std::unique_lock<S::mutex> y(b);
    });
    S::thread t2([&] {
      std::unique_lock<S::mutex> y(b);
      std::unique_lock<S::mutex> x(a);
    });
    t1.join();
    t2.join();
  });
  ASSERT_EQ(r.verdict, Verdict::deadlock) << r.summary();
  std::set<std::string> seen;
  for (const dpor::ReportBlocked& b : r.report.blocked) {
    if (b.tid == 0) continue;  // the body, joining
    EXPECT_EQ(b.op.rfind("lock mutex#", 0), 0u) << b.op;
    EXPECT_NE(b.op.find("(owned by T"), std::string::npos) << b.op;
    ASSERT_EQ(b.held.size(), 1u) << b.op;
    EXPECT_NE(b.held[0].find("locked at "), std::string::npos) << b.held[0];
    seen.insert(dpor::thread_name(b.tid));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"T0", "T1"}));
}

TEST(DporReport, a_failed_check_is_kept_at_its_step) {
  const Result r = counter_run<RelaxedRacyCounter>(2, 1, mode(Mode::dpor));
  ASSERT_EQ(r.verdict, Verdict::assertion) << r.summary();
  EXPECT_GE(r.report.check_step, 4);  // two loads and two stores come first
  EXPECT_EQ(r.report.check_tid, 0u);  // the body checks, after the joins
  EXPECT_NE(std::string(r.report.check.file_name()).find("dpor_unit.cpp"), std::string::npos);
}

TEST(DporVerdicts, wait_without_a_predicate_loses_an_early_notify) {
  Options o;
  o.spurious_wakeups = false;
  const Result r = dpor::explore(
      [] {
        S::mutex m;
        S::condition_variable cv;
        S::thread waiter([&] {
          std::unique_lock<S::mutex> lk(m);
          cv.wait(lk);
        });
        S::thread notifier([&] {
          std::unique_lock<S::mutex> lk(m);
          cv.notify_one();
        });
        waiter.join();
        notifier.join();
      },
      o);
  ASSERT_EQ(r.verdict, Verdict::lost_wakeup) << r.summary();
  EXPECT_NE(r.detail.find("while no thread waited"), std::string::npos) << r.detail;
}

TEST(DporVerdicts, the_fixed_wait_with_a_predicate_holds) {
  const Result r = dpor::explore([] {
    S::mutex m;
    S::condition_variable cv;
    S::var<bool> ready{false};
    S::thread waiter([&] {
      std::unique_lock<S::mutex> lk(m);
      cv.wait(lk, [&] { return ready.load(); });
    });
    S::thread notifier([&] {
      std::unique_lock<S::mutex> lk(m);
      ready.store(true);
      cv.notify_one();
    });
    waiter.join();
    notifier.join();
  });
  EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
  EXPECT_TRUE(r.exhaustive);
  std::printf("predicate wait: %s\n", r.summary().c_str());
}

// A setter that forgets to notify: the waiter can block for ever with its
// predicate true (waited before the set). Exact semantics finds it; await
// mode, by construction, cannot.
void set_without_notify() {
  S::mutex m;
  S::condition_variable cv;
  S::var<bool> ready{false};
  S::thread waiter([&] {
    std::unique_lock<S::mutex> lk(m);
    cv.wait(lk, [&] { return ready.load(); });
  });
  S::thread setter([&] {
    std::unique_lock<S::mutex> lk(m);
    ready.store(true);
  });
  waiter.join();
  setter.join();
}

TEST(DporAwait, exact_mode_finds_the_missing_notify_await_mode_cannot_and_says_which) {
  const Result exact = dpor::explore(set_without_notify);
  EXPECT_EQ(exact.verdict, Verdict::deadlock) << exact.summary();
  EXPECT_NE(exact.summary().find("DPOR exact"), std::string::npos) << exact.summary();
  Options o;
  o.await_mode = true;
  const Result await = dpor::explore(set_without_notify, o);
  EXPECT_EQ(await.verdict, Verdict::holds) << await.summary();
  EXPECT_TRUE(await.exhaustive);
  EXPECT_EQ(await.summary().rfind("holds: DPOR await exhaustive", 0), 0u) << await.summary();
}

TEST(DporAwait, a_waiter_whose_predicate_never_holds_is_a_deadlock_naming_its_wait) {
  Options o;
  o.await_mode = true;
  const Result r = dpor::explore(
      [] {
        S::mutex m;
        S::condition_variable cv;
        S::atomic<int> n{0};
        S::thread waiter([&] {
          std::unique_lock<S::mutex> lk(m);
          cv.wait(lk, [&] { return n.load() == 2; });
        });
        S::thread adder([&] {
          std::unique_lock<S::mutex> lk(m);
          n.store(1);
          cv.notify_all();
        });
        waiter.join();
        adder.join();
      },
      o);
  ASSERT_EQ(r.verdict, Verdict::deadlock) << r.summary();
  EXPECT_NE(r.detail.find("blocked in await"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("its predicate false"), std::string::npos) << r.detail;
}

TEST(DporAwait, a_predicate_that_writes_is_refused_by_name) {
  Options o;
  o.await_mode = true;
  const Result r = dpor::explore(
      [] {
        S::mutex m;
        S::condition_variable cv;
        S::var<int> calls{0};
        S::atomic<bool> ready{false};
        S::thread waiter([&] {
          std::unique_lock<S::mutex> lk(m);
          cv.wait(lk, [&] {
            calls.store(calls.load() + 1);
            return ready.load();
          });
        });
        S::thread setter([&] {
          std::unique_lock<S::mutex> lk(m);
          ready.store(true);
          cv.notify_one();
        });
        waiter.join();
        setter.join();
      },
      o);
  ASSERT_EQ(r.verdict, Verdict::uncaught_exception) << r.summary();
  EXPECT_NE(r.detail.find("a wait predicate writes var#"), std::string::npos) << r.detail;
}

// The impl's primitives wait with predicates: await mode reaches the same
// outcomes (each model's checks) with no more traces than exact mode.
TEST(DporAwait, impl_primitives_hold_under_both_modes_and_await_never_explores_more) {
  auto queue = [] {
    Queue<int, S> q{1};
    int got[3] = {};
    S::thread p([&] {
      for (int i = 1; i <= 3; ++i) q.put(i);
    });
    S::thread c([&] {
      for (int& g : got) g = q.get();
    });
    p.join();
    c.join();
    for (int i = 0; i < 3; ++i) S::model_check(got[i] == i + 1, "fifo");
  };
  auto barrier = [] {
    Barrier<S> b{3};
    S::thread t1([&] { b.wait(), b.wait(); });
    S::thread t2([&] { b.wait(), b.wait(); });
    S::thread t3([&] { b.wait(), b.wait(); });
    t1.join(), t2.join(), t3.join();
  };
  for (const auto& body : {std::function<void()>(queue), std::function<void()>(barrier)}) {
    Options o;
    const Result exact = dpor::explore(body, o);
    o.await_mode = true;
    const Result await = dpor::explore(body, o);
    EXPECT_EQ(exact.verdict, Verdict::holds) << exact.summary();
    EXPECT_EQ(await.verdict, Verdict::holds) << await.summary();
    EXPECT_TRUE(exact.exhaustive && await.exhaustive);
    EXPECT_LE(await.executions, exact.executions);
    std::printf("exact: %s | await: %s\n", exact.summary().c_str(), await.summary().c_str());
  }
}

// Await mode counts only the critical sections that pass their predicate:
// one producer, one consumer, N items through Queue. Unbounded: each get
// after its put, the orders of 2N sections with every prefix holding at
// least as many puts: Catalan(N). Capacity 1: strict alternation, 1.
// Capacity 2: 2^(N-1) (the explorer brief's 1 / 512 / 16,796 at N = 10).
TEST(DporAwait, queue_one_producer_one_consumer_explores_catalan_one_and_powers_of_two) {
  auto run = [](long cap, int n) {
    Options o;
    o.await_mode = true;
    return dpor::explore(
        [cap, n] {
          Queue<int, S> q{cap};
          int got[10] = {};
          S::thread p([&] {
            for (int i = 1; i <= n; ++i) q.put(i);
          });
          S::thread c([&] {
            for (int i = 0; i < n; ++i) got[i] = q.get();
          });
          p.join();
          c.join();
          for (int i = 0; i < n; ++i) S::model_check(got[i] == i + 1, "fifo");
        },
        o);
  };
  const std::uint64_t catalan[] = {1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862, 16796};
  for (int n = 1; n <= 7; ++n) {
    const Result unbounded = run(0, n), cap1 = run(1, n), cap2 = run(2, n);
    for (const Result* r : {&unbounded, &cap1, &cap2}) {
      EXPECT_EQ(r->verdict, Verdict::holds) << r->summary();
      EXPECT_TRUE(r->exhaustive);
    }
    EXPECT_EQ(unbounded.executions, catalan[n]) << n << " items";
    EXPECT_EQ(cap1.executions, 1u) << n << " items";
    EXPECT_EQ(cap2.executions, std::uint64_t{1} << (n - 1)) << n << " items";
  }
  const Result ten = run(2, 10);
  EXPECT_EQ(ten.executions, 512u) << ten.summary();
  std::printf("queue 1p1c, 10 items, capacity 2, await: %s\n", ten.summary().c_str());
}

TEST(DporVerdicts, notify_one_may_wake_either_waiter) {
  std::set<std::pair<int, int>> seen;  // (first to register, woken by the token)
  int first = -1, woken = -1;
  Options o;
  o.on_execution = [&](Verdict v) {
    if (v == Verdict::holds) seen.insert({first, woken});
  };
  const Result r = dpor::explore(
      [&] {
        S::mutex m;
        S::condition_variable cv, registered;
        int waiting = 0, tokens = 0;
        bool done = false;
        first = woken = -1;
        auto waiter = [&](int me) {
          std::unique_lock<S::mutex> lk(m);
          if (first < 0) first = me;
          ++waiting;
          registered.notify_one();
          cv.wait(lk, [&] { return tokens > 0 || done; });
          if (tokens > 0) {
            woken = me;
            --tokens;
          }
        };
        S::thread a([&] { waiter(1); });
        S::thread b([&] { waiter(2); });
        {
          std::unique_lock<S::mutex> lk(m);
          registered.wait(lk, [&] { return waiting == 2; });
          tokens = 1;
          cv.notify_one();
        }
        {
          std::unique_lock<S::mutex> lk(m);
          done = true;
          cv.notify_all();
        }
        a.join();
        b.join();
      },
      o);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
  // The later registrant can be the one woken: notify_one is not FIFO here.
  EXPECT_EQ(seen.count({1, 2}), 1u);
  EXPECT_EQ(seen.count({2, 1}), 1u);
  EXPECT_EQ(seen.count({1, 1}), 1u);
  EXPECT_EQ(seen.count({2, 2}), 1u);
  std::printf("notify_one with two waiters: %s, %zu (first, woken) pairs\n", r.summary().c_str(),
              seen.size());
}

// A waiter with a timed wait and a notifier: exploring must reach both the
// timeout and the notified wake-up. `prefer_highest` tries the notifier first;
// the timeout before the notifier takes the mutex must be found then too (the
// race reversed is then the notifier's lock, not its notify, at which the
// waiter cannot relock).
Result explore_timed_wait(bool prefer_highest, std::set<bool>& results) {
  bool last = false;
  Options o;
  o.prefer_highest = prefer_highest;
  o.on_execution = [&](Verdict) { results.insert(last); };
  return dpor::explore(
      [&] {
        S::mutex m;
        S::condition_variable cv;
        bool ready = false;
        S::thread notifier([&] {
          std::unique_lock<S::mutex> lk(m);
          ready = true;
          cv.notify_one();
        });
        {
          std::unique_lock<S::mutex> lk(m);
          last = cv.wait_for(lk, std::chrono::seconds(10), [&] { return ready; });
        }
        notifier.join();
      },
      o);
}

TEST(DporVerdicts, a_timed_wait_explores_both_timeout_and_notify) {
  std::set<bool> results;
  const Result r = explore_timed_wait(/*prefer_highest=*/false, results);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
  EXPECT_EQ(results, (std::set<bool>{false, true}));
  std::printf("timed wait: %s\n", r.summary().c_str());
}

TEST(DporVerdicts, a_timed_wait_explores_the_timeout_whichever_thread_goes_first) {
  std::set<bool> results;
  const Result r = explore_timed_wait(/*prefer_highest=*/true, results);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
  EXPECT_EQ(results, (std::set<bool>{false, true}));
}

TEST(DporVerdicts, a_spin_without_yield_hits_the_step_cap_as_a_possible_livelock) {
  Options o;
  o.step_cap = 500;
  const Result r = dpor::explore(
      [] {
        S::atomic<bool> flag{false};
        S::thread spinner([&] {
          while (!flag.load()) {
          }
        });
        spinner.join();  // nobody ever sets the flag
      },
      o);
  ASSERT_EQ(r.verdict, Verdict::livelock) << r.summary();
  EXPECT_NE(r.detail.find("possible livelock: 500 steps"), std::string::npos) << r.detail;
}

TEST(DporVerdicts, a_yielding_spin_that_nobody_ends_is_a_livelock) {
  Options o;
  o.spin_reduction = true;
  const Result r = dpor::explore(
      [] {
        S::atomic<bool> flag{false};
        S::thread spinner([&] {
          while (!flag.load()) S::yield();
        });
        spinner.join();
      },
      o);
  ASSERT_EQ(r.verdict, Verdict::livelock) << r.summary();
  EXPECT_NE(r.detail.find("T1 spins on atomic#0"), std::string::npos) << r.detail;
}

TEST(DporVerdicts, a_yielding_spin_wait_has_finitely_many_traces_and_holds) {
  Options o;
  o.spin_reduction = true;
  const Result r = dpor::explore(
      [] {
        S::atomic<bool> flag{false};
        S::var<int> data{0};
        S::thread spinner([&] {
          while (!flag.load(std::memory_order_acquire)) S::yield();
          S::model_check(data.load() == 1, "the flag publishes the data");
        });
        S::thread setter([&] {
          data.store(1);
          flag.store(true, std::memory_order_release);
        });
        spinner.join();
        setter.join();
      },
      o);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
  EXPECT_TRUE(r.exhaustive);
  EXPECT_EQ(r.executions, 2u) << r.summary();  // the spinner reads false once, or not at all
  std::printf("yielding spin-wait: %s\n", r.summary().c_str());
}

TEST(DporVerdicts, a_deadlock_unwinds_every_fiber) {
  static int alive = 0;
  struct Guard {
    Guard() { ++alive; }
    ~Guard() { --alive; }
  };
  const Result r = dpor::explore([] {
    Guard g0;
    S::mutex a, b;
    S::thread t1([&] {
      Guard g;
      std::unique_lock<S::mutex> x(a);
      std::unique_lock<S::mutex> y(b);
    });
    S::thread t2([&] {
      Guard g;
      std::unique_lock<S::mutex> y(b);
      std::unique_lock<S::mutex> x(a);
    });
    t1.join();
    t2.join();
  });
  EXPECT_EQ(r.verdict, Verdict::deadlock);
  EXPECT_EQ(alive, 0) << "a fiber was left suspended with live objects";
  EXPECT_EQ(r.abandoned, 0u);
}

// A destructor that joins (Thread's does) cannot finish while its execution
// is unwound: the fiber is given up, not spun on, and the search goes on.
TEST(DporVerdicts, a_deadlock_under_a_joining_destructor_still_ends_the_execution) {
  const Result r = dpor::explore([] {
    ThreadRegistry<S> reg;
    S::mutex m;
    std::unique_lock<S::mutex> held(m);
    Thread<S> t(reg, [&] { std::unique_lock<S::mutex> lk(m); }, "locker");
    t.start();
    t.join();  // holds m: the target can never take it
  });
  ASSERT_EQ(r.verdict, Verdict::deadlock) << r.summary();
  EXPECT_NE(r.detail.find("T1 blocked in lock"), std::string::npos) << r.detail;
  std::printf("%s; %llu fiber(s) given up while unwinding\n", r.summary().c_str(),
              static_cast<unsigned long long>(r.abandoned));
}

TEST(DporVerdicts, request_stop_happens_before_the_stop_it_is_seen_by) {
  Options o;
  o.spin_reduction = true;  // the worker polls its token with yield()
  const Result r = dpor::explore(
      [] {
        S::var<int> data{0};
        {
          S::jthread worker([&](S::stop_token tok) {
            while (!tok.stop_requested()) S::yield();
            S::model_check(data.load() == 7, "written before request_stop, read after seeing it");
          });
          data.store(7);
        }  // ~jthread: request_stop, join
        S::model_check(data.load() == 7, "joined");
      },
      o);
  EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
  EXPECT_TRUE(r.exhaustive);
  std::printf("jthread stop: %s\n", r.summary().c_str());

  // The broken twin: data written after request_stop races with the worker.
  const Result twin = dpor::explore(
      [] {
        S::var<int> data{0};
        S::jthread worker([&](S::stop_token tok) {
          while (!tok.stop_requested()) S::yield();
          (void)data.load();
        });
        worker.request_stop();
        data.store(7);
      },
      o);
  EXPECT_EQ(twin.verdict, Verdict::data_race) << twin.summary();
}

TEST(DporVerdicts, thread_index_is_per_fiber) {
  std::set<std::size_t> ids;
  const Result r = dpor::explore([&] {
    ids.insert(S::thread_index());
    S::thread a([&] { ids.insert(S::thread_index()); });
    S::thread b([&] {
      S::yield();
      ids.insert(S::thread_index());
    });
    a.join();
    b.join();
  });
  EXPECT_EQ(r.verdict, Verdict::holds);
  EXPECT_EQ(ids, (std::set<std::size_t>{0, 1, 2}));
}

// ------------------------------------------- bounds, replay, budgets

void racy_pair() {
  RelaxedRacyCounter<S> c;
  S::thread a([&] { c.increment(); });
  S::thread b([&] { c.increment(); });
  a.join();
  b.join();
  S::model_check(c.value() == 2, "no increment is lost");
}

TEST(DporReplay, lost_update_is_found_with_the_fewest_preemptions_and_replays) {
  const Result r = dpor::find_failure(racy_pair);
  ASSERT_EQ(r.verdict, Verdict::assertion) << r.summary();
  EXPECT_EQ(r.preemptions, 1u) << r.listing;  // a read, a switch, the other's read
  EXPECT_EQ(r.preemption_bound, 1);
  EXPECT_NE(r.listing.find("counter.hpp"), std::string::npos) << r.listing;
  std::printf("%s\n%s  token %s\n", r.summary().c_str(), r.listing.c_str(), r.token.c_str());

  const Result again = dpor::replay(racy_pair, r.token);
  EXPECT_EQ(again.verdict, Verdict::assertion) << again.summary();
  EXPECT_EQ(again.listing, r.listing);

  // A token that does not match the program says where it diverged.
  std::string bad = r.token;
  const std::size_t t = bad.find('t', 6);
  ASSERT_NE(t, std::string::npos);
  bad[t + 1] = bad[t + 1] == '1' ? '2' : '1';
  const Result diverged = dpor::replay(racy_pair, bad);
  EXPECT_EQ(diverged.verdict, Verdict::nondeterminism) << diverged.summary();
  EXPECT_NE(diverged.detail.find("diverged at decision"), std::string::npos) << diverged.detail;
  EXPECT_THROW(dpor::replay(racy_pair, "relacy:1:2"), std::invalid_argument);
}

TEST(DporReplay, a_budget_says_bounded_never_proved) {
  Options o;
  o.max_executions = 10;
  const Result r = counter_run<LockedCounter>(2, 5, o);
  EXPECT_TRUE(r.bounded_by_budget);
  EXPECT_FALSE(r.exhaustive);
  EXPECT_EQ(r.executions, 10u);
  EXPECT_EQ(r.summary().rfind("bounded by budget, 10 executions", 0), 0u) << r.summary();
}

// Sharding splits the search tree: the complete executions of the shards,
// as a multiset of traces, are exactly the unsharded search's, so their
// counts sum to its count; one shard of one is the unsharded search.
void expect_shards_partition(const std::function<void()>& body, Options o, std::uint64_t want) {
  std::multiset<std::string> all;
  o.on_trace = [&all](const std::string& t) { all.insert(t); };
  const Result whole = dpor::explore(body, o);
  ASSERT_EQ(whole.verdict, Verdict::holds) << whole.summary();
  ASSERT_TRUE(whole.exhaustive);
  EXPECT_EQ(whole.executions, want);
  EXPECT_EQ(all.size(), want);
  for (unsigned n : {1u, 2u, 3u, 7u}) {
    std::multiset<std::string> seen;
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < n; ++i) {
      Options so = o;
      so.shard_index = i;
      so.shard_count = n;
      std::uint64_t mine = 0;
      so.on_trace = [&](const std::string& t) {
        ++mine;
        seen.insert(t);
      };
      const Result r = dpor::explore(body, so);
      EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
      EXPECT_TRUE(r.exhaustive) << r.summary();
      EXPECT_EQ(r.executions, mine);
      sum += r.executions;
      if (n == 1) EXPECT_EQ(r.executions, want) << "shard 1/1 is the unsharded search";
      std::printf("shard %u/%u: %s, %llu leaves\n", i + 1, n, r.summary().c_str(),
                  static_cast<unsigned long long>(r.leaves));
    }
    EXPECT_EQ(sum, want) << n << " shards";
    EXPECT_EQ(seen, all) << n << " shards";
  }
}

TEST(DporShard, shards_of_the_locked_counter_two_by_five_sum_to_252) {
  expect_shards_partition([] { (void)0; }, Options{}, 1);
  const auto body = [] {
    LockedCounter<S> c;
    S::thread a([&] {
      for (int i = 0; i < 5; ++i) c.increment();
    });
    S::thread b([&] {
      for (int i = 0; i < 5; ++i) c.increment();
    });
    a.join();
    b.join();
    S::model_check(c.value() == 10, "no increment is lost");
  };
  expect_shards_partition(body, Options{}, 252);
  Options naive;
  naive.mode = Mode::naive;
  naive.preemption_bound = 2;
  expect_shards_partition(body, naive, dpor::explore(body, naive).executions);
}

TEST(DporShard, shards_with_notify_choices_and_await_partition_the_traces) {
  const auto barrier = [] {
    Barrier<S> b{3};
    S::thread t1([&] { b.wait(), b.wait(); });
    S::thread t2([&] { b.wait(), b.wait(); });
    S::thread t3([&] { b.wait(), b.wait(); });
    t1.join(), t2.join(), t3.join();
  };
  Options o;
  expect_shards_partition(barrier, o, 360);
  o.await_mode = true;
  expect_shards_partition(barrier, o, 360);
  // notify_one choices (data-choice nodes) below and above the top nodes
  const auto two_waiters = [] {
    S::mutex m;
    S::condition_variable cv;
    S::var<int> tokens{0};
    auto waiter = [&] {
      std::unique_lock<S::mutex> lk(m);
      cv.wait(lk, [&] { return tokens.load() > 0; });
      tokens.store(tokens.load() - 1);
    };
    S::thread w1(waiter), w2(waiter);
    S::thread n([&] {
      for (int i = 0; i < 2; ++i) {
        std::unique_lock<S::mutex> lk(m);
        tokens.store(tokens.load() + 1);
        cv.notify_one();
      }
    });
    w1.join(), w2.join(), n.join();
  };
  // await-mode cuts inside owned subtrees must not change the leaves
  const auto queue = [] {
    Queue<int, S> q{2};
    int got[4] = {};
    S::thread p([&] {
      for (int i = 1; i <= 4; ++i) q.put(i);
    });
    S::thread c([&] {
      for (int& g : got) g = q.get();
    });
    p.join();
    c.join();
    for (int i = 0; i < 4; ++i) S::model_check(got[i] == i + 1, "fifo");
  };
  Options a;
  a.await_mode = true;
  expect_shards_partition(queue, a, 8);
  a.shard_depth = 2;
  expect_shards_partition(queue, a, 8);
  Options e;
  const Result whole = dpor::explore(two_waiters, e);
  ASSERT_TRUE(whole.exhaustive) << whole.summary();
  expect_shards_partition(two_waiters, e, whole.executions);
}

TEST(DporReplay, objects_outside_an_execution_are_refused_by_name) {
  EXPECT_THROW({ S::mutex m; }, std::logic_error);
}

// ------------------------------------------------ differential test

// A random program: 2-3 threads of a few operations on 2 mutexes, 2
// atomics and 2 vars; the outcome of an execution is every value read plus
// the final state, or the verdict's name.
struct Instr {
  enum Kind {
    lock,
    unlock,
    try_cs,
    load,
    store,
    fetch_add,
    vread,
    vwrite,
    yield,
    cv_wait,
    cv_notify
  } kind;
  int obj;
  int val;
};
using Program = std::vector<std::vector<Instr>>;

// with_cv: thread 1 starts with a timed wait, thread 2 with a notify.
Program generate(std::mt19937& rng, bool with_cv) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const int threads = with_cv ? 2 : 2 + pick(2);
  const int budget = threads == 2 ? 5 : 2;  // visible operations per thread
  Program p(static_cast<std::size_t>(threads));
  if (with_cv) {
    p[0].push_back({Instr::cv_wait, 0, 0});
    p[1].push_back({Instr::cv_notify, 0, pick(2)});
  }
  for (auto& th : p) {
    int used = th.empty() ? 0 : th[0].kind == Instr::cv_wait ? 4 : 3;
    while (used < budget) {
      const int c = pick(10);
      auto simple = [&](std::vector<Instr>& out) {
        const int k = pick(5);
        if (k == 0)
          out.push_back({Instr::load, pick(2), 0});
        else if (k == 1)
          out.push_back({Instr::store, pick(2), 1 + pick(3)});
        else if (k == 2)
          out.push_back({Instr::fetch_add, pick(2), 1});
        else if (k == 3)
          out.push_back({Instr::vread, pick(2), 0});
        else
          out.push_back({Instr::vwrite, pick(2), 1 + pick(3)});
        return k <= 2 ? 1 : 0;
      };
      if (c < 4 && used + 2 <= budget) {  // a critical section
        const int m = pick(2);
        th.push_back({Instr::lock, m, 0});
        used += 2;
        used += simple(th);
        if (pick(4) == 0 && used + 2 <= budget) {  // nested: may invert the order
          th.push_back({Instr::lock, 1 - m, 0});
          used += 2;
          th.push_back({Instr::unlock, 1 - m, 0});
        }
        th.push_back({Instr::unlock, m, 0});
      } else if (c == 4 && used + 2 <= budget) {
        th.push_back({Instr::try_cs, pick(2), 0});
        used += 2;
      } else if (c == 5) {
        th.push_back({Instr::yield, 0, 0});
        used += 1;
      } else if (c == 6 && used + 4 <= budget + 1) {  // a timed wait for the flag, under mutex 0
        th.push_back({Instr::cv_wait, 0, 0});
        used += 4;
      } else if (c == 7 && used + 3 <= budget + 1) {  // set the flag and notify one (0) or all (1)
        th.push_back({Instr::cv_notify, 0, pick(2)});
        used += 3;
      } else {
        used += simple(th);
        if (used == 0) used = 0;
      }
      if (th.size() > 8) break;
    }
  }
  return p;
}

std::string show(const Program& p) {
  static const char* names[] = {"lock",  "unlock", "try_cs", "load",    "store",    "fetch_add",
                                "vread", "vwrite", "yield",  "cv_wait", "cv_notify"};
  std::string s;
  for (std::size_t t = 0; t < p.size(); ++t) {
    s += "T" + std::to_string(t + 1) + ":";
    for (const Instr& in : p[t])
      s += std::string(" ") + names[in.kind] + "(" + std::to_string(in.obj) + "," +
           std::to_string(in.val) + ")";
    s += "; ";
  }
  return s;
}

std::set<std::string> outcomes(const Program& p, Mode m, Result& r, bool prefer_highest = false,
                               std::set<std::string>* traces = nullptr) {
  std::set<std::string> out;
  std::string last;
  Options o = mode(m);
  o.prefer_highest = prefer_highest;
  if (traces != nullptr) o.on_trace = [traces](const std::string& t) { traces->insert(t); };
  o.stop_at_failure = false;
  o.max_executions = 20000;  // the oracle skips programs larger than this
  o.on_execution = [&](Verdict v) { out.insert(v == Verdict::holds ? last : dpor::to_string(v)); };
  r = dpor::explore(
      [&] {
        S::mutex mu[2];
        S::atomic<int> at[2] = {0, 0};
        S::var<int> va[2];
        S::condition_variable cv;
        int flag = 0;  // guarded by mu[0]
        std::vector<std::vector<int>> reads(p.size());
        std::vector<S::thread> ts;
        for (std::size_t t = 0; t < p.size(); ++t)
          ts.emplace_back([&, t] {
            for (const Instr& in : p[t]) {
              switch (in.kind) {
                case Instr::lock: mu[in.obj].lock(); break;
                case Instr::unlock: mu[in.obj].unlock(); break;
                case Instr::try_cs:
                  if (mu[in.obj].try_lock()) {
                    reads[t].push_back(1);
                    mu[in.obj].unlock();
                  } else {
                    reads[t].push_back(0);
                  }
                  break;
                case Instr::load: reads[t].push_back(at[in.obj].load()); break;
                case Instr::store: at[in.obj].store(in.val); break;
                case Instr::fetch_add: reads[t].push_back(at[in.obj].fetch_add(in.val)); break;
                case Instr::vread: reads[t].push_back(va[in.obj].load()); break;
                case Instr::vwrite: va[in.obj].store(in.val); break;
                case Instr::yield: S::yield(); break;
                case Instr::cv_wait: {
                  std::unique_lock<S::mutex> lk(mu[0]);
                  reads[t].push_back(
                      cv.wait_for(lk, std::chrono::seconds(1), [&] { return flag > 0; }) ? 1 : 0);
                  break;
                }
                case Instr::cv_notify: {
                  std::unique_lock<S::mutex> lk(mu[0]);
                  flag = 1;
                  if (in.val)
                    cv.notify_all();
                  else
                    cv.notify_one();
                  break;
                }
              }
            }
          });
        for (auto& t : ts) t.join();
        std::string s;
        for (auto& rs : reads) {
          for (int v : rs) s += std::to_string(v) + ",";
          s += "|";
        }
        s += std::to_string(at[0].load()) + "," + std::to_string(at[1].load()) + "," +
             std::to_string(va[0].load()) + "," + std::to_string(va[1].load());
        last = s;
      },
      o);
  return out;
}

TEST(DporDifferential, random_programs_reach_the_same_outcomes_and_traces_as_naive_enumeration) {
  std::mt19937 rng(20261126);
  unsigned programs = 0, skipped = 0, with_cv = 0;
  std::uint64_t naive_total = 0, dpor_total = 0, blocked_total = 0;
  for (int k = 0; k < 120; ++k) {
    const Program p = generate(rng, k % 3 == 2);
    Result rn, rd;
    std::set<std::string> naive_traces, dpor_traces;
    const auto n = outcomes(p, Mode::naive, rn, false, &naive_traces);
    if (!rn.exhaustive) {  // too big for the oracle
      ++skipped;
      continue;
    }
    const auto d =
        outcomes(p, Mode::dpor, rd, k % 2 == 1, &dpor_traces);  // both first-choice orders
    ASSERT_TRUE(rd.exhaustive);
    ASSERT_EQ(d, n) << "program " << k << " " << show(p) << ": DPOR " << rd.summary()
                    << " vs naive " << rn.summary();
    // Stronger: the same Mazurkiewicz traces, and each explored once.
    ASSERT_EQ(dpor_traces, naive_traces) << "program " << k << " " << show(p);
    ASSERT_EQ(rd.executions, dpor_traces.size()) << "program " << k << " " << show(p);
    EXPECT_LE(rd.executions, rn.executions);
    ++programs;
    bool waits = false, notifies = false;
    for (const auto& th : p)
      for (const Instr& in : th) {
        waits |= in.kind == Instr::cv_wait;
        notifies |= in.kind == Instr::cv_notify;
      }
    with_cv += waits && notifies;
    naive_total += rn.executions;
    dpor_total += rd.executions;
    blocked_total += rd.blocked;
  }
  EXPECT_GE(programs, 100u);
  EXPECT_GE(with_cv, 30u);
  std::printf(
      "differential: %u random programs (%u with a timed wait and a notify; %u over the oracle "
      "budget skipped), same outcome and trace sets; naive %llu executions, DPOR %llu (+%llu "
      "blocked)\n",
      programs, with_cv, skipped, static_cast<unsigned long long>(naive_total),
      static_cast<unsigned long long>(dpor_total), static_cast<unsigned long long>(blocked_total));
}

// ------------------------------------------------ producer/consumer orders

// The seed's corrected producer/consumer on Queue: a producer puts k items,
// a consumer gets each and calls task_done(), the main thread joins the
// producer and then q.join(). Await mode cuts every empty-queue check and
// every early join, so the traces are the orders of the critical sections:
// the k puts in order, the consumer's get_1, done_1, ..., get_k, done_k in
// order, get_i after put_i; a lattice-path count, the Fuss-Catalan number
// C(3k, k) / (2k + 1) (1, 3, 12, 55, 273; 8,414,640 at the seed's 11 puts).
// Each order is a distinct trace: adjacent put and get (or task_done)
// critical sections both write the queue's state (its deque, the unfinished
// count), so no dependence the checker can see from the implementation
// lets them commute; they commute only as abstract queue operations.
TEST(DporCounts, producer_consumer_with_task_done_explores_the_fuss_catalan_orders) {
  for (unsigned k = 1; k <= 5; ++k) {
    Options o;
    o.await_mode = true;
    o.spurious_wakeups = false;
    const Result r = dpor::explore(
        [k] {
          Queue<int, S> q;
          int got = 0;
          S::thread prd([&] {
            for (unsigned i = 1; i <= k; ++i) q.put(static_cast<int>(i));
          });
          S::thread cns([&] {
            for (unsigned i = 1; i <= k; ++i) {
              S::model_check(q.get() == static_cast<int>(i), "fifo");
              ++got;
              q.task_done();
            }
          });
          prd.join();
          q.join();
          S::model_check(got == static_cast<int>(k), "join() returns after every task_done()");
          cns.join();
        },
        o);
    ASSERT_TRUE(r.exhaustive) << r.summary();
    EXPECT_EQ(r.verdict, Verdict::holds) << r.summary();
    EXPECT_EQ(r.executions, binomial(3 * k, k) / (2 * k + 1)) << "k = " << k << ": " << r.summary();
  }
}

// ------------------------------------------------ stale relaxed loads

// The outcome set of a body that records its result in `out`, under naive
// enumeration or DPOR, with stale reads.
std::set<std::string> stale_outcomes(const std::function<void(std::string&)>& body, Mode m,
                                     Result& r) {
  std::set<std::string> out;
  std::string last;
  Options o = mode(m);
  o.stale_reads = true;
  o.stop_at_failure = false;
  o.on_execution = [&](Verdict v) { out.insert(v == Verdict::holds ? last : dpor::to_string(v)); };
  r = dpor::explore([&] { body(last); }, o);
  return out;
}

TEST(DporStale, a_relaxed_lost_update_needs_no_preemption_with_stale_reads) {
  auto body = [] {
    RelaxedRacyCounter<S> c;
    S::thread a([&] { c.increment(); });
    S::thread b([&] { c.increment(); });
    a.join();
    b.join();
    S::model_check(c.value() == 2, "no increment is lost");
  };
  Options o;
  const Result sc = dpor::find_failure(body, o);
  o.stale_reads = true;
  const Result stale = dpor::find_failure(body, o);
  EXPECT_EQ(sc.verdict, Verdict::assertion);
  EXPECT_EQ(sc.preemptions, 1u);
  EXPECT_EQ(stale.verdict, Verdict::assertion);
  EXPECT_EQ(stale.preemptions, 0u) << stale.listing;
  EXPECT_EQ(stale.preemption_bound, 0);
  EXPECT_NE(stale.listing.find("load atomic#0 (stale: 1 store(s) older)"), std::string::npos)
      << stale.listing;
  // the token replays the stale read (a data choice)
  const Result again = dpor::replay(body, stale.token, o);
  EXPECT_EQ(again.verdict, Verdict::assertion) << again.detail;
}

// Coherence: two relaxed loads of one atomic never go back in modification
// order, and a thread never reads older than its own store.
TEST(DporStale, relaxed_loads_read_every_coherent_value_and_no_other) {
  auto body = [](std::string& out) {
    S::atomic<int> x{0};
    int a = -1, b = -1, own = -1;
    S::thread w([&] {
      x.store(1, std::memory_order_relaxed);
      x.store(2, std::memory_order_relaxed);
    });
    S::thread r([&] {
      a = x.load(std::memory_order_relaxed);
      b = x.load(std::memory_order_relaxed);
    });
    S::thread s([&] {
      x.store(7, std::memory_order_relaxed);
      own = x.load(std::memory_order_relaxed);
    });
    w.join();
    r.join();
    s.join();
    out = std::to_string(a) + std::to_string(b) + (own == 7 || own == 1 || own == 2 ? "" : "!");
  };
  Result rn, rd;
  const auto naive = stale_outcomes(body, Mode::naive, rn);
  const auto dpor_ = stale_outcomes(body, Mode::dpor, rd);
  ASSERT_TRUE(rn.exhaustive && rd.exhaustive);
  EXPECT_EQ(dpor_, naive);
  for (const std::string& o : naive) {
    ASSERT_EQ(o.size(), 2u) << o;  // own store never lost to an older one
    const auto rank = [](char v) { return v == '0' ? 0 : 1; };  // 0 is first in every order
    EXPECT_LE(rank(o[0]), rank(o[1])) << o;
    EXPECT_FALSE(o[0] == '2' && o[1] == '1') << o;  // w's stores in program order
  }
  // a load may return the initial value after both stores (stale), and
  // every pair the coherence rules allow appears
  for (const char* want : {"00", "01", "02", "12", "22", "07", "77", "72", "27"})
    EXPECT_EQ(naive.count(want), 1u) << want;
}

// Message passing: after an acquire load that reads the flag, a relaxed load
// of the data written before the release store cannot be stale; with a
// relaxed flag it can.
TEST(DporStale, an_acquire_that_reads_a_release_hides_older_stores) {
  auto mp = [](std::memory_order store_order) {
    return [store_order](std::string& out) {
      S::atomic<int> data{0}, flag{0};
      int f = -1, d = -1;
      S::thread w([&] {
        data.store(1, std::memory_order_relaxed);
        flag.store(1, store_order);
      });
      S::thread r([&] {
        f = flag.load(std::memory_order_acquire);
        if (f == 1) d = data.load(std::memory_order_relaxed);
      });
      w.join();
      r.join();
      out = std::to_string(f) + ":" + std::to_string(d);
    };
  };
  Result r1, r2;
  const auto released = stale_outcomes(mp(std::memory_order_release), Mode::naive, r1);
  const auto relaxed = stale_outcomes(mp(std::memory_order_relaxed), Mode::naive, r2);
  EXPECT_EQ(released, (std::set<std::string>{"0:-1", "1:1"}));
  EXPECT_EQ(relaxed, (std::set<std::string>{"0:-1", "1:1", "1:0"}));
}

// ------------------------------------------------ symmetry

// A pool-shaped random program: one producer (its own code) and K workers
// started with the same closure, each running the same instruction list.
// A worker's `take` is the pool's idle step: lock m0; if no item, count
// itself waiting (a real write) and wait(lk, items > 0 || closed); take an
// item if there is one. The producer puts items and finally closes. The
// outcome is invariant under renaming the workers: the final shared state
// and the sorted multiset of the workers' logs (plus the producer's log),
// or the verdict's name.
struct SymProgram {
  std::vector<Instr> producer;
  std::vector<Instr> worker;
  int workers = 2;
  int items = 1;
};

SymProgram generate_sym(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  SymProgram p;
  p.workers = 2 + pick(2);
  p.items = 1 + pick(p.workers);
  auto simple = [&](std::vector<Instr>& out) {
    const int k = pick(6);
    if (k == 0)
      out.push_back({Instr::load, pick(2), 0});
    else if (k == 1)
      out.push_back({Instr::store, pick(2), 1 + pick(3)});
    else if (k == 2)
      out.push_back({Instr::fetch_add, pick(2), 1});
    else if (k == 3)
      out.push_back({Instr::vread, pick(2), 0});
    else if (k == 4)
      out.push_back({Instr::vwrite, pick(2), 1 + pick(3)});
    else
      out.push_back({Instr::yield, 0, 0});
  };
  // the worker: one or two takes, with simple steps or a critical section
  // on m1 around them; `cv_wait` encodes a take
  const int takes = p.workers == 3 ? 1 : 1 + pick(2);
  for (int k = 0; k < takes; ++k) {
    if (pick(2) == 0) simple(p.worker);
    p.worker.push_back({Instr::cv_wait, 0, 0});
    if (pick(3) == 0) {
      p.worker.push_back({Instr::lock, 1, 0});
      simple(p.worker);
      p.worker.push_back({Instr::unlock, 1, 0});
    }
  }
  // the producer: its items (`cv_notify` encodes a put, val: notify all),
  // simple steps between them, then the close
  for (int k = 0; k < p.items; ++k) {
    if (pick(2) == 0) simple(p.producer);
    p.producer.push_back({Instr::cv_notify, 0, pick(2)});
  }
  if (pick(2) == 0) simple(p.producer);
  return p;
}

std::string show(const SymProgram& p) {
  Program q{p.producer, p.worker};
  return std::to_string(p.workers) + " workers, " + std::to_string(p.items) + " items; " + show(q);
}

void sym_body(const SymProgram& p, std::string& last) {
  S::mutex mu[2];
  S::atomic<int> at[2] = {0, 0};
  S::var<int> va[2];
  S::var<int> waiting;
  S::condition_variable cv;
  int items = 0;        // guarded by mu[0]
  bool closed = false;  // guarded by mu[0]
  int taken = 0;        // guarded by mu[0]
  std::vector<std::string> logs(static_cast<std::size_t>(p.workers) + 2);
  auto run = [&](const std::vector<Instr>& code) {
    std::string& log = logs[S::thread_index() % logs.size()];
    for (const Instr& in : code) {
      switch (in.kind) {
        case Instr::lock: mu[in.obj].lock(); break;
        case Instr::unlock: mu[in.obj].unlock(); break;
        case Instr::load: log += std::to_string(at[in.obj].load()) + ","; break;
        case Instr::store: at[in.obj].store(in.val); break;
        case Instr::fetch_add: log += std::to_string(at[in.obj].fetch_add(in.val)) + ","; break;
        case Instr::vread: log += std::to_string(va[in.obj].load()) + ","; break;
        case Instr::vwrite: va[in.obj].store(in.val); break;
        case Instr::yield: S::yield(); break;
        case Instr::cv_wait: {  // take
          std::unique_lock<S::mutex> lk(mu[0]);
          if (items == 0 && !closed) {
            waiting.store(waiting.load() + 1);
            cv.wait(lk, [&] { return items > 0 || closed; });
            waiting.store(waiting.load() - 1);
          }
          if (items > 0) {
            --items;
            log += "t" + std::to_string(taken++) + ",";
          } else {
            log += "c,";
          }
          break;
        }
        case Instr::cv_notify: {  // put
          std::unique_lock<S::mutex> lk(mu[0]);
          ++items;
          if (in.val)
            cv.notify_all();
          else
            cv.notify_one();
          break;
        }
        default: break;
      }
    }
  };
  S::thread producer([&] {
    run(p.producer);
    std::unique_lock<S::mutex> lk(mu[0]);
    closed = true;
    cv.notify_all();
  });
  std::vector<S::thread> ws;
  const std::vector<Instr>& code = p.worker;
  for (int w = 0; w < p.workers; ++w) ws.emplace_back([&run, &code] { run(code); });
  producer.join();
  for (auto& w : ws) w.join();
  std::vector<std::string> workers(logs.begin() + 2, logs.end());
  std::sort(workers.begin(), workers.end());
  std::string s = logs[1] + "|";
  for (const std::string& w : workers) s += w + "|";
  s += std::to_string(at[0].load()) + "," + std::to_string(at[1].load()) + "," +
       std::to_string(va[0].load()) + "," + std::to_string(va[1].load()) + "," +
       std::to_string(items) + "," + std::to_string(taken);
  last = s;
}

std::set<std::string> sym_outcomes(const SymProgram& p, Mode m, bool symmetry, Result& r,
                                   bool prefer_highest = false) {
  std::set<std::string> out;
  std::string last;
  Options o = mode(m);
  o.await_mode = true;
  o.symmetry = symmetry;
  o.prefer_highest = prefer_highest;
  o.stop_at_failure = false;
  o.max_executions = 20000;  // larger programs are skipped
  o.on_execution = [&](Verdict v) { out.insert(v == Verdict::holds ? last : dpor::to_string(v)); };
  r = dpor::explore([&] { sym_body(p, last); }, o);
  return out;
}

TEST(DporSymmetry, random_pool_shaped_programs_reach_the_same_outcomes_with_and_without_it) {
  std::mt19937 rng(20261127);
  unsigned programs = 0, reduced = 0, naive_checked = 0, skipped = 0;
  std::uint64_t without = 0, with = 0;
  for (int k = 0; k < 60; ++k) {
    const SymProgram p = generate_sym(rng);
    Result rd, rs;
    const auto d = sym_outcomes(p, Mode::dpor, false, rd);
    if (!rd.exhaustive) {
      ++skipped;
      continue;
    }
    const auto s = sym_outcomes(p, Mode::dpor, true, rs, k % 2 == 1);
    ASSERT_TRUE(rs.exhaustive) << show(p);
    ASSERT_EQ(s, d) << "program " << k << " " << show(p) << ": with symmetry " << rs.summary()
                    << " vs without " << rd.summary();
    EXPECT_LE(rs.executions, rd.executions) << show(p);
    EXPECT_EQ(rs.how(), "DPOR await, symmetry");
    reduced += rs.executions < rd.executions;
    without += rd.executions;
    with += rs.executions;
    ++programs;
    if (rd.executions <= 3000) {  // the oracle: every interleaving, no reduction
      Result rn;
      const auto n = sym_outcomes(p, Mode::naive, true, rn);  // naive ignores symmetry
      if (rn.exhaustive) {
        EXPECT_FALSE(rn.symmetry);
        ASSERT_EQ(n, d) << "program " << k << " " << show(p);
        ++naive_checked;
      }
    }
  }
  EXPECT_GE(programs, 45u);
  EXPECT_GE(naive_checked, 3u);
  EXPECT_GE(reduced, programs / 4);
  std::printf(
      "symmetry: %u random pool-shaped programs (%u also against naive enumeration; %u over "
      "the budget skipped), the same outcome sets; %u reduced; DPOR await %llu executions "
      "without symmetry, %llu with\n",
      programs, naive_checked, skipped, reduced, static_cast<unsigned long long>(without),
      static_cast<unsigned long long>(with));
}

// Two identical waiters and a producer of two items, each waiter counting
// itself waiting before it waits (the pool's shape): symmetry explores one
// of the two waiters wherever both could wake, and the outcomes stay.
TEST(DporSymmetry, identical_waiters_are_explored_once_per_group_and_distinct_ones_are_not) {
  auto body = [](bool same_code) {
    return [same_code] {
      S::mutex m;
      S::condition_variable cv;
      S::var<int> waiting;
      int items = 0;
      int got[3] = {0, 0, 0};
      auto take = [&](int who) {
        std::unique_lock<S::mutex> lk(m);
        if (items == 0) {
          waiting.store(waiting.load() + 1);
          cv.wait(lk, [&] { return items > 0; });
          waiting.store(waiting.load() - 1);
        }
        --items;
        ++got[who];
      };
      // one lambda expression: the same code; its capture is the start state
      auto code = [&take](int who) { return [&take, who] { take(who); }; };
      S::thread a(code(same_code ? 0 : 1));
      S::thread b(code(same_code ? 0 : 2));
      for (int i = 0; i < 2; ++i) {
        std::lock_guard<S::mutex> lk(m);
        ++items;
        cv.notify_one();
      }
      a.join();
      b.join();
      S::model_check(items == 0 && got[0] + got[1] + got[2] == 2, "both items taken once");
    };
  };
  Options o;
  o.await_mode = true;
  const Result plain = dpor::explore(body(true), o);
  o.symmetry = true;
  const Result sym = dpor::explore(body(true), o);
  const Result distinct = dpor::explore(body(false), o);
  ASSERT_TRUE(plain.exhaustive && sym.exhaustive && distinct.exhaustive);
  EXPECT_EQ(plain.verdict, Verdict::holds);
  EXPECT_EQ(sym.verdict, Verdict::holds);
  EXPECT_LT(sym.executions, plain.executions);
  // closures that capture different values are never interchangeable
  EXPECT_EQ(distinct.executions, plain.executions);
  EXPECT_NE(plain.summary().find("DPOR await exhaustive"), std::string::npos) << plain.summary();
  EXPECT_NE(sym.summary().find("DPOR await, symmetry exhaustive"), std::string::npos)
      << sym.summary();
  std::printf("symmetry: two identical waiters, two items: %llu executions without, %llu with\n",
              static_cast<unsigned long long>(plain.executions),
              static_cast<unsigned long long>(sym.executions));
}

TEST(DporThroughput, locked_counter_two_by_five_executions_per_second) {
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t executions = 0;
  int rounds = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500)) {
    executions += counter_run<LockedCounter>(2, 5, {}).executions;
    ++rounds;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(executions, 252u * static_cast<unsigned>(rounds));
  std::printf("throughput: locked counter 2x5, %d full searches, %.0f executions/s\n", rounds,
              executions / secs);
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("unit")
