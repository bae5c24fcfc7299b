// bench/mergesort_bench.cpp — the mergesorts against sorting baselines, in
// the same run, at 100,000, 1,000,000 and 10,000,000 shuffled ints (0..n-1, fixed
// seed):
//   interleave::mergesort::sort (sequential, parts = 6),
//   interleave::mergesort::sort_multithreading (6 workers, the seed's; and 2,
//     this machine's cores), a pool started and joined inside each call;
//   interleave::mergesort::sort_multiprocessing (6 worker processes, the
//     seed's; and 2), a ProcessPool started, its workers re-executed from
//     this binary, and joined inside each call (chunks in a shared segment);
//   std::sort, std::stable_sort, std::sort(std::execution::par) (libstdc++'s
//     parallel algorithms on TBB), tbb::parallel_sort.
// Every benchmark sorts a fresh copy of the same input and the copy is inside
// the timing for all of them: the mergesorts return a new vector, so the
// baselines copy too. Wall time (UseRealTime): the parallel ones use several
// threads. ./ci/bench runs it and plots the times (build/report/mergesort.png).
// Names follow the benchmarks' scheme (bench/ratios.py): the sequential sort
// is compared with the sequential baselines (benchmark mergesort.sequential),
// the threaded and process ones with the parallel baselines
// (mergesort.parallel). Wall time only: a process sort's CPU is in its
// children, which Google Benchmark's CPU time does not count; the seed's
// table (mergesort_table) prints CPU including children.
#include <interleave/mergesort.hpp>
#include <interleave/mergesort_process.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <execution>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <oneapi/tbb/parallel_sort.h>

namespace {

const std::vector<int>& shuffled(long n) {
  static std::vector<int> v;
  if (static_cast<long>(v.size()) != n) {
    v.resize(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    std::shuffle(v.begin(), v.end(), std::mt19937(20260611));
  }
  return v;
}

template <class Sort>
void run(benchmark::State& state, Sort sort) {
  const std::vector<int>& in = shuffled(state.range(0));
  for (auto _ : state) {
    std::vector<int> out = sort(in);
    benchmark::DoNotOptimize(out.data());
    if (!std::is_sorted(out.begin(), out.end()) || out.size() != in.size())
      state.SkipWithError("not sorted");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <class InPlace>
auto copied(InPlace f) {
  return [f](const std::vector<int>& in) {
    std::vector<int> v = in;
    f(v);
    return v;
  };
}

void BM_interleave_mergesort_sort(benchmark::State& s) {
  run(s, [](const std::vector<int>& in) { return interleave::mergesort::sort(in); });
}
void BM_interleave_mergesort_sort_multithreading_6w(benchmark::State& s) {
  run(s,
      [](const std::vector<int>& in) { return interleave::mergesort::sort_multithreading(in, 6); });
}
void BM_interleave_mergesort_sort_multithreading_2w(benchmark::State& s) {
  run(s,
      [](const std::vector<int>& in) { return interleave::mergesort::sort_multithreading(in, 2); });
}
void BM_interleave_mergesort_sort_multiprocessing_6w(benchmark::State& s) {
  run(s, [](const std::vector<int>& in) {
    return interleave::mergesort::sort_multiprocessing(in, 6);
  });
}
void BM_interleave_mergesort_sort_multiprocessing_2w(benchmark::State& s) {
  run(s, [](const std::vector<int>& in) {
    return interleave::mergesort::sort_multiprocessing(in, 2);
  });
}
void BM_std_sort(benchmark::State& s) {
  run(s, copied([](std::vector<int>& v) { std::sort(v.begin(), v.end()); }));
}
void BM_std_stable_sort(benchmark::State& s) {
  run(s, copied([](std::vector<int>& v) { std::stable_sort(v.begin(), v.end()); }));
}
void BM_std_sort_execution_par(benchmark::State& s) {
  run(s, copied([](std::vector<int>& v) { std::sort(std::execution::par, v.begin(), v.end()); }));
}
void BM_tbb_parallel_sort(benchmark::State& s) {
  run(s, copied([](std::vector<int>& v) { tbb::parallel_sort(v.begin(), v.end()); }));
}

#define MERGESORT_BENCH(fn, name)     \
  BENCHMARK(fn)                       \
      ->Name(name)                    \
      ->ArgName("n")                  \
      ->Arg(100'000)                  \
      ->Arg(1'000'000)                \
      ->Arg(10'000'000)               \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()
MERGESORT_BENCH(BM_interleave_mergesort_sort, "mergesort.sequential/interleave");
MERGESORT_BENCH(BM_std_sort, "mergesort.sequential/baseline_std_sort");
MERGESORT_BENCH(BM_std_stable_sort, "mergesort.sequential/baseline_std_stable_sort");
MERGESORT_BENCH(BM_interleave_mergesort_sort_multithreading_6w, "mergesort.parallel/interleave_6w");
MERGESORT_BENCH(BM_interleave_mergesort_sort_multithreading_2w, "mergesort.parallel/interleave_2w");
MERGESORT_BENCH(BM_interleave_mergesort_sort_multiprocessing_6w,
                "mergesort.parallel/interleave_processes_6w");
MERGESORT_BENCH(BM_interleave_mergesort_sort_multiprocessing_2w,
                "mergesort.parallel/interleave_processes_2w");
MERGESORT_BENCH(BM_std_sort_execution_par, "mergesort.parallel/baseline_std_sort_execution_par");
MERGESORT_BENCH(BM_tbb_parallel_sort, "mergesort.parallel/baseline_tbb_parallel_sort");

}  // namespace

int main(int argc, char** argv) {
  interleave::posix_os::run_entry_point_if_requested(argc, argv);  // a re-exec'd worker
  benchmark::Initialize(&argc, argv);
  // The threaded sort's target: at most tbb::parallel_sort's time (bench/ratios.py).
  for (const char* n : {"1000000", "10000000"})
    benchmark::AddCustomContext(std::string("target mergesort.parallel/interleave_6w/n:") + n +
                                    "/real_time vs baseline_tbb_parallel_sort",
                                "1.0");
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
