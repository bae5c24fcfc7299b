// models/dpor/adapter.hpp — runs a checker-neutral model (models/model.hpp)
// under the project's own DPOR checker (explorer.hpp).
//
// Contract: `dpor_checker::entry<M>` makes the registry entry whose driver
// explores M<dpor_sync>. Every execution builds the model inside the
// explored body (each dpor object needs a running execution):
//   M<dpor_sync> m; m.before(); start one dpor_sync::thread per i < threads
//   running m.thread(i); join them; m.after();
// Threads the impl starts itself (a pool's workers) are more fibers of the
// same execution, so `dynamic_threads` needs nothing here.
// Search (registry.hpp, DporSearch): Mode::full is exhaustive source-set
// DPOR with sleep sets; Mode::bound k is the naive enumeration of every
// schedule with at most k preemptions (no reduction): the runner tries
// bounds 0, 1, ... for an expected failure, so the counterexample found has
// the fewest preemptions; Mode::random does not exist here and runs as full
// DPOR under the budget. Every search runs under a budget: executions (the
// runner's --budget-executions, else DporSearch::max_executions; then no
// time budget unless the runner's --budget) or seconds (the runner's
// --budget, else DporSearch::budget_s, else kDefaultBudgetS). Await mode
// (DporSearch::await, INTERLEAVE_DPOR_AWAIT) only for a model that must
// hold; the note says "DPOR await" or "DPOR exact". --shard I/N reaches
// the explorer as Options::shard_index/shard_count.
// Model traits: `memory`: the checker executes atomic accesses sequentially
// consistently (memory orders decide happens-before for var<T>), except
// that the search of an expected failure lets a relaxed load return an
// older store coherence allows (Options::stale_reads), which
// Memory::seq_cst turns off; `heap_under_test` needs nothing (no heap reuse
// is explored, no leak check).
// Verdicts: a lost wake-up is a deadlock (Relacy's name for it: a waiter
// blocked for ever) whose detail says "lost wake-up"; uncaught exception and
// nondeterminism are Found::other.
// Replay: the state in the runner's token is the checker's own token
// ("dpor1:<decisions>:<hash>") with ':' written as ',' (a token field holds
// no colon); the spurious wake-up mode is the model's, so a token replays
// under the options that produced it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "../hang_board.hpp"
#include "../registry.hpp"
#include "dpor_sync.hpp"
#include "explorer.hpp"

