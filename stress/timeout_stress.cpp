// stress/timeout_stress.cpp — call_with_timeout and the seed's resolve_host
// under load, built with ThreadSanitizer. Run by timeout_stress_test.cpp,
// which reads its output.
//
//   timeout_stress mixed <runs>
//   timeout_stress near_deadline <runs>
//   timeout_stress seed <runs> <timeout_ms>
//
// mixed: <runs> call_with_timeout calls one after another, alternating: a
//   function that returns 7 * i at once (timeout 30 s: it never times out)
//   and one that blocks in pause() (timeout 1 ms: it always does). Prints
//   "runs=<n> results=<n> timeouts=<n> wrong=<n> fd_delta=<n> map_delta=<n>
//   unreaped=<n>": wrong counts a wrong value or a wrong outcome, fd_delta
//   the change of this process's /proc/self/fd count across the runs,
//   map_delta that of its shared memory mappings (measured after one call
//   that maps the process's kept block), unreaped the
//   children waitpid(-1, WNOHANG) still finds afterwards.
// near_deadline: <runs> calls of a function that returns at once with a
//   timeout of 0..5 ms, so the child finishes on either side of the deadline:
//   each outcome must be the exact result or TimeoutError, never a wrong
//   value nor ChildProcessError. Same figures.
// seed: <runs> runs of the seed's resolve_host (the twin) with a lookup that
//   blocks, join timeout <timeout_ms>: the seed reads exitcode() right after
//   terminate() on the branch its queue.empty() check picks. Prints
//   "runs=<n> unknown_code=<n> results=<n> fd_delta=<n> unreaped=<n>":
//   unknown_code counts runs that reported no exit code though the child
//   was then reaped with -SIGTERM.
//
// What TSan sees: the parent, which is single-threaded here (call_with_timeout
// forks, and posix_os refuses fork in a multithreaded process); TSan watches
// its memory accesses and, in the seed, the inter-process Queue's feeder in
// the forked child (a TSan process of its own from the fork on). Nothing
// relates the parent to the child for TSan: call_with_timeout's parent reads
// the shared memory block only after the child is reaped, and the seed's
// processes meet through a pipe.
#include <interleave/call_with_timeout.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include "stress_main.hpp"
#include "process_counts.hpp"

namespace {

using namespace std::chrono_literals;
using interleave::ChildProcessError;
using interleave::posix_os;
using interleave::TimeoutError;

using interleave::process_counts::open_fds;
using interleave::process_counts::shared_mappings;

// Children left to reap after a run: 0 when waitpid(-1, WNOHANG) finds none.
using interleave::process_counts::unreaped;

long times_seven(long x) { return 7 * x; }
long blocks(long) {
  ::pause();
  return -1;
}

// One call before the counts: it maps the process's kept block, which stays.
void map_kept_block() { (void)interleave::call_with_timeout(30s, times_seven, 1L); }

int mixed(long runs) {
  map_kept_block();
  const int fds = open_fds(), maps = shared_mappings();
  long results = 0, timeouts = 0, wrong = 0;
  for (long i = 0; i < runs; ++i) {
    const bool block = i % 2 == 1;
    try {
      const long v = block ? interleave::call_with_timeout(1ms, blocks, i)
                           : interleave::call_with_timeout(30s, times_seven, i);
      ++results;
      wrong += block || v != 7 * i;
    } catch (const TimeoutError&) {
      ++timeouts;
      wrong += !block;
    } catch (const ChildProcessError& e) {
      std::fprintf(stderr, "run %ld: %s\n", i, e.what());
      ++wrong;
    }
  }
  std::printf("runs=%ld results=%ld timeouts=%ld wrong=%ld fd_delta=%d map_delta=%d unreaped=%d\n",
              runs, results, timeouts, wrong, open_fds() - fds, shared_mappings() - maps,
              unreaped());
  return interleave::stress::kExitOk;
}

int near_deadline(long runs) {
  map_kept_block();
  const int fds = open_fds(), maps = shared_mappings();
  long results = 0, timeouts = 0, wrong = 0;
  for (long i = 0; i < runs; ++i) {
    const auto timeout = std::chrono::microseconds((i * 97) % 5000);
    try {
      const long v = interleave::call_with_timeout(timeout, times_seven, i);
      ++results;
      wrong += v != 7 * i;
    } catch (const TimeoutError&) {
      ++timeouts;
    } catch (const ChildProcessError& e) {
      std::fprintf(stderr, "run %ld: %s\n", i, e.what());
      ++wrong;
    }
  }
  std::printf("runs=%ld results=%ld timeouts=%ld wrong=%ld fd_delta=%d map_delta=%d unreaped=%d\n",
              runs, results, timeouts, wrong, open_fds() - fds, shared_mappings() - maps,
              unreaped());
  return interleave::stress::kExitOk;
}

std::string blocking_lookup(const std::string&) {
  ::pause();
  return "";
}

int seed(long runs, long timeout_ms) {
  const int fds = open_fds();
  long unknown = 0, results = 0;
  for (long i = 0; i < runs; ++i) {
    const auto r = interleave::seed_resolve_host<posix_os>(&blocking_lookup, "example.org",
                                                           std::chrono::milliseconds(timeout_ms));
    results += r.ip.has_value();
    unknown += !r.code && r.final_code == -SIGTERM;
  }
  std::printf("runs=%ld unknown_code=%ld results=%ld fd_delta=%d unreaped=%d\n", runs, unknown,
              results, open_fds() - fds, unreaped());
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using interleave::stress::Param;
  using interleave::stress::variant;
  const Param runs{"runs", 1, 1'000'000}, timeout_ms{"timeout_ms", 0, 10'000};
  return interleave::stress::dispatch(
      "timeout_stress", argc, argv,
      {variant("mixed", runs, mixed), variant("near_deadline", runs, near_deadline),
       variant("seed", runs, timeout_ms, seed)});
}
