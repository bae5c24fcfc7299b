// stress/process_pool_stress_test.cpp — ProcessPool under ThreadSanitizer:
// tiny tasks submitted by 2 parent threads through a pool of 4 with every
// result exact, served by at most 4 worker processes, this process's
// descriptor and child counts unchanged afterwards; pools whose worker is
// killed mid-run resolve every future (result or BrokenProcessPool); the
// twin that ignores a dead worker leaves a future pending (its hang).
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_PROCESS_POOL_STRESS);

// The full count of tiny tasks, under TSan too (the workers are TSan
// processes as well); the count run is in the cell.
constexpr long kTinyTasks = 100'000;

INTERLEAVE_TEST(ProcessPoolStress, tiny_tasks_through_a_pool_of_four_are_exact, "process_pool") {
  const StressRun r =
      stress.clean({"tiny", std::to_string(kTinyTasks), "4"},
                   {{"tasks", kTinyTasks}, {"wrong", 0}, {"fd_delta", 0}, {"unreaped", 0}}, 600s);
  testkit::cell("process_pool", "0 TSan reports, " + r.count("tasks") +
                                    " tiny tasks from 2 submitting threads through a pool of 4, " +
                                    r.count("wrong") + " wrong results, /proc/self/fd delta " +
                                    r.count("fd_delta") + ", " + r.count("unreaped") +
                                    " unreaped (waitpid(-1, WNOHANG))");
}

INTERLEAVE_TEST(ProcessPoolStress, a_pool_of_four_serves_every_task_with_at_most_four_processes,
                "process_pool.reuse") {
  const StressRun r =
      stress.clean({"tiny", "20000", "4"}, {{"tasks", 20000}, {"wrong", 0}, {"unreaped", 0}}, 600s);
  if (r.figure("pids") < 1 || r.figure("pids") > 4)
    r.fail("tasks served by other than 1..4 worker pids");
  testkit::cell("process_pool.reuse", "0 TSan reports, " + r.count("tasks") + " tasks served by " +
                                          r.count("pids") + " worker pids (pool of 4)");
}

INTERLEAVE_TEST(ProcessPoolStress, a_killed_worker_resolves_every_future,
                "process_pool.broken_worker") {
  const StressRun r = stress.clean({"broken", "100", "4"},
                                   {{"runs", 100},
                                    {"futures", 2000},
                                    {"unresolved", 0},
                                    {"wrong", 0},
                                    {"fd_delta", 0},
                                    {"unreaped", 0}},
                                   600s);
  if (r.figure("broken") < 100) r.fail("fewer BrokenProcessPool futures than killed workers");
  testkit::cell(
      "process_pool.broken_worker",
      "0 TSan reports, " + r.count("runs") +
          " pools of 4 with a worker killed (SIGKILL) among 20 tasks: " + r.count("futures") +
          " futures all resolved (" + r.count("results") + " results, " + r.count("broken") +
          " BrokenProcessPool naming exit status -9), /proc/self/fd delta 0, 0 unreaped");
}

INTERLEAVE_TEST(ProcessPoolStress, the_twin_leaves_the_dead_workers_future_pending,
                "process_pool.broken_ignores_dead_worker") {
  const StressRun r = stress.clean({"twin_broken", "3", "4"},
                                   {{"runs", 3}, {"fd_delta", 0}, {"unreaped", 0}}, 600s);
  if (r.figure("unresolved") < 3) r.fail("the twin resolved the future of a killed worker's task");
  testkit::cell("process_pool.broken_ignores_dead_worker",
                "hang shown: " + r.count("unresolved") + " of " + r.count("futures") +
                    " futures still pending 3 s after their worker was killed, over " +
                    r.count("runs") + " pools with one worker killed each, at " +
                    marked_line("interleave:bug process_pool.broken_ignores_dead_worker") +
                    " (0 TSan reports, 0 unreaped)");
}

TEST(ProcessPoolStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"tiny", "100", "0"}, "workers must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
