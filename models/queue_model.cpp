// models/queue_model.cpp — Queue (impl/include/interleave/queue.hpp) and the
// seed's producer/consumer with a sentinel (producer_consumer.hpp),
// instantiated from the impl with relacy_sync.
//
// Seed: "Thread communication using queues".
//
// What this cannot see: real time (a timed wait may time out at any
// scheduling point), configurations larger than the ones below (full search
// only for the smallest; the seed's 10 items are searched to a context bound),
// and the contents of std::deque beyond what the queue's own API reports (the
// deque is guarded by the mutex; the scalars the invariants depend on,
// unfinished count and shutdown flag, are Relacy vars).
#include "relacy_sync.hpp"
//
#include "interleave/producer_consumer.hpp"
#include "interleave/queue.hpp"
#include "runner.hpp"

namespace interleave::models {
namespace {

using rs = relacy_sync;
template <class T>
using Q = Queue<T, rs>;
constexpr auto deadlock = rl::test_result_deadlock;
constexpr auto race = rl::test_result_data_race;
constexpr auto assert_failed = rl::test_result_user_assert_failed;

// --- queue: FIFO, bounded, MPMC, join ---------------------------------------

// One producer puts 1..N, one consumer gets N items: exactly them, in order.
template <int N, long MaxSize>
struct Fifo1p1c : rl::test_suite<Fifo1p1c<N, MaxSize>, (MaxSize > 0 ? 3 : 2)> {
  Q<int> q{MaxSize};
  int got[N] = {};  // consumer-only until after()

  void thread(unsigned t) {
    if (t == 0) {
      for (int i = 1; i <= N; ++i) q.put(i);
    } else if (t == 1) {
      for (int i = 0; i < N; ++i) got[i] = q.get();
    } else {
      // An observer (bounded queues only): wherever it is scheduled, the
      // queue holds at most maxsize items.
      for (int i = 0; i < 2; ++i) {
        const std::size_t n = q.size();
        RL_ASSERT(MaxSize <= 0 || n <= static_cast<std::size_t>(MaxSize));
      }
    }
  }
  void after() {
    for (int i = 0; i < N; ++i) RL_ASSERT(got[i] == i + 1);
    RL_ASSERT(q.empty());
  }
};

// Two producers each put 2 distinct items; two consumers each get 2: every
// item consumed exactly once, each producer's items in its order.
template <long MaxSize>
struct Mpmc2x2 : rl::test_suite<Mpmc2x2<MaxSize>, 4> {
  Q<int> q{MaxSize};
  int got[2][2] = {};

  void thread(unsigned t) {
    if (t < 2) {
      for (int i = 0; i < 2; ++i) q.put(static_cast<int>(t) * 10 + i);
    } else {
      for (int i = 0; i < 2; ++i) got[t - 2][i] = q.get();
    }
  }
  void after() {
    int seen[2][2] = {};
    for (auto& c : got) {
      int last[2] = {-1, -1};
      for (int v : c) {
        const int p = v / 10, i = v % 10;
        RL_ASSERT(p >= 0 && p < 2 && i >= 0 && i < 2);
        ++seen[p][i];
        RL_ASSERT(i > last[p]);  // a consumer sees one producer's items in order
        last[p] = i;
      }
    }
    for (auto& p : seen)
      for (int s : p) RL_ASSERT(s == 1);
  }
};

// The producer puts 2 items and joins; the consumer processes each (marks it)
// before task_done(). join() must not return before both are marked.
template <queue_bug Bug, rl::test_result_e Expected = rl::test_result_success>
struct JoinWaits : rl::test_suite<JoinWaits<Bug, Expected>, 2, Expected> {
  Queue<int, rs, Bug> q;
  rs::atomic<int> processed{0};
  static constexpr int kItems = Bug == queue_bug::none ? 2 : 1;

  void thread(unsigned t) {
    if (t == 0) {
      for (int i = 0; i < kItems; ++i) q.put(i);
      q.join();
      RL_ASSERT(processed.load() == kItems);
    } else {
      for (int i = 0; i < kItems; ++i) {
        (void)q.get();
        processed.fetch_add(1);
        q.task_done();
      }
    }
  }
};

// --- queue.shutdown ----------------------------------------------------------

// Two getters block on an empty queue; a third thread shuts it down. Both must
// wake with queue_shut_down (a getter left blocked is a deadlock to Relacy).
template <queue_bug Bug, rl::test_result_e Expected = rl::test_result_success>
struct ShutdownWakesGetters : rl::test_suite<ShutdownWakesGetters<Bug, Expected>, 3, Expected> {
  Queue<int, rs, Bug> q;
  bool saw_shutdown[2] = {false, false};

  void thread(unsigned t) {
    if (t == 2) {
      q.shutdown(false);
      return;
    }
    try {
      (void)q.get();
    } catch (const queue_shut_down&) {
      saw_shutdown[t] = true;
    }
  }
  void after() { RL_ASSERT(saw_shutdown[0] && saw_shutdown[1]); }
};

// maxsize 1: thread 0 fills the queue (try_put) and shuts it down; two
// putters put. Every putter returns (success or queue_shut_down), and the
// queue never holds more than one item.
struct ShutdownWakesPutters : rl::test_suite<ShutdownWakesPutters, 3> {
  Q<int> q{1};
  int stored[3] = {0, 0, 0};

