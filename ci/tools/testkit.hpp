// ci/tools/testkit.hpp — how GoogleTest executables (property tests, stress
// drivers, unit tests) fill cells of the verification matrix, and the
// property layer's watchdog.
//
// A test names the matrix row it speaks for BEFORE it checks anything, and,
// when it passes, the figure it measured:
//
//   INTERLEAVE_PROP(Counter, LockedEndsExact, "counter.locked", (int threads)) {
//     ... RC_ASSERT(...);
//   }                                   // cell: "100 cases passed, seed 42"
//
//   INTERLEAVE_TEST(CounterStress, LockedIsClean, "counter.locked") {
//     ...
//     interleave::testkit::cell("counter.locked", "0 TSan reports, 800,000 increments exact");
//   }
//
// A test whose row is only known at run time (a helper shared by several
// rows) calls testkit::row(ROW) first thing instead.
//
// The executable's main (INTERLEAVE_TEST_MAIN("property")) installs a
// listener that writes JSON lines to
// $INTERLEAVE_REPORT_DIR/<layer>-<executable>.jsonl:
//   - when a test that declared its row starts: a "started" record (so a test
//     that crashes, hangs until ctest kills it, or fails an ASSERT before it
//     reaches cell() still shows in its cell, as FAILED, never as missing);
//   - when it ends: scenario, layer, verdict, detail (on failure: the first
//     failure message), passed, check, duration_s, and for the property layer
//     seed and executions (cases run), plus `reproduce`, the exact command that
//     re-runs this check: RC_PARAMS="seed=S" <executable> --gtest_filter=...
//     for a property; the last command the test ran with run_process() (the
//     stress binary with its TSAN_OPTIONS) for a stress check.
// Recording a cell is never what makes a test pass.
//
// The property watchdog (watchdog() below). A lost wake-up or a deadlock
// never returns, so a property that only asserts on what returns cannot see
// it. watchdog() runs one case's body in a forked child process and gives it
// a bound (2 s unless told): a case that has not finished by then is killed
// and reported as a falsification ("<case>: still blocked after 2 s"), which
// RapidCheck shrinks like any other failing case.
// Why a forked child and not a thread with a timeout: a hung case's threads
// are blocked inside the primitive under test; there is no safe way to
// abandon them in-process (they would keep running into the next case and
// touch its memory, or block the process's exit), and a test-only "release"
// hook would have to be added to every primitive and would itself change the
// code under test. A killed child takes its threads with it, and the fixed
// primitive runs exactly the code it ships. The cost is one fork() per case
// (about a millisecond) and one rule: fork() is only safe when the property
// process has no other thread, so watchdog() checks /proc/self/task and
// throws std::logic_error naming the thread count if some test left a thread
// running. RapidCheck generators run in the parent (values are drawn before
// the body is handed to watchdog), so shrinking works as usual; the body
// reports RC_ASSERT failures back through a pipe, and the parent re-raises
// them unchanged.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <chrono>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace interleave::testkit {

// Declares that the current test fills `row` of this executable's layer, with
// `detail` as its figure should the test pass. A test that declared a
// different row before fails: one test speaks for one row.
void cell(const std::string& row, const std::string& detail);

// Declares, now, the row the current test speaks for, and writes its
// "started" record at once (for tests whose row is chosen at run time).
void row(const std::string& row);

// 1234567 -> "1,234,567"
std::string thousands(unsigned long long n);

// The RapidCheck seed and case count in force (from RC_PARAMS, or defaults).
std::string rapidcheck_settings();

namespace detail {
// Static registration behind INTERLEAVE_TEST / INTERLEAVE_PROP: the row of
// the test "Suite.Name". Returns true (to initialise a static).
bool declare_row(const char* suite, const char* name, const char* row);
// Figures of the current test, written into its end record.
void set_executions(unsigned long long cases);
// The verdict the current test's record carries if it passes ("passed"
// unless told, "twin caught" for a falsified twin).
void set_pass_verdict(const std::string& verdict);
// The description of the last case watchdog() reported as failing in the
// current test (empty if none).
std::string last_watchdog_failure();
std::string reproduce_property_command();
}  // namespace detail

// Runs a RapidCheck property under the current gtest test's name.
template <class Testable>
rc::detail::TestResult run_property(Testable&& testable) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  return rc::detail::checkTestable(std::forward<Testable>(testable), metadata);
}

namespace detail {
// A falsified property: records its executions (the passing cases and the
// failing one) and returns its shrunk counterexample as "type value, ...".
inline std::string falsified_example(const rc::detail::FailureResult& failure) {
  set_executions(static_cast<unsigned long long>(failure.numSuccess) + 1);
  std::string example;
  for (const auto& [type, value] : failure.counterExample)
    example += (example.empty() ? "" : ", ") + type + " " + value;
  return example;
}
}  // namespace detail

