// bench/counter_bench.cpp — the cost of the counter fixes, against the plain
// standard-library code a user would otherwise write, in the same run.
//
//   BM_Locked<interleave>  vs  BM_Locked<baseline std::mutex + long>
//   BM_Atomic<interleave>  vs  BM_Atomic<baseline std::atomic<long>>
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

BENCHMARK(BM_Increment<BaselineLocked>)->Name("locked/baseline_std_mutex")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Increment<interleave::LockedCounter<>>)->Name("locked/interleave")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Increment<BaselineAtomic>)->Name("atomic/baseline_std_atomic")->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Increment<interleave::AtomicCounter<>>)->Name("atomic/interleave")->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
