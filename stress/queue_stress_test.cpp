// stress/queue_stress_test.cpp — Queue and the sentinel programs under
// ThreadSanitizer: the fixed queue runs clean under load with nothing lost or
// duplicated and shutdown releases everyone; the broken twins are caught (a
// TSan report at the impl's line, or getters left stranded).
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const std::string kBinary = INTERLEAVE_QUEUE_STRESS;
const std::string kHeader = "impl/include/interleave/queue.hpp";

void expect_clean(const TsanRun& run) {
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  ASSERT_EQ(run.process.exit_code, 0) << tail(run.process.output);
}

INTERLEAVE_TEST(QueueStress, fifty_by_fifty_by_ten_thousand_loses_and_duplicates_nothing, "queue") {
  const TsanRun run = tsan_run(kBinary, {"mpmc", "50", "50", "10000", "1000"}, /*halt_on_error=*/true);
  expect_clean(run);
  const long consumed = read_figure(run.process.output, "consumed");
  ASSERT_EQ(consumed, 500000) << run.process.output;
  ASSERT_EQ(read_figure(run.process.output, "lost"), 0) << run.process.output;
  ASSERT_EQ(read_figure(run.process.output, "duplicated"), 0) << run.process.output;
  ASSERT_EQ(read_figure(run.process.output, "out_of_range"), 0) << run.process.output;
  auto fig = [&](const char* key) {
    return testkit::thousands(static_cast<unsigned long long>(read_figure(run.process.output, key)));
  };
  testkit::cell("queue", std::to_string(run.reports) + " TSan reports, 50 producers x 50 consumers x 10,000 "
                         "items each (maxsize 1,000): " + fig("consumed") + " of " + fig("expected") +
                         " consumed, " + fig("lost") + " lost, " + fig("duplicated") + " duplicated");
}

INTERLEAVE_TEST(QueueStress, shutdown_under_load_releases_every_putter_and_getter, "queue.shutdown") {
  const TsanRun run = tsan_run(kBinary, {"shutdown_load", "40"}, /*halt_on_error=*/true);
  expect_clean(run);
  const long released = read_figure(run.process.output, "released");
  ASSERT_EQ(read_figure(run.process.output, "stranded"), 0) << run.process.output;
  ASSERT_EQ(released, 40 * 24) << run.process.output;
  testkit::cell("queue.shutdown",
                "0 TSan reports, 40 rounds (shutdown and shutdown(immediate) alternating) under load: " +
                    testkit::thousands(static_cast<unsigned long long>(released)) +
                    " threads released, 0 stranded; " +
                    testkit::thousands(static_cast<unsigned long long>(read_figure(run.process.output, "put_ok"))) +
                    " put = " +
                    testkit::thousands(static_cast<unsigned long long>(read_figure(run.process.output, "got"))) +
                    " got + " +
                    testkit::thousands(static_cast<unsigned long long>(read_figure(run.process.output, "dropped"))) +
                    " dropped by immediate");
}

// A getter that reaches its wait after shutdown() sees the flag and leaves,
// so a run strands (getters blocked at shutdown - 1); up to 5 runs.
INTERLEAVE_TEST(QueueStress, broken_notify_one_twin_strands_blocked_getters, "queue.broken_notify_one") {
  long stranded = -1;
  int attempt = 0;
  for (; attempt < 5; ++attempt) {
    const TsanRun run = tsan_run(kBinary, {"broken_notify_one", "8"}, /*halt_on_error=*/true);
    expect_clean(run);
    stranded = read_figure(run.process.output, "stranded");
    ASSERT_GE(stranded, 0) << run.process.output;
    if (stranded > 0) break;
  }
  ASSERT_GT(stranded, 0) << "shutdown() with notify_one stranded nobody in 5 runs";
  testkit::cell("queue.broken_notify_one", "lost wake-up shown: " + std::to_string(stranded) +
                                               " of 8 blocked getters still blocked 2 s after shutdown(), "
                                               "0 TSan reports (not a data race), run " +
                                               std::to_string(attempt + 1));
}

