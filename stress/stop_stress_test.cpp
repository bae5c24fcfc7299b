// stress/stop_stress_test.cpp — stopping a thread under ThreadSanitizer: the
// plain-bool flag is reported at the impl's own line; the atomic flag and
// jthread/stop_token run clean, every stop seen with its reason.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const std::string kBinary = INTERLEAVE_STOP_STRESS;
const std::string kHeader = "impl/include/interleave/stoppable.hpp";

INTERLEAVE_TEST(StopStress, plain_bool_flag_is_reported_by_tsan_at_the_impl_line, "stop.plain_flag") {
  std::vector<int> lines = testkit::marker_lines(kHeader, "interleave:race-write stop.plain_flag");
  for (int l : testkit::marker_lines(kHeader, "interleave:race-read stop.plain_flag")) lines.push_back(l);
  ASSERT_EQ(lines.size(), 2u);
  const TsanRun run = tsan_run(kBinary, {"plain", "4", "200"}, /*halt_on_error=*/false);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.process.exit_code, kTsanExitCode) << tail(run.process.output);
  ASSERT_GE(run.reports, 1) << "TSan found no race on the plain flag:\n" << tail(run.process.output);
  EXPECT_TRUE(race_names_line(run.process.output, kHeader, lines))
      << "no data-race report names " << kHeader << " at its flag lines:\n" << tail(run.process.output);
  testkit::cell("stop.plain_flag", "data race reported by TSan at stoppable.hpp:" + std::to_string(lines[0]) + "/" +
                                       std::to_string(lines[1]) + " (" + std::to_string(run.reports) +
                                       " report(s), 4 controllers x 200 start/stop cycles)");
}

void expect_clean(const std::string& variant, const std::string& row) {
  testkit::row(row);
  const TsanRun run = tsan_run(kBinary, {variant, "8", "500"}, /*halt_on_error=*/true);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  const long cycles = read_figure(run.process.output, "cycles");
  const long bad = read_figure(run.process.output, "bad");
  const long by_request = read_figure(run.process.output, "stopped_by_request");
  ASSERT_EQ(cycles, 4000) << run.process.output;
  ASSERT_EQ(bad, 0) << run.process.output;
  testkit::cell(row, "0 TSan reports, " + testkit::thousands(static_cast<unsigned long long>(cycles)) +
                         " start/stop/join cycles (8x500) exact, " +
                         testkit::thousands(static_cast<unsigned long long>(by_request)) +
                         " ended by the stop with its reason seen");
}

TEST(StopStress, atomic_flag_is_clean_under_load) { expect_clean("atomic", "stop.atomic_flag"); }
TEST(StopStress, jthread_stop_token_is_clean_under_load) { expect_clean("stop_token", "stop.stop_token"); }

TEST(StopStress, bad_arguments_are_refused_with_a_message) {
  const TsanRun run = tsan_run(kBinary, {"atomic", "0", "10"}, true);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.output.find("controllers must be"), std::string::npos) << run.process.output;
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
