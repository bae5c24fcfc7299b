// bench/counter_bench.cpp — the cost of the counter fixes, against the plain
// standard-library code a user would otherwise write, in the same run.
//
//   counter.locked/interleave  vs  counter.locked/baseline_std_mutex (std::mutex + long)
//   counter.atomic/interleave  vs  counter.atomic/baseline_std_atomic (std::atomic<long>)
//
// Names follow the benchmarks' scheme (bench/ratios.py): <benchmark>/<role>,
// role `interleave[_<variant>]` or `baseline_<what>`; ./ci/bench pairs the
// rows of one benchmark that have the same arguments and threads.
//
// The interleave counters go through the sync backend (annotated mutex,
// source_location-taking lock, var<T>); with std_sync that must cost nothing.
#include <benchmark/benchmark.h>
#include <interleave/counter.hpp>

#include <atomic>
#include <mutex>

namespace {

struct BaselineLocked {
  std::mutex mu;
  long value = 0;
  void increment() {
    std::lock_guard<std::mutex> lk(mu);
    ++value;
  }
};

struct BaselineAtomic {
  std::atomic<long> value{0};
  void increment() { value.fetch_add(1, std::memory_order_relaxed); }
};

template <class Counter>
void BM_Increment(benchmark::State& state) {
  // Thread 0 builds the shared counter before the timed loop; every thread
  // enters and leaves the loop through Google Benchmark's start/stop barrier,
  // so the others see it built and thread 0 deletes it after all are done.
  static Counter* counter = nullptr;
  if (state.thread_index() == 0) counter = new Counter();
  for (auto _ : state) counter->increment();
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete counter;
    counter = nullptr;
  }
}

}  // namespace

BENCHMARK(BM_Increment<BaselineLocked>)
    ->Name("counter.locked/baseline_std_mutex")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_Increment<interleave::LockedCounter<>>)
    ->Name("counter.locked/interleave")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_Increment<BaselineAtomic>)
    ->Name("counter.atomic/baseline_std_atomic")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_Increment<interleave::AtomicCounter<>>)
    ->Name("counter.atomic/interleave")
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

BENCHMARK_MAIN();
