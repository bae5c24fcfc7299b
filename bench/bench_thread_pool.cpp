// bench/bench_thread_pool.cpp — submit + get throughput of empty tasks:
// interleave::ThreadPool (futures on the std backend) against
// boost::asio::thread_pool + std::packaged_task (the baseline) and
// tbb::task_group (no futures: run + wait), in the same run.
//
// Each iteration submits a batch of empty tasks and then waits for every
// one (get() on each future; task_group::wait() for TBB). items_per_second
// is tasks per second. Pools are built once per benchmark, outside the timing.
// Names follow the benchmarks' scheme (bench/ratios.py): benchmark
// thread_pool.submit_get, rows interleave, baseline_asio_packaged_task and
// baseline_tbb_task_group.
#include <interleave/thread_pool.hpp>

#include <benchmark/benchmark.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <vector>

namespace {

constexpr int kBatch = 1000;

void BM_interleave_ThreadPool_submit_get(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  interleave::ThreadPool<> pool(workers, "bench");
  std::vector<interleave::Future<void>> fs;
  fs.reserve(kBatch);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) fs.push_back(pool.submit([] {}));
    for (auto& f : fs) f.get();
    fs.clear();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_asio_thread_pool_packaged_task_submit_get(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  boost::asio::thread_pool pool(static_cast<std::size_t>(workers));
  std::vector<std::future<void>> fs;
  fs.reserve(kBatch);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      std::packaged_task<void()> task([] {});
      fs.push_back(task.get_future());
      boost::asio::post(pool, std::move(task));
    }
    for (auto& f : fs) f.get();
    fs.clear();
  }
  pool.join();
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_tbb_task_group_run_wait(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  oneapi::tbb::task_arena arena(workers);
  for (auto _ : state) {
    arena.execute([] {
      oneapi::tbb::task_group g;
      for (int i = 0; i < kBatch; ++i) g.run([] {});
      g.wait();
    });
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_interleave_ThreadPool_submit_get)
    ->Name("thread_pool.submit_get/interleave")
    ->ArgName("workers")
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime();
BENCHMARK(BM_asio_thread_pool_packaged_task_submit_get)
    ->Name("thread_pool.submit_get/baseline_asio_packaged_task")
    ->ArgName("workers")
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime();
BENCHMARK(BM_tbb_task_group_run_wait)
    ->Name("thread_pool.submit_get/baseline_tbb_task_group")
    ->ArgName("workers")
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
