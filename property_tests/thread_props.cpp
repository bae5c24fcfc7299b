// property_tests/thread_props.cpp — thread lifecycle and registry, and the
// Obi-Wan/Anakin interleavings, on real threads (seed: "States of thread",
// "Starting a thread", "Swapning multiple threads").
//
// What this cannot see: interleavings the OS does not happen to produce (the
// models cover those); Running vs NotRunning is observed only around this
// project's own blocking calls.
#include <interleave/event.hpp>
#include <interleave/interleavings.hpp>
#include <interleave/thread.hpp>
#include <interleave/thread_local.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "testkit.hpp"

namespace interleave {
namespace {

enum class Phase { New, Started, Joined };

// Random sequences of start / finish-and-join / timed join / misuse over K
// threads whose targets block on their own gate; after every step the
// registry and each thread's state agree with a model of phases.
INTERLEAVE_PROP(ThreadProps, random_start_join_sequences_keep_registry_and_states_consistent,
                "thread.lifecycle", ()) {
  const int k = *rc::gen::inRange(1, 9);
  const auto ops = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(0, 4), rc::gen::inRange(0, k)));
  ThreadRegistry<> reg;
  std::vector<std::unique_ptr<Event<>>> gates;
  std::vector<std::unique_ptr<Thread<>>> threads;
  std::vector<char> saw_itself(static_cast<size_t>(k), 0);
  std::vector<Thread<>*> self(static_cast<size_t>(k), nullptr);  // filled before any start
  for (int i = 0; i < k; ++i) {
    gates.push_back(std::make_unique<Event<>>());
    Event<>* gate = gates.back().get();
    char* saw = &saw_itself[static_cast<size_t>(i)];
    Thread<>* const* me = &self[static_cast<size_t>(i)];
    threads.push_back(std::make_unique<Thread<>>(reg, [&reg, gate, saw, me] {
      *saw = reg.current_thread() == *me;
      gate->wait();
    }));
    self[static_cast<size_t>(i)] = threads.back().get();
  }
  std::vector<Phase> phase(static_cast<size_t>(k), Phase::New);
  for (const auto& [op, i] : ops) {
    Thread<>& t = *threads[static_cast<size_t>(i)];
    Phase& p = phase[static_cast<size_t>(i)];
    if (op == 0) {  // start
      if (p == Phase::New) {
        t.start();
        p = Phase::Started;
      } else {
        RC_ASSERT_THROWS_AS(t.start(), std::logic_error);
      }
    } else if (op == 1) {  // finish and join
      if (p == Phase::New) {
        RC_ASSERT_THROWS_AS(t.join(), std::logic_error);
      } else {
        gates[static_cast<size_t>(i)]->set();
        t.join();
        p = Phase::Joined;
      }
    } else if (op == 2) {  // join_for(0): false while the gate is shut
      if (p == Phase::Started) RC_ASSERT(!t.join_for(std::chrono::milliseconds(0)));
      if (p == Phase::Joined) RC_ASSERT(t.join_for(std::chrono::milliseconds(0)));
    }
    // op 3: just check
    std::set<std::string> listed;
    for (const ThreadInfo& info : reg.enumerate()) {
      RC_ASSERT(info.state != ThreadState::New && info.state != ThreadState::Dead);
      listed.insert(info.name);
    }
    std::set<std::string> started;
    for (int j = 0; j < k; ++j) {
      const Phase pj = phase[static_cast<size_t>(j)];
      const ThreadState sj = threads[static_cast<size_t>(j)]->state();
      if (pj == Phase::Started) started.insert(threads[static_cast<size_t>(j)]->name());
      RC_ASSERT((pj == Phase::New) == (sj == ThreadState::New));
      RC_ASSERT((pj == Phase::Joined) == (sj == ThreadState::Dead));
      RC_ASSERT(threads[static_cast<size_t>(j)]->is_alive() == (pj == Phase::Started));
    }
    RC_ASSERT(listed == started);
  }
  for (int i = 0; i < k; ++i) gates[static_cast<size_t>(i)]->set();
  for (int i = 0; i < k; ++i)
    if (phase[static_cast<size_t>(i)] != Phase::New) {
      threads[static_cast<size_t>(i)]->join();
      RC_ASSERT(saw_itself[static_cast<size_t>(i)] == 1);
    }
  RC_ASSERT(reg.enumerate().empty());
  threads.clear();  // unstarted threads: nothing to join
}

