// stress/ipc_stress_test.cpp — the inter-process Queue and Pipe under
// ThreadSanitizer: the seed's STOP-sentinel program run again and again with
// every item once and in order, and this process's descriptor and child
// counts unchanged; the parent's own feeder fed by 4 threads at once, and 4
// threads of the parent getting at once through the read lock, clean;
// the twins' hangs shown by the programs' join timeouts, with the marked line.
#include "stress_support.hpp"

namespace interleave::stress {
namespace {

const StressBinary stress(INTERLEAVE_IPC_STRESS);

INTERLEAVE_TEST(IpcStress, the_sentinel_program_delivers_every_item_once_in_order,
                "ipc.queue.stop_sentinel") {
  const StressRun r = stress.clean(
      {"stop_sentinel", "300", "90"},
      {{"runs", 300}, {"items", 300 * 90}, {"bad_runs", 0}, {"fd_delta", 0}, {"unreaped", 0}},
      600s);
  testkit::cell("ipc.queue.stop_sentinel",
                "0 TSan reports, " + r.count("runs") + " runs (" + r.count("items") +
                    " items, producer and consumer processes, feeders under TSan), " +
                    r.count("bad_runs") + " runs wrong, /proc/self/fd delta 0, 0 unreaped");
}

INTERLEAVE_TEST(IpcStress, the_parents_feeder_fed_by_four_threads_is_race_free,
                "ipc.queue.stop_sentinel") {
  const StressRun r = stress.clean(
      {"parent_feeder", "50000", "4"},
      {{"items", 200000}, {"out_of_order", 0}, {"consumer", 0}, {"fd_delta", 0}, {"unreaped", 0}},
      600s);
  testkit::cell("ipc.queue.stop_sentinel",
                "0 TSan reports, 4 parent threads x 50,000 puts through the parent's "
                "feeder, " +
                    r.count("items") + " got, " + r.count("out_of_order") + " out of order");
}

INTERLEAVE_TEST(IpcStress, four_parent_threads_getting_at_once_are_race_free,
                "ipc.queue.stop_sentinel") {
  const StressRun r = stress.clean({"parent_getters", "100000", "4"},
                                   {{"items", 100000},
                                    {"duplicates", 0},
                                    {"missing", 0},
                                    {"out_of_order", 0},
                                    {"producer", 0},
                                    {"fd_delta", 0},
                                    {"unreaped", 0}},
                                   600s);
  testkit::cell("ipc.queue.stop_sentinel",
                "0 TSan reports, 4 parent threads getting at once through the shared read lock "
                "(2 timed, 2 untimed): " +
                    r.count("items") + " got, none twice, none missing, each thread's in order");
}

INTERLEAVE_TEST(IpcStress, joining_before_draining_more_than_the_pipe_holds_blocks,
                "ipc.queue.join_before_drain") {
  // control: what fits in the pipe joins at once
  stress.clean({"join_before_drain", "4", "1000", "2000"},
               {{"join_timed_out", 0}, {"drained", 4}, {"producer", 0}});
  const StressRun r = stress.clean(
      {"join_before_drain", "20", "10000", "2000"},
      {{"join_timed_out", 1}, {"drained", 20}, {"producer", 0}, {"fd_delta", 0}, {"unreaped", 0}});
  testkit::cell("ipc.queue.join_before_drain",
                "hang shown: join of a producer with 20 x 10,000 bytes undrained still blocked "
                "after 2 s at " +
                    marked_line("interleave:bug ipc.queue.join_before_drain") +
                    " (4 x 1,000 bytes joined at once); drained afterwards: " + r.count("drained") +
                    " items, producer exit 0, 0 TSan reports, 0 unreaped");
}

INTERLEAVE_TEST(IpcStress, fixed_pipe_readers_see_every_item_then_eof, "ipc.pipe") {
  const StressRun r =
      stress.clean({"pipe", "300", "1000"},
                   {{"runs", 300}, {"bad_runs", 0}, {"fd_delta", 0}, {"unreaped", 0}}, 600s);
  testkit::cell("ipc.pipe", "0 TSan reports, " + r.count("runs") +
                                " reader processes x 1,000 items, " + r.count("bad_runs") +
                                " wrong, /proc/self/fd delta 0, 0 unreaped");
}

INTERLEAVE_TEST(IpcStress, a_reader_keeping_its_write_end_never_sees_eof,
                "ipc.pipe.broken_keeps_write_end") {
  const StressRun r = stress.clean({"pipe_keeps_write_end", "100", "2000"},
                                   {{"timed_out", 1}, {"fd_delta", 0}, {"unreaped", 0}});
  testkit::cell("ipc.pipe.broken_keeps_write_end",
                "hang shown: the reader still blocked in recv 2 s after the parent closed its "
                "write end, at " +
                    marked_line("interleave:bug ipc.pipe.broken_keeps_write_end") +
                    " (killed and reaped: 0 unreaped), 0 TSan reports");
}

TEST(IpcStress, bad_arguments_are_refused_with_a_message) {
  stress.refuses({"stop_sentinel", "1", "94"}, "n must be");
}

}  // namespace
}  // namespace interleave::stress

INTERLEAVE_TEST_MAIN("stress")
