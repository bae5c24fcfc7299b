// stress/thread_stress_test.cpp — thread lifecycle and the Obi-Wan/Anakin
// program under ThreadSanitizer: 64 threads starting and joining at once,
// clean, with the registry exact; the seed's program always a merge.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_THREAD_STRESS);

INTERLEAVE_TEST(ThreadStress,
                sixty_four_threads_start_and_join_at_once_clean_with_the_registry_exact,
                "thread.lifecycle") {
  const StressRun r =
      stress.clean({"lifecycle", "64", "50"}, {{"rounds", 50}, {"listed_ok", 50}, {"bad", 0}});
  testkit::cell("thread.lifecycle",
                "0 TSan reports, 50 rounds x 64 threads started and joined at once, registry "
                "exact every round, " +
                    r.count("observed") + " concurrent enumerate() entries, none New or Dead");
}

INTERLEAVE_TEST(ThreadStress, starwars_output_is_always_a_merge_under_tsan,
                "interleavings.obiwan_anakin") {
  const StressRun r = stress.clean({"starwars", "500"}, {{"runs", 500}, {"not_merges", 0}});
  const long distinct = r.figure("distinct");
  if (distinct < 1 || distinct > 35) r.fail("distinct orders outside 1..35");
  testkit::cell("interleavings.obiwan_anakin", "0 TSan reports, 500 runs all merges, " +
                                                   std::to_string(distinct) +
                                                   " distinct orders of 35 seen");
}

INTERLEAVE_TEST(ThreadStress, eight_joiners_of_one_thread_all_see_its_thread_local_destructor_clean,
                "thread.join_exit") {
  const StressRun r =
      stress.clean({"joiners", "8", "300"}, {{"rounds", 300}, {"reads", 2400}, {"unset", 0}});
  testkit::cell("thread.join_exit",
                "0 TSan reports, 300 rounds x 8 concurrent joiners (another thread dying "
                "meanwhile), " +
                    r.count("reads") +
                    " reads of a plain int the exiting thread's thread_local destructor wrote, "
                    "all after it");
}

INTERLEAVE_TEST(ThreadStress, throwing_targets_leave_the_registry_clean, "thread.throwing_target") {
  const StressRun r =
      stress.clean({"throwing", "16", "200"},
                   {{"rounds", 200}, {"kept", 3200}, {"listed_dead", 0}, {"left", 0}});
  testkit::cell(
      "thread.throwing_target",
      "0 TSan reports, 200 rounds x 16 threads (every other target throws): " + r.count("kept") +
          " exceptions kept exactly, never listed Dead, registry empty");
}

INTERLEAVE_TEST(ThreadStress, thread_local_values_are_freed_by_exiting_threads_clean,
                "thread_local.exit") {
  const StressRun r =
      stress.clean({"thread_local", "16", "300"}, {{"rounds", 300}, {"slots_left", 0}});
  testkit::cell("thread_local.exit",
                "0 TSan reports, 300 rounds x 16 threads setting one long-lived ThreadLocal: "
                "0 slots left after the joins");
}

INTERLEAVE_TEST(ThreadStress, lines_and_size_read_while_the_seed_program_prints_are_prefixes_clean,
                "interleavings.obiwan_anakin") {
  const StressRun r = stress.clean({"reader", "300"}, {{"runs", 300}, {"not_prefixes", 0}});
  testkit::cell(
      "interleavings.obiwan_anakin",
      "0 TSan reports, 300 runs of the seed's program with a reader: " + r.count("snapshots") +
          " size()/lines() snapshots taken mid-run, each a prefix");
}

INTERLEAVE_TEST(ThreadStress, unlocked_size_twin_is_reported_by_tsan_at_the_impl_line,
                "interleavings.broken_unlocked_size") {
  const Race race =
      stress.race_at_markers({"broken_unlocked_size", "200"},
                             {"interleave:race-read interleavings.broken_unlocked_size",
                              "interleave:race-write interleavings.broken_unlocked_size"},
                             Reports::keep);
  testkit::cell("interleavings.broken_unlocked_size",
                race.cell(std::to_string(race.run.reports) +
                          " report(s), 200 runs of 4 + 3 lines with a reader"));
}

TEST(ThreadStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"lifecycle", "0", "10"}, "threads must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
