// models/queue_model.cpp — Queue (impl/include/interleave/queue.hpp) and the
// seed's producer/consumer with a sentinel (producer_consumer.hpp),
// instantiated from the impl with the model backend.
//
// Seed: "Thread communication using queues".
//
// What this cannot see: real time (a timed wait may time out at any
// scheduling point), configurations larger than the ones below (full search
// only for the smallest; the seed's 10 items are searched to a context bound),
// and the contents of std::deque beyond what the queue's own API reports (the
// deque is guarded by the mutex; the scalars the invariants depend on,
// unfinished count and shutdown flag, are Sync vars).
#include "model.hpp"
//
#include "interleave/producer_consumer.hpp"
#include "interleave/queue.hpp"

namespace interleave::models {
namespace {

// --- queue: FIFO, bounded, MPMC, join ---------------------------------------

// One producer puts 1..N, one consumer gets N items: exactly them, in order.
template <class Sync, int N, long MaxSize>
struct Fifo1p1c {
  static constexpr unsigned threads = MaxSize > 0 ? 3 : 2;
  Queue<int, Sync> q{MaxSize};
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
        INTERLEAVE_MODEL_CHECK(MaxSize <= 0 || n <= static_cast<std::size_t>(MaxSize));
      }
    }
  }
  void after() {
    for (int i = 0; i < N; ++i) INTERLEAVE_MODEL_CHECK(got[i] == i + 1);
    INTERLEAVE_MODEL_CHECK(q.empty());
  }
};

// Two producers each put 2 distinct items; two consumers each get 2: every
// item consumed exactly once, each producer's items in its order.
template <class Sync, long MaxSize>
struct Mpmc2x2 {
  static constexpr unsigned threads = 4;
  Queue<int, Sync> q{MaxSize};
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
        INTERLEAVE_MODEL_CHECK(p >= 0 && p < 2 && i >= 0 && i < 2);
        if (p < 0 || p >= 2 || i < 0 || i >= 2)
          continue;  // a failed check does not stop every checker
        ++seen[p][i];
        INTERLEAVE_MODEL_CHECK(i > last[p]);  // a consumer sees one producer's items in order
        last[p] = i;
      }
    }
    for (auto& p : seen)
      for (int s : p) INTERLEAVE_MODEL_CHECK(s == 1);
  }
};

// The producer puts 2 items and joins; the consumer processes each (marks it)
// before task_done(). join() must not return before both are marked.
template <class Sync, queue_bug Bug>
struct JoinWaits {
  static constexpr unsigned threads = 2;
  Queue<int, Sync, Bug> q;
  typename Sync::template atomic<int> processed{0};
  static constexpr int kItems = Bug == queue_bug::none ? 2 : 1;

  void thread(unsigned t) {
    if (t == 0) {
      for (int i = 0; i < kItems; ++i) q.put(i);
      q.join();
      INTERLEAVE_MODEL_CHECK(processed.load() == kItems);
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
// wake with queue_shut_down (a getter left blocked is a deadlock to the checker).
template <class Sync, queue_bug Bug>
struct ShutdownWakesGetters {
  static constexpr unsigned threads = 3;
  Queue<int, Sync, Bug> q;
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
  void after() { INTERLEAVE_MODEL_CHECK(saw_shutdown[0] && saw_shutdown[1]); }
};

// maxsize 1: thread 0 fills the queue (try_put) and shuts it down; two
// putters put. Every putter returns (success or queue_shut_down), and the
// queue never holds more than one item.
template <class Sync>
struct ShutdownWakesPutters {
  static constexpr unsigned threads = 3;
  Queue<int, Sync> q{1};
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
    INTERLEAVE_MODEL_CHECK(stored[0] + stored[1] + stored[2] ==
                           1);  // exactly one fits, nobody gets it
    INTERLEAVE_MODEL_CHECK(q.size() == 1);
  }
};

// shutdown(false) drains: 2 items put, then shutdown; two consumers get until
// queue_shut_down. Both items are consumed exactly once, then both consumers
// see the shutdown.
template <class Sync>
struct ShutdownDrains {
  static constexpr unsigned threads = 3;
  Queue<int, Sync> q;
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
    INTERLEAVE_MODEL_CHECK(got[0] + got[1] == 2);
    INTERLEAVE_MODEL_CHECK(sum[0] + sum[1] == 3);
  }
};

// shutdown(true) with a joiner: the producer puts 2 items, shuts down
// immediately and joins; the consumer takes what it can, task_done() for
// each. join() returns (no deadlock), and only once every item the consumer
// took has had its task_done().
template <class Sync>
struct ShutdownImmediateSettlesJoin {
  static constexpr unsigned threads = 2;
  Queue<int, Sync> q;
  typename Sync::template atomic<int> taken{0}, done{0};

