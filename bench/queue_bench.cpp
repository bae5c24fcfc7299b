// bench/queue_bench.cpp — put+get throughput of interleave::Queue against
// two baselines, in the same run (benchmark queue.put_get):
//   baseline_mutex_condvar_deque  std::mutex + std::condition_variable +
//               std::deque, the textbook unbounded blocking queue (no task
//               accounting, no shutdown, no bound)
//   baseline_moodycamel  moodycamel::BlockingConcurrentQueue (Debian
//               libconcurrentqueue-dev), lock-free with a semaphore
//   interleave  interleave::Queue<long>, unbounded (maxsize 0): put + get;
//   interleave_task_done  the same with task_done (the accounting Python
//               users pay for)
//
// Each iteration moves 200,000 items from P producer threads to C consumer
// threads (args P/C: 1/1 and 4/4) and is timed in real time, thread start
// and join included (the same for every queue). Target: at 1/1,
// interleave::Queue reaches at least 0.9x the throughput of the
// mutex + condvar + deque baseline (declared below for ./ci/bench's ratio
// table). Names follow the benchmarks' scheme (bench/ratios.py).
#include <benchmark/benchmark.h>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <interleave/queue.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr long kItems = 200'000;

class PlainQueue {
 public:
  void put(long v) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      q_.push_back(v);
    }
    cv_.notify_one();
  }
  long get() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !q_.empty(); });
    const long v = q_.front();
    q_.pop_front();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<long> q_;
};

struct Plain {
  PlainQueue q;
  void put(long v) { q.put(v); }
  long get() { return q.get(); }
};
struct Moodycamel {
  moodycamel::BlockingConcurrentQueue<long> q;
  void put(long v) { q.enqueue(v); }
  long get() {
    long v = 0;
    q.wait_dequeue(v);
    return v;
  }
};
struct Interleave {
  interleave::Queue<long> q;
  void put(long v) { q.put(v); }
  long get() { return q.get(); }
};
struct InterleaveTaskDone {
  interleave::Queue<long> q;
  void put(long v) { q.put(v); }
  long get() {
    const long v = q.get();
    q.task_done();
    return v;
  }
};

template <class Q>
void BM_put_get(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  const int consumers = static_cast<int>(state.range(1));
  long checksum = 0;
  for (auto _ : state) {
    Q q;
    std::vector<std::thread> threads;
    std::vector<long> sums(static_cast<size_t>(consumers), 0);
    for (int c = 0; c < consumers; ++c)
      threads.emplace_back([&, c] {
        long sum = 0;
        for (long i = 0; i < kItems / consumers; ++i) sum += q.get();
        sums[static_cast<size_t>(c)] = sum;
      });
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([&] {
        for (long i = 0; i < kItems / producers; ++i) q.put(i);
      });
    for (auto& t : threads) t.join();
    for (long s : sums) checksum += s;
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * kItems);
}

#define QUEUE_BENCH(Q, role)                 \
  BENCHMARK_TEMPLATE(BM_put_get, Q)          \
      ->Name("queue.put_get/" role)          \
      ->ArgNames({"producers", "consumers"}) \
      ->Args({1, 1})                         \
      ->Args({4, 4})                         \
      ->UseRealTime()                        \
      ->Unit(benchmark::kMillisecond)

QUEUE_BENCH(Plain, "baseline_mutex_condvar_deque");
QUEUE_BENCH(Moodycamel, "baseline_moodycamel");
QUEUE_BENCH(Interleave, "interleave");
QUEUE_BENCH(InterleaveTaskDone, "interleave_task_done");

// The target, in the JSON's context: "target <interleave row> vs <baseline
// role>" -> the least acceptable ratio (baseline time / interleave time).
const bool kTargetDeclared = [] {
  benchmark::AddCustomContext(
      "target queue.put_get/interleave/producers:1/consumers:1/real_time vs "
      "baseline_mutex_condvar_deque",
      "0.9");
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
