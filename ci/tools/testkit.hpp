// ci/tools/testkit.hpp — how GoogleTest executables (property tests, stress
// drivers, unit tests) fill cells of the verification matrix.
//
// A test names the matrix row it speaks for and, when it passes, the figure
// it measured:
//
//   INTERLEAVE_PROP(Counter, LockedEndsExact, "counter.locked", (int threads)) {
//     ... RC_ASSERT(...);
//   }                                   // cell: "100 cases passed, seed 42"
//
//   TEST(CounterStress, LockedIsClean) {
//     ...
//     interleave::testkit::cell("counter.locked", "0 TSan reports, 800,000 increments exact");
//   }
//
// The executable's main (INTERLEAVE_TEST_MAIN("property")) installs a
// listener that writes one JSON line per such test — row, layer, verdict,
// detail, passed — to $INTERLEAVE_REPORT_DIR/<layer>-<executable>.jsonl.
// A test that fails is recorded as FAILED with its first failure message; a
// test that never ran leaves its cell empty, and `ci/verify` fails an empty
// cell. Recording a cell is never what makes a test pass.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace interleave::testkit {

// Declares that the current test fills `row` of this executable's layer, with
// `detail` as its figure should the test pass.
void cell(const std::string& row, const std::string& detail);

// 1234567 -> "1,234,567"
std::string thousands(unsigned long long n);

// The RapidCheck seed and case count in force (from RC_PARAMS, or defaults).
std::string rapidcheck_settings();

// Runs a RapidCheck property as the body of the current gtest test and, on
// success, records the cell "<N> cases passed, seed <S>".
// Runs a RapidCheck property under the current gtest test's name.
template <class Testable>
rc::detail::TestResult run_property(Testable&& testable) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  rc::detail::TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  return rc::detail::checkTestable(std::forward<Testable>(testable), metadata);
}

template <class Testable>
void check_property(const std::string& row, Testable&& testable) {
  using namespace rc::detail;
  const auto result = run_property(std::forward<Testable>(testable));
  if (result.template is<SuccessResult>()) {
    const auto& success = result.template get<SuccessResult>();
    cell(row, thousands(static_cast<unsigned long long>(success.numSuccess)) + " cases passed, " +
                  rapidcheck_settings());
  } else {
    std::ostringstream ss;
    printResultMessage(result, ss);
    ADD_FAILURE() << ss.str() << "\n(replay with RC_PARAMS=\"" << rapidcheck_settings()
                  << "\"; a failure message above names its own seed)";
    cell(row, "property falsified");
  }
}

// For a broken twin: runs a property that states what the FIXED primitive
// guarantees, and passes only if RapidCheck falsifies it on the twin. Records
// "twin caught: falsified after N cases, shrunk to (...)". If RapidCheck stops
// finding the bug, the test fails.
template <class Testable>
void check_falsified(const std::string& row, Testable&& testable) {
  using namespace rc::detail;
  const auto result = run_property(std::forward<Testable>(testable));
  if (result.template is<FailureResult>()) {
    const auto& failure = result.template get<FailureResult>();
    std::string example;
    for (const auto& [type, value] : failure.counterExample)
      example += (example.empty() ? "" : ", ") + type + " " + value;
    cell(row, "twin caught: falsified after " + std::to_string(failure.numSuccess) +
                  " passing cases, shrunk to (" + example + "), " + rapidcheck_settings());
  } else {
    std::ostringstream ss;
    printResultMessage(result, ss);
    ADD_FAILURE() << "the broken twin was NOT caught: the property held\n" << ss.str();
    cell(row, "twin not caught");
  }
}

// A child process's outcome, for stress drivers.
struct ProcessResult {
  int exit_code = -1;      // exit status, or 128 + signal
  bool timed_out = false;
  std::string output;      // stdout and stderr, interleaved
};

// Runs argv[0] with argv, `env` added to the environment, capturing output;
// kills it after `timeout`.
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

// A property of the fixed primitive, run on its broken twin: the test passes
// when RapidCheck falsifies it (see check_falsified).
#define INTERLEAVE_PROP_FALSIFIED(Suite, Name, Row, ArgList)                           \
  void interleave_prop_##Suite##_##Name ArgList;                                       \
  TEST(Suite, Name) {                                                                  \
    ::interleave::testkit::check_falsified(Row, &interleave_prop_##Suite##_##Name); \
  }                                                                                    \
  void interleave_prop_##Suite##_##Name ArgList

// A RapidCheck property as a gtest test that fills `Row`'s cell.
#define INTERLEAVE_PROP(Suite, Name, Row, ArgList)                                   \
  void interleave_prop_##Suite##_##Name ArgList;                                     \
  TEST(Suite, Name) {                                                                \
    ::interleave::testkit::check_property(Row, &interleave_prop_##Suite##_##Name); \
  }                                                                                  \
  void interleave_prop_##Suite##_##Name ArgList