TEST(ThreadUnit, default_names_count_from_one_and_join_of_self_is_refused) {
  ThreadRegistry<> reg;
  Thread<> a(reg, [] {});
  bool refused = false;
  std::string message;
  Thread<>* bp = nullptr;
  Thread<> b(reg, [&] {
    try {
      bp->join();
    } catch (const std::logic_error& e) {
      refused = true;
      message = e.what();
    }
  });
  bp = &b;
  EXPECT_EQ(a.name(), "Thread-1");
  EXPECT_EQ(b.name(), "Thread-2");
  try {
    a.join();
    ADD_FAILURE() << "join of an unstarted thread did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("not started"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)a.join_for(std::chrono::milliseconds(-1)), std::invalid_argument);
  b.start();
  b.join();
  EXPECT_TRUE(refused);
  EXPECT_NE(message.find("cannot join itself"), std::string::npos) << message;
  EXPECT_EQ(reg.current_thread(), nullptr);  // main is not a Thread
}

TEST(ThreadUnit, a_sleeping_thread_is_not_running_and_an_escaping_exception_is_kept) {
  ThreadRegistry<> reg;
  Thread<> sleeper(reg, [&] { reg.sleep_for(std::chrono::milliseconds(200)); });
  sleeper.start();
  // Poll the state (an observation, not synchronisation): it must reach
  // NotRunning while the target sleeps.
  bool saw_not_running = false;
  while (sleeper.is_alive() && !saw_not_running)
    saw_not_running = sleeper.state() == ThreadState::NotRunning;
  sleeper.join();
  EXPECT_TRUE(saw_not_running);
  Thread<> thrower(reg, [] { throw std::runtime_error("boom"); });
  thrower.start();
  thrower.join();
  EXPECT_TRUE(thrower.exception() != nullptr);
}

// --- exit, concurrent joiners, throwing targets, ThreadLocal ---------------

// A thread's last work: a C++ thread_local whose destructor (run by the OS
// thread after its target returned) waits for `gate`, then sets `mark`
// (relaxed: only the join's happens-before makes a joiner see it).
struct ExitProbe {
  Event<>* gate;
  std::atomic<bool>* mark;
  ~ExitProbe() {
    gate->wait();
    mark->store(true, std::memory_order_relaxed);
  }
};

// `joiners` threads join one thread at once, while `deaths` other threads of
// the registry start and die; then the thread's exit is let through. Every
// joiner must have seen the exit's mark.
template <template <class> class T>
void every_joiner_returns_after_the_exit(int joiners, int deaths) {
  ThreadRegistry<> reg;
  Event<> gate;
  std::atomic<bool> mark{false};
  T<std_sync> t(
      reg,
      [&] {
        thread_local ExitProbe probe{&gate, &mark};
        (void)probe;
      },
      "exiting");
  t.start();
  std::vector<char> saw(static_cast<size_t>(joiners), 0);
  std::vector<std::thread> js;
  for (int i = 0; i < joiners; ++i)
    js.emplace_back([&, i] {
      t.join();
      saw[static_cast<size_t>(i)] = mark.load(std::memory_order_relaxed) ? 1 : 0;
    });
  for (int d = 0; d < deaths; ++d) {
    Thread<> other(reg, [] {});
    other.start();
    other.join();
  }
  gate.set();
  for (auto& j : js) j.join();
  RC_ASSERT(std::count(saw.begin(), saw.end(), 1) == joiners);
}

INTERLEAVE_PROP(Thread, JoinReturnsAfterThreadLocalDestructorsForEveryJoiner, "thread.join_exit",
                ()) {
  const int joiners = *rc::gen::inRange(1, 7);
  const int deaths = *rc::gen::inRange(0, 9);
  every_joiner_returns_after_the_exit<Thread>(joiners, deaths);
}

// The twins: a joiner that returns when it finds the OS join claimed, or
// when another thread's death wakes it, has not seen the exit.
INTERLEAVE_PROP_FALSIFIED(Thread, EarlyJoinTwinReturnsBeforeTheExit, "thread.broken_early_join",
                          ()) {
  const int joiners = *rc::gen::inRange(1, 7);
  const int deaths = *rc::gen::inRange(0, 9);
  every_joiner_returns_after_the_exit<BrokenEarlyJoinThread>(joiners, deaths);
}
INTERLEAVE_PROP_FALSIFIED(Thread, AnyDeathJoinTwinReturnsWhenAnotherThreadDies,
                          "thread.broken_any_death_join", ()) {
  const int joiners = *rc::gen::inRange(1, 7);
  const int deaths = *rc::gen::inRange(0, 9);
  every_joiner_returns_after_the_exit<BrokenAnyDeathJoinThread>(joiners, deaths);
}

// The twins' defects are the marked impl lines their falsified properties
// exercise (their stress cells are n/a, so this is where the markers are
// read): each marker still sits in thread.hpp.
TEST(Thread, JoinTwinDefectsAreMarkedInTheImpl) {
  EXPECT_FALSE(testkit::marker_lines("impl/include/interleave/thread.hpp",
                                     "interleave:bug thread.broken_early_join")
                   .empty());
  EXPECT_FALSE(testkit::marker_lines("impl/include/interleave/thread.hpp",
                                     "interleave:bug thread.broken_any_death_join")
                   .empty());
}

// is_alive() stays true until the exit: a thread_local destructor that
// yields `spins` times before it sets the mark; once is_alive() is false
// the mark is set.
struct SpinningExitProbe {
  int spins;
  std::atomic<bool>* mark;
  ~SpinningExitProbe() {
    for (int i = 0; i < spins; ++i) std::this_thread::yield();
    mark->store(true, std::memory_order_relaxed);
  }
};
INTERLEAVE_PROP(Thread, IsAliveUntilThreadLocalDestructorsRan, "thread.join_exit", ()) {
  const int spins = *rc::gen::inRange(0, 500);
  ThreadRegistry<> reg;
  std::atomic<bool> mark{false};
  Thread<> t(reg, [&] {
    thread_local SpinningExitProbe probe{spins, &mark};
    (void)probe;
  });
  RC_ASSERT(!t.is_alive());  // New
  t.start();
  while (t.is_alive()) std::this_thread::yield();
  RC_ASSERT(mark.load(std::memory_order_relaxed));
  RC_ASSERT(t.state() == ThreadState::Dead);
  t.join();  // after is_alive() did the OS join: returns at once
}

// ident / native_id: empty before start(), then the index and the kernel
// id of the thread that runs the target, distinct among running threads.
INTERLEAVE_PROP(Thread, IdentAndNativeIdAreEmptyBeforeStartAndNameTheRunningThread,
                "thread.lifecycle", ()) {
  const int k = *rc::gen::inRange(1, 9);
  ThreadRegistry<> reg;
  Event<> gate;
  std::vector<std::size_t> index(static_cast<size_t>(k));
  std::vector<unsigned long> tid(static_cast<size_t>(k));
  std::vector<std::unique_ptr<Thread<>>> ts;
  for (int i = 0; i < k; ++i)
    ts.push_back(std::make_unique<Thread<>>(reg, [&, i] {
      index[static_cast<size_t>(i)] = std_sync::thread_index();
      tid[static_cast<size_t>(i)] = static_cast<unsigned long>(::gettid());
      gate.wait();
    }));
  for (auto& t : ts) RC_ASSERT(!t->ident().has_value() && !t->native_id().has_value());
  for (auto& t : ts) {
    t->start();
    RC_ASSERT(t->ident().has_value() && t->native_id().has_value());
  }
  std::set<std::size_t> idents;
  std::set<unsigned long> natives;
  for (auto& t : ts) {
    idents.insert(*t->ident());
    natives.insert(*t->native_id());
  }
  gate.set();
  for (int i = 0; i < k; ++i) {
    ts[static_cast<size_t>(i)]->join();
    RC_ASSERT(*ts[static_cast<size_t>(i)]->ident() == index[static_cast<size_t>(i)]);
    RC_ASSERT(*ts[static_cast<size_t>(i)]->native_id() == tid[static_cast<size_t>(i)]);
  }
  RC_ASSERT(idents.size() == static_cast<size_t>(k));
  RC_ASSERT(natives.size() == static_cast<size_t>(k));
}

// Some targets throw: each thrower's exception is kept, nobody else's; an
// observer enumerating meanwhile never sees a Dead thread; afterwards the
// registry is empty and nobody is alive.
INTERLEAVE_PROP(Thread, ThrowingTargetLeavesTheRegistryAndKeepsItsException,
                "thread.throwing_target", ()) {
  const auto throws = *rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>());
  const int k = static_cast<int>(throws.size());
  // Under the watchdog: a thrower whose bookkeeping were skipped would never
  // be Dead, and its join would never return.
  testkit::watchdog(std::to_string(k) + " thread(s), some throwing: a join()", [&] {
    ThreadRegistry<> reg;
    std::atomic<bool> done{false};
    std::atomic<long> listed_dead{0};
    std::thread observer([&] {
      while (!done.load()) {
        for (const ThreadInfo& info : reg.enumerate())
          if (info.state == ThreadState::Dead) listed_dead.fetch_add(1);
        std::this_thread::yield();
      }
    });
    std::vector<std::unique_ptr<Thread<>>> ts;
    for (int i = 0; i < k; ++i) {
      const bool thrower = throws[static_cast<size_t>(i)];
      ts.push_back(std::make_unique<Thread<>>(reg, [thrower] {
        if (thrower) throw std::runtime_error("target failed");
      }));
    }
    for (auto& t : ts) t->start();
    for (auto& t : ts) t->join();
    done.store(true);
    observer.join();
    for (int i = 0; i < k; ++i) {
      RC_ASSERT((ts[static_cast<size_t>(i)]->exception() != nullptr) ==
                throws[static_cast<size_t>(i)]);
      RC_ASSERT(!ts[static_cast<size_t>(i)]->is_alive());
    }
    RC_ASSERT(listed_dead.load() == 0L);
    RC_ASSERT(reg.enumerate().empty());
    RC_ASSERT(reg.active_count() == 0u);
    // The registry is still usable: a new thread starts and is listed.
    Event<> gate;
    Thread<> after(reg, [&] { gate.wait(); });
    after.start();
    RC_ASSERT(reg.enumerate().size() == 1u);
    gate.set();
    after.join();
  });
}

