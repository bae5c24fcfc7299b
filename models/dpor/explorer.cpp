// models/dpor/explorer.cpp — the outer loops of the search.
#include "explorer.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>

namespace interleave::dpor {

std::string Result::how() const {
  return std::string(mode == Mode::dpor ? "DPOR" : "naive") + (await_mode ? " await" : " exact") +
         (symmetry ? ", symmetry" : "");
}

std::string Result::summary() const {
  std::ostringstream s;
  const std::string how = this->how();
  if (verdict != Verdict::holds) {
    s << to_string(verdict) << " found by " << how;
    if (preemption_bound >= 0) s << " bound " << preemption_bound;
    s << " after " << executions << " executions, " << preemptions << " preemptions: " << detail;
  } else if (bounded_by_budget) {
    s << "bounded by budget, " << executions << " executions (" << how << ")";
  } else if (exhaustive) {
    s << "holds: " << how;
    if (preemption_bound >= 0)
      s << " bound " << preemption_bound;
    else
      s << " exhaustive";
    if (shard_count > 0) s << " in shard " << shard_index + 1 << "/" << shard_count;
    s << ", " << executions << " executions";
    if (mode == Mode::dpor) s << " (+" << blocked << " sleep-set-blocked)";
    if (await_cut > 0) s << " (+" << await_cut << " cut at a failed predicate check)";
  }
  return s.str();
}

Result explore(const std::function<void()>& body, const Options& opts) {
  StackPool pool;
  Path path;
  Execution x(pool, path);
  RunOptions ro;
  ro.mode = opts.mode;
  ro.preemption_bound = opts.mode == Mode::naive ? opts.preemption_bound : -1;
  ro.step_cap = opts.step_cap;
  ro.spurious_wakeups = opts.spurious_wakeups;
  ro.spin_reduction = opts.spin_reduction;
  ro.prefer_highest = opts.prefer_highest;
  ro.await_mode = opts.await_mode;
  ro.symmetry = opts.symmetry && opts.mode == Mode::dpor;
  ro.stale_reads = opts.stale_reads;
  std::uint64_t leaves = 0;
  if (opts.shard_count > 0) {
    if (opts.shard_index >= opts.shard_count)
      throw std::invalid_argument("shard_index " + std::to_string(opts.shard_index) +
                                  " must be < shard_count " + std::to_string(opts.shard_count));
    if (opts.shard_depth == 0) throw std::invalid_argument("shard_depth must be > 0");
    ro.shard_count = opts.shard_count;
    ro.shard_index = opts.shard_index;
    ro.shard_depth = opts.shard_depth;
    ro.leaf_counter = &leaves;
  }
  Result r;
  r.mode = opts.mode;
  r.await_mode = opts.await_mode;
  r.symmetry = ro.symmetry;
  r.shard_index = opts.shard_index;
  r.shard_count = opts.shard_count;
  r.preemption_bound = ro.preemption_bound;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    x.run(body, ro);
    r.max_depth = std::max(r.max_depth, x.events().size());
    r.abandoned += x.abandoned();
    // A run that ends above the sharding depth is a leaf of its own.
    const bool other_shard = x.skipped() || (opts.shard_count > 0 && !x.reached_leaf() &&
                                             leaves++ % opts.shard_count != opts.shard_index);
    if (other_shard) {
      ++r.skipped;
    } else if (x.await_cut()) {
      ++r.await_cut;
    } else if (x.blocked()) {
      ++r.blocked;
    } else {
      ++r.executions;
      if (opts.on_execution) opts.on_execution(x.verdict());
      if (opts.on_trace) opts.on_trace(x.trace_signature());
      if (x.verdict() != Verdict::holds) {
        ++r.failures;
        if (r.verdict == Verdict::holds) {
          r.verdict = x.verdict();
          r.detail = x.detail();
          r.listing = x.listing();
          r.token = x.token();
          r.report = x.report();
          r.preemptions = x.preemptions();
        }
        if (opts.stop_at_failure || x.verdict() == Verdict::nondeterminism) break;
      }
    }
    if (!path.step(opts.mode == Mode::dpor)) {
      r.exhaustive = true;
      break;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if ((opts.max_executions != 0 && r.executions + r.blocked >= opts.max_executions) ||
        (opts.max_seconds > 0 && secs >= opts.max_seconds)) {
      r.bounded_by_budget = true;
      break;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.leaves = leaves;
  if (r.verdict != Verdict::holds && opts.stop_at_failure) r.exhaustive = false;
  return r;
}

Result find_failure(const std::function<void()>& body, Options opts, int max_bound) {
  Result total;
  for (int k = 0; k <= max_bound; ++k) {
    Options o = opts;
    o.mode = Mode::naive;
    o.preemption_bound = k;
    Result r = explore(body, o);
    total.executions += r.executions;
    if (r.verdict != Verdict::holds || r.bounded_by_budget) {
      r.executions = total.executions;
      return r;
    }
  }
  Options o = opts;
  o.mode = Mode::dpor;
  Result r = explore(body, o);
  r.executions += total.executions;
  return r;
}

Result replay(const std::function<void()>& body, const std::string& token, const Options& opts) {
  StackPool pool;
  Path path;
  Execution x(pool, path);
  RunOptions ro;
  ro.mode = Mode::dpor;
  ro.step_cap = opts.step_cap;
  ro.spurious_wakeups = opts.spurious_wakeups;
  ro.spin_reduction = opts.spin_reduction;
  ro.await_mode = opts.await_mode;
  ro.stale_reads = opts.stale_reads;
  ro.replay = &token;
  x.run(body, ro);
  Result r;
  r.await_mode = opts.await_mode;
  r.executions = 1;
  r.verdict = x.verdict();
  r.detail = x.detail();
  r.listing = x.listing();
  r.token = x.token();
  r.report = x.report();
  r.preemptions = x.preemptions();
  return r;
}

}  // namespace interleave::dpor
