// stress/mergesort_stress_test.cpp — the mergesort under ThreadSanitizer: the
// threaded sort of 1,000,000 keyed records on 6 workers is clean and exactly
// std::stable_sort's result, for std::pair records and for trivially
// copyable ones (whose merges also run from both ends); the sequential sort run by 6 threads at once on
// one shared input is clean (no hidden shared state); the broken twin's
// unlocked merge into the shared result is reported at its marked lines; the
// process sort of 1,000,000 keyed records on 6 worker processes is clean in
// the parent, exact, and leaves no descriptor and no child behind.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_MERGESORT_STRESS);

INTERLEAVE_TEST(MergesortStress, threaded_sort_of_a_million_is_clean_and_exact,
                "mergesort.threads") {
  const StressRun r =
      stress.clean({"threads", "6", "1000000"}, {{"elements", 1000000}, {"mismatches", 0}}, 600s);
  const StressRun t = stress.clean({"threads_trivial", "6", "1000000"},
                                   {{"elements", 1000000}, {"mismatches", 0}}, 600s);
  testkit::cell("mergesort.threads", "0 TSan reports, " + r.count("elements") +
                                         " keyed records on 6 workers, " + r.count("mismatches") +
                                         " positions differ from std::stable_sort (and " +
                                         t.count("elements") + " trivially copyable records, " +
                                         t.count("mismatches") + " differ)");
}

INTERLEAVE_TEST(MergesortStress, sequential_sort_run_by_six_threads_at_once_is_clean,
                "mergesort.sequential") {
  const StressRun r = stress.clean({"sequential_reentrant", "6", "200000"},
                                   {{"sorts", 6}, {"mismatches", 0}}, 600s);
  testkit::cell("mergesort.sequential",
                "0 TSan reports, " + r.count("sorts") +
                    " concurrent sorts of one shared 200,000-record input, " +
                    r.count("mismatches") + " positions differ from std::stable_sort");
}

INTERLEAVE_TEST(MergesortStress, unlocked_merge_is_reported_by_tsan_at_the_impl_line,
                "mergesort.threads.broken_unlocked_merge") {
  const Race race =
      stress.race_at_markers({"broken_unlocked_merge", "6", "100000"},
                             {"interleave:race-read mergesort.threads.broken_unlocked_merge",
                              "interleave:race-write mergesort.threads.broken_unlocked_merge"},
                             Reports::halt, 300s, 3);
  testkit::cell("mergesort.threads.broken_unlocked_merge",
                "data race reported by TSan at " + race.where + " (" +
                    std::to_string(race.run.reports) +
                    " report, halt_on_error, 6 workers x 100,000 records, run " +
                    std::to_string(race.attempt) + ")");
}

INTERLEAVE_TEST(MergesortStress, process_sort_of_a_million_is_clean_exact_and_leaves_nothing,
                "mergesort.processes") {
  const StressRun r = stress.clean(
      {"processes", "6", "1000000"},
      {{"elements", 1000000}, {"mismatches", 0}, {"fd_delta", 0}, {"unreaped", 0}}, 600s);
  testkit::cell("mergesort.processes",
                "0 TSan reports in the parent, " + r.count("elements") +
                    " keyed records on 6 worker processes (shared segment), " +
                    r.count("mismatches") + " positions differ from std::stable_sort, " +
                    r.count("fd_delta") + " descriptors and " + r.count("unreaped") +
                    " children left");
}

TEST(MergesortStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"threads", "0", "10"}, "workers must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
