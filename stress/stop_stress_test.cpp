// stress/stop_stress_test.cpp — stopping a thread under ThreadSanitizer: the
// plain-bool flag is reported at the impl's own line; the atomic flag and
// jthread/stop_token run clean, every stop seen with its reason.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_STOP_STRESS);

INTERLEAVE_TEST(StopStress, plain_bool_flag_is_reported_by_tsan_at_the_impl_line,
                "stop.plain_flag") {
  const Race race = stress.race_at_markers(
      {"plain", "4", "200"},
      {"interleave:race-write stop.plain_flag", "interleave:race-read stop.plain_flag"},
      Reports::keep);
  testkit::cell("stop.plain_flag", race.cell(std::to_string(race.run.reports) +
                                             " report(s), 4 controllers x 200 start/stop cycles"));
}

void expect_clean(const std::string& variant, const std::string& row) {
  testkit::row(row);
  const StressRun r = stress.clean({variant, "8", "500"}, {{"cycles", 4000}, {"bad", 0}});
  testkit::cell(row, "0 TSan reports, " + r.count("cycles") +
                         " start/stop/join cycles (8x500) exact, " + r.count("stopped_by_request") +
                         " ended by the stop with its reason seen");
}

TEST(StopStress, atomic_flag_is_clean_under_load) { expect_clean("atomic", "stop.atomic_flag"); }
TEST(StopStress, jthread_stop_token_is_clean_under_load) {
  expect_clean("stop_token", "stop.stop_token");
}

TEST(StopStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"atomic", "0", "10"}, "controllers must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
