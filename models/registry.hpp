// models/registry.hpp — the checker-neutral side of a model: what is
// expected, how it is searched, what a checker reports, and the registry the
// runner reads.
//
// Contract between the runner (runner.cpp, shared by every checker) and a
// checker adapter (models/relacy/adapter.hpp, later others):
// - An adapter registers each model with a `Driver`: a function that runs one
//   search of that model (one mode, one bound, from the start or from a
//   replay state, under a time budget) and returns a `Verdict`. It never
//   prints; the runner decides what a verdict means against `Expect`, prints
//   it, writes the JSON record and makes the replay token.
// - `Verdict::replay_state` is the adapter's own text, opaque to the runner.
//   It must consist of [0-9A-Za-z,._-] only (it is embedded in a
//   colon-separated token); handing it back in `Run::replay_state` re-runs
//   exactly that execution.
// - `Verdict::history` is the checker's text of the failing execution; the
//   runner names raw addresses in it by first use (history normalisation), so
//   an adapter need not.
// Adding a checker X: models/X/adapter.hpp (included by model.hpp when
// INTERLEAVE_CHECKER_X is defined) defines, in a namespace it aliases as
// interleave::models::checker,
//   template <template <class> class M>
//   ModelEntry entry(std::string name, std::string row, std::string claim,
//                    Expect expect, Search search, DporSearch dpor = {});
// (checker = "X", drive = a search of M<X's Sync>), and a backend with
// `static void model_check(bool, const char*, std::source_location)`;
// models/X/checker.cmake defines the INTERFACE library
// interleave_checker_X (compile definition INTERLEAVE_CHECKER_X) and
// appends X to the global property INTERLEAVE_MODEL_CHECKERS. Every model
// file is then also built as model_<scenario>_X.
// This header includes only standard headers: it is safe to include from
// code that must not see any checker.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace interleave::models {

// What a model must end in. `holds`: no execution may fail. The others name
// the bug a broken twin must exhibit: the model passes only when the checker
// finds exactly that outcome.
enum class Expect { holds, data_race, deadlock, assertion, livelock };

// What a checker found in one search.
enum class Found {
  nothing,  // no failing execution in what was searched
  data_race,
  deadlock,
  assertion,  // an INTERLEAVE_MODEL_CHECK failed (or a search-level check)
  livelock,
  other,  // anything else the checker reports (leak, crash, ...): see detail
};

const char* expect_name(Expect e);
const char* found_name(Found f);
// The outcome a model expecting `e` must end in.
Found expected_found(Expect e);

// A model trait (model.hpp): the memory model its atomics run under.
// `as_written`: the orders impl code asks for; `seq_cst`: every atomic access
// sequentially consistent (interleavings only: a bug is a schedule, not a
// weak-memory effect).
enum class Memory { as_written, seq_cst };

enum class Mode { full, bound, random };
const char* mode_name(Mode m);
Mode parse_mode(const std::string& s);  // throws std::invalid_argument naming the value

// How a model is searched. Checker-neutral: a checker interprets it (Relacy:
// full = its full search scheduler, bound = context bound k, random = its
// random scheduler with seeds 0..n-1).
struct Search {
  Mode mode = Mode::full;
  unsigned bound = 0;            // context bound (Mode::bound); for an expected
                                 // failure, the largest bound tried
  unsigned long iterations = 0;  // Mode::random only
  unsigned depth_limit = 2000;   // scheduling points per execution

  static Search full() { return {Mode::full, 0, 0}; }
  static Search bounded(unsigned k) { return {Mode::bound, k, 0}; }
  static Search random(unsigned long n) { return {Mode::random, 0, n}; }
  // For expected failures: try context bounds 0..k, smallest first, so the
  // verdict states the fewest preemptions that expose the bug.
  static Search deepen(unsigned k) { return {Mode::bound, k, 0}; }
};

// How the project's own DPOR checker searches a model, where it differs
// from `Search` (an optional last argument of INTERLEAVE_MODEL; other
// checkers ignore it). Without it the DPOR checker searches a model that
// must hold exhaustively (full DPOR, whatever context bound or random search
// `Search` gives Relacy), and an expected failure with preemption bounds
// 0..k (k = the deepen bound of `Search`, at least 3), smallest first.
// Either way under a budget: a search that hits it says "bounded by budget,
// N executions", never "proved".
struct DporSearch {
  bool override_search = false;  // use `search` instead of the default above
  Search search;
  // A bare wait(lk) may wake spuriously (once per wait between notifies):
  // C++'s rule. Off only where the impl's bare waits sit in predicate loops
  // and the extra traces would not fit the budget; the verdict says which.
  bool spurious_wakeups = true;
  // Opt-in, for a model that polls in a yield loop: a yielding poll that
  // would re-read an atomic, or re-enter a critical section at the same line,
  // having written nothing in between, with no store / no other lock since,
  // is not explored again (it would see the same state): makes the loop's
  // traces finite. Blind to a poll of state its mutex does not guard and to
  // writes to plain members (not var<T>) between the reads.
  bool spin_reduction = false;
  // Opt-in await mode: wait(lk, pred) blocks until pred holds (no notify
  // choice, no spurious wake-up explored for it). Blind to lost wake-ups:
  // only for a model that must hold (an expected failure always runs
  // exact); the verdict says "DPOR await".
  bool await_mode = false;
  // Opt-in symmetry: threads started with the same code and captured values
  // (a pool's workers) are interchangeable while blocked in the same
  // await-mode wait (so it needs await()); one of each such group is explored.
  // The model vouches that its threads hold nothing of their own there and
  // are told apart only by identity; the verdict says "symmetry".
  bool symmetry = false;
  double budget_s = 0;  // seconds; 0: the checker's default
  // Executions (complete plus sleep-set-blocked runs); 0: none. Unlike
  // seconds, a verdict bounded by it is the same on every machine.
  unsigned long long max_executions = 0;
  static DporSearch with(Search s) {
    DporSearch d;
    d.override_search = true;
    d.search = s;
    return d;
  }
  DporSearch no_spurious() const {
    DporSearch d = *this;
    d.spurious_wakeups = false;
    return d;
  }
  DporSearch spin() const {
    DporSearch d = *this;
    d.spin_reduction = true;
    return d;
  }
  DporSearch budget(double seconds) const {
    DporSearch d = *this;
    d.budget_s = seconds;
    return d;
  }
  DporSearch await() const {
    DporSearch d = *this;
    d.await_mode = true;
    return d;
  }
  DporSearch symmetric() const {
    DporSearch d = *this;
    d.symmetry = true;
    return d;
  }
  DporSearch executions(unsigned long long n) const {
    DporSearch d = *this;
    d.max_executions = n;
    return d;
  }
};

