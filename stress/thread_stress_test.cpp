// stress/thread_stress_test.cpp — thread lifecycle and the Obi-Wan/Anakin
// program under ThreadSanitizer: 64 threads starting and joining at once,
// clean, with the registry exact; the seed's program always a merge.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const std::string kBinary = INTERLEAVE_THREAD_STRESS;

INTERLEAVE_TEST(ThreadStress, sixty_four_threads_start_and_join_at_once_clean_with_the_registry_exact, "thread.lifecycle") {
  const TsanRun run = tsan_run(kBinary, {"lifecycle", "64", "50"}, /*halt_on_error=*/true);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  const long rounds = read_figure(run.process.output, "rounds");
  const long listed_ok = read_figure(run.process.output, "listed_ok");
  const long observed = read_figure(run.process.output, "observed");
  const long bad = read_figure(run.process.output, "bad");
  ASSERT_EQ(rounds, 50) << run.process.output;
  ASSERT_EQ(listed_ok, 50) << run.process.output;
  ASSERT_EQ(bad, 0) << run.process.output;
  testkit::cell("thread.lifecycle", "0 TSan reports, 50 rounds x 64 threads started and joined at once, registry "
                                    "exact every round, " +
                                        testkit::thousands(static_cast<unsigned long long>(observed)) +
                                        " concurrent enumerate() entries, none New or Dead");
}

INTERLEAVE_TEST(ThreadStress, starwars_output_is_always_a_merge_under_tsan, "interleavings.obiwan_anakin") {
  const TsanRun run = tsan_run(kBinary, {"starwars", "500"}, /*halt_on_error=*/true);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  const long runs = read_figure(run.process.output, "runs");
  const long not_merges = read_figure(run.process.output, "not_merges");
  const long distinct = read_figure(run.process.output, "distinct");
  ASSERT_EQ(runs, 500) << run.process.output;
  ASSERT_EQ(not_merges, 0) << run.process.output;
  ASSERT_GE(distinct, 1) << run.process.output;
  ASSERT_LE(distinct, 35) << run.process.output;
  testkit::cell("interleavings.obiwan_anakin", "0 TSan reports, 500 runs all merges, " + std::to_string(distinct) +
                                                   " distinct orders of 35 seen");
}

TEST(ThreadStress, bad_arguments_are_refused_with_a_message) {
  const TsanRun run = tsan_run(kBinary, {"lifecycle", "0", "10"}, true);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.output.find("threads must be"), std::string::npos) << run.process.output;
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
