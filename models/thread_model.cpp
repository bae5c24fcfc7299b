// models/thread_model.cpp — thread lifecycle and registry (seed: "States of
// thread", "Starting a thread") and the interleavings of the seed's
// Obi-Wan/Anakin program (seed: "Swapning multiple threads"), instantiated
// from impl/include/interleave/thread.hpp and interleavings.hpp. Threads are
// started by the impl (Sync::thread), hence dynamic threads.
//
// What this cannot see: real time (sleeps are scheduling points), and OS
// preemption as a state (NotRunning here is "blocked in join or sleep").
#include "model.hpp"
//
#include "interleave/interleavings.hpp"
#include "interleave/thread.hpp"

namespace interleave::models {
namespace {

using S = ThreadState;

int rank(S s) {
  switch (s) {
    case S::New: return 0;
    case S::Runnable: return 1;
    case S::Running:
    case S::NotRunning: return 2;
    case S::Dead: return 3;
  }
  return -1;
}

// A controller starts t1 (which checks current_thread() and sleeps) and t2
// (which joins t1), then joins both; an observer watches the states and the
// registry meanwhile. Every observed state sequence follows the graph's
// order, enumerate() never lists a New or Dead thread, and at the end both
// are Dead and the registry is empty. (Each transition itself is checked
// against the graph inside the impl, which throws on an illegal one.)
template <class Sync>
struct Lifecycle {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 2;
  ThreadRegistry<Sync> reg;
  bool t1_saw_itself = false;
  Thread<Sync> t1{reg, [this] {
                           t1_saw_itself = reg.current_thread() == &t1;
                           reg.sleep_for(std::chrono::milliseconds(1));
                         }};
  Thread<Sync> t2{reg, [this] { t1.join(); }, "joiner"};

  void thread(unsigned id) {
    if (id == 0) {
      INTERLEAVE_MODEL_CHECK(reg.current_thread() == nullptr);
      t1.start();
      t2.start();
      t2.join();
      INTERLEAVE_MODEL_CHECK(!t2.is_alive());
      INTERLEAVE_MODEL_CHECK(t1.state() == S::Dead);  // t2 joined it
      t1.join();
      return;
    }
    int last1 = 0, last2 = 0;
    for (int i = 0; i < 2; ++i) {
      for (const ThreadInfo& info : reg.enumerate())
        INTERLEAVE_MODEL_CHECK(info.state != S::New && info.state != S::Dead);
      const int r1 = rank(t1.state()), r2 = rank(t2.state());
      INTERLEAVE_MODEL_CHECK(r1 >= last1 && r2 >= last2);
      last1 = r1;
      last2 = r2;
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(t1_saw_itself);
    INTERLEAVE_MODEL_CHECK(t1.name() == "Thread-1" && t2.name() == "joiner");
    INTERLEAVE_MODEL_CHECK(t1.state() == S::Dead && t2.state() == S::Dead);
    INTERLEAVE_MODEL_CHECK(reg.enumerate().empty());
  }
};

// The smallest configuration, to 3 preemptions (full search of it does not
// finish in a minute): one thread that sleeps, started and joined by the
// controller, watched by an observer.
template <class Sync>
struct LifecycleOne {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 1;
  ThreadRegistry<Sync> reg;
  Thread<Sync> t1{reg, [this] { reg.sleep_for(std::chrono::milliseconds(1)); }};