// A thread's ThreadLocal value is destroyed when the thread exits: n
// threads (some at once) each set a copy of a token; once all are joined,
// only the test holds the token and the ThreadLocal has no slot left.
INTERLEAVE_PROP(ThreadLocal, ValuesAreDestroyedAtThreadExit, "thread_local.exit", ()) {
  const int n = *rc::gen::inRange(1, 33);
  const int batch = *rc::gen::inRange(1, 9);
  ThreadLocal<std::shared_ptr<int>> local;
  const auto token = std::make_shared<int>(7);
  std::atomic<int> own{0};
  for (int done = 0; done < n;) {
    std::vector<std::thread> ts;
    for (int b = 0; b < batch && done < n; ++b, ++done)
      ts.emplace_back([&] {
        local.set(token);
        if (local.get() == token && local.has_value()) own.fetch_add(1);
      });
    for (auto& t : ts) t.join();
  }
  RC_ASSERT(own.load() == n);
  RC_ASSERT(token.use_count() == 1L);
  RC_ASSERT(local.size() == 0u);
}

// A long-lived ThreadLocal used by many short Threads in turn never holds
// more than the running thread's slot.
INTERLEAVE_TEST(ThreadLocal, ManyShortThreadsDoNotGrowALongLivedLocal, "thread_local.exit") {
  ThreadLocal<std::vector<int>> local;
  ThreadRegistry<> reg;
  std::size_t most = 0;
  const int threads = 2000;
  for (int i = 0; i < threads; ++i) {
    Thread<> t(reg, [&] { local.set(std::vector<int>(64, i)); });
    t.start();
    t.join();
    most = std::max(most, local.size());
  }
  EXPECT_EQ(most, 0u);
  testkit::cell(
      "thread_local.exit",
      std::to_string(threads) + " short Threads each set a value: 0 slots left after every join");
}

