// models/mergesort_model.cpp — the threaded mergesort (seed: "Multithreaded/
// Multiprocessing mergesort") on the model backend: the impl's own
// sort_on_pool, its ThreadPool and as_completed, with the pool's workers as
// dynamic threads. Every interleaving of the fork-join must return the stable
// sorted permutation of the input, whichever order the chunks complete in
// (the caller merges a chunk only with finished neighbours).
//
// Input: keyed records (key, input position) with duplicate keys, compared by
// key only, so "equal to the stable sort" checks stability as well as order.
//
// heap_under_test = false, as in thread_pool_model.cpp: the pool, futures and
// vectors allocate and free dozens of blocks that are bookkeeping.
//
// What this cannot see: the elements themselves are plain memory, not
// Sync::var, so a race on the chunks' slices of the range (tasks touch
// disjoint slices; the caller reads a slice only after its future completed)
// is not race-checked here; the TSan stress run checks it on real threads.
// The sequential sort has one thread, hence one interleaving: its row's model
// cell is n/a and the property layer checks it. Only small configurations
// (6 elements, 3 chunks, 2-3 workers), to context bound 3 (2 workers) and 2
// (3 workers): nothing beyond those bounds is proved.
#include "model.hpp"
//
#include <algorithm>
#include <utility>
#include <vector>

#include "interleave/mergesort.hpp"

namespace interleave::models {
namespace {

using Rec = std::pair<int, int>;  // (key, input position)
struct ByKey {
  bool operator()(const Rec& a, const Rec& b) const { return a.first < b.first; }
};

template <int Elements>
std::vector<Rec> input() {
  // keys 2,1,2,0,1,0,... : every chunk holds a duplicate of another chunk's key
  static constexpr int keys[] = {2, 1, 2, 0, 1, 0, 2, 1};
  std::vector<Rec> v;
  for (int i = 0; i < Elements; ++i) v.push_back({keys[i % 8], i});
  return v;
}

// One caller sorts Elements records in Chunks chunks on a pool of Workers.
template <class Sync, mergesort::mergesort_bug Bug, int Workers, int Chunks, int Elements>
struct SortOnPool {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = Workers;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{Workers, "M"};
  std::vector<Rec> got;

  void thread(unsigned) {
    got = mergesort::BasicMergeSort<Sync, Bug>::sort_on_pool(pool, input<Elements>(), Chunks,
                                                             ByKey{});
    pool.shutdown(/*wait=*/true);
  }
  void after() {
    std::vector<Rec> want = input<Elements>();
    std::stable_sort(want.begin(), want.end(), ByKey{});
    INTERLEAVE_MODEL_CHECK_MSG(got.size() == want.size(), "the result has every element");
    INTERLEAVE_MODEL_CHECK_MSG(got == want,
                               "the result is the stable sorted permutation of the input");
  }
};

constexpr auto fixed = mergesort::mergesort_bug::none;
constexpr auto unlocked = mergesort::mergesort_bug::unlocked_merge;
template <class Sync> using Threads2w3c = SortOnPool<Sync, fixed, 2, 3, 6>;
template <class Sync> using Threads3w3c = SortOnPool<Sync, fixed, 3, 3, 6>;
template <class Sync> using UnlockedMerge2w2c = SortOnPool<Sync, unlocked, 2, 2, 4>;

INTERLEAVE_MODEL(Threads2w3c, "mergesort.threads.2w3c.bound3", "mergesort.threads",
                 "6 keyed records in 3 chunks on 2 workers: every interleaving returns the stable "
                 "sorted permutation "
                 "(full search stopped unfinished after 24.6 M executions in 240 s)",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(Threads3w3c, "mergesort.threads.3w3c.bound2", "mergesort.threads",
                 "6 keyed records in 3 chunks on 3 workers: every interleaving returns the stable "
                 "sorted permutation",
                 Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(UnlockedMerge2w2c, "mergesort.threads.broken_unlocked_merge.2w2c",
                 "mergesort.threads.broken_unlocked_merge",
                 "two tasks merge their chunks into the shared result with no lock (DATA RACE)",
                 Expect::data_race, Search::deepen(2));

}  // namespace
}  // namespace interleave::models