namespace interleave::models {

namespace dpor_checker {

// Seconds per search when neither the runner nor the registration gives a
// budget: the whole default model run must stay well under two minutes.
inline constexpr double kDefaultBudgetS = 3.0;

// The last search of this process, for the verdict's note.
struct LastSearch {
  bool spurious = true;
  bool spin = false;
  bool await = false;
  bool symmetry = false;
  bool stale = false;
  unsigned shard_index = 0, shard_count = 0;
  std::uint64_t skipped = 0;
  std::uint64_t blocked = 0;
  double seconds = 0;
  bool dpor = true;
};
inline LastSearch& last() {
  static LastSearch l;
  return l;
}

template <template <class> class M>
void body() {
  using Model = M<dpor_sync>;
  Model m;
  if constexpr (requires { m.before(); }) m.before();
  std::array<dpor_sync::thread, Model::threads> ts;
  for (unsigned i = 0; i < Model::threads; ++i) ts[i] = dpor_sync::thread([&m, i] { m.thread(i); });
  for (auto& t : ts) t.join();
  if constexpr (requires { m.after(); }) m.after();
}

inline Found found_of(dpor::Verdict v) {
  switch (v) {
    case dpor::Verdict::holds: return Found::nothing;
    case dpor::Verdict::assertion: return Found::assertion;
    case dpor::Verdict::data_race: return Found::data_race;
    case dpor::Verdict::deadlock:
    case dpor::Verdict::lost_wakeup: return Found::deadlock;
    case dpor::Verdict::livelock: return Found::livelock;
    default: return Found::other;
  }
}

inline std::string encode_state(std::string s) {
  std::replace(s.begin(), s.end(), ':', ',');
  return s;
}
inline std::string decode_state(std::string s) {
  if (s.rfind("dpor1,", 0) != 0)
    throw std::invalid_argument("replay state '" + s +
                                "' is not a DPOR token (want dpor1,<decisions>,<hash>)");
  std::replace(s.begin(), s.end(), ',', ':');
  return s;
}

// Await mode: the registration's, unless INTERLEAVE_DPOR_AWAIT=on|off
// overrides it for a whole run; a model that expects a failure always runs
// exact (await mode cannot see a lost wake-up).
inline bool await_mode(const DporSearch& ds, bool holds) {
  if (!holds) return false;
  const char* e = std::getenv("INTERLEAVE_DPOR_AWAIT");
  if (e == nullptr || *e == '\0') return ds.await_mode;
  const std::string v = e;
  if (v == "on") return true;
  if (v == "off") return false;
  throw std::invalid_argument("INTERLEAVE_DPOR_AWAIT='" + v + "' must be on or off");
}

// The spurious wake-up mode of a search: the registration's, unless
// INTERLEAVE_DPOR_SPURIOUS=on|off overrides it for a whole run.
inline bool spurious(const DporSearch& ds) {
  const char* e = std::getenv("INTERLEAVE_DPOR_SPURIOUS");
  if (e == nullptr || *e == '\0') return ds.spurious_wakeups;
  const std::string v = e;
  if (v == "on") return true;
  if (v == "off") return false;
  throw std::invalid_argument("INTERLEAVE_DPOR_SPURIOUS='" + v + "' must be on or off");
}

inline std::string where_of(const std::source_location& l) {
  if (l.file_name() == nullptr || l.file_name()[0] == '\0') return "";
  return std::string(l.file_name()) + ":" + std::to_string(l.line());
}
// A step of the checker's own code (the harness that starts and joins the
// model threads), not of the impl or the model.
inline bool internal_where(const std::string& w) {
  return w.empty() || w.rfind("models/dpor/", 0) == 0 || w.rfind("/usr/", 0) == 0;
}

// The checker's report of a failing execution in the runner's shape.
inline Counterexample counterexample(const dpor::Result& r) {
  Counterexample c;
  const dpor::Report& rep = r.report;
  for (const dpor::ReportStep& s : rep.steps) {
    Step st;
    st.thread = dpor::thread_name(s.tid);
    st.op = s.op;
    st.where = where_of(s.loc);
    st.function = s.loc.function_name() != nullptr ? s.loc.function_name() : "";
    st.object = s.object;
    st.access = s.access;
    st.internal = internal_where(st.where);
    c.steps.push_back(std::move(st));
  }
  for (const dpor::ReportAccess& a : rep.race)
    c.race.push_back({dpor::thread_name(a.tid), a.op, where_of(a.loc), a.step});
  for (const dpor::ReportBlocked& b : rep.blocked) {
    if (internal_where(where_of(b.loc))) continue;  // the harness joining the model threads
    c.blocked.push_back({dpor::thread_name(b.tid), b.op, where_of(b.loc), b.held, b.note});
  }
  if (rep.check_step >= 0) {
    const std::string head = "check failed: ";
    std::string text = r.detail.rfind(head, 0) == 0 ? r.detail.substr(head.size()) : r.detail;
    const std::size_t at = text.rfind(" at ");
    if (at != std::string::npos) text.resize(at);
    c.check = text;
    c.check_where = where_of(rep.check);
    c.check_thread = dpor::thread_name(rep.check_tid);
    c.check_step = rep.check_step;
  }
  return c;
}

// The failure in one line, with the threads named as the counterexample
// names them (main, T0, ...): a race's two accesses, a deadlock's blocked
// threads; otherwise the checker's own text.
inline std::string detail_of(const dpor::Result& r, const Counterexample& c) {
  if (c.race.size() == 2) {
    const auto verb = [](const std::string& op) {
      return op.rfind("write", 0) == 0 ? "writes" : "reads";
    };
    return "data race on " + c.race[1].op.substr(c.race[1].op.find(' ') + 1) + ": " +
           c.race[0].thread + " " + verb(c.race[0].op) + " at " + c.race[0].where + ", " +
           c.race[1].thread + " " + verb(c.race[1].op) + " at " + c.race[1].where +
           " with no happens-before between them";
  }
  if (!c.blocked.empty()) {
    std::string d;
    for (const BlockedThread& b : c.blocked) {
      std::string held;
      for (const std::string& h : b.holds) held += (held.empty() ? "" : ", ") + h;
      d += (d.empty() ? "" : "; ") + b.thread + " blocked in " + b.op + " at " + b.where +
           ", holding " + (held.empty() ? "nothing" : held) +
           (b.note.empty() ? "" : " [" + b.note + "]");
    }
    return d;
  }
  return r.detail;
}

template <template <class> class M>
Verdict drive(const Run& run, const DporSearch& ds, bool holds) {
  using Model = M<dpor_sync>;
  if constexpr (requires { Model::before_search(); }) Model::before_search();
  hang::reset();
  dpor::Options opts;
  opts.spurious_wakeups = spurious(ds);
  opts.spin_reduction = ds.spin_reduction;
  opts.await_mode = await_mode(ds, holds);
  // Symmetry only where the model must hold (an expected failure's search
  // is naive bounded search, which never reduces).
  opts.symmetry = ds.symmetry && holds;
  // An expected failure also explores stale relaxed loads (a lost update
  // through a stale read needs no preemption, as on Relacy), unless the
  // model asks for sequential consistency; a proof does not.
  bool seq_cst = false;
  if constexpr (requires { Model::memory; }) seq_cst = Model::memory == Memory::seq_cst;
  opts.stale_reads = !holds && !seq_cst;
  opts.shard_index = run.shard_index;
  opts.shard_count = run.shard_count;
  opts.step_cap = std::max(run.depth_limit * 10u, 20000u);
  const std::function<void()> b = &body<M>;
  Verdict v;
  LastSearch& l = last();
  l.spurious = opts.spurious_wakeups;
  l.spin = opts.spin_reduction;
  l.await = opts.await_mode;
  l.symmetry = opts.symmetry && run.mode != Mode::bound;
  l.stale = opts.stale_reads;
  l.shard_index = opts.shard_index;
  l.shard_count = opts.shard_count;
  if (!run.replay_state.empty()) {
    const dpor::Result r = dpor::replay(b, decode_state(run.replay_state), opts);
    v.found = r.verdict == dpor::Verdict::nondeterminism ? Found::nothing : found_of(r.verdict);
    v.executions = 1;
    v.preemptions = r.preemptions;
    const std::string os_hang = v.found == Found::deadlock ? hang::describe() : std::string();
    v.history = r.detail + "\n" + r.listing;
    if (v.found != Found::nothing) v.cex = counterexample(r);
    // A hang inside simulated OS calls is named first (hang_board.hpp).
    v.detail = std::string(dpor::to_string(r.verdict)) + ": " +
               (os_hang.empty() ? "" : "in OS calls: " + os_hang + "; threads: ") +
               detail_of(r, v.cex);
    return v;
  }
  // An execution budget (the run's, else the registration's) makes the
  // verdict deterministic: no time budget then, unless the run gives one.
  opts.max_executions = run.budget_executions > 0 ? run.budget_executions : ds.max_executions;
  if (opts.max_executions > 0)
    opts.max_seconds = run.budget_s > 0 ? run.budget_s : 0;
  else
    opts.max_seconds = run.budget_s > 0  ? run.budget_s
                       : ds.budget_s > 0 ? ds.budget_s
                                         : kDefaultBudgetS;
  if (run.budget_s <= 0) v.budget_s = opts.max_seconds;
  if (run.mode == Mode::bound) {
    opts.mode = dpor::Mode::naive;
    opts.preemption_bound = static_cast<int>(run.bound);
  } else {
    opts.mode = dpor::Mode::dpor;
  }
  const dpor::Result r = dpor::explore(b, opts);
  if (r.bounded_by_budget && opts.max_executions > 0 &&
      r.executions + r.blocked >= opts.max_executions) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "execution budget of %llu executions",
                  static_cast<unsigned long long>(opts.max_executions));
    v.budget_text = buf;
  }
  l.skipped = r.skipped;
  l.blocked = r.blocked;
  l.seconds = r.seconds;
  l.dpor = opts.mode == dpor::Mode::dpor;
  v.executions = r.executions;
  v.preemptions = r.verdict != dpor::Verdict::holds ? r.preemptions : run.bound;
  if (r.verdict == dpor::Verdict::holds && r.bounded_by_budget) {
    v.budget_hit = true;
    v.detail = r.summary();
    return v;
  }
  v.found = found_of(r.verdict);
  v.exhaustive = r.exhaustive;
  if (v.found != Found::nothing) {
    const std::string os_hang = v.found == Found::deadlock ? hang::describe() : std::string();
    v.history = r.detail + "\n" + r.listing;
    v.replay_state = encode_state(r.token);
    v.cex = counterexample(r);
    v.detail = std::string(dpor::to_string(r.verdict)) + " (" + std::to_string(r.preemptions) +
               (r.preemptions == 1 ? " preemption" : " preemptions") +
               "): " + (os_hang.empty() ? "" : "in OS calls: " + os_hang + "; threads: ") +
               detail_of(r, v.cex);
    return v;
  }
  v.detail = r.summary();
  if constexpr (requires { Model::after_search(); }) {
    if (!Model::after_search()) {
      v.found = Found::assertion;
      v.detail = "search-level check failed after the search";
    }
  }
  return v;
}

