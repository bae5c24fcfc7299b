// stress/timeout_stress_test.cpp — call_with_timeout under ThreadSanitizer:
// 10,000 calls, half of them timing out, every outcome right and this
// process's descriptor, mapping and child counts unchanged afterwards; calls whose
// child finishes on either side of the deadline never give a wrong value;
// the seed's resolve_host (the twin) reports no exit code after terminate().
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_TIMEOUT_STRESS);

INTERLEAVE_TEST(TimeoutStress, ten_thousand_calls_half_timing_out_leave_nothing_behind,
                "timeout.fixed") {
  const StressRun r = stress.clean({"mixed", "10000"},
                                   {{"runs", 10000},
                                    {"results", 5000},
                                    {"timeouts", 5000},
                                    {"wrong", 0},
                                    {"fd_delta", 0},
                                    {"map_delta", 0},
                                    {"unreaped", 0}},
                                   600s);
  testkit::cell("timeout.fixed", "0 TSan reports, " + r.count("runs") + " calls (" +
                                     r.count("results") + " results, " + r.count("timeouts") +
                                     " timeouts), " + r.count("wrong") +
                                     " wrong, /proc/self/fd delta " + r.count("fd_delta") +
                                     ", shared mappings delta " + r.count("map_delta") + ", " +
                                     r.count("unreaped") + " unreaped (waitpid(-1, WNOHANG))");
}

INTERLEAVE_TEST(TimeoutStress, a_child_finishing_at_the_deadline_gives_its_result_or_a_timeout,
                "timeout.fixed") {
  const StressRun r = stress.clean(
      {"near_deadline", "2000"},
      {{"runs", 2000}, {"wrong", 0}, {"fd_delta", 0}, {"map_delta", 0}, {"unreaped", 0}}, 600s);
  testkit::cell("timeout.fixed", "0 TSan reports, " + r.count("runs") +
                                     " calls with timeouts of 0..5 ms: " + r.count("results") +
                                     " exact results, " + r.count("timeouts") +
                                     " timeouts, 0 wrong, 0 unreaped");
}

INTERLEAVE_TEST(TimeoutStress, the_seed_reads_no_exit_code_after_terminate,
                "timeout.seed_program") {
  const StressRun r = stress.clean(
      {"seed", "200", "5"}, {{"runs", 200}, {"results", 0}, {"fd_delta", 0}, {"unreaped", 0}});
  if (r.figure("unknown_code") == 0) r.fail("every run of the seed reported an exit code");
  testkit::cell("timeout.seed_program", "caught: " + r.count("unknown_code") + " of " +
                                            r.count("runs") +
                                            " runs reported no exit code after terminate() (the "
                                            "child was then reaped with -15), on the "
                                            "branch at " +
                                            marked_line("interleave:bug timeout.seed_program") +
                                            ", 0 TSan reports, 0 unreaped");
}

TEST(TimeoutStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"mixed", "0"}, "runs must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
