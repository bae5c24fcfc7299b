// stress/thread_stress_test.cpp — thread lifecycle and the Obi-Wan/Anakin
// program under ThreadSanitizer: 64 threads starting and joining at once,
// clean, with the registry exact; the seed's program always a merge.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_THREAD_STRESS);

INTERLEAVE_TEST(ThreadStress, sixty_four_threads_start_and_join_at_once_clean_with_the_registry_exact, "thread.lifecycle") {
  const StressRun r = stress.clean({"lifecycle", "64", "50"}, {{"rounds", 50}, {"listed_ok", 50}, {"bad", 0}});
  testkit::cell("thread.lifecycle", "0 TSan reports, 50 rounds x 64 threads started and joined at once, registry "
                                    "exact every round, " +
                                        r.count("observed") + " concurrent enumerate() entries, none New or Dead");
}

INTERLEAVE_TEST(ThreadStress, starwars_output_is_always_a_merge_under_tsan, "interleavings.obiwan_anakin") {
  const StressRun r = stress.clean({"starwars", "500"}, {{"runs", 500}, {"not_merges", 0}});
  const long distinct = r.figure("distinct");
  if (distinct < 1 || distinct > 35) r.fail("distinct orders outside 1..35");
  testkit::cell("interleavings.obiwan_anakin", "0 TSan reports, 500 runs all merges, " + std::to_string(distinct) +
                                                   " distinct orders of 35 seen");
}

TEST(ThreadStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"lifecycle", "0", "10"}, "threads must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
