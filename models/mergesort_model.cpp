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
//
// The process sort (mergesort.processes) on the simulated OS
// (models/sim_os.hpp): the impl's own sort_on_process_pool on the impl's
// BasicProcessPool, whose workers are simulated processes; a second model
// thread kills worker pid 2 (the pool's first worker) at any OS step of the
// run, as models/process_pool_model.cpp does. Each execution either returns
// the stable sorted permutation or throws BrokenProcessPool (and throws only
// if a worker died); never a short or unsorted result; and it ends with the
// simulated OS's check: no zombie, no descriptor left, no thread blocked.
// Both transports: shared_memory (on the simulated OS the segment is a heap
// block whose address is the handle: its processes share one address space)
// and encoded (the chunk in the task's arguments and result). The twin
// merges a chunk whose worker died as if it were sorted: where the kill lands
// before that worker sorted its slice (or the pool broke before the chunk was
// dispatched), it returns an unsorted result without an error. Every chunk of
// the input is in descending key order, so an unsorted slice shows.
//
// What this cannot see (process sort): a kill between a worker's OS calls
// (the sort of a slice runs as one step as far as the kill is concerned: a
// half-sorted slice is never seen here; the fixed sort never merges a slice
// without its answer, whatever state it is in); the POSIX memfd and its
// /proc handle (the property and stress layers run them on real processes);
// real time. Small configurations only: 6 records in 2 chunks on 2 workers,
// to preemption bound 1 like the pool's own models (3 chunks at bound 1 did
// not finish in 236 s, 585,810 executions, under Relacy); an execution where the kill misses (worker 2 not yet
// started, or already reaped) is the run without a death, whose result must
// be exact.
#include "model.hpp"
//
#include <algorithm>
#include <csignal>
#include <utility>
#include <vector>

#include "interleave/mergesort.hpp"
#include "interleave/mergesort_process.hpp"
#include "sim_os.hpp"

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

// One caller sorts Elements records in Chunks chunks on a pool of Workers;
// MinPiece is the sort's smallest merge piece (1: every merge of two or more
// elements is cut into one piece per worker, run on the pool).
template <class Sync, mergesort::mergesort_bug Bug, int Workers, int Chunks, int Elements,
          std::size_t MinPiece = mergesort::kMinMergePiece>
struct SortOnPool {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = Workers;
  static constexpr bool heap_under_test = false;
  ThreadPool<Sync> pool{Workers, "M"};
  std::vector<Rec> got;