// Read-only accessors while the writers still run: a reader takes lines()
// snapshots during the seed's program; each is a prefix of the final output
// (whole lines, in the final order), and they only grow.
INTERLEAVE_PROP(InterleavingProps, lines_read_while_both_threads_print_are_prefixes_of_the_output,
                "interleavings.obiwan_anakin", ()) {
  const auto seed = *rc::gen::arbitrary<unsigned>();
  ThreadRegistry<> reg;
  LineLog<> out;
  std::atomic<bool> done{false};
  std::vector<std::vector<std::string>> snapshots;
  std::thread reader([&] {
    while (!done.load()) {
      snapshots.push_back(out.lines());
      std::this_thread::yield();
    }
  });
  std::mt19937 rng_obi(seed), rng_ani(seed + 1);
  starwars(reg, out, [&] {
    std::mt19937& rng = reg.current_thread()->name() == "Obi-Wan" ? rng_obi : rng_ani;
    std::uniform_int_distribution<int> us(0, 100);
    reg.sleep_for(std::chrono::microseconds(us(rng)));
  });
  done.store(true);
  reader.join();
  const auto final_lines = out.lines();
  RC_ASSERT(merge_mask(final_lines) >= 0);
  std::size_t last = 0;
  for (const auto& snap : snapshots) {
    RC_ASSERT(snap.size() >= last);
    last = snap.size();
    RC_ASSERT(std::equal(snap.begin(), snap.end(), final_lines.begin()));
  }
}

