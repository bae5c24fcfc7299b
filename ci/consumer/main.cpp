// A user's program: a producer/consumer Queue, a ThreadPool with futures and
// the threaded mergesort, on the default (standard library) backend. Exits 0
// and prints "consumer: ok" when every result is what it must be.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

#include <interleave/mergesort.hpp>
#include <interleave/queue.hpp>
#include <interleave/thread_pool.hpp>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  // Producer/consumer: 1,000 items through a bounded queue, none lost.
  interleave::Queue<int> queue(8);
  long sum = 0;
  std::thread consumer([&] {
    for (int item = queue.get(); item >= 0; item = queue.get()) sum += item;
  });
  for (int i = 1; i <= 1000; ++i) queue.put(i);
  queue.put(-1);  // the sentinel
  consumer.join();
  expect(sum == 1000L * 1001 / 2, "every queued item arrives once");

  // A pool of 4 workers: 100 tasks, each future holds its task's result.
  interleave::ThreadPool<> pool(4);
  std::vector<interleave::Future<int>> futures;
  for (int i = 0; i < 100; ++i) futures.push_back(pool.submit([i] { return i * i; }));
  long squares = 0;
  for (auto& f : futures) squares += f.get();
  expect(squares == 328350, "every task's future holds its result");

  // The threaded mergesort agrees with the standard library's sort.
  std::vector<int> input(10'000);
  std::iota(input.rbegin(), input.rend(), 0);
  const std::vector<int> sorted = interleave::mergesort::sort_multithreading(input, 3);
  expect(std::is_sorted(sorted.begin(), sorted.end()) && sorted.size() == input.size(),
         "sort_multithreading sorts");

  if (failures != 0) return 1;
  std::puts("consumer: ok");
  return 0;
}