  void thread(unsigned) {
    got = mergesort::BasicMergeSort<Sync, Bug, MinPiece>::sort_on_pool(pool, input<Elements>(),
                                                                       Chunks, ByKey{});
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
template <class Sync> using Split2w2c = SortOnPool<Sync, fixed, 2, 2, 4, 1>;
template <class Sync> using Split2w3c = SortOnPool<Sync, fixed, 2, 3, 6, 1>;
template <class Sync> using UnlockedMerge2w2c = SortOnPool<Sync, unlocked, 2, 2, 4>;

template <class Sync>
using SortOs = sim_os<Sync, 512, 1024>;

// One caller sorts Elements records in Chunks chunks on a process pool of
// Workers; with Kill, a second model thread kills worker pid 2 at any step.
template <class Sync, mergesort::process_sort_bug Bug, mergesort::chunk_transport How, bool Kill,
          int Workers, int Chunks, int Elements>
struct SortOnProcesses {
  using Os = SortOs<Sync>;
  static constexpr unsigned threads = Kill ? 2 : 1;
  static constexpr unsigned dynamic_threads = 1 + Workers;  // the manager and the workers
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  std::vector<Rec> got;
  bool returned = false, broken = false, killed = false;

  void thread(unsigned i) {
    if (i == 1) {
      try {
        Os::kill(2, SIGKILL);
        killed = true;
      } catch (const os_error&) {
        // not started yet, or already reaped: no death in this execution
      }
      return;
    }
    BasicProcessPool<Os> pool(Workers);
    try {
      got = mergesort::BasicProcessMergeSort<Os, Bug>::sort_on_process_pool(pool, input<Elements>(),
                                                                            Chunks, ByKey{}, How);
      returned = true;
    } catch (const BrokenProcessPool&) {
      broken = true;
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK_MSG(returned != broken,
                               "the sort either returns or throws BrokenProcessPool");
    if (returned) {
      std::vector<Rec> want = input<Elements>();
      std::stable_sort(want.begin(), want.end(), ByKey{});
      INTERLEAVE_MODEL_CHECK_MSG(got.size() == want.size(), "a returned result has every element");
      INTERLEAVE_MODEL_CHECK_MSG(got == want,
                                 "a returned result is the stable sorted permutation of the input");
    }
    if (!killed) INTERLEAVE_MODEL_CHECK_MSG(!broken, "no worker died: the sort does not fail");
    kernel.check_clean();
  }
};

constexpr auto shm = mergesort::chunk_transport::shared_memory;
constexpr auto enc = mergesort::chunk_transport::encoded;
constexpr auto proc_fixed = mergesort::process_sort_bug::none;
constexpr auto lost_chunk = mergesort::process_sort_bug::merges_lost_chunk;
template <class Sync> using ProcShm2w2cKill = SortOnProcesses<Sync, proc_fixed, shm, true, 2, 2, 6>;
template <class Sync> using ProcEnc2w2cKill = SortOnProcesses<Sync, proc_fixed, enc, true, 2, 2, 6>;
template <class Sync> using LostChunk2w2cKill =
    SortOnProcesses<Sync, lost_chunk, shm, true, 2, 2, 4>;

INTERLEAVE_MODEL(Threads2w3c, "mergesort.threads.2w3c.bound3", "mergesort.threads",
                 "6 keyed records in 3 chunks on 2 workers: every interleaving returns the stable "
                 "sorted permutation "
                 "(full search stopped unfinished after 24.6 M executions in 240 s)",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(Threads3w3c, "mergesort.threads.3w3c.bound2", "mergesort.threads",
                 "6 keyed records in 3 chunks on 3 workers: every interleaving returns the stable "
                 "sorted permutation",
                 Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(Split2w2c, "mergesort.threads.split.2w2c.bound2", "mergesort.threads",
                 "4 keyed records in 2 chunks on 2 workers, both sorted into the scratch "
                 "buffer and merged back in 2 pieces run on the pool: every interleaving "
                 "returns the stable sorted permutation (Relacy bound 3 holds too: 1,486,038 "
                 "executions, 20 s)",
                 Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(Split2w3c, "mergesort.threads.split.2w3c.bound2", "mergesort.threads",
                 "6 keyed records in 3 chunks on 2 workers, every merge and every move between "
                 "the arrays cut into 2 pieces run on the pool: every interleaving returns the "
                 "stable sorted permutation",
                 Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(UnlockedMerge2w2c, "mergesort.threads.broken_unlocked_merge.2w2c",
                 "mergesort.threads.broken_unlocked_merge",
                 "two tasks merge their chunks into the shared result with no lock (DATA RACE)",
                 Expect::data_race, Search::deepen(2));

INTERLEAVE_MODEL(ProcShm2w2cKill, "mergesort.processes.shm.2w2c.kill_any_step",
                 "mergesort.processes",
                 "6 keyed records in 2 chunks on 2 worker processes, chunks sorted in place in the "
                 "shared segment, worker pid 2 killed at any step: the stable sorted permutation "
                 "or BrokenProcessPool (only after a death), never a short or unsorted result; no "
                 "zombie, no descriptor left, no hang",
                 Expect::holds, Search::bounded(1),
                 DporSearch::with(Search::bounded(1)).budget(10));
INTERLEAVE_MODEL(ProcEnc2w2cKill, "mergesort.processes.encoded.2w2c.kill_any_step",
                 "mergesort.processes",
                 "6 keyed records in 2 chunks encoded in the tasks, worker pid 2 killed at any "
                 "step: the stable sorted "
                 "permutation or BrokenProcessPool, never a short or unsorted result; no zombie, "
                 "no descriptor left, no hang",
                 Expect::holds, Search::bounded(1),
                 DporSearch::with(Search::bounded(1)).budget(10));
INTERLEAVE_MODEL(LostChunk2w2cKill, "mergesort.processes.broken_merges_lost_chunk.2w2c",
                 "mergesort.processes.broken_merges_lost_chunk",
                 "the twin merges the slice of a chunk whose worker was killed as if sorted: an "
                 "unsorted result and no error",
                 Expect::assertion, Search::deepen(2));

}  // namespace
}  // namespace interleave::models
