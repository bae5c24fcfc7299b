// interleave/mergesort.hpp — the seed's mergesort, sequential and on a thread
// pool: a stable two-way merge, a recursive split into `parts` chunks folded
// with that merge, and the same chunks sorted on a ThreadPool<Sync> and merged
// as their futures complete (as_completed), each merge cut into pieces that
// run on the pool.
//
// Seed scenario: "Multithreaded/Multiprocessing mergesort" (the threaded and
// sequential parts; the process variant is not built).
//
//   namespace interleave::mergesort
//   std::vector<T> merge(a, b, comp = std::less<>{})      stable two-way merge
//   std::vector<T> sort(range, parts = 6, comp)           recursive, sequential
//   std::vector<T> sort_multithreading<Sync>(range, workers = 6, comp)
//   std::vector<T> sort_on_pool(pool, range, chunks, comp)  on an existing pool
//   MergeSort<Sync>                   the fixed threaded sort (static members)
//   BasicMergeSort<Sync, Bug, MinMergePiece>  the same with a chosen twin and
//                                     smallest merge piece (models: 1)
//   BrokenUnlockedMergeSort<Sync>     its broken twin (see below)
//
// Requires: `parts >= 2` (std::invalid_argument naming "parts", where the seed
//   asserts), `workers >= 1` and `chunks >= 1` (naming "workers" / "chunks");
//   T is default-constructible and move-assignable (the scratch buffer);
//   `comp` is a strict weak ordering, and for the threaded sort safe to call
//   from several threads at once (every chunk task and merge piece calls the
//   one Compare object the function received).
// Guarantees:
//   - every function returns a new vector and leaves its input untouched;
//   - the result equals std::stable_sort of the input under `comp`: sorted,
//     a permutation of the input, and elements that compare equal keep their
//     input order. merge() takes from `a` while !comp(b, a) (the seed's
//     `lt1[i] <= lt2[j]`), so on ties `a`'s element comes first;
//   - the threaded sort is stable although chunks finish in any order: a
//     finished chunk is merged only with finished chunks *adjacent* to it
//     (left run on the left), never folded onto an accumulator in completion
//     order as the seed does (that loses stability);
//   - any size: 0 and 1 return a copy at once (the threaded sort starts no
//     pool); `parts`/`workers` larger than the input make one-element chunks;
//   - an exception from `comp` or from T's moves propagates to the caller;
//     before it does, sort_on_pool cancels the chunk tasks and merge pieces
//     not yet started and waits for the others, so no task touches freed
//     memory.
// Splitting (the seed's): chunk_size = max(1, n / parts), chunks start at
//   0, chunk_size, 2*chunk_size, ... (so there may be parts + 1 chunks, the
//   last one short). Up to kInsertionCutoff (24) elements sort() uses a
//   stable insertion sort instead of recursing to single elements (the seed
//   recurses to length 1; the result is the same, the allocations are not).
//   Merges ping-pong between the range and one scratch buffer of n elements.
//   The threaded sort sorts each chunk bottom-up instead (sort_chunk:
//   insertion-sorted runs of kRunLength (16) or 8 elements, then passes of
//   pairwise merges, within blocks of kBlockBytes (64 KiB) first, then over
//   whole blocks; the whole is still a stable mergesort of the chunks on
//   the pool, merged as they complete). A merge of two runs of the chunks is
//   cut into min(pool.max_workers(), len / MinMergePiece) pieces at evenly
//   spaced output positions (MinMergePiece = kMinMergePiece, 32,768, by
//   default), the caller runs the first piece and the pool the others; runs
//   that lie in different arrays are first joined by moving the shorter
//   one, cut the same way (see pool_merger).
// Memory ordering: everything the caller did before sort_multithreading /
//   sort_on_pool happens-before each chunk task runs (ThreadPool::submit); each
//   task's writes to its chunk happen-before the caller merges that chunk
//   (the future's completion, observed through as_completed and get()). The
//   caller's merging so far happens-before each merge piece runs (submit),
//   and each piece's writes happen-before the caller goes on (its future's
//   get()). Tasks touch disjoint slices of the range and of the scratch
//   buffer; pieces of one merge read and write disjoint slices, and no chunk
//   task touches a slice a merge uses (only finished chunks are merged).
// Destruction: sort_on_pool leaves `pool` running (the caller owns it);
//   sort_multithreading's own pool is shut down and joined before it returns.
//   sort_on_pool must not be called from a worker of `pool` (it waits on the
//   pool's futures: the pool's own deadlock check applies).
//
// Broken twin (mergesort_bug::unlocked_merge, BrokenUnlockedMergeSort): each
//   task, when its chunk is sorted, merges the chunk into one shared result
//   itself, with no lock around the read-merge-write: two tasks read the same
//   old result and the later write drops the other's chunk (a lost update),
//   and the concurrent copy and assignment of the shared vector are a data
//   race (the lines marked `interleave:race-read` / `race-write
//   mergesort.threads.broken_unlocked_merge`). It also merges in completion
//   order, as the seed does, so equal keys lose their input order. The fixed
//   sort has no shared result at all: only the caller decides what merges,
//   and the pieces of a merge write disjoint slices.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "interleave/as_completed.hpp"
#include "interleave/promise.hpp"
#include "interleave/sync.hpp"
#include "interleave/thread_pool.hpp"