// One search request handed to a driver.
struct Run {
  Mode mode = Mode::full;
  unsigned bound = 0;
  unsigned long iterations = 0;  // Mode::random
  unsigned depth_limit = 2000;
  std::string replay_state;                  // empty: search from the start
  double budget_s = 0;                       // wall-clock budget of this search; 0 = none
  unsigned long long budget_executions = 0;  // execution budget; 0 = none
                                             // (a checker without one refuses it: ModelEntry)
  unsigned shard_index = 0;                  // search only part shard_index of shard_count
  unsigned shard_count = 0;                  // (0-based; 0 = the whole search)
  std::string label;                         // model name, for progress lines
};

// A failing execution in a shape every checker fills the same way, for the
// runner to print (summary, table, replay): what a person reads. Threads are
// named as the model states them: "main" runs the model's construction,
// before() and after(); "T<k>" is model thread k (then the threads impl code
// starts, numbered on).
struct Step {
  std::string thread;     // "main", "T0", ...
  std::string op;         // "lock mutex#0", "read var#3", "load atomic#2 = 1"
  std::string where;      // "impl/include/interleave/counter.hpp:72", "" unknown
  std::string function;   // the function, with its template arguments (--verbose)
  std::string object;     // the object it touches ("var#3"), "" none
  char access = 0;        // 'r' a read/load, 'w' a write/store/RMW, 0 neither
  bool internal = false;  // the checker's own step (hidden unless --verbose)
};
struct AccessRef {  // one side of a data race
  std::string thread, op, where;
  int step = -1;  // index into Counterexample::steps, -1 when not shown there
};
struct BlockedThread {  // one thread of a deadlock
  std::string thread, op, where;
  std::vector<std::string> holds;  // "mutex#0 (locked at file:line)"
  std::string note;
};
struct Counterexample {
  std::vector<Step> steps;
  std::vector<AccessRef> race;         // data race: the earlier access, then the later one
  std::vector<BlockedThread> blocked;  // deadlock: each thread that cannot go on
  std::string check;                   // a failed check: its text
  std::string check_where;             // and its file:line
  std::string check_thread;            // the thread that ran it
  int check_step = -1;                 // steps before it failed (an index into steps)
  bool empty() const { return steps.empty() && race.empty() && blocked.empty() && check.empty(); }
};

// What one search found. Checker-neutral.
struct Verdict {
  Found found = Found::nothing;
  bool exhaustive = false;  // the whole space of this mode/bound was explored
  bool budget_hit = false;  // the search stopped at the time budget
  double budget_s = 0;      // the budget the checker applied when it chose
                            // its own (Run::budget_s was 0); else 0
  unsigned long long executions = 0;
  unsigned preemptions = 0;  // the bound the search ran at
  std::string history;       // the failing execution, as the checker prints it
  std::string replay_state;  // re-runs the failing execution (see above)
  std::string detail;        // the checker's own name of the outcome ("DATA RACE")
  std::string budget_text;   // which budget stopped it, when not seconds
                             // ("execution budget of 1000 executions"); else empty
  Counterexample cex;        // the failing execution, structured (when found)
};

// A registered model: the checker-neutral description plus the adapter's
// driver for it.
struct ModelEntry {
  std::string name;   // unique, e.g. "counter.locked.2x3.full"
  std::string row;    // verification-matrix row, e.g. "counter.locked"
  std::string claim;  // the invariant checked, or the bug that must be found
  Expect expect = Expect::holds;
  Search search;
  const char* checker = "";                  // e.g. "relacy"
  std::function<Verdict(const Run&)> drive;  // one search
  std::function<std::string()> note;         // optional: a figure for the verdict
  std::string model_template;                // the model's C++ template, as registered (for a
                                             // pasteable regression registration)
  std::string replay_token;                  // a replay registration: re-run exactly this
                                             // token's execution instead of searching
  // What the checker supports beyond a time budget (the runner refuses
  // --shard / --budget-executions for a checker without it).
  bool can_shard = false;
  bool execution_budget = false;
};

// INTERLEAVE_MODEL_REPLAY: the entry replays one token. Registered only in the
// executable of the token's checker (a token is one checker's schedule);
// elsewhere it registers nothing. Throws std::invalid_argument naming the
// token when it is no token.
ModelEntry replay_entry(ModelEntry m, std::string token);

std::vector<ModelEntry>& registry();

struct Registrar {
  explicit Registrar(ModelEntry m) {
    if (m.drive) registry().push_back(std::move(m));
  }
};
// The template name a registration names, stored with its entry.
inline ModelEntry named(ModelEntry m, const char* model_template) {
  m.model_template = model_template;
  return m;
}

int run_main(int argc, char** argv);

}  // namespace interleave::models
