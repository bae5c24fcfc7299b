// stress/mergesort_stress.cpp — the mergesort under load, built with
// ThreadSanitizer. Run by mergesort_stress_test.cpp, which reads its output.
//
//   mergesort_stress threads <workers> <elements>
//   mergesort_stress threads_trivial <workers> <elements>
//   mergesort_stress sequential_reentrant <threads> <elements>
//   mergesort_stress broken_unlocked_merge <workers> <elements>
//   mergesort_stress processes <workers> <elements>
//
// The input: <elements> keyed records (key, input position), keys drawn from
// a tenth as many values (many duplicates), fixed seed; compared by key only,
// so equality with std::stable_sort checks stability too.
// threads: sort_multithreading with <workers> workers. Prints
//   "elements=<n> mismatches=<positions differing from std::stable_sort>".
// threads_trivial: the same with a trivially copyable record (a struct of
//   two ints; std::pair is not trivially copyable), the type for which the
//   sort's merges also run from both ends of the runs at once.
// sequential_reentrant: <threads> threads each run the sequential sort on the
//   same shared, read-only input at once (a hidden shared buffer would be a
//   race). Prints "sorts=<sorts that returned> mismatches=<total>".
// broken_unlocked_merge: the twin; TSan reports its unlocked read-merge-write.
// processes: sort_multiprocessing with <workers> worker processes (re-executed
//   copies of this binary, so main() runs run_entry_point_if_requested first;
//   TSan instruments the parent: its pool's manager thread, futures and the
//   merge). Prints "elements=<n> mismatches=<m> fd_delta=<open descriptors
//   after minus before> unreaped=<children left>".
#include <interleave/mergesort.hpp>
#include <interleave/mergesort_process.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <type_traits>
#include <thread>
#include <utility>
#include <vector>

#include "process_counts.hpp"
#include "stress_main.hpp"

namespace {

using Rec = std::pair<int, int>;
struct ByKey {
  bool operator()(const Rec& a, const Rec& b) const { return a.first < b.first; }
};

// A trivially copyable keyed record (key, input position).
struct Plain {
  int key, pos;
  friend bool operator!=(const Plain& a, const Plain& b) {
    return a.key != b.key || a.pos != b.pos;
  }
};
static_assert(std::is_trivially_copyable_v<Plain> && !std::is_trivially_copyable_v<Rec>);
struct PlainByKey {
  bool operator()(const Plain& a, const Plain& b) const { return a.key < b.key; }
};

std::vector<Rec> input(long n) {
  std::mt19937 rng(20260611);
  std::uniform_int_distribution<int> key(0, static_cast<int>(std::max(1L, n / 10)));
  std::vector<Rec> v;
  v.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) v.push_back({key(rng), static_cast<int>(i)});
  return v;
}

template <class R>
long mismatches(const std::vector<R>& got, const std::vector<R>& want) {
  long m = static_cast<long>(got.size() > want.size() ? got.size() - want.size()
                                                      : want.size() - got.size());
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) m += got[i] != want[i];
  return m;
}

template <class Sorter>
int threaded(long workers, long n) {
  const std::vector<Rec> in = input(n);
  std::vector<Rec> want = in;
  std::stable_sort(want.begin(), want.end(), ByKey{});
  const std::vector<Rec> got = Sorter::sort_multithreading(in, static_cast<int>(workers), ByKey{});
  std::printf("elements=%zu mismatches=%ld\n", got.size(), mismatches(got, want));
  return interleave::stress::kExitOk;
}

int threaded_trivial(long workers, long n) {
  std::vector<Plain> in;
  for (const Rec& r : input(n)) in.push_back({r.first, r.second});
  std::vector<Plain> want = in;
  std::stable_sort(want.begin(), want.end(), PlainByKey{});
  const std::vector<Plain> got =
      interleave::mergesort::sort_multithreading(in, static_cast<int>(workers), PlainByKey{});
  std::printf("elements=%zu mismatches=%ld\n", got.size(), mismatches(got, want));
  return interleave::stress::kExitOk;
}

int sequential_reentrant(long threads, long n) {
  const std::vector<Rec> in = input(n);
  std::vector<Rec> want = in;
  std::stable_sort(want.begin(), want.end(), ByKey{});
  std::vector<long> bad(static_cast<std::size_t>(threads), -1);
  std::vector<std::thread> ts;
  for (long t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      bad[static_cast<std::size_t>(t)] =
          mismatches(interleave::mergesort::sort(in, 2 + static_cast<int>(t % 6), ByKey{}), want);
    });
  for (auto& t : ts) t.join();
  long sorts = 0, total = 0;
  for (long b : bad)
    if (b >= 0) ++sorts, total += b;
  std::printf("sorts=%ld mismatches=%ld\n", sorts, total);
  return interleave::stress::kExitOk;
}

int processes(long workers, long n) {
  const std::vector<Rec> in = input(n);
  std::vector<Rec> want = in;
  std::stable_sort(want.begin(), want.end(), ByKey{});
  const int fds = interleave::process_counts::open_fds();
  const std::vector<Rec> got =
      interleave::mergesort::sort_multiprocessing(in, static_cast<int>(workers), ByKey{});
  std::printf("elements=%zu mismatches=%ld fd_delta=%d unreaped=%d\n", got.size(),
              mismatches(got, want), interleave::process_counts::open_fds() - fds,
              interleave::process_counts::unreaped());
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  posix_os::run_entry_point_if_requested(argc, argv);  // a re-exec'd worker runs and exits
  using stress::variant;
  const stress::Param workers{"workers", 1, 64}, threads{"threads", 1, 64},
      elements{"elements", 0, 50'000'000};
  return stress::dispatch("mergesort_stress", argc, argv,
                          {variant("threads", workers, elements, threaded<mergesort::MergeSort<>>),
                           variant("threads_trivial", workers, elements, threaded_trivial),
                           variant("sequential_reentrant", threads, elements, sequential_reentrant),
                           variant("broken_unlocked_merge", workers, elements,
                                   threaded<mergesort::BrokenUnlockedMergeSort<>>),
                           variant("processes", workers, elements, processes)});
}