inline std::string search_note() {
  const LastSearch& l = last();
  char buf[512];
  std::snprintf(
      buf, sizeof buf, "%s%s%s, spurious wake-ups %s%s, %llu sleep-set-blocked, %.2f s",
      l.await ? "DPOR await (wait(lk, pred) blocks until pred holds: blind to lost wake-ups)"
              : "DPOR exact",
      l.symmetry ? ", symmetry (one thread of each group of interchangeable "
                   "threads explored)"
                 : "",
      l.stale ? ", stale relaxed loads explored" : "", l.spurious ? "on" : "off",
      l.spin ? ", spin reduction" : "", static_cast<unsigned long long>(l.blocked), l.seconds);
  std::string s = buf;
  if (l.shard_count > 0)
    s += ", shard " + std::to_string(l.shard_index + 1) + "/" + std::to_string(l.shard_count) +
         " (" + std::to_string(l.skipped) + " runs cut at other shards' subtrees)";
  return s;
}

template <template <class> class M>
ModelEntry entry(std::string name, std::string row, std::string claim, Expect expect, Search search,
                 DporSearch dpor = {}) {
  Search s = search;
  if (dpor.override_search) {
    s = dpor.search;
  } else if (expect == Expect::holds) {
    s = Search::full();
    s.depth_limit = search.depth_limit;
  } else {
    s = Search::deepen(std::max(search.mode == Mode::bound ? search.bound : 0u, 3u));
    s.depth_limit = search.depth_limit;
  }
  if (dpor.symmetry && expect != Expect::holds)
    throw std::invalid_argument("model " + name +
                                ": DporSearch::symmetric() on an expected failure; expected " +
                                "failures run naive bounded search, without reduction");
  if (dpor.await_mode && expect != Expect::holds)
    throw std::invalid_argument("model " + name +
                                ": DporSearch::await() on an expected failure; await mode " +
                                "cannot see lost wake-ups, expected failures run exact");
  const bool holds = expect == Expect::holds;
  ModelEntry e{std::move(name),
               std::move(row),
               std::move(claim),
               expect,
               s,
               "dpor",
               [dpor, holds](const Run& r) { return drive<M>(r, dpor, holds); },
               {},
               {},
               {}};
  e.can_shard = true;
  e.execution_budget = true;
  using Model = M<dpor_sync>;
  if constexpr (requires { Model::note(); })
    e.note = [] { return search_note() + ", " + Model::note(); };
  else
    e.note = [] { return search_note(); };
  return e;
}

}  // namespace dpor_checker

// The checker this executable is built for.
namespace checker = dpor_checker;

}  // namespace interleave::models
