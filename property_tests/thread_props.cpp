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
INTERLEAVE_PROP(ThreadProps, random_start_join_sequences_keep_registry_and_states_consistent, "thread.lifecycle", ()) {
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
  while (sleeper.is_alive() && !saw_not_running) saw_not_running = sleeper.state() == ThreadState::NotRunning;
  sleeper.join();
  EXPECT_TRUE(saw_not_running);
  Thread<> thrower(reg, [] { throw std::runtime_error("boom"); });
  thrower.start();
  thrower.join();
  EXPECT_TRUE(thrower.exception() != nullptr);
}

// The seed's program with random pauses (the seed's sleep(0.2 * random()),
// scaled to microseconds): every output is a merge of the two threads' lines.
INTERLEAVE_PROP(InterleavingProps, starwars_output_is_always_a_merge_of_both_threads, "interleavings.obiwan_anakin", ()) {
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

INTERLEAVE_TEST(InterleavingProps, starwars_distinct_orders_seen_on_real_threads, "interleavings.obiwan_anakin") {
  const unsigned seed = std::random_device{}();
  std::set<long> seen;
  const int runs = 300;
  for (int r = 0; r < runs; ++r) {
    ThreadRegistry<> reg;
    LineLog<> out;
    std::mt19937 rng_obi(seed + 2u * static_cast<unsigned>(r)), rng_ani(seed + 2u * static_cast<unsigned>(r) + 1u);
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
  testkit::cell("interleavings.obiwan_anakin", std::to_string(runs) + " runs with random pauses, all merges, " +
                                                   std::to_string(seen.size()) +
                                                   " distinct orders of 35 seen, pause seed " + std::to_string(seed));
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
