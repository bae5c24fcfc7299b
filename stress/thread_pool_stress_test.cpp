// stress/thread_pool_stress_test.cpp — the thread pool and its futures under
// ThreadSanitizer: the fixed pool runs clean under load with every future
// resolved and every count exact; the broken twins show up (a TSan data race
// at the impl's marked line; a shutdown that never returns).
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_THREAD_POOL_STRESS);

INTERLEAVE_TEST(ThreadPoolStress,
                hundred_thousand_tiny_tasks_from_4_submitters_on_8_workers_are_clean_and_exact,
                "thread_pool") {
  const StressRun r =
      stress.clean({"load", "4", "8", "25000"},
                   {{"submitted", 100000}, {"ran", 100000}, {"resolved", 100000}, {"wrong", 0}});
  const long started = r.figure("workers_started");
  if (started < 1 || started > 8) r.fail("workers_started outside 1..8");
  testkit::cell("thread_pool",
                "0 TSan reports, 100,000 tasks (4 submitters x 25,000) on " +
                    std::to_string(started) +
                    " of 8 workers: 100,000 ran once, 100,000 futures resolved with their values");
}

// The unlocked read races only when a submitter takes the lock inside the
// worker's short unlocked window: about one run in two here; up to 10 runs.
INTERLEAVE_TEST(ThreadPoolStress, unlocked_check_twin_is_reported_by_tsan_at_the_impl_line,
                "thread_pool.broken_unlocked_check") {
  const Race race = stress.race_at_markers(
      {"load_broken_unlocked_check", "4", "8", "20000"},
      {"interleave:race-read thread_pool.broken_unlocked_check"}, Reports::halt, 120s, 10);
  testkit::cell("thread_pool.broken_unlocked_check",
                race.cell(std::to_string(race.run.reports) +
                          " report, halt_on_error, 4 submitters x 20,000 on 8 workers, run " +
                          std::to_string(race.attempt) + " of up to 10"));
}

INTERLEAVE_TEST(ThreadPoolStress, notify_one_shutdown_twin_leaves_workers_asleep_and_never_returns,
                "thread_pool.broken_shutdown_notify_one") {
  const std::string defect = marked_line("interleave:bug thread_pool.broken_shutdown_notify_one");
  const StressRun r = stress.hang({"idle_shutdown_broken_notify_one", "8"}, 60s);
  if (!r.hung()) r.fail("shutdown(wait) with notify_one returned");
  r.require({{"shutdown_returned", 0}});
  if (r.figure("asleep_after_shutdown") < 1) r.fail("no worker left asleep");
  testkit::cell(
      "thread_pool.broken_shutdown_notify_one",
      "lost wake-up shown: shutdown(wait) with 8 idle workers never returned (watchdog 5 s), " +
          r.count("asleep_after_shutdown") +
          " of 8 workers still asleep, 0 TSan reports (defect at " + defect + ")");
}

INTERLEAVE_TEST(ThreadPoolStress, fixed_shutdown_wakes_every_idle_worker, "thread_pool") {
  stress.clean({"idle_shutdown", "8"}, {{"shutdown_returned", 1}, {"live", 0}});
  testkit::cell("thread_pool",
                "shutdown(wait) with 8 idle workers returned, 0 live, 0 TSan reports");
}

INTERLEAVE_TEST(ThreadPoolStress,
                sequential_submit_get_from_4_threads_starts_at_most_4_of_8_workers,
                "thread_pool.reuse") {
  const StressRun r = stress.clean({"reuse", "4", "8", "5000"}, {{"ok", 20000}});
  const long started = r.figure("workers_started");
  if (started < 1 || started > 4) r.fail("workers_started outside 1..4");
  testkit::cell("thread_pool.reuse",
                "0 TSan reports, 4 threads x 5,000 submit+get on an 8-worker pool started " +
                    std::to_string(started) + " worker(s) (<= 4 outstanding), 20,000 exact");
}

INTERLEAVE_TEST(ThreadPoolStress,
                shutdown_with_cancel_futures_under_load_runs_or_cancels_each_task_once,
                "thread_pool.cancel_race") {
  const StressRun r = stress.clean({"cancel_shutdown", "4", "8", "25000"}, {{"twice", 0}});
  const long accepted = r.figure("accepted");
  r.require({{"refused", 100000 - accepted},
             {"done", accepted},
             {"cancelled", accepted - r.figure("ran")}});
  testkit::cell("thread_pool.cancel_race",
                "0 TSan reports, shutdown(cancel_futures) mid-load: " + r.count("accepted") +
                    " accepted = " + r.count("ran") + " ran + " + r.count("cancelled") +
                    " cancelled, " + r.count("refused") + " refused, none twice");
}

INTERLEAVE_TEST(ThreadPoolStress, futures_set_and_got_across_threads_are_clean, "future") {
  stress.clean({"futures", "20000", "4"}, {{"gets", 80000}, {"wrong", 0}, {"callbacks", 20000}});
  testkit::cell("future",
                "0 TSan reports, 20,000 promises set on one thread, 80,000 get()s on 4, 20,000 "
                "callbacks once each");
}

INTERLEAVE_TEST(ThreadPoolStress, as_completed_under_load_yields_each_future_once, "as_completed") {
  stress.clean({"as_completed", "4", "8", "10000"}, {{"yielded", 40000}, {"duplicates", 0}});
  testkit::cell("as_completed",
                "0 TSan reports, 4 threads x 10,000 futures (+3,334 duplicates each): 40,000 "
                "yielded, once each");
}

INTERLEAVE_TEST(ThreadPoolStress, wait_first_completed_loop_drains_every_future, "wait") {
  const StressRun r =
      stress.clean({"wait", "8", "4000"}, {{"done_seen", 4000}, {"all_done", 4000}});
  if (r.figure("first_exception_done") < 1) r.fail("wait(FIRST_EXCEPTION) returned no done future");
  testkit::cell("wait",
                "0 TSan reports, 4,000 futures (every 11th throws) on 8 workers drained by " +
                    r.count("rounds") +
                    " wait(FIRST_COMPLETED) rounds; FIRST_EXCEPTION and ALL_COMPLETED exact");
}

TEST(ThreadPoolStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"load", "4", "0", "10"}, "workers must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