  void thread(unsigned id) {
    if (id == 0) {
      t1.start();
      t1.join();
      INTERLEAVE_MODEL_CHECK(t1.state() == S::Dead && !t1.is_alive());
      return;
    }
    int last = 0;
    for (int i = 0; i < 2; ++i) {
      const auto listed = reg.enumerate();
      for (const ThreadInfo& info : listed) INTERLEAVE_MODEL_CHECK(info.state != S::New && info.state != S::Dead);
      const int r = rank(t1.state());
      INTERLEAVE_MODEL_CHECK(r >= last);
      last = r;
    }
  }
  void after() { INTERLEAVE_MODEL_CHECK(reg.enumerate().empty()); }
};

INTERLEAVE_MODEL(LifecycleOne, "thread.lifecycle.1thread.bound3", "thread.lifecycle",
                 "start/run/sleep/join of 1 thread with an observer: states follow the graph, enumerate() "
                 "lists only started, unfinished threads",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(Lifecycle, "thread.lifecycle.2threads.bound1", "thread.lifecycle",
                 "start/run/sleep/join of 2 threads (one joining the other) with an observer: states follow "
                 "the graph, enumerate() lists only started, unfinished threads",
                 Expect::holds, Search::bounded(1));

// --- Obi-Wan and Anakin -----------------------------------------------------

// Runs the seed's program; after the search, checks that it produced exactly
// C(7,3) = 35 distinct orders (fails the model otherwise); the count is
// printed in the verdict (note). Every execution explored is checked to be a
// merge, so the executions explored produce at most the 35 merges; seeing 35
// means they produced all of them. What a sampled search cannot show is that
// no unexplored schedule breaks the merge property: that part of the claim
// is checked on the 20,000 schedules explored, not proved.
template <class Sync>
struct StarWars {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  // Which merges (bit masks of Anakin's positions among 7 lines) the search
  // produced; reset before each search. A fixed array: a checker may account
  // every allocation made during a search to the model.
  static inline bool seen[128];

  ThreadRegistry<Sync> reg;
  LineLog<Sync> out;

  void thread(unsigned) {
    starwars(reg, out, [] { Sync::yield(); });  // the seed's sleep: a scheduling point
  }
  void after() {
    const long mask = merge_mask(out.lines());
    INTERLEAVE_MODEL_CHECK(mask >= 0);  // each thread's own order kept, nothing else
    if (mask >= 0) seen[mask] = true;
  }

  static int count_seen() {
    int n = 0;
    for (bool b : seen) n += b ? 1 : 0;
    return n;
  }
  static void before_search() { std::fill(std::begin(seen), std::end(seen), false); }
  static bool after_search() { return count_seen() == 35; }
  static std::string note() { return std::to_string(count_seen()) + " distinct output orders of C(7,3) = 35"; }
};

// Random scheduler: neither exhaustive search nor context bound 1 of this
// configuration finishes in 2 minutes (every lock, wait and allocation of 2
// started-and-joined threads and their registry branches). All 35 orders
// being produced needs only a witness schedule for each; "nothing but
// merges" is checked on every schedule explored.
INTERLEAVE_MODEL(StarWars, "interleavings.obiwan_anakin.all_orders", "interleavings.obiwan_anakin",
                 "all C(7,3) = 35 merges of Obi-Wan's 4 lines and Anakin's 3 occur, and every schedule explored "
                 "(random, seeds 0..19,999) is one of them",
                 Expect::holds, Search::random(20000));

// The seed's program at the level of its output: Obi-Wan prints 4 lines and
// Anakin 3 on one LineLog, a scheduling point (the seed's sleep) after each
// line, with no thread registry around them. Every execution must be a
// merge, and the search must produce all C(7,3) = 35 of them. The DPOR
// checker searches it exhaustively: the prints are the only dependent
// operations, so it runs exactly one execution per merge (35); Relacy
// samples it.
template <class Sync>
struct StarWarsLines {
  static constexpr unsigned threads = 2;
  static inline bool seen[128];
  static inline unsigned long runs = 0;

  LineLog<Sync> out;

  void thread(unsigned t) {
    const int n = t == 0 ? 4 : 3;
    for (int i = 0; i < n; ++i) {
      out.print(hello_line(t == 0 ? "Obi-Wan" : "Anakin", i));
      Sync::yield();
    }
  }
  void after() {
    ++runs;
    const long mask = merge_mask(out.lines());
    INTERLEAVE_MODEL_CHECK(mask >= 0);
    if (mask >= 0) seen[mask] = true;
  }
  static int count_seen() {
    int n = 0;
    for (bool b : seen) n += b ? 1 : 0;
    return n;
  }
  static void before_search() {
    std::fill(std::begin(seen), std::end(seen), false);
    runs = 0;
  }
  static bool after_search() { return count_seen() == 35; }
  static std::string note() {
    return std::to_string(count_seen()) + " distinct merges of C(7,3) = 35 in " + std::to_string(runs) +
           " executions";
  }
};
INTERLEAVE_MODEL(StarWarsLines, "interleavings.obiwan_anakin.lines", "interleavings.obiwan_anakin",
                 "4 + 3 lines on one LineLog: every execution is a merge and all C(7,3) = 35 occur",
                 Expect::holds, Search::random(2000));

}  // namespace
}  // namespace interleave::models