namespace interleave::mergesort {

// Which threaded sort: the fixed one, or the broken twin (see the header comment).
enum class mergesort_bug { none, unlocked_merge };

inline constexpr int kDefaultParts = 6;
inline constexpr std::size_t kInsertionCutoff = 24;
// The threaded sort's chunks: insertion-sorted runs of this many elements
// (or half as many) before the merge passes.
inline constexpr std::size_t kRunLength = 16;
// ... and are sorted in blocks of this many bytes first (sort_chunk).
inline constexpr std::size_t kBlockBytes = std::size_t{1} << 16;
// The threaded sort splits a merge into pieces of at least this many
// elements, run on the pool at once (BasicMergeSort's MinMergePiece).
inline constexpr std::size_t kMinMergePiece = std::size_t{1} << 15;

namespace detail {

inline void check_at_least(int value, int least, const char* who, const char* name) {
  if (value < least)
    throw std::invalid_argument(std::string(who) + ": " + name + " must be >= " +
                                std::to_string(least) + ", got " + std::to_string(value));
}

// Stable merge of [f1, l1) and [f2, l2) into out: takes from the first run
// while !comp(*f2, *f1). `out` may alias the start of the second run's
// storage as long as out + (l1 - f1) <= f2 (then no unread element of the
// second run is overwritten; its tail is then already in place).
template <class It1, class It2, class Out, class Compare>
Out merge_runs(It1 f1, It1 l1, It2 f2, It2 l2, Out out, Compare& comp) {
  while (f1 != l1 && f2 != l2) {
    if (comp(*f2, *f1)) {
      *out = std::move(*f2);
      ++f2;
    } else {
      *out = std::move(*f1);
      ++f1;
    }
    ++out;
  }
  out = std::move(f1, l1, out);
  if constexpr (std::is_same_v<Out, It2>) {
    if (out == f2) return out + (l2 - f2);  // the tail is already where it belongs
  }
  return std::move(f2, l2, out);
}

// The mirror of merge_runs for a left run [f1, l1) stored in place just
// before the output's end `out_end` (out_end - (l1 - f1) - (l2 - f2) == f1)
// and a right run [f2, l2) elsewhere: fills backwards, taking the right
// run's element on ties (it came later), so the merge is stable; no unread
// element of the left run is overwritten.
template <class T, class Compare>
void merge_runs_backward(T* f1, T* l1, T* f2, T* l2, T* out_end, Compare& comp) {
  while (f1 != l1 && f2 != l2) {
    if (comp(*(l2 - 1), *(l1 - 1)))
      *--out_end = std::move(*--l1);
    else
      *--out_end = std::move(*--l2);
  }
  std::move_backward(f2, l2, out_end);  // what is left of the left run is in place
}

// Stable merge of the runs [f1, l1) and [f2, l2) into out[0, (l1 - f1) +
// (l2 - f2)), which overlaps neither run; ties go to the first run, as in
// merge_runs. Returns the output's end. For the bottom-up chunk sort and the
// pieces of the threaded sort's merges (runs of similar lengths, where which
// run the next element comes from is a coin toss on random keys):
//   - branch-free steps: the comparison's result selects the cursor to move
//     from and advances both cursors arithmetically (one by 1, the other by
//     0), so no data-dependent branch is mispredicted (a branch per
//     comparison is, about half the time, on random keys). The selected
//     element is moved, so any T is served;
//   - for trivially copyable T, two independent chains: each step also
//     takes the output's last element from the runs' backs (ties to the
//     second run there), min(l1 - f1, l2 - f2) steps from each end. Each end
//     is on its own a stable merge of the untouched runs (copying a
//     trivially copyable element leaves it as it was), whose cursors stay
//     inside their runs for that many steps; the front yields the smallest
//     elements and the back the largest, 2 * steps <= the total, so they
//     fill disjoint parts of the output and leave [f1, l1) and [f2, l2) to
//     merge from the front. (A move that changes its source, as a
//     std::string's does, would let one end compare with an element the
//     other end took: not for such T.)
// The seed's fold (merge_runs) merges a growing accumulator with a short
// chunk, where the branch is mostly predicted: it keeps the branching form.
template <class T, class Compare>
T* merge_runs_apart(T* f1, T* l1, T* f2, T* l2, T* out, Compare& comp) {
  T* back = out + (l1 - f1) + (l2 - f2);
  T* const end = back;
  for (auto steps = std::is_trivially_copyable_v<T> ? std::min(l1 - f1, l2 - f2) : 0; steps > 0;
       --steps) {
    const bool right = static_cast<bool>(comp(*f2, *f1));
    *out = std::move(*(right ? f2 : f1));
    ++out;
    f2 += right;
    f1 += !right;
    const bool left = static_cast<bool>(comp(*(l2 - 1), *(l1 - 1)));
    *--back = std::move(*(left ? l1 - 1 : l2 - 1));
    l1 -= left;
    l2 -= !left;
  }
  if (f1 != l1 && f2 != l2) {
    for (;;) {
      const bool right = static_cast<bool>(comp(*f2, *f1));
      *out = std::move(*(right ? f2 : f1));
      ++out;
      f2 += right;
      f1 += !right;
      if (f1 == l1 || f2 == l2) break;
    }
  }
  out = std::move(f1, l1, out);
  std::move(f2, l2, out);
  return end;
}

template <class T, class Compare>
void insertion_sort(T* first, T* last, Compare& comp) {
  for (T* i = first + (first != last); i < last; ++i) {
    T x = std::move(*i);
    T* j = i;
    for (; j != first && comp(x, *(j - 1)); --j) *j = std::move(*(j - 1));
    *j = std::move(x);
  }
}

// Sorts data[0, n) in place, stably, with scratch buf[0, n): the seed's split
// into `parts` chunks, each sorted recursively, folded left to right with the
// merge; the accumulator alternates between data and buf.
template <class T, class Compare>
void sort_rec(T* data, T* buf, std::size_t n, int parts, Compare& comp) {
  if (n <= kInsertionCutoff) {
    insertion_sort(data, data + n, comp);
    return;
  }
  const std::size_t chunk = std::max<std::size_t>(1, n / static_cast<std::size_t>(parts));
  for (std::size_t b = 0; b < n; b += chunk) {
    const std::size_t len = std::min(chunk, n - b);
    sort_rec(data + b, buf + b, len, parts, comp);
  }
  bool acc_in_data = true;
  for (std::size_t s = chunk; s < n; s += chunk) {  // acc = [0, s), next chunk = [s, e)
    const std::size_t e = std::min(s + chunk, n);
    if (acc_in_data)
      merge_runs(data, data + s, data + s, data + e, buf, comp);
    else
      merge_runs(buf, buf + s, data + s, data + e, data, comp);
    acc_in_data = !acc_in_data;
  }
  if (!acc_in_data) std::move(buf, buf + n, data);
}

// Waits until no task of `futures` can still touch the caller's memory:
// cancels those not started, waits for the others. For unwinding.
template <class Futures>
void settle(Futures& futures) noexcept {
  for (auto& f : futures) {
    try {
      if (!f.cancel()) f.wait();
    } catch (...) {
    }
  }
}

// Sorts data[0, n) stably with scratch buf[0, n), bottom-up: runs of at most
// kRunLength elements by insertion sort, then passes of pairwise merges of
// neighbouring runs, each pass from one array into the other. Every element
// moves once per pass, log2(n / run) times in all (the seed's 6-way fold
// moves it about (parts + 1) / 2 times per level). The sorted result ends in
// buf when `into_buf`, else in data: the run length is halved when that
// flips the parity of the number of passes, so no final copy is needed
// (except for inputs of at most run / 2 elements).
template <class T, class Compare>
void sort_runs(T* data, T* buf, std::size_t n, Compare& comp, bool into_buf) {
  const auto passes = [n](std::size_t run) {
    unsigned p = 0;
    for (std::size_t w = run; w < n; w *= 2) ++p;
    return p;
  };
  std::size_t run = kRunLength;
  if (((passes(run) & 1u) != 0) != into_buf) run /= 2;
  for (std::size_t b = 0; b < n; b += run)
    insertion_sort(data + b, data + std::min(b + run, n), comp);
  T* from = data;
  T* to = buf;
  for (std::size_t w = run; w < n; w *= 2) {
    for (std::size_t b = 0; b < n; b += 2 * w) {
      const std::size_t m = std::min(b + w, n), e = std::min(b + 2 * w, n);
      merge_runs_apart(from + b, from + m, from + m, from + e, to + b, comp);
    }
    std::swap(from, to);
  }
  if ((from == buf) != into_buf) std::move(from, from + n, to);
}

// sort_runs, cache-blocked: blocks of kBlockBytes of elements are sorted one
// after the other (a block's passes stay in the cache), then the passes over
// whole blocks. The blocks land in the array from which an even or odd
// number of those passes ends in buf when `into_buf`, else in data.
template <class T, class Compare>
void sort_chunk(T* data, T* buf, std::size_t n, Compare& comp, bool into_buf = false) {
  const std::size_t block = std::max<std::size_t>(4 * kRunLength, kBlockBytes / sizeof(T));
  if (n <= block) {
    sort_runs(data, buf, n, comp, into_buf);
    return;
  }
  unsigned passes = 0;
  for (std::size_t w = block; w < n; w *= 2) ++passes;
  const bool blocks_in_buf = ((passes & 1u) != 0) != into_buf;
  for (std::size_t b = 0; b < n; b += block)
    sort_runs(data + b, buf + b, std::min(block, n - b), comp, blocks_in_buf);
  T* from = blocks_in_buf ? buf : data;
  T* to = blocks_in_buf ? data : buf;
  for (std::size_t w = block; w < n; w *= 2) {
    for (std::size_t b = 0; b < n; b += 2 * w) {
      const std::size_t m = std::min(b + w, n), e = std::min(b + 2 * w, n);
      merge_runs_apart(from + b, from + m, from + m, from + e, to + b, comp);
    }
    std::swap(from, to);
  }
}

// The co-rank of diagonal d in the stable merge of a[0, na) and b[0, nb):
// the i such that the merge's first d outputs are a[0, i) and b[0, d - i).
// Binary search for the smallest i at which a[i] does not belong after
// b[d - i - 1] (ties go to a, as in merge_runs).
template <class T, class Compare>
std::size_t co_rank(std::size_t d, const T* a, std::size_t na, const T* b, std::size_t nb,
                    Compare& comp) {
  std::size_t lo = d > nb ? d - nb : 0, hi = std::min(d, na);
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (comp(b[d - mid - 1], a[mid]))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// The threaded sort's merging side: like adjacent_merger (below) a finished
// chunk is merged with the finished runs adjacent to it, left run on the
// left, but every merge is out of place and split into pieces that run on
// the pool at once. A run of merged chunks lives wholly in `data` or wholly
// in `scratch` (where_[first chunk]); two runs in the same array merge into
// the other one; if they are in different arrays the shorter is moved over
// first. Pieces: a merge of len elements is cut into
// min(pool workers, len / MinPiece) pieces (at least 1) at evenly spaced
// diagonals of the merge, where co_rank finds (on the caller, before any
// piece starts) how many of each run's elements come first, so piece p
// writes output [d_p, d_{p+1}) from input slices no other piece reads or
// writes; moves are cut the same way. The caller runs piece 0 itself and
// waits for the others' futures (their writes happen-before that wait
// returns); on an exception it settles them before it rethrows.
// finish() leaves the whole sorted range in `data`.
template <class Sync, class T, class Compare, class Pool, std::size_t MinPiece>
class pool_merger {
 public:
  pool_merger(Pool& pool, T* data, T* scratch, std::size_t n, std::size_t chunk, Compare& comp)
      : pool_(pool),
        data_(data),
        scratch_(scratch),
        n_(n),
        chunk_(chunk),
        k_((n + chunk - 1) / chunk),
        run_begin_(k_ + 1),
        run_end_(k_ + 1),
        in_scratch_(k_ + 1, 0),
        done_(k_, 0),
        comp_(comp) {
    unsigned levels = 0;
    for (std::size_t runs = k_; runs > 1; runs = (runs + 1) / 2) ++levels;
    chunks_in_scratch_ = levels % 2 == 1;
  }

  std::size_t chunks() const noexcept { return k_; }
  std::size_t at(std::size_t i) const noexcept { return std::min(i * chunk_, n_); }
  // Where each chunk's task leaves its sorted chunk: in scratch when a
  // balanced merge of the k chunks has an odd number of levels, so that,
  // merges alternating between the arrays, the last one writes into data.
  bool chunks_in_scratch() const noexcept { return chunks_in_scratch_; }

  // Chunk i is sorted, in scratch if chunks_in_scratch() else in data (its
  // task is done with the other array's slice).
  void finished(std::size_t i) {
    if (i >= k_ || done_[i])
      throw std::logic_error("mergesort: chunk " + std::to_string(i) +
                             " reported finished twice or out of range");
    std::size_t lo = i, hi = i + 1;
    bool in_scratch = chunks_in_scratch_;
    if (lo > 0 && done_[lo - 1]) {
      const std::size_t s = run_begin_[lo];
      in_scratch = merge(s, lo, hi, in_scratch_[s] != 0, in_scratch);
      lo = s;
    }
    if (hi < k_ && done_[hi]) {
      const std::size_t e = run_end_[hi];
      in_scratch = merge(lo, hi, e, in_scratch, in_scratch_[hi] != 0);
      hi = e;
    }
    done_[i] = 1;
    run_begin_[hi] = lo;
    run_end_[lo] = hi;
    in_scratch_[lo] = in_scratch;
  }

  // After every chunk finished: the sorted run into data if it is in scratch.
  void finish() {
    if (k_ > 0 && in_scratch_[0]) move_over(0, n_, scratch_, data_);
  }

 private:
  std::size_t pieces(std::size_t len) const {
    const std::size_t most = static_cast<std::size_t>(std::max(1, pool_.max_workers()));
    return std::clamp<std::size_t>(len / std::max<std::size_t>(1, MinPiece), 1, most);
  }

  // fn(p) for p in [0, count): p > 0 on the pool, p == 0 here.
  template <class Fn>
  void run_pieces(std::size_t count, const Fn& fn) {
    std::vector<Future<int, Sync>> futures;
    futures.reserve(count - 1);
    try {
      for (std::size_t p = 1; p < count; ++p)
        futures.push_back(pool_.submit([&fn, p] {
          fn(p);
          return 0;
        }));
      fn(0);
      for (auto& f : futures) f.get();
    } catch (...) {
      settle(futures);  // no piece may outlive the caller's frame
      throw;
    }
  }

  void move_over(std::size_t b, std::size_t e, T* from, T* to) {
    const std::size_t len = e - b, count = pieces(len);
    run_pieces(count, [=](std::size_t p) {
      const std::size_t pb = b + len * p / count, pe = b + len * (p + 1) / count;
      std::move(from + pb, from + pe, to + pb);
    });
  }

  // Merges the runs [at(lo), at(mid)) and [at(mid), at(hi)); returns whether
  // the merged run is in scratch.
  bool merge(std::size_t lo, std::size_t mid, std::size_t hi, bool a_in_scratch,
             bool b_in_scratch) {
    const std::size_t l = at(lo), m = at(mid), h = at(hi);
    if (a_in_scratch != b_in_scratch) {
      // The shorter run joins the other; for the last merge, the run in data
      // joins the one in scratch, so that the merge writes into data.
      const bool last = l == 0 && h == n_;
      if (last ? !a_in_scratch : m - l <= h - m) {
        move_over(l, m, a_in_scratch ? scratch_ : data_, b_in_scratch ? scratch_ : data_);
        a_in_scratch = b_in_scratch;
      } else {
        move_over(m, h, b_in_scratch ? scratch_ : data_, a_in_scratch ? scratch_ : data_);
        b_in_scratch = a_in_scratch;
      }
    }
    T* const from = a_in_scratch ? scratch_ : data_;
    T* const to = a_in_scratch ? data_ : scratch_;
    T* const a = from + l;
    T* const b = from + m;
    const std::size_t na = m - l, nb = h - m, len = h - l, count = pieces(len);
    // Every cut before any piece starts: a piece moves elements out of the
    // runs, which another piece's search must not read.
    std::vector<std::size_t> cut(count + 1);
    for (std::size_t p = 0; p <= count; ++p) cut[p] = co_rank(len * p / count, a, na, b, nb, comp_);
    Compare& comp = comp_;
    run_pieces(count, [=, &cut, &comp](std::size_t p) {
      const std::size_t d0 = len * p / count, d1 = len * (p + 1) / count;
      const std::size_t i0 = cut[p], i1 = cut[p + 1];
      merge_runs_apart(a + i0, a + i1, b + (d0 - i0), b + (d1 - i1), to + l + d0, comp);
    });
    return !a_in_scratch;
  }

  Pool& pool_;
  T* const data_;
  T* const scratch_;
  const std::size_t n_, chunk_, k_;
  bool chunks_in_scratch_;
  // As in adjacent_merger; in_scratch_[j]: the run that begins at chunk j
  // is in scratch (valid at a run's first chunk).
  std::vector<std::size_t> run_begin_, run_end_;
  std::vector<char> in_scratch_;
  std::vector<char> done_;
  Compare& comp_;
};

// The caller's side of a chunked sort: chunk i of data[0, n) is
// [at(i), at(i + 1)), chunk = max(1, n / chunks). finished(i) is called once
// for each chunk when its slice is sorted, in any order; it merges the chunk
// with the finished runs adjacent to it (left run on the left, so the result
// is stable whatever the completion order). When every chunk is finished,
// data[0, n) is sorted. The scratch slices of a run's chunks are used as
// temporary space, so a chunk's task must be done with its scratch slice
// before finished(i). Only one thread calls finished().
template <class T, class Compare>
class adjacent_merger {
 public:
  adjacent_merger(T* data, T* scratch, std::size_t n, std::size_t chunk, Compare& comp)
      : data_(data),
        scratch_(scratch),
        n_(n),
        chunk_(chunk),
        k_((n + chunk - 1) / chunk),
        run_begin_(k_ + 1),
        run_end_(k_ + 1),
        done_(k_, 0),
        comp_(comp) {}

  std::size_t chunks() const noexcept { return k_; }
  std::size_t at(std::size_t i) const noexcept { return std::min(i * chunk_, n_); }

  void finished(std::size_t i) {
    if (i >= k_ || done_[i])
      throw std::logic_error("mergesort: chunk " + std::to_string(i) +
                             " reported finished twice or out of range");
    std::size_t lo = i, hi = i + 1;
    if (lo > 0 && done_[lo - 1]) {
      const std::size_t s = run_begin_[lo];
      merge_adjacent(s, lo, hi);
      lo = s;
    }
    if (hi < k_ && done_[hi]) {
      const std::size_t e = run_end_[hi];
      merge_adjacent(lo, hi, e);
      hi = e;
    }
    done_[i] = 1;
    run_begin_[hi] = lo;
    run_end_[lo] = hi;
  }

 private:
  // [at(lo), at(mid)) and [at(mid), at(hi)) are sorted: the shorter run goes
  // to the scratch buffer and the two merge back in place, from the front
  // when the left run is the shorter, else from the back.
  void merge_adjacent(std::size_t lo, std::size_t mid, std::size_t hi) {
    T* const l = data_ + at(lo);
    T* const m = data_ + at(mid);
    T* const h = data_ + at(hi);
    if (m - l <= h - m) {
      std::move(l, m, scratch_ + at(lo));
      merge_runs(scratch_ + at(lo), scratch_ + at(mid), m, h, l, comp_);
    } else {
      std::move(m, h, scratch_ + at(mid));
      merge_runs_backward(l, m, scratch_ + at(mid), scratch_ + at(hi), h, comp_);
    }
  }

  T* const data_;
  T* const scratch_;
  const std::size_t n_, chunk_, k_;
  // Runs of finished, merged chunks: run_begin_[j] is the first chunk of the
  // run that ends at chunk boundary j, run_end_[j] the end of the run that
  // begins at j; valid at a run's outer boundaries, which are the only ones
  // a later chunk can touch.
  std::vector<std::size_t> run_begin_, run_end_;
  std::vector<char> done_;
  Compare& comp_;
};

template <class R>
auto to_vector(R&& range) {
  using T = std::ranges::range_value_t<R>;
  if constexpr (std::is_same_v<std::remove_cvref_t<R>, std::vector<T>>) {
    return std::vector<T>(std::forward<R>(range));  // copied, or moved from an rvalue
  } else {
    std::vector<T> v;
    if constexpr (std::ranges::sized_range<R>) v.reserve(std::ranges::size(range));
    for (auto&& x : range) v.push_back(x);
    return v;
  }
}

}  // namespace detail

// The seed's merge: a new vector with a's and b's elements, stable (a's first on ties).
template <std::ranges::input_range A, std::ranges::input_range B, class Compare = std::less<>>
auto merge(const A& a, const B& b, Compare comp = {}) {
  std::vector<std::ranges::range_value_t<A>> out;
  if constexpr (std::ranges::sized_range<A> && std::ranges::sized_range<B>)
    out.reserve(std::ranges::size(a) + std::ranges::size(b));
  auto f1 = std::ranges::begin(a);
  auto l1 = std::ranges::end(a);
  auto f2 = std::ranges::begin(b);
  auto l2 = std::ranges::end(b);
  while (f1 != l1 && f2 != l2) {
    if (comp(*f2, *f1))
      out.push_back(*f2++);
    else
      out.push_back(*f1++);
  }
  for (; f1 != l1; ++f1) out.push_back(*f1);
  for (; f2 != l2; ++f2) out.push_back(*f2);
  return out;
}

// The seed's sequential sort: a sorted copy of `range` (see the header comment).
template <std::ranges::input_range R, class Compare = std::less<>>
auto sort(R&& range, int parts = kDefaultParts, Compare comp = {}) {
  detail::check_at_least(parts, 2, "mergesort::sort", "parts");
  auto v = detail::to_vector(std::forward<R>(range));
  if (v.size() > 1) {
    std::vector<std::ranges::range_value_t<R>> buf(v.size());
    detail::sort_rec(v.data(), buf.data(), v.size(), parts, comp);
  }
  return v;
}

// The threaded sort, fixed or broken (Bug), as static members. MinMergePiece:
// the fixed sort cuts a merge into pieces of at least this many elements
// (see pool_merger); models set it small so that small inputs take the
// split path too.
template <SyncBackend Sync = std_sync, mergesort_bug Bug = mergesort_bug::none,
          std::size_t MinMergePiece = kMinMergePiece>
struct BasicMergeSort {
  // Sorts a copy of `range` in `chunks` chunks on `pool` (the caller keeps the
  // pool), merging each chunk as it completes.
  template <pool_bug Flavor, std::ranges::input_range R, class Compare = std::less<>>
  static auto sort_on_pool(BasicThreadPool<Sync, Flavor>& pool, R&& range, int chunks,
                           Compare comp = {}) {
    detail::check_at_least(chunks, 1, "mergesort::sort_on_pool", "chunks");
    auto v = detail::to_vector(std::forward<R>(range));
    if (v.size() <= 1) return v;
    using T = typename decltype(v)::value_type;
    const std::size_t n = v.size();
    const std::size_t chunk = std::max<std::size_t>(1, n / static_cast<std::size_t>(chunks));
    const std::size_t k = (n + chunk - 1) / chunk;
    // Default-initialised: for trivial T its pages are first touched by the
    // chunk tasks that use them, on their own threads.
    const std::unique_ptr<T[]> buf(new T[n]);
    T* const data = v.data();
    T* const scratch = buf.get();
    // chunk i's first element
    auto at = [n, chunk](std::size_t i) { return std::min(i * chunk, n); };

    if constexpr (Bug == mergesort_bug::unlocked_merge) {
      auto sort_chunk = [data, scratch, at, &comp](std::size_t i) {
        const std::size_t b = at(i), e = at(i + 1);
        detail::sort_chunk(data + b, scratch + b, e - b, comp);
      };
      // The result every task merges into (a shared_ptr in the var: the model
      // backend prints every value it tracks, and a pointer prints).
      using Result = std::shared_ptr<const std::vector<T>>;
      typename Sync::template var<Result> shared{std::make_shared<const std::vector<T>>()};
      std::vector<Future<int, Sync>> futures;
      for (std::size_t i = 0; i < k; ++i)
        futures.push_back(pool.submit([&, i] {
          sort_chunk(i);
          const std::vector<T> mine(std::make_move_iterator(data + at(i)),
                                    std::make_move_iterator(data + at(i + 1)));
          // BROKEN: read-merge-write of the shared result with no lock held.
          const Result current = shared.load();  // interleave:race-read mergesort.threads.broken_unlocked_merge
          shared.store(std::make_shared<const std::vector<T>>(mergesort::merge(*current, mine, comp)));  // interleave:race-write mergesort.threads.broken_unlocked_merge
          return 0;
        }));
      try {
        for (const auto& f : as_completed(futures)) f.get();
      } catch (...) {
        detail::settle(futures);
        throw;
      }
      return std::vector<T>(*shared.load());
    } else {
      std::vector<Future<std::size_t, Sync>> futures;
      futures.reserve(k);
      try {
        detail::pool_merger<Sync, T, Compare, BasicThreadPool<Sync, Flavor>, MinMergePiece> merger(
            pool, data, scratch, n, chunk, comp);
        const bool into_scratch = merger.chunks_in_scratch();
        for (std::size_t i = 0; i < k; ++i)
          futures.push_back(pool.submit([data, scratch, at, &comp, i, into_scratch] {
            const std::size_t b = at(i), e = at(i + 1);
            detail::sort_chunk(data + b, scratch + b, e - b, comp, into_scratch);
            return i;
          }));
        for (const auto& f : as_completed(futures)) merger.finished(f.get());
        merger.finish();
      } catch (...) {
        detail::settle(futures);  // no task may outlive v and buf
        throw;
      }
      return v;
    }
  }

