// stress/thread_pool_stress_test.cpp — the thread pool and its futures under
// ThreadSanitizer: the fixed pool runs clean under load with every future
// resolved and every count exact; the broken twins show up (a TSan data race
// at the impl's marked line; a shutdown that never returns).
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const std::string kBinary = INTERLEAVE_THREAD_POOL_STRESS;
const std::string kHeader = "impl/include/interleave/thread_pool.hpp";

TsanRun clean_run(const std::vector<std::string>& args) {
  TsanRun run = tsan_run(kBinary, args, /*halt_on_error=*/true);
  EXPECT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  EXPECT_EQ(run.process.exit_code, 0) << tail(run.process.output);
  return run;
}

long fig(const TsanRun& r, const std::string& key) { return read_figure(r.process.output, key); }
std::string n(long v) { return testkit::thousands(static_cast<unsigned long long>(v)); }

INTERLEAVE_TEST(ThreadPoolStress, hundred_thousand_tiny_tasks_from_4_submitters_on_8_workers_are_clean_and_exact, "thread_pool") {
  const TsanRun r = clean_run({"load", "fixed", "4", "8", "25000"});
  ASSERT_EQ(fig(r, "submitted"), 100000) << r.process.output;
  EXPECT_EQ(fig(r, "ran"), 100000) << r.process.output;
  EXPECT_EQ(fig(r, "resolved"), 100000) << r.process.output;
  EXPECT_EQ(fig(r, "wrong"), 0) << r.process.output;
  const long started = fig(r, "workers_started");
  EXPECT_GE(started, 1);
  EXPECT_LE(started, 8);
  testkit::cell("thread_pool", "0 TSan reports, 100,000 tasks (4 submitters x 25,000) on " + std::to_string(started) +
                                   " of 8 workers: 100,000 ran once, 100,000 futures resolved with their values");
}

INTERLEAVE_TEST(ThreadPoolStress, unlocked_check_twin_is_reported_by_tsan_at_the_impl_line, "thread_pool.broken_unlocked_check") {
  const auto lines = testkit::marker_lines(kHeader, "interleave:race-read thread_pool.broken_unlocked_check");
  ASSERT_FALSE(lines.empty());
  const TsanRun run = tsan_run(kBinary, {"load", "broken_unlocked_check", "4", "8", "2000"}, /*halt_on_error=*/true,
                               std::chrono::seconds(120));
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.process.exit_code, kTsanExitCode) << tail(run.process.output);
  ASSERT_GE(run.reports, 1) << "TSan found no race in the unlocked check:\n" << tail(run.process.output);
  EXPECT_TRUE(race_names_line(run.process.output, kHeader, lines))
      << "no data-race report names " << kHeader << ":" << lines.front() << "\n" << tail(run.process.output);
  testkit::cell("thread_pool.broken_unlocked_check",
                "data race reported by TSan at thread_pool.hpp:" + std::to_string(lines.front()) + " (" +
                    std::to_string(run.reports) + " report, halt_on_error, 4 submitters x 2,000 on 8 workers)");
}

INTERLEAVE_TEST(ThreadPoolStress, notify_one_shutdown_twin_leaves_workers_asleep_and_never_returns, "thread_pool.broken_shutdown_notify_one") {
  const TsanRun run = tsan_run(kBinary, {"notify_one", "broken_shutdown_notify_one", "8"}, /*halt_on_error=*/true,
                               std::chrono::seconds(60));
  ASSERT_FALSE(run.process.timed_out) << tail(run.process.output);
  EXPECT_EQ(run.reports, 0) << tail(run.process.output);
  EXPECT_EQ(run.process.exit_code, 3) << tail(run.process.output);
  EXPECT_EQ(fig(run, "shutdown_returned"), 0) << run.process.output;
  const long asleep = fig(run, "asleep_after_shutdown");
  EXPECT_GE(asleep, 1) << run.process.output;
  testkit::cell("thread_pool.broken_shutdown_notify_one",
                "lost wake-up shown: shutdown(wait) with 8 idle workers never returned (watchdog 5 s), " +
                    std::to_string(asleep) + " of 8 workers still asleep, 0 TSan reports");
}

