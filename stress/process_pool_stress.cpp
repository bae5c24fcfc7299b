// stress/process_pool_stress.cpp — ProcessPool under load, built with
// ThreadSanitizer. Run by process_pool_stress_test.cpp, which reads its output.
//
//   process_pool_stress tiny <tasks> <workers>
//   process_pool_stress broken <runs> <workers>
//   process_pool_stress twin_broken <runs> <workers>
//
// tiny: <tasks> tiny tasks (square(i) + 1, returning the worker's pid too)
//   submitted to one pool of <workers> by 2 parent threads at once, every
//   future's result checked exactly. Prints "tasks=<n> wrong=<n> pids=<n>
//   fd_delta=<n> unreaped=<n>": pids is the number of distinct worker pids
//   that served the tasks, fd_delta the change of this process's
//   /proc/self/fd count across the run (pool created and destroyed),
//   unreaped the children waitpid(-1, WNOHANG) still finds afterwards.
// broken: <runs> pools of <workers>, each given 20 tasks of which one kills
//   its worker (SIGKILL): every future must resolve, each with its exact
//   result or BrokenProcessPool (which must name the exit status -9).
//   Prints "runs=<n> futures=<n> results=<n> broken=<n> unresolved=<n>
//   wrong=<n> fd_delta=<n> unreaped=<n>"; unresolved counts futures still
//   pending 10 s after the last submit.
// twin_broken: the same with the twin that ignores a dead worker, waiting 3 s
//   per pool for the futures: unresolved counts those still pending (the
//   hang). Same figures.
//
// What TSan sees: the parent only — its submitting threads, the pool's
// management thread, the futures and the pool's state. The workers are
// re-executed programs (posix_os::spawn_entry), so each is a separate TSan
// process with one thread of its own; the pipes between them and the parent
// are outside what TSan can relate (no happens-before crosses a process).
#include <interleave/process_pool.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "stress_main.hpp"
#include "process_counts.hpp"

namespace {

using namespace std::chrono_literals;
using interleave::BrokenIgnoresDeadWorkerProcessPool;
using interleave::BrokenProcessPool;
using interleave::Future;
using interleave::posix_os;
using interleave::ProcessPool;

using interleave::process_counts::open_fds;

// Children left to reap after a run: 0 when waitpid(-1, WNOHANG) finds none.
using interleave::process_counts::unreaped;

std::pair<long, int> tiny_task(long x) { return {x * x + 1, static_cast<int>(::getpid())}; }
INTERLEAVE_TASK(tiny_task);

long crashing_task(long x, int crash) {
  if (crash) ::raise(SIGKILL);
  return x * 3 + 1;
}
INTERLEAVE_TASK(crashing_task);

int tiny(long tasks, long workers) {
  const int fds = open_fds();
  long wrong = 0;
  std::set<int> pids;
  {
    ProcessPool pool(static_cast<int>(workers));
    constexpr int kSubmitters = 2;
    std::vector<std::vector<Future<std::pair<long, int>>>> futures(kSubmitters);
    std::vector<std::thread> ts;
    for (int t = 0; t < kSubmitters; ++t)
      ts.emplace_back([&, t] {
        for (long i = t; i < tasks; i += kSubmitters)
          futures[t].push_back(pool.submit(tiny_task, i));
      });
    for (auto& t : ts) t.join();
    for (int t = 0; t < kSubmitters; ++t)
      for (std::size_t k = 0; k < futures[t].size(); ++k) {
        const long i = t + static_cast<long>(k) * kSubmitters;
        const auto [v, pid] = futures[t][k].get();
        wrong += v != i * i + 1;
        pids.insert(pid);
      }
  }  // the destructor shuts the pool down and joins
  std::printf("tasks=%ld wrong=%ld pids=%zu fd_delta=%d unreaped=%d\n", tasks, wrong, pids.size(),
              open_fds() - fds, unreaped());
  return interleave::stress::kExitOk;
}

template <class Pool>
int broken_runs(long runs, long workers, std::chrono::seconds patience) {
  const int fds = open_fds();
  constexpr int kTasks = 20;
  long futures = 0, results = 0, broken = 0, unresolved = 0, wrong = 0;
  for (long r = 0; r < runs; ++r) {
    Pool pool(static_cast<int>(workers));
    const int crash_at = static_cast<int>(r % kTasks);
    std::vector<Future<long>> fs;
    for (int i = 0; i < kTasks; ++i) {
      try {
        fs.push_back(pool.submit(crashing_task, long{i}, i == crash_at ? 1 : 0));
      } catch (
          const BrokenProcessPool& e) {  // the pool broke before this submit: refused the same way
        ++broken;
        ++futures;
        wrong += std::string(e.what()).find("exit status -9") == std::string::npos;
      }
    }
    const auto until = std::chrono::steady_clock::now() + patience;
    for (int i = 0; i < static_cast<int>(fs.size()); ++i) {
      ++futures;
      if (!fs[i].wait_until(until)) {
        ++unresolved;
        continue;
      }
      try {
        const long v = fs[i].get();
        ++results;
        wrong += v != i * 3 + 1 || i == crash_at;
      } catch (const BrokenProcessPool& e) {
        ++broken;
        wrong += std::string(e.what()).find("exit status -9") == std::string::npos;
      }
    }
  }
  std::printf(
      "runs=%ld futures=%ld results=%ld broken=%ld unresolved=%ld wrong=%ld fd_delta=%d "
      "unreaped=%d\n",
      runs, futures, results, broken, unresolved, wrong, open_fds() - fds, unreaped());
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  posix_os::run_entry_point_if_requested(argc, argv);
  using interleave::stress::Param;
  using interleave::stress::variant;
  const Param tasks{"tasks", 1, 10'000'000}, runs{"runs", 1, 100'000}, workers{"workers", 1, 64};
  return interleave::stress::dispatch(
      "process_pool_stress", argc, argv,
      {variant("tiny", tasks, workers, tiny),
       variant("broken", runs, workers,
               [](long r, long w) { return broken_runs<ProcessPool>(r, w, 10s); }),
       variant("twin_broken", runs, workers, [](long r, long w) {
         return broken_runs<BrokenIgnoresDeadWorkerProcessPool>(r, w, 3s);
       })});
}
