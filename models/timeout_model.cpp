// models/timeout_model.cpp — call_with_timeout and the seed's resolve_host
// (impl/include/interleave/call_with_timeout.hpp) on the simulated OS
// (models/sim_os.hpp), under every checker.
//
// Time is the checker's: the parent's timed poll, and the grace wait after
// SIGTERM, may time out at any point of the child's run, so the child
// finishes at every point relative to the deadline: before it, while its
// result is being written (the 16-byte record goes through a 4-byte pipe in
// pieces, so SIGTERM can land inside it), after it was written whole, after
// its exit.
//
// What this cannot see: real durations; a kill between two plain sync
// operations of the child (it lands at its OS calls); see sim_os.hpp.
#include "model.hpp"
//
#include <csignal>

#include "interleave/call_with_timeout.hpp"
#include "sim_os.hpp"

namespace interleave::models {
namespace {

// The fixed call: the result (42) or a TimeoutError, nothing else: never a
// cut record as a value, never a ChildProcessError; no zombie, no descriptor
// left, no hang. The search must show both outcomes, and a timeout whose
// child had already written its result whole (the drain returns it).
template <class Sync>
struct CallWithTimeout {
  using Os = sim_os<Sync, 2, 4>;
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  typename Os::kernel kernel;
  int result = -1;
  bool timeout = false, other = false;

  void thread(unsigned) {
    try {
      result = call_with_timeout_grace<Os>(
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
  static bool after_search() { return seen()[0] && seen()[1]; }
  static std::array<bool, 2>& seen() {
    static std::array<bool, 2> s{};
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