  void thread(unsigned t) {
    if (t == 0) {
      stored[0] = q.try_put(0) ? 1 : 0;
      q.shutdown(false);
      return;
    }
    try {
      q.put(static_cast<int>(t));
      stored[t] = 1;
    } catch (const queue_shut_down&) {
    }
  }
  void after() {
    RL_ASSERT(stored[0] + stored[1] + stored[2] == 1);  // exactly one fits, nobody gets it
    RL_ASSERT(q.size() == 1);
  }
};

// shutdown(false) drains: 2 items put, then shutdown; two consumers get until
// queue_shut_down. Both items are consumed exactly once, then both consumers
// see the shutdown.
struct ShutdownDrains : rl::test_suite<ShutdownDrains, 3> {
  Q<int> q;
  int got[2] = {0, 0};  // items per consumer
  int sum[2] = {0, 0};

  void thread(unsigned t) {
    if (t == 0) {
      q.put(1);
      q.put(2);
      q.shutdown(false);
      return;
    }
    try {
      while (true) {
        const int v = q.get();
        ++got[t - 1];
        sum[t - 1] += v;
      }
    } catch (const queue_shut_down&) {
    }
  }
  void after() {
    RL_ASSERT(got[0] + got[1] == 2);
    RL_ASSERT(sum[0] + sum[1] == 3);
  }
};

// shutdown(true) with a joiner: the producer puts 2 items, shuts down
// immediately and joins; the consumer takes what it can, task_done() for
// each. join() returns (no deadlock), and only once every item the consumer
// took has had its task_done().
struct ShutdownImmediateSettlesJoin : rl::test_suite<ShutdownImmediateSettlesJoin, 2> {
  Q<int> q;
  rs::atomic<int> taken{0}, done{0};

  void thread(unsigned t) {
    if (t == 0) {
      q.put(1);
      q.put(2);
      q.shutdown(true);
      q.join();
      RL_ASSERT(taken.load() == done.load());
    } else {
      try {
        while (true) {
          (void)q.get();
          taken.fetch_add(1);
          done.fetch_add(1);
          q.task_done();
        }
      } catch (const queue_shut_down&) {
      }
    }
  }
  void after() {
    RL_ASSERT(q.empty());
    RL_ASSERT(q.unfinished_tasks() == 0);
    RL_ASSERT(taken.load() <= 2);
  }
};

// --- producer/consumer with a sentinel -------------------------------------

// Where the consumers' sink writes: slot = order of processing.
struct Sink {
  rs::atomic<int> processed{0};
  producer_consumer::Item items[32];
  void operator()(const producer_consumer::Item& item) {
    const int slot = processed.fetch_add(1, std::memory_order_relaxed);
    RL_ASSERT(slot < 32);
    items[slot] = item;
  }
};

enum class Program { seed, fixed, two_by_two };

// Runs the program on the test thread (threads started by impl code are
// dynamic threads). CheckJoin: assert at q.join()'s return that every item
// was processed. after(): every item processed exactly once, in order with
// one consumer.
template <Program P, long N, bool CheckJoin, rl::test_result_e Expected = rl::test_result_success>
struct SentinelProgram : rl::test_suite<SentinelProgram<P, N, CheckJoin, Expected>, 1, Expected> {
  static const rl::thread_id_t dynamic_thread_count = P == Program::two_by_two ? 4 : 2;
  static constexpr int kProducers = P == Program::two_by_two ? 2 : 1;
  Sink sink;

  // The i-th Fibonacci number (0, 1, 1, 2, ...), without allocating:
  // Relacy explores every free() as a choice, so the model keeps clear of
  // the heap beyond what the impl itself does.
  static long fib(int i) {
    long a = 0, b = 1;
    for (; i > 0; --i) {
      const long next = a + b;
      a = b;
      b = next;
    }
    return a;
  }
  static constexpr int kPerProducer = static_cast<int>(producer_consumer::fibonacci_count(N));
  static constexpr int kExpected = kPerProducer * kProducers;