  // The seed's sort_multithreading: `workers` chunks on a pool of `workers`
  // threads started for this call.
  template <std::ranges::input_range R, class Compare = std::less<>>
  static auto sort_multithreading(R&& range, int workers = kDefaultParts, Compare comp = {}) {
    detail::check_at_least(workers, 1, "mergesort::sort_multithreading", "workers");
    auto v = detail::to_vector(std::forward<R>(range));
    if (v.size() <= 1) return v;
    BasicThreadPool<Sync> pool(workers, "mergesort");
    return sort_on_pool(pool, std::move(v), workers, std::move(comp));
  }
};

template <SyncBackend Sync = std_sync>
using MergeSort = BasicMergeSort<Sync, mergesort_bug::none>;
template <SyncBackend Sync = std_sync>
using BrokenUnlockedMergeSort = BasicMergeSort<Sync, mergesort_bug::unlocked_merge>;

template <SyncBackend Sync = std_sync, std::ranges::input_range R, class Compare = std::less<>>
auto sort_multithreading(R&& range, int workers = kDefaultParts, Compare comp = {}) {
  return MergeSort<Sync>::sort_multithreading(std::forward<R>(range), workers, std::move(comp));
}

template <SyncBackend Sync, pool_bug Flavor, std::ranges::input_range R,
          class Compare = std::less<>>
auto sort_on_pool(BasicThreadPool<Sync, Flavor>& pool, R&& range, int chunks, Compare comp = {}) {
  return MergeSort<Sync>::sort_on_pool(pool, std::forward<R>(range), chunks, std::move(comp));
}

}  // namespace interleave::mergesort