  void thread(unsigned t) {
    if (t == 0) {
      q.put(1);
      q.put(2);
      q.shutdown(true);
      q.join();
      INTERLEAVE_MODEL_CHECK(taken.load() == done.load());
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
    INTERLEAVE_MODEL_CHECK(q.empty());
    INTERLEAVE_MODEL_CHECK(q.unfinished_tasks() == 0);
    INTERLEAVE_MODEL_CHECK(taken.load() <= 2);
  }
};

// shutdown(immediate=true) releasing a join() that is already pending (or
// about to be): 2 items are outstanding when the threads start; a getter
// takes what it can and calls task_done() for it, before or after the
// shutdown; the immediate shutdown drops the rest. join() returns (no
// deadlock), and only after the getter's task_done() for every item it took
// (an item taken before the shutdown is still owed its task_done(), and
// that task_done() after the shutdown is accepted). One more task_done()
// than that is refused with a message.
template <class Sync>
struct ShutdownImmediateReleasesPendingJoin {
  static constexpr unsigned threads = 3;
  Queue<int, Sync> q;
  typename Sync::template atomic<int> taken{0}, done{0};
  bool joined = false;

  void before() {
    q.put(1);
    q.put(2);
  }
  void thread(unsigned t) {
    if (t == 0) {
      q.join();
      joined = true;
      INTERLEAVE_MODEL_CHECK(taken.load() == done.load());
    } else if (t == 1) {
      q.shutdown(/*immediate=*/true);
    } else {
      try {
        (void)q.get();
        taken.fetch_add(1);
        done.fetch_add(1);
        q.task_done();
      } catch (const queue_shut_down&) {
      }
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(joined);
    INTERLEAVE_MODEL_CHECK(q.unfinished_tasks() == 0);
    bool refused = false;
    try {
      q.task_done();
    } catch (const std::logic_error&) {
      refused = true;
    }
    INTERLEAVE_MODEL_CHECK(refused);
  }
};

// Read-only accessors while writers run: an observer reads size(), full(),
// empty() and unfinished_tasks() while a producer puts into a queue of
// maxsize 1 and a consumer gets and calls task_done(). Every value read is
// within its bound, and the reads race with nothing (the accessors take the
// lock; an unlocked read of the count would be reported as a data race).
template <class Sync>
struct QueueAccessorsWhileWriting {
  static constexpr unsigned threads = 3;
  Queue<int, Sync> q{1};

  void thread(unsigned t) {
    if (t == 0) {
      q.put(1);
      q.put(2);
    } else if (t == 1) {
      for (int i = 0; i < 2; ++i) {
        (void)q.get();
        q.task_done();
      }
    } else {
      for (int i = 0; i < 2; ++i) {
        const std::size_t n = q.size();
        const long unfinished = q.unfinished_tasks();
        const bool full = q.full();
        const bool empty = q.empty();
        INTERLEAVE_MODEL_CHECK(n <= 1);
        INTERLEAVE_MODEL_CHECK(unfinished >= 0 && unfinished <= 2);
        (void)full;
        (void)empty;
      }
    }
  }
  void after() { INTERLEAVE_MODEL_CHECK(q.empty() && q.unfinished_tasks() == 0); }
};

// --- producer/consumer with a sentinel -------------------------------------

// Where the consumers' sink writes: slot = order of processing.
template <class Sync>
struct Sink {
  typename Sync::template atomic<int> processed{0};
  producer_consumer::Item items[32];
  void operator()(const producer_consumer::Item& item) {
    const int slot = processed.fetch_add(1, std::memory_order_relaxed);
    INTERLEAVE_MODEL_CHECK(slot < 32);
    if (slot < 32) items[slot] = item;  // a failed check does not stop every checker's execution
  }
};

enum class Program { seed, fixed, two_by_two };

// Runs the program on model thread 0 (threads started by impl code are
// dynamic threads). CheckJoin: assert at q.join()'s return that every item
// was processed. after(): every item processed exactly once, in order with
// one consumer.
template <class Sync, Program P, long N, bool CheckJoin>
struct SentinelProgram {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = P == Program::two_by_two ? 4 : 2;
  static constexpr int kProducers = P == Program::two_by_two ? 2 : 1;
  Sink<Sync> sink;

