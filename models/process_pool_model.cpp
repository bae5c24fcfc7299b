// models/process_pool_model.cpp — ProcessPool
// (impl/include/interleave/process_pool.hpp) on the simulated OS
// (models/sim_os.hpp), under every checker: 2 workers x 3 tasks, with and
// without a worker killed at any OS step of the run, and the twin that does
// not notice a dead worker.
//
// The pool is the impl's own: its management thread, its workers (started
// with Os::spawn: the simulated OS has no re-exec, and its processes share
// the registry of INTERLEAVE_TASK functions as a re-executed program would),
// its wake pipe, task and result pipes and framed records. The pipes are
// large enough (pipe_buf 512) that every record lands in one step, so the
// search is spent on the order of the processes' steps, not on byte pieces.
//
// Every model ends with the simulated OS's own check (no zombie, no
// descriptor left open, no thread blocked: a hang is a deadlock verdict that
// names the OS call each process waits in).
//
// Pids: the model's threads are process 1; the pool's workers are started
// in order, so the first is pid 2. The killer sends SIGKILL to pid 2: when
// the kill comes before that worker exists, or after it was reaped, kill()
// throws os_error and nothing is killed (an execution without a death).
//
// What this cannot see: real time, a kill between two plain sync operations
// of a worker (it lands at the worker's OS calls), the absence of
// destructors in a killed worker (see sim_os.hpp); the POSIX start method
// (re-exec), which the property tests run.
#include "model.hpp"
//
#include <csignal>

#include "interleave/process_pool.hpp"
#include "sim_os.hpp"

namespace interleave::models {

int pool_model_square(int x) { return x * x; }
INTERLEAVE_TASK(pool_model_square);

namespace {

template <class Sync>
using PoolOs = sim_os<Sync, 512, 1024>;

// 2 workers x 3 tasks. Kill: a second model thread kills worker pid 2 at any
// step. Every future resolves exactly once: its result, or (only in an
// execution where a worker died) BrokenProcessPool; no zombie, no leaked
// descriptor, no hang. Without the kill: every result is right and no more
// than 2 worker processes served the 3 tasks (pids 2 and 3 only).
template <class Sync, bool Kill>
struct PoolRun {
  using Os = PoolOs<Sync>;
  static constexpr unsigned threads = Kill ? 2 : 1;
  static constexpr unsigned dynamic_threads = 3;  // the manager and two workers
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  int results[3] = {-1, -1, -1};
  int broken[3] = {0, 0, 0};
  int resolved[3] = {0, 0, 0};
  bool killed = false;
  int max_pid_seen = 0;

  void thread(unsigned i) {
    if (i == 1) {
      try {
        Os::kill(2, SIGKILL);
        killed = true;
      } catch (const os_error&) {
        // not started yet, or already reaped: no death in this execution
      }
      return;
    }
    BasicProcessPool<Os> pool(2);
    std::vector<Future<int, typename Os::sync>> fs;
    for (int t = 0; t < 3; ++t) fs.push_back(pool.submit(pool_model_square, t + 1));
    for (int t = 0; t < 3; ++t) {
      try {
        results[t] = fs[t].get();
        ++resolved[t];
      } catch (const BrokenProcessPool&) {
        ++broken[t];
        ++resolved[t];
      }
    }
  }
  void after() {
    for (int t = 0; t < 3; ++t) {
      INTERLEAVE_MODEL_CHECK_MSG(resolved[t] == 1, "every future resolves exactly once");
      if (broken[t] == 0)
        INTERLEAVE_MODEL_CHECK_MSG(results[t] == (t + 1) * (t + 1), "a result is the task's");
      if (!killed)
        INTERLEAVE_MODEL_CHECK_MSG(broken[t] == 0, "no worker died: no future is broken");
    }
    kernel.check_clean();
  }
};
template <class Sync>
using Pool2x3 = PoolRun<Sync, false>;
template <class Sync>
using Pool2x3KillAnyStep = PoolRun<Sync, true>;

// Reuse: 2 workers x 3 tasks, each task returns the pid of the worker that
// ran it: every pid is 2 or 3 (no third process was started).
template <class Os>
int pool_model_worker_pid(int) {
  return Os::self();
}
// Registered when PoolReuse names it (a variable template's initialisation
// runs at program start, like INTERLEAVE_TASK's).
template <class Os>
inline const detail::task_registrar<&pool_model_worker_pid<Os>> pool_model_worker_pid_registrar{
    "pool_model_worker_pid"};

template <class Sync>
struct PoolReuse {
  using Os = PoolOs<Sync>;
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  int pids[3] = {0, 0, 0};

  void thread(unsigned) {
    (void)&pool_model_worker_pid_registrar<Os>;
    BasicProcessPool<Os> pool(2);
    std::vector<Future<int, typename Os::sync>> fs;
    for (int t = 0; t < 3; ++t) fs.push_back(pool.submit(&pool_model_worker_pid<Os>, t));
    for (int t = 0; t < 3; ++t) pids[t] = fs[t].get();
  }
  void after() {
    for (int p : pids)
      INTERLEAVE_MODEL_CHECK_MSG(p == 2 || p == 3, "at most 2 worker processes served 3 tasks");
    kernel.check_clean();
  }
};

// The twin: a pool that reaps a dead worker and carries on without failing
// its task's future. One worker, one task, the worker killed at any step:
// where the kill lands while the task runs, get() waits for ever.
template <class Sync>
struct PoolIgnoresDeadWorker {
  using Os = PoolOs<Sync>;
  static constexpr unsigned threads = 2;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  int result = -1;

  void thread(unsigned i) {
    if (i == 1) {
      try {
        Os::kill(2, SIGKILL);
      } catch (const os_error&) {
      }
      return;
    }
    BasicProcessPool<Os, process_pool_bug::ignores_dead_worker> pool(1);
    auto f = pool.submit(pool_model_square, 3);
    try {
      result = f.get();
    } catch (const std::exception&) {
    }
  }
  void after() { kernel.check_clean(); }
};

}  // namespace

INTERLEAVE_MODEL(Pool2x3, "process_pool.2x3", "process_pool",
                 "2 workers x 3 tasks on the simulated OS: every future gets its task's result "
                 "exactly once; the "
                 "workers exit and are reaped at shutdown; no descriptor left, no hang",
                 Expect::holds, Search::bounded(1),
                 DporSearch::with(Search::bounded(1)).budget(10));
INTERLEAVE_MODEL(PoolReuse, "process_pool.reuse.2x3", "process_pool.reuse",
                 "2 workers x 3 tasks: every task ran in worker pid 2 or 3 (workers are reused, no "
                 "third process)",
                 Expect::holds, Search::bounded(1),
                 DporSearch::with(Search::bounded(1)).budget(10));
INTERLEAVE_MODEL(
    Pool2x3KillAnyStep, "process_pool.2x3.kill_any_step", "process_pool.broken_worker",
    "2 workers x 3 tasks, worker pid 2 killed at any step: every future resolves exactly once (its "
    "result or BrokenProcessPool, never broken without a death); no zombie, no descriptor left, no "
    "hang",
    Expect::holds, Search::bounded(1), DporSearch::with(Search::bounded(1)).budget(10));
INTERLEAVE_MODEL(
    PoolIgnoresDeadWorker, "process_pool.broken_ignores_dead_worker.1x1",
    "process_pool.broken_ignores_dead_worker",
    "the twin reaps a killed worker and never fails its task's future: get() waits for ever",
    Expect::deadlock, Search::deepen(2));

}  // namespace interleave::models
