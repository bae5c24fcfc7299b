// interleave/producer_consumer.hpp — producer/consumer with a sentinel, the
// seed's program and its correction, on Queue (queue.hpp).
//
// Seed scenario: "Thread communication using queues". The producer puts the
// Fibonacci numbers <= n and then a sentinel; the consumer takes items until
// the sentinel, calling task_done() for each; the main thread joins the queue.
//
//   seed_program(n, sink, after_join)   the seed as written:
//       start consumer; start producer; q.join(); after_join(); join threads.
//     Latent race: the main thread may reach q.join() before the producer has
//     put anything (or between two puts, once the consumer has caught up), so
//     join() returns at once while work is still pending. The seed's consumer
//     also calls task_done() BEFORE processing the item, so even a join()
//     that waited for the last task_done() could return before the last item
//     was processed. Kept as written: it is the expected failure the models
//     must find.
//   fixed_program(n, sink, after_join)  the correction:
//       start consumer; start producer; join the PRODUCER thread (every item,
//       sentinel included, is now in the queue and counted); q.join();
//       after_join(); join the consumer. The consumer calls task_done() after
//       processing each item.
//   program_2x2(n, sink, after_join)    2 producers, 2 consumers: each
//       producer puts its tagged Fibonacci numbers then ONE sentinel, so there
//       is one sentinel per consumer; each consumer stops at its first
//       sentinel. The main thread joins both producers, then the queue.
//
// Requires: n >= 0 (std::invalid_argument naming n otherwise). `sink(item)`
//   is called on a consumer thread for every non-sentinel item and must not
//   throw (in program_2x2 both consumers call it concurrently); `after_join()` runs on the calling thread right after q.join()
//   returns.
// Guarantees (fixed_program, program_2x2): when after_join() runs, sink has
//   been called for every item, exactly once; with one consumer, in the order
//   put. The seed_program guarantees nothing of the sort: that is its bug.
// Memory ordering: everything sink(x) did happens-before after_join() returns
//   (through task_done()/join()) in the fixed programs.
// Destruction: the programs own their queue and threads; they return after
//   joining every thread they started.
#pragma once

#include <stdexcept>
#include <vector>

#include "interleave/queue.hpp"
#include "interleave/sync.hpp"

namespace interleave::producer_consumer {

// One message: a value tagged with its producer, or the sentinel.
struct Item {
  bool sentinel = false;
  int producer = 0;
  long value = 0;
};

// The number of Fibonacci numbers <= n (0, 1, 1, 2, ...: 10 for n = 35).
constexpr long fibonacci_count(long n) {
  long count = 0;
  for (long a = 0, b = 1; a <= n; ++count) {
    const long next = a + b;
    a = b;
    b = next;
  }
  return count;
}

// The seed's producer: a, b = 0, 1; while a <= n: put(a); a, b = b, a + b;
// then the sentinel. (Generated on the fly, as in the seed: no allocation.)
template <class Q>
void producer(Q& q, long n, int id) {
  for (long a = 0, b = 1; a <= n;) {
    q.put(Item{false, id, a});
    const long next = a + b;
    a = b;
    b = next;
  }
  q.put(Item{true, id, 0});
}

// The seed's consumer: task_done() right after get(), before the item is
// processed.
template <class Q, class Sink>
void seed_consumer(Q& q, Sink& sink) {
  while (true) {
    const Item item = q.get();
    q.task_done();
    if (item.sentinel) break;
    sink(item);
  }
}

// The corrected consumer: task_done() once the item has been processed.
template <class Q, class Sink>
void consumer(Q& q, Sink& sink) {
  while (true) {
    const Item item = q.get();
    if (item.sentinel) {
      q.task_done();
      break;
    }
    sink(item);
    q.task_done();
  }
}

template <SyncBackend Sync = std_sync, queue_bug Bug = queue_bug::none, class Sink, class AfterJoin>
void seed_program(long n, Sink& sink, AfterJoin&& after_join) {
  if (n < 0) throw std::invalid_argument("seed_program: n must be non-negative");
  Queue<Item, Sync, Bug> q;
  typename Sync::thread cns([&] { seed_consumer(q, sink); });
  typename Sync::thread prd([&] { producer(q, n, 0); });
  q.join();  // interleave:bug producer_consumer.join_race
  after_join();
  prd.join();
  cns.join();
}

template <SyncBackend Sync = std_sync, queue_bug Bug = queue_bug::none, class Sink, class AfterJoin>
void fixed_program(long n, Sink& sink, AfterJoin&& after_join) {
  if (n < 0) throw std::invalid_argument("fixed_program: n must be non-negative");
  Queue<Item, Sync, Bug> q;
  typename Sync::thread cns([&] { consumer(q, sink); });
  typename Sync::thread prd([&] { producer(q, n, 0); });
  prd.join();  // every item and the sentinel are in the queue and counted
  q.join();
  after_join();
  cns.join();
}

template <SyncBackend Sync = std_sync, queue_bug Bug = queue_bug::none, class Sink, class AfterJoin>
void program_2x2(long n, Sink& sink, AfterJoin&& after_join) {
  if (n < 0) throw std::invalid_argument("program_2x2: n must be non-negative");
  Queue<Item, Sync, Bug> q;
  typename Sync::thread c0([&] { consumer(q, sink); });
  typename Sync::thread c1([&] { consumer(q, sink); });
  typename Sync::thread p0([&] { producer(q, n, 0); });
  typename Sync::thread p1([&] { producer(q, n, 1); });
  p0.join();
  p1.join();
  q.join();
  after_join();
  c0.join();
  c1.join();
}

}  // namespace interleave::producer_consumer
