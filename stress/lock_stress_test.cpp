// stress/lock_stress_test.cpp — the Python-style Lock under ThreadSanitizer:
// the fixed lock runs clean under load with nothing lost, also when released
// by a thread that did not acquire it; the twin's unlocked release is
// reported by TSan at the impl's own lines.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_LOCK_STRESS);

INTERLEAVE_TEST(LockStress, lock_is_clean_and_exact_under_load_with_every_form_of_acquire, "lock") {
  stress.clean({"fixed", "8", "30000"}, {{"counted", 240000}});
  const StressRun h = stress.clean({"handoff", "500"}, {{"rounds", 500}, {"seen", 500}});
  testkit::cell(
      "lock",
      "0 TSan reports, 240,000 critical sections exact (8x30,000, blocking / non-blocking / "
      "timed acquires), " +
          h.count("seen") + " of 500 releases from another thread seen by the woken acquirer");
}

INTERLEAVE_TEST(LockStress, unlocked_release_twin_is_reported_by_tsan_at_the_impl_line,
                "lock.broken_unlocked_release") {
  const Race race = stress.race_at_markers({"broken_unlocked_release", "4", "10000"},
                                           {"interleave:race-read lock.broken_unlocked_release",
                                            "interleave:race-write lock.broken_unlocked_release"},
                                           Reports::keep);
  testkit::cell("lock.broken_unlocked_release",
                race.cell(std::to_string(race.run.reports) + " report(s), 4x10,000"));
}

TEST(LockStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"fixed", "0", "10"}, "threads must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
