// models/thread_model.cpp — thread lifecycle and registry (seed: "States of
// thread", "Starting a thread") and the interleavings of the seed's
// Obi-Wan/Anakin program (seed: "Swapning multiple threads"), instantiated
// from impl/include/interleave/thread.hpp and interleavings.hpp. Threads are
// started by the impl (Sync::thread), hence dynamic threads.
//
// What this cannot see: real time (sleeps are scheduling points), OS
// preemption as a state (NotRunning here is "blocked in join or sleep"), and
// C++ thread_local destructors (model threads are fibers on one OS thread):
// a thread's exit work is modelled by the destruction of its target's
// captures, which the impl runs on the thread after it is Dead, exactly
// where the OS runs thread_local destructors.
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
      for (const ThreadInfo& info : listed)
        INTERLEAVE_MODEL_CHECK(info.state != S::New && info.state != S::Dead);
      const int r = rank(t1.state());
      INTERLEAVE_MODEL_CHECK(r >= last);
      last = r;
    }
  }
  void after() { INTERLEAVE_MODEL_CHECK(reg.enumerate().empty()); }
};

INTERLEAVE_MODEL(
    LifecycleOne, "thread.lifecycle.1thread.bound3", "thread.lifecycle",
    "start/run/sleep/join of 1 thread with an observer: states follow the graph, enumerate() "
    "lists only started, unfinished threads",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(
    Lifecycle, "thread.lifecycle.2threads.bound1", "thread.lifecycle",
    "start/run/sleep/join of 2 threads (one joining the other) with an observer: states follow "
    "the graph, enumerate() lists only started, unfinished threads",
    Expect::holds, Search::bounded(1));

// --- exit, concurrent joiners, throwing targets --------------------------

// The exit work of a thread: destroyed with the target's captures, on the
// thread, after it is Dead; writes `out` (a var: a joiner that reads it
// without happens-before is a data race).
template <class Sync>
struct ExitMark {
  typename Sync::template var<int>* out;
  ~ExitMark() { out->store(1); }
};

// Two joiners of one thread at once: the controller and a second Thread J.
// Whoever joins the OS thread, the other must also return only after the
// exit: both read the exit mark, which must be 1 and race-free.
template <class Sync, template <class> class T>
struct TwoJoiners {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  ThreadRegistry<Sync> reg;
  typename Sync::template var<int> exited{0};
  int seen[2] = {-1, -1};
  T<Sync> t{reg, [m = std::make_shared<ExitMark<Sync>>(ExitMark<Sync>{&exited})] {}, "T"};
  Thread<Sync> j{reg,
                 [this] {
                   t.join();
                   seen[1] = exited.load();
                 },
                 "J"};

  void thread(unsigned) {
    INTERLEAVE_MODEL_CHECK(!t.ident().has_value() &&
                           !t.native_id().has_value());  // empty before start()
    t.start();
    INTERLEAVE_MODEL_CHECK(t.ident().has_value());
    j.start();
    t.join();
    seen[0] = exited.load();
    INTERLEAVE_MODEL_CHECK(!t.is_alive());
    j.join();
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(seen[0] == 1 && seen[1] == 1);
    INTERLEAVE_MODEL_CHECK(reg.enumerate().empty());
  }
};

// Joining while another thread of the registry dies: the controller and J
// join T1 while T2 dies; the death of T2 (and any spurious wake-up) must
// send a joiner back to waiting. Both joiners read T1's exit mark.
template <class Sync, template <class> class T>
struct JoinWhileOthersDie {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;
  static constexpr bool heap_under_test = false;
  ThreadRegistry<Sync> reg;
  typename Sync::template var<int> exited{0};
  int seen[2] = {-1, -1};
  T<Sync> t1{reg, [m = std::make_shared<ExitMark<Sync>>(ExitMark<Sync>{&exited})] {}, "T1"};
  Thread<Sync> t2{reg, [] {}, "T2"};
  Thread<Sync> j{reg,
                 [this] {
                   t1.join();
                   seen[1] = exited.load();
                 },
                 "J"};

  void thread(unsigned) {
    t1.start();
    j.start();
    t2.start();
    t1.join();
    seen[0] = exited.load();
    t2.join();
    j.join();
  }
  void after() { INTERLEAVE_MODEL_CHECK(seen[0] == 1 && seen[1] == 1); }
};

// A target that throws: its exception is kept, the thread leaves the
// registry as after a normal return (never listed Dead meanwhile, gone at
// the end), and is_alive() is false after join. An observer enumerates
// throughout.
template <class Sync>
struct ThrowingTarget {
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 1;
  ThreadRegistry<Sync> reg;
  Thread<Sync> t{reg, [] { throw std::runtime_error("target failed"); }, "thrower"};

  void thread(unsigned id) {
    if (id == 0) {
      t.start();
      t.join();
      INTERLEAVE_MODEL_CHECK(t.exception() != nullptr);
      INTERLEAVE_MODEL_CHECK(!t.is_alive() && t.state() == S::Dead);
      INTERLEAVE_MODEL_CHECK(reg.active_count() == 0);
      return;
    }
    for (const ThreadInfo& info : reg.enumerate()) INTERLEAVE_MODEL_CHECK(info.state != S::Dead);
    INTERLEAVE_MODEL_CHECK(reg.active_count() <= 1);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(reg.enumerate().empty());
    INTERLEAVE_MODEL_CHECK(reg.current_thread() == nullptr);
  }
};

template <class Sync> using TwoJoinersFixed = TwoJoiners<Sync, Thread>;
template <class Sync> using TwoJoinersEarly = TwoJoiners<Sync, BrokenEarlyJoinThread>;
template <class Sync> using OthersDieFixed = JoinWhileOthersDie<Sync, Thread>;
template <class Sync> using OthersDieAnyDeath = JoinWhileOthersDie<Sync, BrokenAnyDeathJoinThread>;

INTERLEAVE_MODEL(
    TwoJoinersFixed, "thread.join_exit.2joiners.full", "thread.join_exit",
    "2 concurrent joiners of one thread both return after its exit (the target's captures "
    "destroyed on it): the exit mark is 1 and race-free for both; ident empty before start()",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(OthersDieFixed, "thread.join_exit.others_die.bound6", "thread.join_exit",
                 "2 joiners of T1 while T2 dies: each goes back to waiting until T1 exited",
                 Expect::holds, Search::bounded(6));
INTERLEAVE_MODEL(
    TwoJoinersEarly, "thread.broken_early_join.2joiners", "thread.broken_early_join",
    "the joiner that finds the OS join claimed returns before the exit: it reads the exit "
    "mark unordered with the exiting thread's write",
    Expect::data_race, Search::deepen(3));
INTERLEAVE_MODEL(
    OthersDieAnyDeath, "thread.broken_any_death_join.others_die", "thread.broken_any_death_join",
    "a joiner that waits once instead of in a loop returns on another thread's death (or a "
    "spurious wake-up) before its thread exited: a race on the exit mark (Relacy: random search, "
    "which finds it in about a hundred executions where context bounds 0..3 do not)",
    Expect::data_race, Search::random(20000));
INTERLEAVE_MODEL(
    ThrowingTarget, "thread.throwing_target.bound2", "thread.throwing_target",
    "a throwing target: exception kept, never listed Dead, registry empty after, is_alive() "
    "false after join",
    Expect::holds, Search::bounded(2));

// --- Obi-Wan and Anakin -----------------------------------------------------

// Read-only accessors while the writers still print: Obi-Wan prints 2
// lines, Anakin 1, and a reader takes two (size(), lines()) snapshots. Each
// snapshot is a prefix of the final output, they only grow, and size() read
// before lines() is at most that snapshot's length. The twin's size() reads
// the count without the lock: a race with a print().
template <class Sync, template <class> class Log>
struct ReaderWhilePrinting {
  static constexpr unsigned threads = 3;
  static constexpr bool heap_under_test = false;
  Log<Sync> out;
  std::vector<std::string> snaps[2];
  std::size_t sizes[2] = {};

  void thread(unsigned t) {
    if (t == 2) {
      for (int i = 0; i < 2; ++i) {
        sizes[i] = out.size();
        snaps[i] = out.lines();
      }
      return;
    }
    const int n = t == 0 ? 2 : 1;
    for (int i = 0; i < n; ++i) out.print(hello_line(t == 0 ? "Obi-Wan" : "Anakin", i));
  }
  void after() {
    const std::vector<std::string> final_lines = out.lines();
    INTERLEAVE_MODEL_CHECK(merge_mask(final_lines, 2, 1) >= 0);
    for (int i = 0; i < 2; ++i) {
      INTERLEAVE_MODEL_CHECK(snaps[i].size() <= final_lines.size());
      INTERLEAVE_MODEL_CHECK(std::equal(snaps[i].begin(), snaps[i].end(), final_lines.begin()));
      INTERLEAVE_MODEL_CHECK(sizes[i] <= snaps[i].size());
    }
    INTERLEAVE_MODEL_CHECK(snaps[0].size() <= snaps[1].size() && sizes[0] <= sizes[1]);
    INTERLEAVE_MODEL_CHECK(out.size() == 3u);
  }
};
template <class Sync> using ReaderFixed = ReaderWhilePrinting<Sync, LineLog>;
template <class Sync> using ReaderUnlockedSize =
    ReaderWhilePrinting<Sync, BrokenUnlockedSizeLineLog>;

INTERLEAVE_MODEL(
    ReaderFixed, "interleavings.reader_while_printing.full", "interleavings.obiwan_anakin",
    "size() and lines() read while 2 + 1 lines are printed: every snapshot a prefix of the "
    "output, growing",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    ReaderUnlockedSize, "interleavings.broken_unlocked_size.reader",
    "interleavings.broken_unlocked_size",
    "a size() that reads the count without the lock races with a print() still running",
    Expect::data_race, Search::deepen(3));

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
  static std::string note() {
    return std::to_string(count_seen()) + " distinct output orders of C(7,3) = 35";
  }
};

// Random scheduler: neither exhaustive search nor context bound 1 of this
// configuration finishes in 2 minutes (every lock, wait and allocation of 2
// started-and-joined threads and their registry branches). All 35 orders
// being produced needs only a witness schedule for each; "nothing but
// merges" is checked on every schedule explored.
INTERLEAVE_MODEL(
    StarWars, "interleavings.obiwan_anakin.all_orders", "interleavings.obiwan_anakin",
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
    return std::to_string(count_seen()) + " distinct merges of C(7,3) = 35 in " +
           std::to_string(runs) + " executions";
  }
};
INTERLEAVE_MODEL(StarWarsLines, "interleavings.obiwan_anakin.lines", "interleavings.obiwan_anakin",
                 "4 + 3 lines on one LineLog: every execution is a merge and all C(7,3) = 35 occur",
                 Expect::holds, Search::random(2000));

}  // namespace
}  // namespace interleave::models
