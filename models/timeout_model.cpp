// models/timeout_model.cpp — call_with_timeout and the seed's resolve_host
// (impl/include/interleave/call_with_timeout.hpp) on the simulated OS
// (models/sim_os.hpp), under every checker.
//
// Time is the checker's: the parent's timed wait for the child's exit, and
// the grace wait after SIGTERM, may time out at any point of the child's run,
// so the child finishes at every point relative to the deadline: before it,
// while its result is being stored (the stores land in pieces of pipe_buf =
// 2 bytes, so SIGTERM can land inside one), after the outcome was stored,
// after its exit.
//
// What this cannot see: real durations; a kill between two plain sync
// operations of the child (it lands at its OS calls); see sim_os.hpp.
#include "model.hpp"
//
#include <array>
#include <csignal>
#include <cstddef>

#include "interleave/call_with_timeout.hpp"
#include "sim_os.hpp"

namespace interleave::models {
namespace {

// The fixed call: the result (42) or a TimeoutError, nothing else: never a
// cut record as a value, never a ChildProcessError; no zombie, no descriptor
// left, no hang. The search must show both outcomes, and a timeout whose
// child had already written its result whole (the drain returns it).
template <class Sync, timeout_bug Bug = timeout_bug::none>
struct CallWithTimeoutOf {
  using Os = sim_os<Sync, 2, 4>;
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  int result = -1;
  bool timeout = false, other = false;

  void thread(unsigned) {
    try {
      result = call_with_timeout_grace<Os, Bug>(
          std::chrono::milliseconds(1), std::chrono::milliseconds(1), [](int x) { return x * 6; },
          7);
    } catch (const TimeoutError&) {
      timeout = true;
    } catch (const std::exception&) {
      other = true;
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK_MSG(!other, "only the result or a timeout");
    INTERLEAVE_MODEL_CHECK_MSG(timeout || result == 42,
                               "a returned result is the function's, whole");
    kernel.check_clean();
    seen()[timeout ? 0 : 1] = true;
  }
  static void before_search() { seen() = {}; }
  // Not for the twin: a search that found its bug must not pass on this claim.
  static bool after_search()
    requires(Bug == timeout_bug::none)
  {
    return seen()[0] && seen()[1];
  }
  static std::array<bool, 2>& seen() {
    static std::array<bool, 2> s{};
    return s;
  }
};

template <class Sync>
using CallWithTimeout = CallWithTimeoutOf<Sync>;
// The twin: the outcome stored before the result. A child stopped between
// the two leaves a result that is not there, and it is returned.
template <class Sync>
using OutcomeFirstTwin = CallWithTimeoutOf<Sync, timeout_bug::outcome_first>;

// The simulated OS's shared memory block itself: a child stores 1,2,3,4 (two
// pieces of pipe_buf = 2 bytes) while the parent kills it at any point;
// after the reap the parent reads a prefix of the store cut between pieces:
// 0000, 1200 or 1234, each seen, nothing else. The child's block is the
// parent's (zero at creation); a destroy by the child is refused by name.
template <class Sync>
struct ShmStoreCutByKill {
  using Os = sim_os<Sync, 2, 4>;
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  std::array<std::byte, 4> got{};
  int code = 0;