  void thread(unsigned) {
    auto after_join = [&] {
      if (CheckJoin) RL_ASSERT(sink.processed.load() == kExpected);
    };
    if constexpr (P == Program::seed)
      producer_consumer::seed_program<rs>(N, sink, after_join);
    else if constexpr (P == Program::fixed)
      producer_consumer::fixed_program<rs>(N, sink, after_join);
    else
      producer_consumer::program_2x2<rs>(N, sink, after_join);
  }
  void after() {
    RL_ASSERT(sink.processed.load() == kExpected);
    if constexpr (P != Program::two_by_two) {
      for (int i = 0; i < kExpected; ++i)
        RL_ASSERT(!sink.items[i].sentinel && sink.items[i].value == fib(i));
    } else {
      int seen[2][16] = {};
      for (int i = 0; i < kExpected; ++i) {
        const auto& it = sink.items[i];
        RL_ASSERT(!it.sentinel && it.producer >= 0 && it.producer < 2);
        // Fibonacci values repeat (1, 1): match each to its first unseen position.
        int pos = 0;
        while (pos < kPerProducer && (fib(pos) != it.value || seen[it.producer][pos])) ++pos;
        RL_ASSERT(pos < kPerProducer);
        seen[it.producer][pos] = 1;
      }
    }
  }
};

// --- queue ---------------------------------------------------------------------
INTERLEAVE_MODEL((Fifo1p1c<2, 0>), "queue.fifo.unbounded.1p1c_2.full", "queue",
                 "unbounded: 2 items put by one producer are got once each, in order (observer thread too)",
                 Search::full());
INTERLEAVE_MODEL((Fifo1p1c<3, 1>), "queue.fifo.bounded1.1p1c_3.bound3", "queue",
                 "maxsize 1: 3 items delivered in order, and no observer ever sees more than 1 queued",
                 Search::bounded(3));
INTERLEAVE_MODEL((Mpmc2x2<0>), "queue.mpmc.2p2c_2.bound2", "queue",
                 "2 producers x 2 items, 2 consumers x 2 gets: every item exactly once, per-producer order kept",
                 Search::bounded(2));
INTERLEAVE_MODEL((Mpmc2x2<1>), "queue.mpmc.bounded1.2p2c_2.bound1", "queue",
                 "the same through a queue of maxsize 1 (putters block on full)", Search::bounded(1));
INTERLEAVE_MODEL((JoinWaits<queue_bug::none>), "queue.join.2items.full", "queue",
                 "join() returns only after both items were processed and task_done()", Search::full());

// --- queue.shutdown -----------------------------------------------------------
INTERLEAVE_MODEL((ShutdownWakesGetters<queue_bug::none>), "queue.shutdown.wakes_getters.full",
                 "queue.shutdown", "2 getters blocked on empty + shutdown(): both wake with queue_shut_down",
                 Search::full());
INTERLEAVE_MODEL((ShutdownWakesPutters), "queue.shutdown.wakes_putters.full", "queue.shutdown",
                 "maxsize 1, full, 2 putters + shutdown(): every putter returns, never more than 1 held",
                 Search::full());
INTERLEAVE_MODEL((ShutdownDrains), "queue.shutdown.drains.bound3", "queue.shutdown",
                 "shutdown(false) after 2 puts: 2 getters drain both items exactly once, then see shutdown",
                 Search::bounded(3));
INTERLEAVE_MODEL((ShutdownImmediateSettlesJoin), "queue.shutdown.immediate_join.bound3", "queue.shutdown",
                 "shutdown(true) drops the rest and settles the count: join() returns, after every taken "
                 "item's task_done()",
                 Search::bounded(3));

// --- the broken twins: each must be caught --------------------------------------
INTERLEAVE_MODEL((ShutdownWakesGetters<queue_bug::notify_one_on_shutdown, deadlock>),
                 "queue.broken_notify_one.2getters", "queue.broken_notify_one",
                 "shutdown() with notify_one strands one of 2 blocked getters: deadlock", Search::deepen(3));
INTERLEAVE_MODEL((JoinWaits<queue_bug::join_unlocked, race>), "queue.broken_join_unlocked.1item",
                 "queue.broken_join_unlocked",
                 "join() reading the unfinished count outside the lock races with task_done()",
                 Search::deepen(3));

// --- producer/consumer with a sentinel ----------------------------------------------
INTERLEAVE_MODEL((SentinelProgram<Program::seed, 35, true, assert_failed>), "producer_consumer.join_race.seed10",
                 "producer_consumer.join_race",
                 "the seed as written (10 items): q.join() returns while items are still unprocessed",
                 Search::deepen(2));
INTERLEAVE_MODEL((SentinelProgram<Program::seed, 35, false>), "producer_consumer.sentinel.seed10.bound3",
                 "producer_consumer.sentinel",
                 "the seed's 10 Fibonacci numbers reach the one consumer exactly once, in order",
                 Search::bounded(3));
INTERLEAVE_MODEL((SentinelProgram<Program::fixed, 0, true>), "producer_consumer.fixed.1item.full",
                 "producer_consumer.fixed",
                 "corrected (join the producer, task_done after processing), 1 item: join() returns only "
                 "once it is processed",
                 Search::full());
INTERLEAVE_MODEL((SentinelProgram<Program::fixed, 35, true>), "producer_consumer.fixed.seed10.bound3",
                 "producer_consumer.fixed",
                 "corrected, the seed's 10 items: when q.join() returns all 10 were processed, in order",
                 Search::bounded(3));
INTERLEAVE_MODEL((SentinelProgram<Program::two_by_two, 1, true>), "producer_consumer.2x2.3items.bound2",
                 "producer_consumer.2x2",
                 "2 producers x 3 items (+1 sentinel each), 2 consumers: every item exactly once, all "
                 "processed when q.join() returns",
                 Search::bounded(2));

}  // namespace
}  // namespace interleave::models
