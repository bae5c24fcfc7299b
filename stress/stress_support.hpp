// stress/stress_support.hpp — the gtest side of a stress check: run the
// scenario's ThreadSanitizer-built binary and hold the run to what the check
// claims. The shapes every driver needs:
//
//   clean(args, {{"counted", 800000}})   halt_on_error, 0 TSan reports, exit 0,
//                                        the named figures exact
//   race_at_markers(args, {"interleave:race-read counter.racy_plain", ...})
//                                        TSan reports a data race, and a report
//                                        names an impl line that carries one
//                                        of the markers
//   hang(args)                           0 TSan reports; hung() says whether the
//                                        binary's watchdog saw a hang (exit 3)
//   refuses(args, "threads must be")     bad arguments: exit 2, with a message
//   clean_until(args, attempts, shows)   a bug that is no data race and shows
//                                        only in some runs
//
// A check that does not hold throws check_failed; gtest reports its message
// (the command, what fell short and the tail of the output) as the failure.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "stress_main.hpp"
#include "testkit.hpp"

namespace interleave::stress {

using namespace std::chrono_literals;

struct check_failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The symbolizer that turns TSan's addresses into file:line (Debian llvm-19).
inline const char* symbolizer() {
  const char* path = "/usr/lib/llvm-19/bin/llvm-symbolizer";
  if (access(path, X_OK) != 0)
    throw std::runtime_error(
        std::string(path) +
        " is missing: install the Debian package 'llvm-19' (./ci/bootstrap does)");
  return path;
}

inline std::string tail(const std::string& s, std::size_t n = 3000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

// One finished run of a stress binary.
struct StressRun {
  std::string command;  // as typed: "counter_stress racy_plain 4 10000"
  testkit::ProcessResult process;
  int reports = 0;  // "WARNING: ThreadSanitizer:" lines

  [[noreturn]] void fail(const std::string& why) const {
    throw check_failed(command + ": " + why + "\n--- output (exit " +
                       std::to_string(process.exit_code) +
                       (process.timed_out ? ", timed out" : "") + ") ---\n" + tail(process.output));
  }
  bool hung() const { return process.exit_code == kExitHang; }
  bool output_has(const std::string& text) const {
    return process.output.find(text) != std::string::npos;
  }

  // "key=<integer>" from the output; a missing figure fails the check.
  long figure(const std::string& key) const {
    const std::regex re("(^|\\s)" + key + "=(-?[0-9]+)");
    std::smatch m;
    if (!std::regex_search(process.output, m, re)) fail("no figure '" + key + "=' in the output");
    return std::stol(m[2].str());
  }
  // The figure with thousands separators, for a cell.
  std::string count(const std::string& key) const {
    const long v = figure(key);
    return (v < 0 ? "-" : "") + testkit::thousands(static_cast<unsigned long long>(v < 0 ? -v : v));
  }
  // Every named figure equals its value; otherwise fails naming each miss.
  void require(const std::vector<std::pair<std::string, long>>& figures) const {
    std::string misses;
    for (const auto& [key, want] : figures)
      if (const long got = figure(key); got != want)
        misses +=
            " " + key + "=" + std::to_string(got) + " (expected " + std::to_string(want) + ")";
    if (!misses.empty()) fail("figures off:" + misses);
  }
};

// Where markers sit in impl/: "counter.hpp:72/74".
struct Marked {
  std::vector<std::pair<std::string, int>> lines;  // (path from the source tree, 1-based line)
  std::string where() const {
    std::map<std::string, std::vector<int>> by_file;
    for (const auto& [file, line] : lines)
      by_file[std::filesystem::path(file).filename().string()].push_back(line);
    std::string out;
    for (auto& [file, nums] : by_file) {
      std::sort(nums.begin(), nums.end());
      out += (out.empty() ? "" : ", ") + file + ":";
      for (std::size_t i = 0; i < nums.size(); ++i) out += (i ? "/" : "") + std::to_string(nums[i]);
    }
    return out;
  }
};

// The impl lines that carry each marker ("interleave:<kind> <row>", see
// README "Markers"); a marker found nowhere in impl/ is an error.
inline Marked find_markers(const std::vector<std::string>& markers) {
  namespace fs = std::filesystem;
  const fs::path root = INTERLEAVE_SOURCE_DIR;
  Marked found;
  for (const std::string& marker : markers) {
    const std::size_t before = found.lines.size();
    for (const auto& entry : fs::recursive_directory_iterator(root / "impl")) {
      if (!entry.is_regular_file() || entry.path().extension() != ".hpp") continue;
      std::ifstream in(entry.path());
      int n = 0;
      for (std::string line; std::getline(in, line);) {
        ++n;
        const std::size_t at = line.find("// " + marker);
        const std::size_t end = at + 3 + marker.size();
        // the marker ends the line or a space follows: "x.racy" is not "x.racy_plain"
        if (at != std::string::npos && (end == line.size() || line[end] == ' '))
          found.lines.emplace_back(fs::relative(entry.path(), root).string(), n);
      }
    }
    if (found.lines.size() == before)
      throw check_failed("no impl line carries the marker '" + marker + "'");
  }
  return found;
}

// A hang or logic bug's line, for its cell: "barrier.hpp:165".
inline std::string marked_line(const std::string& marker) { return find_markers({marker}).where(); }

struct Race {
  StressRun run;
  std::string where;  // the marked lines: "counter.hpp:72/74"
  int attempt = 1;    // the run that showed it

  // Its cell: "data race reported by TSan at <where> (<how>)".
  std::string cell(const std::string& how) const {
    return "data race reported by TSan at " + where + " (" + how + ")";
  }
};

// Runs `once` up to `attempts` times, until it returns true; returns the
// number of the run that did. Fails with `why` if none did.
inline int until(int attempts, const std::function<bool()>& once, const std::string& why) {
  for (int attempt = 1; attempt <= attempts; ++attempt)
    if (once()) return attempt;
  throw check_failed(why + " (in " + std::to_string(attempts) + " runs)");
}

enum class Reports {
  halt,
  keep
};  // TSAN_OPTIONS halt_on_error=1: the first report ends the run; 0: all kept

// A scenario's stress binary, as its driver runs it.
class StressBinary {
 public:
  explicit StressBinary(std::string path) : path_(std::move(path)) {}

  StressRun run(const std::vector<std::string>& args, Reports reports = Reports::halt,
                std::chrono::seconds timeout = 300s) const {
    std::vector<std::string> argv{path_};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string options =
        std::string("halt_on_error=") + (reports == Reports::halt ? "1" : "0") +
        " exitcode=" + std::to_string(kTsanExitCode) +
        " second_deadlock_stack=1 history_size=4 external_symbolizer_path=" + symbolizer();
    StressRun run;
    run.command = std::filesystem::path(path_).filename().string();
    for (const auto& a : args) run.command += " " + a;
    run.process = testkit::run_process(argv, {{"TSAN_OPTIONS", options}}, timeout);
    const std::string& out = run.process.output;
    for (std::size_t at = out.find("WARNING: ThreadSanitizer:"); at != std::string::npos;
         at = out.find("WARNING: ThreadSanitizer:", at + 1))
      ++run.reports;
    return run;
  }

  // halt_on_error, no timeout, 0 TSan reports, exit 0, and `figures` exact.
  StressRun clean(const std::vector<std::string>& args,
                  const std::vector<std::pair<std::string, long>>& figures = {},
                  std::chrono::seconds timeout = 300s) const {
    StressRun r = run(args, Reports::halt, timeout);
    if (r.process.timed_out) r.fail("timed out after " + std::to_string(timeout.count()) + " s");
    if (r.reports != 0)
      r.fail(std::to_string(r.reports) + " TSan report(s) in a run that must be clean");
    if (r.process.exit_code != kExitOk)
      r.fail("exit code " + std::to_string(r.process.exit_code) + ", not 0");
    r.require(figures);
    return r;
  }

  // A bug that is no data race and shows only in some runs: clean runs (0
  // TSan reports, exit 0), up to `attempts`, until `shows(run)`. Returns the
  // run that showed it and its number; fails with `why` if none did.
  std::pair<StressRun, int> clean_until(const std::vector<std::string>& args, int attempts,
                                        const std::function<bool(const StressRun&)>& shows,
                                        const std::string& why) const {
    StressRun r;
    const int attempt = until(attempts, [&] { return shows(r = clean(args)); }, why);
    return {r, attempt};
  }

  // A run whose bug is a hang: 0 TSan reports (a hang is not a race), and
  // either the watchdog's exit (hung()) or a run to the end.
  StressRun hang(const std::vector<std::string>& args, std::chrono::seconds timeout = 300s) const {
    StressRun r = run(args, Reports::halt, timeout);
    if (r.process.timed_out) r.fail("timed out: the binary's watchdog did not end the hang");
    if (r.reports != 0) r.fail("the bug is a hang, not a data race, yet TSan reported");
    if (r.process.exit_code != kExitHang && r.process.exit_code != kExitOk)
      r.fail("exit code " + std::to_string(r.process.exit_code) +
             ", neither a hang (3) nor a finished run (0)");
    return r;
  }

  // TSan reports a data race, and some report names a line that carries one
  // of `markers`. A race that shows only in some runs gets up to `attempts`
  // runs; a run that ends clean (exit 0, no report) is the only kind retried.
  Race race_at_markers(const std::vector<std::string>& args,
                       const std::vector<std::string>& markers, Reports reports,
                       std::chrono::seconds timeout = 300s, int attempts = 1) const {
    const Marked marked = find_markers(markers);
    for (int attempt = 1;; ++attempt) {
      Race race{run(args, reports, timeout), marked.where(), attempt};
      const StressRun& r = race.run;
      if (r.process.timed_out) r.fail("timed out");
      if (r.process.exit_code == kExitOk && r.reports == 0 && attempt < attempts) continue;
      if (r.process.exit_code != kTsanExitCode)
        r.fail("exit code " + std::to_string(r.process.exit_code) + ", not TSan's " +
               std::to_string(kTsanExitCode) + " (run " + std::to_string(attempt) + " of " +
               std::to_string(attempts) + ")");
      if (!r.output_has("WARNING: ThreadSanitizer: data race"))
        r.fail("TSan reported no data race");
      bool named = false;
      for (const auto& [file, line] : marked.lines)
        named |= r.output_has(file + ":" + std::to_string(line) + ":");
      if (!named) r.fail("no data-race report names the marked lines " + race.where);
      return race;
    }
  }

  // Bad arguments are refused: exit 2 with `message`; so are no variant and
  // an unknown one, with the usage.
  void refuses(const std::vector<std::string>& args, const std::string& message) const {
    const auto expect_refused = [&](const std::vector<std::string>& a, const std::string& says) {
      const StressRun r = run(a, Reports::halt, 60s);
      if (r.process.exit_code != kExitUsage) r.fail("bad arguments not refused with exit 2");
      if (!r.output_has(says)) r.fail("the refusal does not say '" + says + "'");
    };
    expect_refused(args, message);
    expect_refused({}, "usage: ");
    expect_refused({"no_such_variant"}, "variant must be one of");
  }

 private:
  std::string path_;
};

}  // namespace interleave::stress