// The seed's program with random pauses (the seed's sleep(0.2 * random()),
// scaled to microseconds): every output is a merge of the two threads' lines.
INTERLEAVE_PROP(InterleavingProps, starwars_output_is_always_a_merge_of_both_threads,
                "interleavings.obiwan_anakin", ()) {
  const auto seed = *rc::gen::arbitrary<unsigned>();
  ThreadRegistry<> reg;
  LineLog<> out;
  std::mt19937 rng_obi(seed), rng_ani(seed + 1);
  starwars(reg, out, [&] {
    std::mt19937& rng = reg.current_thread()->name() == "Obi-Wan" ? rng_obi : rng_ani;
    std::uniform_int_distribution<int> us(0, 200);
    reg.sleep_for(std::chrono::microseconds(us(rng)));
  });
  RC_ASSERT(merge_mask(out.lines()) >= 0);
  RC_ASSERT(reg.enumerate().empty());
}

INTERLEAVE_TEST(InterleavingProps, starwars_distinct_orders_seen_on_real_threads,
                "interleavings.obiwan_anakin") {
  const unsigned seed = std::random_device{}();
  std::set<long> seen;
  const int runs = 300;
  for (int r = 0; r < runs; ++r) {
    ThreadRegistry<> reg;
    LineLog<> out;
    std::mt19937 rng_obi(seed + 2u * static_cast<unsigned>(r)),
        rng_ani(seed + 2u * static_cast<unsigned>(r) + 1u);
    starwars(reg, out, [&] {
      std::mt19937& rng = reg.current_thread()->name() == "Obi-Wan" ? rng_obi : rng_ani;
      std::uniform_int_distribution<int> us(0, 200);
      reg.sleep_for(std::chrono::microseconds(us(rng)));
    });
    const long mask = merge_mask(out.lines());
    ASSERT_GE(mask, 0) << "not a merge, pause seed " << seed;
    seen.insert(mask);
  }
  EXPECT_LE(seen.size(), 35u);
  testkit::cell("interleavings.obiwan_anakin",
                std::to_string(runs) + " runs with random pauses, all merges, " +
                    std::to_string(seen.size()) + " distinct orders of 35 seen, pause seed " +
                    std::to_string(seed));
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
