// ci/tools/workloads.hpp — the oracles and workloads that the property tests
// and the stress binaries share, kept once and outside the public headers:
// what a correct run must produce, and the loads that produce it. Plain C++
// (no test framework), so a stress binary can include it as well as a test.
#pragma once

#include <atomic>
#include <barrier>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace interleave::checks {

// --- Fibonacci: what the stoppable worker and the seed's producer emit -------

// 0, 1, 1, 2, 3, 5, ...: the one place the oracles take a Fibonacci step.
class FibonacciSequence {
 public:
  long next() {
    const long out = a_;
    const long sum = a_ + b_;
    a_ = b_;
    b_ = sum;
    return out;
  }
  long peek() const { return a_; }

 private:
  long a_ = 0, b_ = 1;
};

// Whether `v` is 0, 1, 1, 2, 3, 5, ... up to its length: what a stoppable
// worker guarantees to have produced, whenever it was stopped.
inline bool is_fibonacci_prefix(const std::vector<long>& v) {
  FibonacciSequence fib;
  for (long x : v)
    if (x != fib.next()) return false;
  return true;
}

// The Fibonacci numbers <= n, in order (10 of them for n = 35): what the
// seed's producer puts before its sentinel.
inline std::vector<long> fibonacci_upto(long n) {
  if (n < 0)
    throw std::invalid_argument("fibonacci_upto: n must be non-negative, got " + std::to_string(n));
  std::vector<long> out;
  for (FibonacciSequence fib; fib.peek() <= n;) out.push_back(fib.next());
  return out;
}

// --- the shared counter --------------------------------------------------------

// Runs `threads` threads of `increments` increments each on one Counter,
// released together by a barrier, and returns the final value. `pause` runs
// between an increment's read and its write-back (the seed's randsleep()).
template <class Counter, class Pause>
long run_counter(int threads, long increments, Pause pause) {
  Counter counter;
  std::barrier start(threads);
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      start.arrive_and_wait();
      for (long i = 0; i < increments; ++i) counter.increment(pause);
    });
  for (auto& th : pool) th.join();
  return counter.value();
}

// --- blocked callers -------------------------------------------------------------

// Polls `p.n_waiting()` (yielding) until `n` threads are blocked in the
// primitive (an event, a barrier): an observation of its own state, not a
// sleep.
template <class Primitive>
void until_waiting(const Primitive& p, int n) {
  while (p.n_waiting() < n) std::this_thread::yield();
}

// Adds `n` threads to `pool` that each count themselves in `started`, make
// one call expected to block, `op(i)` (a get() on an empty queue, a put() on a
// full one), and then run `after(shut_down)`: whether the call ended with
// the exception `ShutDown`.
template <class ShutDown, class Op, class After>
void start_blocked_callers(std::vector<std::thread>& pool, int n, std::atomic<int>& started, Op op,
                           After after) {
  for (int i = 0; i < n; ++i)
    pool.emplace_back([&started, op, after, i] {
      started.fetch_add(1);
      bool shut_down = false;
      try {
        op(i);
      } catch (const ShutDown&) {
        shut_down = true;
      }
      after(shut_down);
    });
}

}  // namespace interleave::checks
