// stress/stress_support.hpp — running a ThreadSanitizer-built stress binary
// and reading what TSan said about it.
#pragma once

#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "testkit.hpp"

namespace interleave::stress {

// Exit code TSan uses for a run in which it reported anything.
constexpr int kTsanExitCode = 66;

struct TsanRun {
  testkit::ProcessResult process;
  int reports = 0;  // "WARNING: ThreadSanitizer:" lines
};

// The symbolizer that turns TSan's addresses into file:line (Debian llvm-19).
inline const char* symbolizer() {
  const char* path = "/usr/lib/llvm-19/bin/llvm-symbolizer";
  if (access(path, X_OK) != 0)
    throw std::runtime_error(std::string(path) +
                             " is missing: install the Debian package 'llvm-19' (./ci/bootstrap does)");
  return path;
}

// Runs a TSan-instrumented binary. With halt_on_error the first report ends
// the run (for variants that must be clean); without, every report is kept
// (for demonstrations).
inline TsanRun tsan_run(const std::string& binary, const std::vector<std::string>& args,
                        bool halt_on_error, std::chrono::seconds timeout = std::chrono::seconds(300)) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string options = std::string("halt_on_error=") + (halt_on_error ? "1" : "0") +
                              " exitcode=" + std::to_string(kTsanExitCode) +
                              " second_deadlock_stack=1 history_size=4 external_symbolizer_path=" + symbolizer();
  TsanRun run{testkit::run_process(argv, {{"TSAN_OPTIONS", options}}, timeout), 0};
  const std::string& out = run.process.output;
  for (size_t at = out.find("WARNING: ThreadSanitizer:"); at != std::string::npos;
       at = out.find("WARNING: ThreadSanitizer:", at + 1))
    ++run.reports;
  return run;
}

// Whether some stack frame of a TSan data-race report names `file` at one of
// `lines` (TSan prints frames as "... <path>/<file>:<line>:<column>").
inline bool race_names_line(const std::string& output, const std::string& file,
                            const std::vector<int>& lines) {
  if (output.find("WARNING: ThreadSanitizer: data race") == std::string::npos) return false;
  for (int line : lines) {
    const std::string needle = file + ":" + std::to_string(line) + ":";
    if (output.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Reads "key=<integer>" from a stress binary's output; -1 if absent.
inline long read_figure(const std::string& output, const std::string& key) {
  const std::regex re("(^|\\s)" + key + "=(-?[0-9]+)");
  std::smatch m;
  if (!std::regex_search(output, m, re)) return -1;
  return std::stol(m[2].str());
}

inline std::string tail(const std::string& s, size_t n = 3000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace interleave::stress