// Runs a RapidCheck property as the body of the current gtest test and, on
// success, records the cell "<N> cases passed, seed <S>".
template <class Testable>
void check_property(const std::string& row, Testable&& testable) {
  using namespace rc::detail;
  const auto result = run_property(std::forward<Testable>(testable));
  if (result.template is<SuccessResult>()) {
    const auto& success = result.template get<SuccessResult>();
    detail::set_executions(static_cast<unsigned long long>(success.numSuccess));
    cell(row, thousands(static_cast<unsigned long long>(success.numSuccess)) + " cases passed, " +
                  rapidcheck_settings());
  } else {
    std::ostringstream ss;
    printResultMessage(result, ss);
    if (result.template is<FailureResult>()) {
      const auto& failure = result.template get<FailureResult>();
      const std::string example = detail::falsified_example(failure);
      ADD_FAILURE() << "property falsified: " << failure.description << " (shrunk to " << example
                    << ")\nreproduce: " << detail::reproduce_property_command() << "\n"
                    << ss.str();
    } else {
      ADD_FAILURE() << ss.str() << "\nreproduce: " << detail::reproduce_property_command();
    }
    cell(row, "property falsified");
  }
}

// For a broken twin: runs a property that states what the FIXED primitive
// guarantees, and passes only if RapidCheck falsifies it on the twin. Records
// the verdict "twin caught" and "falsified after N cases, shrunk to (...):
// <why>". If
// RapidCheck stops finding the bug, the test fails.
template <class Testable>
void check_falsified(const std::string& row, Testable&& testable) {
  using namespace rc::detail;
  const auto result = run_property(std::forward<Testable>(testable));
  if (result.template is<FailureResult>()) {
    const auto& failure = result.template get<FailureResult>();
    const std::string example = detail::falsified_example(failure);
    std::string why = failure.description;
    // RapidCheck runs the shrunk case once more to show it; a timing-dependent
    // failure (a hang, a lost update) may not recur then, leaving a success text as the description. The
    // shrunk case's own failure is the last one the watchdog reported.
    if (why == "no exceptions thrown" && !detail::last_watchdog_failure().empty())
      why = detail::last_watchdog_failure() +
            " (the re-run that displays it passed: timing-dependent)";
    if (const size_t nl = why.find_last_not_of("\n "); nl != std::string::npos) why.resize(nl + 1);
    for (char& c : why)
      if (c == '\n') c = ' ';
    detail::set_pass_verdict("twin caught");
    cell(row, "falsified after " + std::to_string(failure.numSuccess) +
                  " passing cases, shrunk to (" + example + "): " + why + "; " +
                  rapidcheck_settings());
  } else {
    std::ostringstream ss;
    printResultMessage(result, ss);
    if (result.template is<SuccessResult>())
      detail::set_executions(
          static_cast<unsigned long long>(result.template get<SuccessResult>().numSuccess));
    ADD_FAILURE() << "the broken twin was NOT caught: the property held\n"
                  << ss.str() << "\nreproduce: " << detail::reproduce_property_command();
    cell(row, "twin not caught");
  }
}

// --- the property watchdog (see the header comment) -------------------------

// The default bound: generous against a loaded 2-core machine (a correct case
// of these properties finishes in milliseconds).
inline constexpr std::chrono::milliseconds kWatchdogBound{2000};

// Runs `body` (one property case, values already drawn) in a forked child.
// Returns when the child finished and its RC_ASSERTs held; re-raises the
// child's RapidCheck failure; raises a falsification "<what>: still blocked
// after <bound>" if the child did not finish within `bound`, and one naming
// the signal if it crashed. `what` describes the case in words (it is the
// shrunk counterexample's description in the cell). Throws std::logic_error
// if the calling process has other threads (fork would not be safe).
void watchdog(const std::string& what, const std::function<void()>& body,
              std::chrono::milliseconds bound = kWatchdogBound);

// --- child processes, for stress drivers --------------------------------------

// A child process's outcome.
struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] with argv, `env` added to the environment, capturing output;
// kills it after `timeout`. The command (with `env`) becomes the current
// test's `reproduce` command.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          std::chrono::seconds timeout);

// The 1-based line numbers of `file` (relative to the source tree) that carry
// the comment marker `marker`, e.g. "interleave:race-read counter.racy_plain".
std::vector<int> marker_lines(const std::string& file, const std::string& marker);

int main(int argc, char** argv, const char* layer);

}  // namespace interleave::testkit

#define INTERLEAVE_TEST_MAIN(layer) \
  int main(int argc, char** argv) { return ::interleave::testkit::main(argc, argv, layer); }

// A gtest test that speaks for `Row` from its start (see the header comment).
#define INTERLEAVE_TEST(Suite, Name, Row)                              \
  [[maybe_unused]] static const bool interleave_row_##Suite##_##Name = \
      ::interleave::testkit::detail::declare_row(#Suite, #Name, Row);  \
  TEST(Suite, Name)

// A property of the fixed primitive, run on its broken twin: the test passes
// when RapidCheck falsifies it (see check_falsified).
#define INTERLEAVE_PROP_FALSIFIED(Suite, Name, Row, ArgList)                        \
  void interleave_prop_##Suite##_##Name ArgList;                                    \
  INTERLEAVE_TEST(Suite, Name, Row) {                                               \
    ::interleave::testkit::check_falsified(Row, &interleave_prop_##Suite##_##Name); \
  }                                                                                 \
  void interleave_prop_##Suite##_##Name ArgList

// A RapidCheck property as a gtest test that fills `Row`'s cell.
#define INTERLEAVE_PROP(Suite, Name, Row, ArgList)                                 \
  void interleave_prop_##Suite##_##Name ArgList;                                   \
  INTERLEAVE_TEST(Suite, Name, Row) {                                              \
    ::interleave::testkit::check_property(Row, &interleave_prop_##Suite##_##Name); \
  }                                                                                \
  void interleave_prop_##Suite##_##Name ArgList