  void thread(unsigned) {
    const typename Os::shm_block b = Os::shm_block_create(4);
    const int child = Os::spawn([b] {
      try {
        Os::shm_block_destroy(b);
        return 9;  // a child must not destroy its parent's block
      } catch (const os_error&) {
      }
      const std::array<std::byte, 4> v{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
      Os::shm_store(b, 0, v);
      return 0;
    });
    Os::kill(child, SIGKILL);
    code = Os::wait(child);
    Os::shm_load(b, 0, got);
    Os::shm_block_destroy(b);
  }
  void after() {
    const auto is = [&](int a, int b, int c, int d) {
      return got ==
             std::array<std::byte, 4>{std::byte(a), std::byte(b), std::byte(c), std::byte(d)};
    };
    const int which = is(0, 0, 0, 0) ? 0 : is(1, 2, 0, 0) ? 1 : is(1, 2, 3, 4) ? 2 : -1;
    INTERLEAVE_MODEL_CHECK_MSG(which >= 0, "a prefix of the store, cut between pieces");
    INTERLEAVE_MODEL_CHECK_MSG(code == 0 || code == -SIGKILL, "the child exits 0 or is killed");
    INTERLEAVE_MODEL_CHECK_MSG(code != 0 || which == 2, "a child that exited 0 stored it all");
    kernel.check_clean();
    if (which >= 0) seen()[static_cast<std::size_t>(which)] = true;
  }
  static void before_search() { seen() = {}; }
  static bool after_search() { return seen()[0] && seen()[1] && seen()[2]; }
  static std::array<bool, 3>& seen() {
    static std::array<bool, 3> s{};
    return s;
  }
};

std::string lookup_localhost(const std::string&) { return "127.0.0.1"; }

// The seed's resolve_host, as written. Seen: the exit code read right after
// terminate() without a join is still empty.
template <class Sync>
struct SeedExitcodeAfterTerminate {
  using Os = sim_os<Sync, 64, 128>;
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;  // the child and its feeder
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  seed_resolve_result r{};

  void thread(unsigned) {
    r = seed_resolve_host<Os>(&lookup_localhost, "localhost", std::chrono::milliseconds(1));
  }
  void after() {
    INTERLEAVE_MODEL_CHECK_MSG(r.code.has_value(), "the seed returns a known exit code");
    kernel.check_clean();
  }
};

// The seed's resolve_host, as written. Seen: a child that delivered its
// result and exited 0 is reported as a failure (no ip), because empty() was
// read before the feeder's write.
template <class Sync>
struct SeedMissesDeliveredResult {
  using Os = sim_os<Sync, 64, 128>;
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  seed_resolve_result r{};

  void thread(unsigned) {
    r = seed_resolve_host<Os>(&lookup_localhost, "localhost", std::chrono::milliseconds(1));
  }
  void after() {
    if (r.final_code == 0)
      INTERLEAVE_MODEL_CHECK_MSG(r.ip == "127.0.0.1", "a child that exited 0 has its result taken");
  }
};

}  // namespace

INTERLEAVE_MODEL(CallWithTimeout, "timeout.fixed.child_vs_deadline", "timeout.fixed",
                 "call_with_timeout with the child finishing at any point relative to the "
                 "deadline: the whole result "
                 "or a TimeoutError (both seen), never a cut one; the child is always reaped, no "
                 "descriptor left, "
                 "no hang",
                 Expect::holds, Search::bounded(3), DporSearch{}.budget(60));
INTERLEAVE_MODEL(ShmStoreCutByKill, "timeout.raw_os.shm_store_cut_by_kill", "timeout.fixed",
                 "simulated OS: a child killed while it stores 4 bytes into a shared memory block "
                 "leaves 0000, 1200 or 1234 (each seen), read after the reap; the child cannot "
                 "destroy its parent's block; nothing left",
                 Expect::holds, Search::full(), DporSearch{}.budget(30));
INTERLEAVE_MODEL(OutcomeFirstTwin, "timeout.fixed.outcome_stored_first",
                 "timeout.broken_outcome_first",
                 "twin: a child that stores the outcome before its result, stopped between the "
                 "two, has a cut result returned as the function's: found",
                 Expect::assertion, Search::deepen(3));
INTERLEAVE_MODEL(
    SeedExitcodeAfterTerminate, "timeout.seed_program.exitcode_after_terminate",
    "timeout.seed_program",
    "the seed reads exitcode right after terminate() without a join: it is still empty",
    Expect::assertion, Search::deepen(2));
INTERLEAVE_MODEL(SeedMissesDeliveredResult, "timeout.seed_program.empty_misses_result",
                 "timeout.seed_program",
                 "the seed checks queue.empty() right after join(timeout): a result the child then "
                 "delivers (exit "
                 "code 0) is reported as a failure",
                 Expect::assertion, Search::deepen(2));

}  // namespace interleave::models
