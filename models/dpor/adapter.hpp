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
// DPOR under the budget. Every search runs under a budget (the runner's
// --budget, else DporSearch::budget_s, else kDefaultBudgetS).
// Model traits: `memory` needs nothing (the checker executes every atomic
// access sequentially consistently; memory orders only decide
// happens-before for var<T>); `heap_under_test` needs nothing (no heap
// reuse is explored, no leak check).
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
    throw std::invalid_argument("replay state '" + s + "' is not a DPOR token (want dpor1,<decisions>,<hash>)");
  std::replace(s.begin(), s.end(), ',', ':');
  return s;
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

template <template <class> class M>
Verdict drive(const Run& run, const DporSearch& ds) {
  using Model = M<dpor_sync>;
  if constexpr (requires { Model::before_search(); }) Model::before_search();
  hang::reset();
  dpor::Options opts;
  opts.spurious_wakeups = spurious(ds);
  opts.spin_reduction = ds.spin_reduction;
  opts.step_cap = std::max(run.depth_limit * 10u, 20000u);
  const std::function<void()> b = &body<M>;
  Verdict v;
  LastSearch& l = last();
  l.spurious = opts.spurious_wakeups;
  l.spin = opts.spin_reduction;
  if (!run.replay_state.empty()) {
    const dpor::Result r = dpor::replay(b, decode_state(run.replay_state), opts);
    v.found = r.verdict == dpor::Verdict::nondeterminism ? Found::nothing : found_of(r.verdict);
    v.executions = 1;
    v.preemptions = r.preemptions;
    const std::string os_hang = v.found == Found::deadlock ? hang::describe() : std::string();
    v.detail = std::string(dpor::to_string(r.verdict)) + ": " +
               (os_hang.empty() ? "" : "in OS calls: " + os_hang + "; threads: ") + r.detail;
    v.history = r.detail + "\n" + r.listing;
    return v;
  }
  opts.max_seconds = run.budget_s > 0 ? run.budget_s : ds.budget_s > 0 ? ds.budget_s : kDefaultBudgetS;
  if (run.budget_s <= 0) v.budget_s = opts.max_seconds;
  if (run.mode == Mode::bound) {
    opts.mode = dpor::Mode::naive;
    opts.preemption_bound = static_cast<int>(run.bound);
  } else {
    opts.mode = dpor::Mode::dpor;
  }
  const dpor::Result r = dpor::explore(b, opts);
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
    // A hang inside simulated OS calls is named first (hang_board.hpp).
    const std::string os_hang = v.found == Found::deadlock ? hang::describe() : std::string();
    v.detail = std::string(dpor::to_string(r.verdict)) + " (" + std::to_string(r.preemptions) +
               (r.preemptions == 1 ? " preemption" : " preemptions") +
               "): " + (os_hang.empty() ? "" : "in OS calls: " + os_hang + "; threads: ") + r.detail;
    v.history = r.detail + "\n" + r.listing;
    v.replay_state = encode_state(r.token);
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
  char buf[160];
  std::snprintf(buf, sizeof buf, "spurious wake-ups %s%s, %llu sleep-set-blocked, %.2f s",
                l.spurious ? "on" : "off", l.spin ? ", spin reduction" : "",
                static_cast<unsigned long long>(l.blocked), l.seconds);
  return buf;
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
  ModelEntry e{std::move(name), std::move(row),  std::move(claim), expect, s, "dpor",
               [dpor](const Run& r) { return drive<M>(r, dpor); }, {}};
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
