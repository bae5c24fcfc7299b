// models/dpor/explorer.hpp — the search: stateless depth-first exploration
// of a model body, execution after execution, until the path is exhausted,
// a failure is found, or a budget runs out.
//
//   explore(body, opts)   Mode::dpor: source-set DPOR with sleep sets
//                         (Abdulla, Aronis, Jonsson, Sagonas, "Optimal
//                         dynamic partial order reduction", POPL'14,
//                         Algorithm 1 "Source-DPOR"): one complete execution
//                         per Mazurkiewicz trace of the sync operations, plus
//                         runs cut short because every enabled thread sleeps
//                         (counted as `blocked`, never as executions).
//                         Mode::naive: every interleaving of the visible
//                         operations, no reduction (the oracle of the
//                         differential test); with a preemption bound k, all
//                         schedules with at most k preemptions.
//   find_failure(body)    iterative preemption bounding (CHESS): naive
//                         bounded search at k = 0, 1, 2, ... up to max_bound,
//                         so the first counterexample has the fewest
//                         preemptions of any; then unbounded DPOR.
//   replay(body, token)   one execution following a token's decisions.
//
// A run that stops on a budget says "bounded by budget, N executions" and
// never claims a proof.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "execution.hpp"

namespace interleave::dpor {

struct Options {
  Mode mode = Mode::dpor;
  int preemption_bound = -1;         // naive mode only
  std::uint64_t max_executions = 0;  // 0: no budget
  double max_seconds = 0;            // 0: no budget
  unsigned step_cap = 20000;         // events per execution before "possible livelock"
  bool spurious_wakeups = true;
  // Opt-in spin reduction (loom's "seen before yield", GenMC's
  // spin-assume): a thread that loaded an atomic, yielded, and would load
  // it again at the same line with no store since is disabled until a
  // store. Makes yielding spin loops finite; blind to a loop that re-reads
  // with no store on purpose (it is reported as a livelock).
  bool spin_reduction = false;
  // Self-test hook: at a new node try the highest-numbered thread first
  // instead of the one that ran last. The traces found must not change.
  bool prefer_highest = false;
  // Await mode (opt-in): wait(lk, pred) blocks until pred holds; no notify
  // choice and no spurious wake-up is explored for it. A large reduction
  // that cannot see lost wake-ups: verdicts say "DPOR await", not "DPOR exact".
  bool await_mode = false;
  // Symmetry reduction (opt-in, DPOR only): threads started with the same
  // code and captured values are interchangeable while blocked in the same
  // await-mode wait for the same predicate; only the lowest-numbered of
  // such a group is explored there. The model vouches that such a thread
  // holds nothing of its own at those points and that only a thread's
  // identity tells them apart; verdicts say "symmetry".
  bool symmetry = false;
  // Weak memory, in part (opt-in; the model runner turns it on for expected
  // failures): a relaxed load may return an older store than the latest
  // (any that coherence allows), a data choice explored like a notify_one's.
  // Finds a lost update through a stale read with no preemption, as Relacy
  // does. Not used for proofs: models that must hold run without it.
  bool stale_reads = false;
  // Sharding (scale-out): shard shard_index of shard_count (0-based; 0
  // shards: no sharding). The first shard_depth scheduling nodes that have
  // a choice branch on every awake enabled thread (a superset of what
  // Source-DPOR would add there: sleep sets keep the complete executions
  // one per trace), so the top of the tree is the same in every shard; the
  // subtrees below it are numbered in depth-first order and dealt
  // round-robin. The executions of all shards sum to the trace count of the
  // unsharded search; 1/1 explores exactly what the unsharded search does.
  unsigned shard_index = 0;
  unsigned shard_count = 0;
  unsigned shard_depth = 8;
  bool stop_at_failure = true;
  // Called after every complete execution (not after sleep-set-blocked
  // runs) with its verdict: the hook that collects outcomes.
  std::function<void(Verdict)> on_execution;
  // If set, called after every complete execution with its trace signature
  // (Execution::trace_signature): the differential test's trace sets.
  std::function<void(const std::string&)> on_trace;
};

struct Result {
  Verdict verdict = Verdict::holds;
  bool exhaustive = false;  // the search space was covered
  bool bounded_by_budget = false;
  Mode mode = Mode::dpor;
  bool await_mode = false;
  bool symmetry = false;
  int preemption_bound = -1;     // the bound the search ran under (-1: none)
  std::uint64_t executions = 0;  // complete executions (failing ones included)
  std::uint64_t blocked = 0;     // sleep-set-blocked runs (DPOR)
  std::uint64_t skipped = 0;     // sharding: runs cut at a leaf of another shard
  std::uint64_t await_cut = 0;   // await mode: runs cut at a read-only failed predicate check
  std::uint64_t leaves = 0;      // sharding: leaves numbered (all shards')
  unsigned shard_index = 0, shard_count = 0;
  std::uint64_t failures = 0;
  std::uint32_t preemptions = 0;  // of the counterexample
  std::size_t max_depth = 0;      // most events in one execution
  std::uint64_t abandoned = 0;    // fibers stuck while unwinding (their stacks retired)
  double seconds = 0;
  std::string detail;   // the failure
  std::string listing;  // the failing interleaving: thread | operation  file:line
  std::string token;    // replay token of the counterexample
  Report report;        // the counterexample for a person: steps and the failure's structure
  std::string summary() const;
  // "DPOR exact", "DPOR await", "naive exact", "naive await" (then
  // ", symmetry" when that reduction was used): the search and the
  // condition-variable semantics that produced the verdict.
  std::string how() const;
};

Result explore(const std::function<void()>& body, const Options& opts = {});
Result find_failure(const std::function<void()>& body, Options opts = {}, int max_bound = 3);
Result replay(const std::function<void()>& body, const std::string& token,
              const Options& opts = {});

}  // namespace interleave::dpor
