// stress/event_stress_test.cpp — the event under ThreadSanitizer: the broken
// twin's unlocked flag check is reported at the impl's own line; the fixed
// event runs clean under load and every wait() returns.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const std::string kBinary = INTERLEAVE_EVENT_STRESS;
const std::string kHeader = "impl/include/interleave/event.hpp";

INTERLEAVE_TEST(EventStress, unlocked_flag_check_is_reported_by_tsan_at_the_impl_line, "event.broken_unlocked_check") {
  std::vector<int> lines = testkit::marker_lines(kHeader, "interleave:race-read event.broken_unlocked_check");
  for (int l : testkit::marker_lines(kHeader, "interleave:race-write event.broken_unlocked_check")) lines.push_back(l);
  ASSERT_EQ(lines.size(), 2u);
  // halt_on_error: the first report ends the run (the twin can also lose a
  // wake-up and hang, which is its other bug; the timeout bounds that).
  const TsanRun run = tsan_run(kBinary, {"broken_unlocked_check", "4", "2000"}, /*halt_on_error=*/true,
                               std::chrono::seconds(120));
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.process.exit_code, kTsanExitCode) << tail(run.process.output);
  ASSERT_GE(run.reports, 1) << "TSan found no race in the broken event:\n" << tail(run.process.output);
  EXPECT_TRUE(race_names_line(run.process.output, kHeader, lines))
      << "no data-race report names " << kHeader << " at its race lines:\n" << tail(run.process.output);
  testkit::cell("event.broken_unlocked_check", "data race reported by TSan at event.hpp:" +
                                                   std::to_string(lines[1]) + "/" + std::to_string(lines[0]) +
                                                   " (" + std::to_string(run.reports) +
                                                   " report, halt_on_error, 4 waiters x 2,000 rounds)");
}

INTERLEAVE_TEST(EventStress, fixed_event_is_clean_and_wakes_every_waiter_under_load, "event") {
  const TsanRun run = tsan_run(kBinary, {"fixed", "8", "5000"}, /*halt_on_error=*/true);
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  const long woken = read_figure(run.process.output, "woken");
  const long expected = read_figure(run.process.output, "expected");
  ASSERT_EQ(expected, 40000) << run.process.output;
  ASSERT_EQ(woken, expected) << run.process.output;
  testkit::cell("event", "0 TSan reports, " + testkit::thousands(static_cast<unsigned long long>(woken)) +
                             " of " + testkit::thousands(static_cast<unsigned long long>(expected)) +
                             " waits woken (8 waiters x 5,000 events)");
}

TEST(EventStress, bad_arguments_are_refused_with_a_message) {
  const TsanRun run = tsan_run(kBinary, {"fixed", "0", "10"}, true);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.output.find("waiters must be"), std::string::npos) << run.process.output;
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
