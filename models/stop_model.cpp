// models/stop_model.cpp — stopping a thread (seed: "Stopping a thread", the
// Fibonacci printer), instantiated from impl/include/interleave/stoppable.hpp.
// The worker is a thread the impl starts (Sync::thread / Sync::jthread), so
// each model declares one dynamic thread.
//
// What this cannot see: real time (the seed's sleep(0.07) is a scheduling
// point here); std::stop_token itself — the jthread model runs the impl
// against the model backend's rendering of the standard's contract
// (request_stop synchronises with a stop_requested() that returns true), not
// against libstdc++'s code.
#include "model.hpp"
//
#include "interleave/stoppable.hpp"

namespace interleave::models {
namespace {

constexpr int kReason = 7;

// The controller starts the worker, optionally lets it run a step, stops it
// with a reason, and joins. Then: the worker has terminated; its values are a
// prefix of the Fibonacci sequence no longer than the limit, all visible to
// the joiner; if it ended because of the stop, it saw the reason stop()
// handed over; if it did not, it ran to the limit.
template <class Sync, template <class> class Worker, unsigned Limit>
struct StopThenJoin {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  Worker<Sync> worker{Limit};

  void thread(unsigned) {
    worker.start();
    Sync::yield();
    worker.stop(kReason);
    worker.join();
    const std::vector<long> v = worker.values();
    INTERLEAVE_MODEL_CHECK(v.size() <= Limit);
    long a = 0, b = 1;
    for (long x : v) {
      INTERLEAVE_MODEL_CHECK(x == a);
      const long next = a + b;
      a = b;
      b = next;
    }
    if (worker.stopped_by_request())
      INTERLEAVE_MODEL_CHECK(worker.reason_seen() == kReason);
    else
      INTERLEAVE_MODEL_CHECK(v.size() == Limit);
  }
};

template <class Sync>
using PlainWorker = StoppableFibonacci<PlainStopFlag<Sync>, Sync>;
template <class Sync>
using AtomicWorker = StoppableFibonacci<AtomicStopFlag<Sync>, Sync>;
template <class Sync>
using RelaxedWorker = StoppableFibonacci<RelaxedStopFlag<Sync>, Sync>;

template <class Sync> using PlainLimit3 = StopThenJoin<Sync, PlainWorker, 3>;
template <class Sync> using AtomicLimit3 = StopThenJoin<Sync, AtomicWorker, 3>;
template <class Sync> using AtomicLimit6 = StopThenJoin<Sync, AtomicWorker, 6>;
template <class Sync> using RelaxedLimit3 = StopThenJoin<Sync, RelaxedWorker, 3>;
template <class Sync> using JthreadLimit3 = StopThenJoin<Sync, JthreadFibonacci, 3>;
template <class Sync> using JthreadLimit6 = StopThenJoin<Sync, JthreadFibonacci, 6>;

INTERLEAVE_MODEL(PlainLimit3, "stop.plain_flag.limit3", "stop.plain_flag",
                 "a plain bool stop flag is a data race between stop() and the worker's poll",
                 Expect::data_race, Search::deepen(3));
INTERLEAVE_MODEL(
    AtomicLimit3, "stop.atomic_flag.limit3.full", "stop.atomic_flag",
    "release/acquire flag: after stop()+join() the worker is done, its values visible, the "
    "reason seen",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(AtomicLimit6, "stop.atomic_flag.limit6.bound2", "stop.atomic_flag",
                 "the same with a 6-value limit, to 2 preemptions", Expect::holds,
                 Search::bounded(2));
INTERLEAVE_MODEL(
    RelaxedLimit3, "stop.atomic_flag.relaxed_breaks_it", "stop.atomic_flag",
    "a weaker order (relaxed store/load) loses the guarantee: the worker's read of the reason "
    "races with stop()",
    Expect::data_race, Search::deepen(3));
INTERLEAVE_MODEL(
    JthreadLimit3, "stop.stop_token.limit3.full", "stop.stop_token",
    "jthread + stop_token: after stop()+join() the worker is done, its values visible, the reason "
    "seen",
    Expect::holds, Search::full());
INTERLEAVE_MODEL(JthreadLimit6, "stop.stop_token.limit6.bound2", "stop.stop_token",
                 "the same with a 6-value limit, to 2 preemptions", Expect::holds,
                 Search::bounded(2));

}  // namespace
}  // namespace interleave::models