INTERLEAVE_TEST(ThreadPoolStress, fixed_shutdown_wakes_every_idle_worker, "thread_pool") {
  const TsanRun r = clean_run({"notify_one", "fixed", "8"});
  EXPECT_EQ(fig(r, "shutdown_returned"), 1) << r.process.output;
  EXPECT_EQ(fig(r, "live"), 0) << r.process.output;
  testkit::cell("thread_pool", "shutdown(wait) with 8 idle workers returned, 0 live, 0 TSan reports");
}

INTERLEAVE_TEST(ThreadPoolStress, sequential_submit_get_from_4_threads_starts_at_most_4_of_8_workers, "thread_pool.reuse") {
  const TsanRun r = clean_run({"reuse", "4", "8", "5000"});
  EXPECT_EQ(fig(r, "ok"), 20000) << r.process.output;
  const long started = fig(r, "workers_started");
  EXPECT_GE(started, 1);
  EXPECT_LE(started, 4) << r.process.output;
  testkit::cell("thread_pool.reuse", "0 TSan reports, 4 threads x 5,000 submit+get on an 8-worker pool started " +
                                         std::to_string(started) + " worker(s) (<= 4 outstanding), 20,000 exact");
}

INTERLEAVE_TEST(ThreadPoolStress, shutdown_with_cancel_futures_under_load_runs_or_cancels_each_task_once, "thread_pool.cancel_race") {
  const TsanRun r = clean_run({"cancel_shutdown", "4", "8", "25000"});
  const long accepted = fig(r, "accepted"), refused = fig(r, "refused"), ran = fig(r, "ran"),
             cancelled = fig(r, "cancelled"), done = fig(r, "done");
  EXPECT_EQ(accepted + refused, 100000) << r.process.output;
  EXPECT_EQ(ran + cancelled, accepted) << r.process.output;
  EXPECT_EQ(done, accepted) << r.process.output;
  EXPECT_EQ(fig(r, "twice"), 0) << r.process.output;
  testkit::cell("thread_pool.cancel_race", "0 TSan reports, shutdown(cancel_futures) mid-load: " + n(accepted) +
                                               " accepted = " + n(ran) + " ran + " + n(cancelled) + " cancelled, " +
                                               n(refused) + " refused, none twice");
}

INTERLEAVE_TEST(ThreadPoolStress, futures_set_and_got_across_threads_are_clean, "future") {
  const TsanRun r = clean_run({"futures", "20000", "4"});
  EXPECT_EQ(fig(r, "gets"), 80000) << r.process.output;
  EXPECT_EQ(fig(r, "wrong"), 0) << r.process.output;
  EXPECT_EQ(fig(r, "callbacks"), 20000) << r.process.output;
  testkit::cell("future", "0 TSan reports, 20,000 promises set on one thread, 80,000 get()s on 4, 20,000 callbacks once each");
}

INTERLEAVE_TEST(ThreadPoolStress, as_completed_under_load_yields_each_future_once, "as_completed") {
  const TsanRun r = clean_run({"as_completed", "4", "8", "10000"});
  EXPECT_EQ(fig(r, "yielded"), 40000) << r.process.output;
  EXPECT_EQ(fig(r, "duplicates"), 0) << r.process.output;
  testkit::cell("as_completed", "0 TSan reports, 4 threads x 10,000 futures (+3,334 duplicates each): 40,000 yielded, once each");
}

INTERLEAVE_TEST(ThreadPoolStress, wait_first_completed_loop_drains_every_future, "wait") {
  const TsanRun r = clean_run({"wait", "8", "4000"});
  EXPECT_EQ(fig(r, "done_seen"), 4000) << r.process.output;
  EXPECT_EQ(fig(r, "all_done"), 4000) << r.process.output;
  EXPECT_GE(fig(r, "first_exception_done"), 1) << r.process.output;
  testkit::cell("wait", "0 TSan reports, 4,000 futures (every 11th throws) on 8 workers drained by " + n(fig(r, "rounds")) +
                            " wait(FIRST_COMPLETED) rounds; FIRST_EXCEPTION and ALL_COMPLETED exact");
}

TEST(ThreadPoolStress, bad_arguments_are_refused_with_a_message) {
  const TsanRun run = tsan_run(kBinary, {"load", "fixed", "4", "0", "10"}, true);
  EXPECT_EQ(run.process.exit_code, 2);
  EXPECT_NE(run.process.output.find("workers must be"), std::string::npos) << run.process.output;
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
