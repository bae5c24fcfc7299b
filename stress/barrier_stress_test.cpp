// stress/barrier_stress_test.cpp — the cyclic barrier and thread-local data
// under ThreadSanitizer: the fixed barrier runs 8 parties x 10,000
// generations clean with every generation exact; the seed's thread-local
// program reads every value back; the twin without a generation counter
// strands its threads (a hang TSan cannot see; the count shows it).
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const std::string kBinary = INTERLEAVE_BARRIER_STRESS;

INTERLEAVE_TEST(BarrierStress, barrier_is_clean_and_every_generation_exact_8_parties_x_10000, "barrier") {
  const TsanRun run = tsan_run(kBinary, {"fixed", "8", "10000"}, /*halt_on_error=*/true);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  const long gens = read_figure(run.process.output, "generations");
  const long bad = read_figure(run.process.output, "bad_generations");
  const long completions = read_figure(run.process.output, "completions");
  ASSERT_EQ(gens, 10000) << run.process.output;
  ASSERT_EQ(bad, 0) << run.process.output;
  ASSERT_EQ(completions, 10000) << run.process.output;
  testkit::cell("barrier", "0 TSan reports, " + testkit::thousands(static_cast<unsigned long long>(gens)) +
                               " generations x 8 parties, each with indices 0..7 once and its action run "
                               "once before release (" +
                               testkit::thousands(static_cast<unsigned long long>(completions)) + " actions)");
}

INTERLEAVE_TEST(BarrierStress, thread_local_values_survive_10000_barrier_generations, "barrier.thread_local") {
  const TsanRun run = tsan_run(kBinary, {"thread_local", "8", "10000"}, /*halt_on_error=*/true);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  const long reads = read_figure(run.process.output, "reads");
  const long mismatches = read_figure(run.process.output, "mismatches");
  ASSERT_EQ(reads, 80000) << run.process.output;
  ASSERT_EQ(mismatches, 0) << run.process.output;
  testkit::cell("barrier.thread_local", "0 TSan reports, " +
                                            testkit::thousands(static_cast<unsigned long long>(reads)) +
                                            " own-value reads, 0 mismatches (8 threads x 10,000 generations)");
}

// Detection: the twin strands its threads; the stress binary's watchdog sees
// no progress for 2 s and reports the generation. Up to 3 runs.
INTERLEAVE_TEST(BarrierStress, barrier_without_generation_strands_a_re_entered_generation, "barrier.broken_no_generation") {
  long stranded = -1;
  int attempt = 0;
  for (; attempt < 3 && stranded < 0; ++attempt) {
    const TsanRun run = tsan_run(kBinary, {"broken_no_generation", "8", "10000"}, /*halt_on_error=*/true,
                                 std::chrono::seconds(300));
    ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
    ASSERT_EQ(run.reports, 0) << "the twin's bug is a hang, not a data race:\n" << tail(run.process.output);
    ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
    stranded = read_figure(run.process.output, "stranded_at");
  }
  ASSERT_GE(stranded, 0) << "the no-generation barrier completed 10,000 generations " << attempt << " times";
  testkit::cell("barrier.broken_no_generation",
                "threads stranded at generation " + testkit::thousands(static_cast<unsigned long long>(stranded)) +
                    " of 10,000 (8 parties), 0 TSan reports (a hang, not a race), run " + std::to_string(attempt));
}

TEST(BarrierStress, bad_arguments_are_refused_with_a_message) {
  const TsanRun run = tsan_run(kBinary, {"fixed", "0", "10"}, true);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.output.find("parties must be"), std::string::npos) << run.process.output;
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
