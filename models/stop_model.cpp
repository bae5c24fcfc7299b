// models/stop_model.cpp — stopping a thread (seed: "Stopping a thread", the
// Fibonacci printer), instantiated from impl/include/interleave/stoppable.hpp.
// The worker is a thread the impl starts (Sync::thread / Sync::jthread), so
// each suite declares one dynamic thread.
//
// What this cannot see: real time (the seed's sleep(0.07) is a scheduling
// point here); std::stop_token itself — the jthread model runs the impl
// against models/relacy_sync.hpp's rendering of the standard's contract
// (request_stop synchronises with a stop_requested() that returns true), not
// against libstdc++'s code.
#include "relacy_sync.hpp"
//
#include "interleave/stoppable.hpp"
#include "runner.hpp"

namespace interleave::models {
namespace {

constexpr int kReason = 7;

// The controller starts the worker, optionally lets it run a step, stops it
// with a reason, and joins. Then: the worker has terminated; its values are a
// prefix of the Fibonacci sequence no longer than the limit, all visible to
// the joiner; if it ended because of the stop, it saw the reason stop()
// handed over; if it did not, it ran to the limit.
template <class Worker, unsigned Limit, rl::test_result_e Expected = rl::test_result_success>
struct StopThenJoin : rl::test_suite<StopThenJoin<Worker, Limit, Expected>, 1, Expected> {
  static const rl::thread_id_t dynamic_thread_count = 1;
  Worker worker{Limit};

  void thread(unsigned) {
    worker.start();
    relacy_sync::yield();
    worker.stop(kReason);
    worker.join();
    const std::vector<long> v = worker.values();
    RL_ASSERT(v.size() <= Limit);
    long a = 0, b = 1;
    for (long x : v) {
      RL_ASSERT(x == a);
      const long next = a + b;
      a = b;
      b = next;
    }
    if (worker.stopped_by_request())
      RL_ASSERT(worker.reason_seen() == kReason);
    else
      RL_ASSERT(v.size() == Limit);
  }
};

template <class Sync>
using PlainWorker = StoppableFibonacci<PlainStopFlag<Sync>, Sync>;
template <class Sync>
using AtomicWorker = StoppableFibonacci<AtomicStopFlag<Sync>, Sync>;
template <class Sync>
using RelaxedWorker = StoppableFibonacci<RelaxedStopFlag<Sync>, Sync>;

constexpr auto race = rl::test_result_data_race;

INTERLEAVE_MODEL((StopThenJoin<PlainWorker<relacy_sync>, 3, race>), "stop.plain_flag.limit3", "stop.plain_flag",
                 "a plain bool stop flag is a data race between stop() and the worker's poll",
                 Search::deepen(3));
INTERLEAVE_MODEL((StopThenJoin<AtomicWorker<relacy_sync>, 3>), "stop.atomic_flag.limit3.full", "stop.atomic_flag",
                 "release/acquire flag: after stop()+join() the worker is done, its values visible, the "
                 "reason seen",
                 Search::full());
INTERLEAVE_MODEL((StopThenJoin<AtomicWorker<relacy_sync>, 6>), "stop.atomic_flag.limit6.bound2",
                 "stop.atomic_flag", "the same with a 6-value limit, to 2 preemptions",
                 Search::bounded(2));
INTERLEAVE_MODEL((StopThenJoin<RelaxedWorker<relacy_sync>, 3, race>), "stop.atomic_flag.relaxed_breaks_it",
                 "stop.atomic_flag",
                 "a weaker order (relaxed store/load) loses the guarantee: the worker's read of the reason "
                 "races with stop()",
                 Search::deepen(3));
INTERLEAVE_MODEL((StopThenJoin<JthreadFibonacci<relacy_sync>, 3>), "stop.stop_token.limit3.full", "stop.stop_token",
                 "jthread + stop_token: after stop()+join() the worker is done, its values visible, the reason "
                 "seen",
                 Search::full());
INTERLEAVE_MODEL((StopThenJoin<JthreadFibonacci<relacy_sync>, 6>), "stop.stop_token.limit6.bound2",
                 "stop.stop_token", "the same with a 6-value limit, to 2 preemptions", Search::bounded(2));

}  // namespace
}  // namespace interleave::models