  // The i-th Fibonacci number (0, 1, 1, 2, ...), without allocating:
  // a checker may explore every free() as a choice, so the model keeps clear
  // of the heap beyond what the impl itself does.
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
      if (CheckJoin) INTERLEAVE_MODEL_CHECK(sink.processed.load() == kExpected);
    };
    if constexpr (P == Program::seed)
      producer_consumer::seed_program<Sync>(N, sink, after_join);
    else if constexpr (P == Program::fixed)
      producer_consumer::fixed_program<Sync>(N, sink, after_join);
    else
      producer_consumer::program_2x2<Sync>(N, sink, after_join);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(sink.processed.load() == kExpected);
    if constexpr (P != Program::two_by_two) {
      for (int i = 0; i < kExpected; ++i)
        INTERLEAVE_MODEL_CHECK(!sink.items[i].sentinel && sink.items[i].value == fib(i));
    } else {
      int seen[2][16] = {};
      for (int i = 0; i < kExpected; ++i) {
        const auto& it = sink.items[i];
        INTERLEAVE_MODEL_CHECK(!it.sentinel && it.producer >= 0 && it.producer < 2);
        if (it.producer < 0 || it.producer >= 2)
          continue;  // a failed check does not stop every checker
        // Fibonacci values repeat (1, 1): match each to its first unseen position.
        int pos = 0;
        while (pos < kPerProducer && (fib(pos) != it.value || seen[it.producer][pos])) ++pos;
        INTERLEAVE_MODEL_CHECK(pos < kPerProducer);
        if (pos < kPerProducer) seen[it.producer][pos] = 1;
      }
    }
  }
};

template <class Sync> using Fifo2Unbounded = Fifo1p1c<Sync, 2, 0>;
template <class Sync> using Fifo3Bounded1 = Fifo1p1c<Sync, 3, 1>;
template <class Sync> using Fifo10Unbounded = Fifo1p1c<Sync, 10, 0>;
template <class Sync> using Mpmc2x2Unbounded = Mpmc2x2<Sync, 0>;
template <class Sync> using Mpmc2x2Bounded1 = Mpmc2x2<Sync, 1>;
template <class Sync> using JoinWaitsFixed = JoinWaits<Sync, queue_bug::none>;
template <class Sync> using JoinWaitsUnlocked = JoinWaits<Sync, queue_bug::join_unlocked>;
template <class Sync> using ShutdownWakesGettersFixed = ShutdownWakesGetters<Sync, queue_bug::none>;
template <class Sync> using ShutdownNotifyOne =
    ShutdownWakesGetters<Sync, queue_bug::notify_one_on_shutdown>;
template <class Sync> using SeedJoinRace = SentinelProgram<Sync, Program::seed, 35, true>;
template <class Sync> using SeedSentinel = SentinelProgram<Sync, Program::seed, 35, false>;
template <class Sync> using Fixed1Item = SentinelProgram<Sync, Program::fixed, 0, true>;
template <class Sync> using FixedSeed = SentinelProgram<Sync, Program::fixed, 35, true>;
template <class Sync> using TwoByTwo = SentinelProgram<Sync, Program::two_by_two, 1, true>;

// --- queue ---------------------------------------------------------------------
INTERLEAVE_MODEL(
    Fifo2Unbounded, "queue.fifo.unbounded.1p1c_2.full", "queue",
    "unbounded: 2 items put by one producer are got once each, in order (observer thread too)",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    Fifo3Bounded1, "queue.fifo.bounded1.1p1c_3.bound3", "queue",
    "maxsize 1: 3 items delivered in order, and no observer ever sees more than 1 queued",
    Expect::holds, Search::bounded(3));
// The seed's size: 10 items through one producer and one consumer. The
// DPOR checker searches it exhaustively (spurious wake-ups off: the queue's
// bare waits sit in predicate loops, which the 2-item model above checks
// with them on): C(20,10) = 184,756 orders of the 20 critical sections.
INTERLEAVE_MODEL(
    Fifo10Unbounded, "queue.fifo.unbounded.1p1c_10", "queue",
    "unbounded, the seed's 10 items: got once each, in order", Expect::holds, Search::bounded(1),
    DporSearch{}.no_spurious().executions(400000));  // 184,756 traces; the load does not decide
INTERLEAVE_MODEL(
    Mpmc2x2Unbounded, "queue.mpmc.2p2c_2.bound2", "queue",
    "2 producers x 2 items, 2 consumers x 2 gets: every item exactly once, per-producer order kept",
    Expect::holds, Search::bounded(2), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(Mpmc2x2Bounded1, "queue.mpmc.bounded1.2p2c_2.bound1", "queue",
                 "the same through a queue of maxsize 1 (putters block on full)", Expect::holds,
                 Search::bounded(1), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(JoinWaitsFixed, "queue.join.2items.full", "queue",
                 "join() returns only after both items were processed and task_done()",
                 Expect::holds, Search::full());

// --- queue.shutdown -----------------------------------------------------------
INTERLEAVE_MODEL(ShutdownWakesGettersFixed, "queue.shutdown.wakes_getters.full", "queue.shutdown",
                 "2 getters blocked on empty + shutdown(): both wake with queue_shut_down",
                 Expect::holds, Search::full());
INTERLEAVE_MODEL(
    ShutdownWakesPutters, "queue.shutdown.wakes_putters.full", "queue.shutdown",
    "maxsize 1, full, 2 putters + shutdown(): every putter returns, never more than 1 held",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    ShutdownDrains, "queue.shutdown.drains.bound3", "queue.shutdown",
    "shutdown(false) after 2 puts: 2 getters drain both items exactly once, then see shutdown",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(
    ShutdownImmediateSettlesJoin, "queue.shutdown.immediate_join.bound3", "queue.shutdown",
    "shutdown(true) drops the rest and settles the count: join() returns, after every taken "
    "item's task_done()",
    Expect::holds, Search::bounded(3));

// --- the broken twins: each must be caught --------------------------------------
INTERLEAVE_MODEL(ShutdownNotifyOne, "queue.broken_notify_one.2getters", "queue.broken_notify_one",
                 "shutdown() with notify_one strands one of 2 blocked getters: deadlock",
                 Expect::deadlock, Search::deepen(3));
INTERLEAVE_MODEL(JoinWaitsUnlocked, "queue.broken_join_unlocked.1item",
                 "queue.broken_join_unlocked",
                 "join() reading the unfinished count outside the lock races with task_done()",
                 Expect::data_race, Search::deepen(3));

// --- producer/consumer with a sentinel ----------------------------------------------
INTERLEAVE_MODEL(
    SeedJoinRace, "producer_consumer.join_race.seed10", "producer_consumer.join_race",
    "the seed as written (10 items): q.join() returns while items are still unprocessed",
    Expect::assertion, Search::deepen(2));
INTERLEAVE_MODEL(SeedSentinel, "producer_consumer.sentinel.seed10.bound3",
                 "producer_consumer.sentinel",
                 "the seed's 10 Fibonacci numbers reach the one consumer exactly once, in order",
                 Expect::holds, Search::bounded(3), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(
    Fixed1Item, "producer_consumer.fixed.1item.full", "producer_consumer.fixed",
    "corrected (join the producer, task_done after processing), 1 item: join() returns only "
    "once it is processed",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(
    FixedSeed, "producer_consumer.fixed.seed10.bound3", "producer_consumer.fixed",
    "corrected, the seed's 10 items: when q.join() returns all 10 were processed, in order",
    Expect::holds, Search::bounded(3), DporSearch{}.no_spurious());
INTERLEAVE_MODEL(
    TwoByTwo, "producer_consumer.2x2.3items.bound2", "producer_consumer.2x2",
    "2 producers x 3 items (+1 sentinel each), 2 consumers: every item exactly once, all "
    "processed when q.join() returns",
    Expect::holds, Search::bounded(2), DporSearch{}.no_spurious());

INTERLEAVE_MODEL(
    ShutdownImmediateReleasesPendingJoin, "queue.shutdown.immediate_releases_pending_join.bound3",
    "queue.shutdown",
    "join() pending on 2 items, shutdown(true) and a getter racing: join() returns after the taken "
    "item's task_done() (accepted after the shutdown); one more task_done() is refused (Relacy's "
    "full search did not finish in 120 s)",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(
    QueueAccessorsWhileWriting, "queue.accessors_while_writing.bound3", "queue",
    "size/full/empty/unfinished_tasks read while a putter and a getter run: within bounds, no race",
    Expect::holds, Search::bounded(3));

}  // namespace
}  // namespace interleave::models
