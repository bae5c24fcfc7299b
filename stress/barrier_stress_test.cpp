// stress/barrier_stress_test.cpp — the cyclic barrier and thread-local data
// under ThreadSanitizer: the fixed barrier runs 8 parties x 10,000
// generations clean with every generation exact; the seed's thread-local
// program reads every value back; the twin without a generation counter
// strands its threads (a hang TSan cannot see; the watchdog shows it).
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_BARRIER_STRESS);

INTERLEAVE_TEST(BarrierStress, barrier_is_clean_and_every_generation_exact_8_parties_x_10000,
                "barrier") {
  const StressRun r =
      stress.clean({"fixed", "8", "10000"},
                   {{"generations", 10000}, {"bad_generations", 0}, {"completions", 10000}});
  testkit::cell("barrier",
                "0 TSan reports, " + r.count("generations") +
                    " generations x 8 parties, each with indices 0..7 once and its action run "
                    "once before release (" +
                    r.count("completions") + " actions)");
}

INTERLEAVE_TEST(BarrierStress, thread_local_values_survive_10000_barrier_generations,
                "barrier.thread_local") {
  const StressRun r =
      stress.clean({"thread_local", "8", "10000"}, {{"reads", 80000}, {"mismatches", 0}});
  testkit::cell("barrier.thread_local",
                "0 TSan reports, " + r.count("reads") +
                    " own-value reads, 0 mismatches (8 threads x 10,000 generations)");
}

// The twin strands its threads; the stress binary's watchdog sees no
// progress for 2 s and ends the run as a hang. Up to 3 runs.
INTERLEAVE_TEST(BarrierStress, barrier_without_generation_strands_a_re_entered_generation,
                "barrier.broken_no_generation") {
  const std::string defect = marked_line("interleave:bug barrier.broken_no_generation");
  StressRun r;
  const int attempt = until(
      3, [&] { return (r = stress.hang({"broken_no_generation", "8", "10000"})).hung(); },
      "the no-generation barrier completed 10,000 generations every time");
  testkit::cell("barrier.broken_no_generation",
                "threads stranded at generation " + r.count("stranded_at") +
                    " of 10,000 (8 parties), 0 TSan reports (a hang, not a race; defect at " +
                    defect + "), run " + std::to_string(attempt));
}

TEST(BarrierStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"fixed", "0", "10"}, "parties must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
