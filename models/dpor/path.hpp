// models/dpor/path.hpp — the depth-first search stack of a stateless search.
//
// One Node per scheduling decision (which thread runs the next event) and
// per data choice (which waiter a notify_one wakes). Every execution replays
// the nodes already on the path from the initial state, then extends it;
// `step()` moves to the deepest node with an unexplored alternative (loom's
// `Path`, Flanagan & Godefroid's backtrack sets).
//
// Per scheduling node, in the names of Abdulla et al., "Optimal dynamic
// partial order reduction", POPL'14, Algorithm 1 (Source-DPOR):
//   backtrack  backtrack(E): threads to explore from this prefix E
//   done       threads fully explored from E (they joined Sleep afterwards)
//   sleep      Sleep at E on entry
// A thread is explored from E only if it is in backtrack \ (done ∪ sleep).
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

namespace interleave::dpor {

inline std::uint64_t bit(unsigned t) { return std::uint64_t{1} << t; }
inline unsigned lowest(std::uint64_t s) { return static_cast<unsigned>(std::countr_zero(s)); }

struct Node {
  bool choice = false;            // a data choice, not a scheduling decision
  std::uint8_t chosen = 0;        // thread, or alternative of a choice
  std::uint8_t alternatives = 0;  // choice nodes: how many
  std::uint32_t preemptions = 0;  // before this decision
  std::uint64_t enabled = 0;
  std::uint64_t backtrack = 0;
  std::uint64_t done = 0;
  std::uint64_t sleep = 0;
  // Sharding (RunOptions::shard_count > 0): one of the first `shard_depth`
  // nodes with a choice; its backtrack set is every awake enabled thread
  // from the start, so the top of the tree is the same in every shard.
  bool top = false;
  bool leaf_seen = false;  // the last top node: its current choice was assigned a shard
  bool owned = true;       // ... to this shard
  // Symmetry (RunOptions::symmetry): enabled threads interchangeable with
  // a lower-numbered enabled thread at this node (the same code and start
  // state, at the same start or wait); they are never explored from here:
  // rep[t] is the thread that stands for t.
  std::uint64_t redundant = 0;
  std::uint8_t rep[16] = {};
};

struct Path {
  std::vector<Node> nodes;

  // The next unexplored branch: the deepest node with an alternative left,
  // nodes below it dropped. False when the search is complete.
  bool step(bool use_sleep) {
    while (!nodes.empty()) {
      Node& n = nodes.back();
      if (n.choice) {
        if (n.chosen + 1u < n.alternatives) {
          ++n.chosen;
          return true;
        }
      } else {
        std::uint64_t alt = n.backtrack & ~n.done & ~n.redundant & ~bit(n.chosen);
        if (use_sleep) alt &= ~n.sleep;
        if (alt != 0) {
          n.done |= bit(n.chosen);
          n.chosen = static_cast<std::uint8_t>(lowest(alt));
          n.leaf_seen = false;
          return true;
        }
      }
      nodes.pop_back();
    }
    return false;
  }
};

}  // namespace interleave::dpor