INTERLEAVE_TEST(QueueStress, broken_join_unlocked_twin_is_reported_by_tsan_at_the_impl_line, "queue.broken_join_unlocked") {
  const std::vector<int> lines = testkit::marker_lines(kHeader, "interleave:race-read queue.broken_join_unlocked");
  ASSERT_FALSE(lines.empty());
  const TsanRun run = tsan_run(kBinary, {"broken_join_unlocked", "200"}, /*halt_on_error=*/true,
                               std::chrono::seconds(120));
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.process.exit_code, kTsanExitCode) << tail(run.process.output);
  ASSERT_GE(run.reports, 1) << "TSan found no race in join() without the lock:\n" << tail(run.process.output);
  EXPECT_TRUE(race_names_line(run.process.output, kHeader, lines))
      << "no data-race report names " << kHeader << ":" << lines.front() << "\n"
      << tail(run.process.output);
  testkit::cell("queue.broken_join_unlocked",
                "data race reported by TSan at queue.hpp:" + std::to_string(lines.front()) +
                    " (join() reads the count outside the lock; first report halts the run)");
}

INTERLEAVE_TEST(QueueStress, fixed_program_has_processed_everything_at_join, "producer_consumer.fixed") {
  const TsanRun run = tsan_run(kBinary, {"programs", "300"}, /*halt_on_error=*/true);
  expect_clean(run);
  ASSERT_EQ(read_figure(run.process.output, "fixed_ok"), 300) << run.process.output;
  testkit::cell("producer_consumer.fixed", "0 TSan reports, 300 runs of the corrected program (n=35): all 10 "
                                           "processed, in order, when q.join() returned, every run");
}

INTERLEAVE_TEST(QueueStress, two_by_two_program_is_clean_and_complete, "producer_consumer.2x2") {
  const TsanRun run = tsan_run(kBinary, {"programs", "300"}, /*halt_on_error=*/true);
  expect_clean(run);
  ASSERT_EQ(read_figure(run.process.output, "two_by_two_ok"), 300) << run.process.output;
  testkit::cell("producer_consumer.2x2", "0 TSan reports, 300 runs of 2 producers x 10 + 2 sentinels, 2 "
                                         "consumers: all 20 processed when q.join() returned, every run");
}

INTERLEAVE_TEST(QueueStress, seed_sentinel_protocol_delivers_every_number_in_order, "producer_consumer.sentinel") {
  const TsanRun run = tsan_run(kBinary, {"programs", "300"}, /*halt_on_error=*/true);
  expect_clean(run);
  ASSERT_EQ(read_figure(run.process.output, "seed_delivered"), 300) << run.process.output;
  testkit::cell("producer_consumer.sentinel", "0 TSan reports, 300 runs of the seed program (n=35): 0..34 "
                                              "delivered exactly once, in order, consumer stopped at the sentinel");
}

// The seed's join race is a logic race, not a data race: TSan is silent and
// the count shows it. On this machine the main thread usually reaches
// q.join() before the producer has put anything.
INTERLEAVE_TEST(QueueStress, seed_join_race_returns_early_without_a_data_race, "producer_consumer.join_race") {
  long early = 0;
  int attempt = 0;
  for (; attempt < 5; ++attempt) {
    const TsanRun run = tsan_run(kBinary, {"programs", "300"}, /*halt_on_error=*/true);
    expect_clean(run);
    early = read_figure(run.process.output, "seed_early");
    ASSERT_GE(early, 0) << run.process.output;
    if (early > 0) break;
  }
  ASSERT_GT(early, 0) << "the seed's q.join() never returned early in 5 x 300 runs";
  testkit::cell("producer_consumer.join_race",
                "join race shown: q.join() returned before all 10 were processed in " + std::to_string(early) +
                    " of 300 runs, 0 TSan reports (not a data race), attempt " + std::to_string(attempt + 1));
}

TEST(QueueStress, bad_arguments_are_refused_with_a_message) {
  const TsanRun run = tsan_run(kBinary, {"mpmc", "0", "1", "1", "0"}, true);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.output.find("producers must be"), std::string::npos) << run.process.output;
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
