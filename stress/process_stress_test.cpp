// stress/process_stress_test.cpp — Process under ThreadSanitizer: 10,000
// children started and ended (return, terminate, kill, throw) with every exit
// code right and this process's descriptor and child counts unchanged
// afterwards; Process objects shared by 4 threads that wait on and signal 50
// children at once, clean; the re-exec start method from 4 threads at once.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_PROCESS_STRESS);

INTERLEAVE_TEST(ProcessStress, ten_thousand_children_leave_no_descriptor_and_no_zombie,
                "process.lifecycle") {
  const StressRun r =
      stress.clean({"lifecycle", "10000"},
                   {{"runs", 10000}, {"wrong_codes", 0}, {"fd_delta", 0}, {"unreaped", 0}}, 600s);
  testkit::cell("process.lifecycle",
                "0 TSan reports, " + r.count("runs") +
                    " children (return/terminate/kill/throw), exit codes all right, "
                    "/proc/self/fd delta " +
                    r.count("fd_delta") + ", " + r.count("unreaped") +
                    " unreaped (waitpid(-1, WNOHANG))");
}

INTERLEAVE_TEST(ProcessStress, process_objects_shared_by_threads_are_race_free,
                "process.lifecycle") {
  const StressRun r =
      stress.clean({"concurrent_waits", "50", "4"},
                   {{"children", 50}, {"wrong_codes", 0}, {"fd_delta", 0}, {"unreaped", 0}});
  testkit::cell("process.lifecycle",
                "0 TSan reports, 4 threads waiting on and terminating 50 shared children, " +
                    r.count("wrong_codes") + " wrong exit codes, 0 unreaped");
}

INTERLEAVE_TEST(ProcessStress, the_reexec_start_method_works_from_many_threads,
                "process.lifecycle") {
  const StressRun r = stress.clean(
      {"entry", "50", "4"}, {{"runs", 200}, {"wrong_codes", 0}, {"fd_delta", 0}, {"unreaped", 0}});
  testkit::cell("process.lifecycle",
                "0 TSan reports, " + r.count("runs") +
                    " re-exec'd children from 4 threads, exit codes all right, 0 unreaped");
}

TEST(ProcessStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"lifecycle", "0"}, "runs must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
