// ci/tools/testkit.cpp — see testkit.hpp.
#include "testkit.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

extern char** environ;

namespace interleave::testkit {

namespace {

// The rows declared by INTERLEAVE_TEST / INTERLEAVE_PROP, by "Suite.Name".
std::map<std::string, std::string>& declared_rows() {
  static std::map<std::string, std::string> rows;
  return rows;
}

std::string g_executable;  // argv[0], relative to the source tree when inside it

std::string relative_to_source(std::string path) {
  const std::string src = std::string(INTERLEAVE_SOURCE_DIR) + "/";
  if (path.rfind(src, 0) == 0) path = path.substr(src.size());
  return path;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+") ==
                        std::string::npos)
    return s;
  std::string o = "'";
  for (char c : s) o += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

std::string current_check() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info ? std::string(info->test_suite_name()) + "." + info->name() : std::string();
}

// What the current test has declared and measured so far.
struct Current {
  std::string check, row, detail, command;
  std::string pass_verdict = "passed";
  bool started_written = false;
  bool has_executions = false;
  unsigned long long executions = 0;
};
Current g_current;
std::string g_last_watchdog_failure;

// Writes the records of every test that declared its row.
class CellListener : public ::testing::EmptyTestEventListener {
 public:
  CellListener(std::string layer, std::string path) : layer_(std::move(layer)) {
    if (!path.empty()) {
      out_.open(path, std::ios::trunc);
      if (!out_) throw std::runtime_error("testkit: cannot write " + path);
    }
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    g_current = Current{};
    g_last_watchdog_failure.clear();
    g_current.check = std::string(info.test_suite_name()) + "." + info.name();
    if (const auto it = declared_rows().find(g_current.check); it != declared_rows().end()) {
      g_current.row = it->second;
      write_started();
    }
  }

  // The "started" record: a test that never writes its end record (crashed,
  // killed by ctest's timeout) is FAILED in the matrix, not missing.
  void write_started() {
    if (g_current.started_written || g_current.row.empty()) return;
    g_current.started_written = true;
    write({{"scenario", g_current.row},
           {"layer", layer_},
           {"verdict", "started"},
           {"detail", "started, but no result was recorded: the test crashed or was killed"},
           {"passed", false},
           {"check", g_current.check},
           {"reproduce", gtest_command(layer_ == "property")}});
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    const ::testing::TestResult* r = info.result();
    if (g_current.row.empty()) return;
    const bool passed = r->Passed() && !r->Skipped();
    std::string failure;
    for (int i = 0; i < r->total_part_count() && failure.empty(); ++i) {
      const auto& part = r->GetTestPartResult(i);
      if (part.failed())
        failure = relative_to_source(part.file_name() ? part.file_name() : "?") + ":" +
                  std::to_string(part.line_number()) + ": " + part.message();
    }
    if (failure.size() > 1500) failure = failure.substr(0, 1500) + "...";
    nlohmann::json j = {
        {"scenario", g_current.row},
        {"layer", layer_},
        {"verdict", passed ? g_current.pass_verdict : (r->Skipped() ? "skipped" : "FAILED")},
        {"detail", passed ? g_current.detail : (failure.empty() ? "failed" : failure)},
        {"passed", passed},
        {"check", g_current.check},
        {"duration_s", static_cast<double>(r->elapsed_time()) / 1000.0}};
    if (g_current.has_executions) {
      j["executions"] = g_current.executions;
      j["seed"] = rc::detail::configuration().testParams.seed;
    }
    if (!g_current.command.empty()) {
      j["reproduce"] = g_current.command;
      j["rerun"] = gtest_command(false);
    } else {
      j["reproduce"] = gtest_command(g_current.has_executions);
    }
    write(j);
    g_current = Current{};
  }

  // This test's command line; with the RapidCheck seed for a property.
  std::string gtest_command(bool with_seed) const {
    std::string cmd;
    if (with_seed)
      cmd =
          "RC_PARAMS=\"seed=" + std::to_string(rc::detail::configuration().testParams.seed) + "\" ";
    return cmd + g_executable + " --gtest_filter=" + g_current.check;
  }

 private:
  void write(const nlohmann::json& j) {
    if (!out_) return;
    out_ << j.dump() << "\n";
    out_.flush();
  }

  std::string layer_;
  std::ofstream out_;
};

CellListener* g_listener = nullptr;

int thread_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (const dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

namespace detail {
bool declare_row(const char* suite, const char* name, const char* row) {
  const std::string check = std::string(suite) + "." + name;
  if (row == nullptr || *row == '\0')
    throw std::invalid_argument("INTERLEAVE_TEST(" + check + "): row is empty");
  declared_rows()[check] = row;
  return true;
}
void set_executions(unsigned long long cases) {
  g_current.has_executions = true;
  g_current.executions = cases;
}
void set_pass_verdict(const std::string& verdict) { g_current.pass_verdict = verdict; }
std::string last_watchdog_failure() { return g_last_watchdog_failure; }
std::string reproduce_property_command() {
  return g_listener ? g_listener->gtest_command(true)
                    : std::string("(run under INTERLEAVE_TEST_MAIN)");
}
}  // namespace detail

void row(const std::string& r) {
  if (r.empty()) throw std::invalid_argument("testkit::row: row is empty");
  if (!g_current.row.empty() && g_current.row != r) {
    ADD_FAILURE() << "testkit: test " << current_check() << " already speaks for row '"
                  << g_current.row << "', not '" << r << "'";
    return;
  }
  g_current.row = r;
  if (g_listener) g_listener->write_started();
}

void cell(const std::string& r, const std::string& detail) {
  row(r);
  g_current.detail = detail;
}

void watchdog(const std::string& what, const std::function<void()>& body,
              std::chrono::milliseconds bound) {
  using rc::detail::CaseResult;
  if (bound.count() <= 0) throw std::invalid_argument("watchdog: bound must be > 0 ms");
  if (const int threads = thread_count(); threads != 1)
    throw std::logic_error(
        "watchdog: the property process has " + std::to_string(threads) +
        " threads; fork() is only safe with one (join every thread before a case)");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("watchdog: pipe failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(std::string("watchdog: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {  // the child: run the case, report "<type char><description>"
    close(fds[0]);
    std::string report = "S";
    try {
      body();
    } catch (const CaseResult& r) {
      report = (r.type == CaseResult::Type::Discard ? "D" : "F") + r.description;
    } catch (const std::exception& e) {
      report = std::string("F") + "exception: " + e.what();
    } catch (...) {
      report = "Funknown exception";
    }
    write_all(fds[1], report);
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready <= 0) continue;  // EINTR or time: the loop re-checks the deadline
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child exited (or died)
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const auto fail = [&](const std::string& why) {
    g_last_watchdog_failure = why;
    throw CaseResult(CaseResult::Type::Failure, why);
  };
  if (timed_out) fail(what + ": still blocked after " + seconds_text(bound));
  if (WIFSIGNALED(status))
    fail(what + ": the case died by signal " + std::to_string(WTERMSIG(status)) + " (" +
         strsignal(WTERMSIG(status)) + ")");
  if (report.empty()) fail(what + ": the case exited without reporting");
  if (report[0] == 'S') return;
  if (report[0] == 'D') throw CaseResult(CaseResult::Type::Discard, report.substr(1));
  fail(what + ": " + report.substr(1));
}

std::string thousands(unsigned long long n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string rapidcheck_settings() {
  const auto& params = rc::detail::configuration().testParams;
  return "seed=" + std::to_string(params.seed) +
         " max_success=" + std::to_string(params.maxSuccess);
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          std::chrono::seconds timeout) {
  if (argv.empty()) throw std::invalid_argument("run_process: argv is empty");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (!env.count(key)) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("run_process: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("run_process: cannot start " + argv[0] + ": " + std::strerror(rc));
  }

  {  // the command that reproduces this run becomes the test's `reproduce`
    std::string cmd;
    for (const auto& [k, v] : env) cmd += k + "=" + shell_quote(v) + " ";
    cmd += shell_quote(relative_to_source(argv[0]));
    for (size_t i = 1; i < argv.size(); ++i) cmd += " " + shell_quote(argv[i]);
    g_current.command = cmd;
  }
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

std::vector<int> marker_lines(const std::string& file, const std::string& marker) {
  const std::string path = std::string(INTERLEAVE_SOURCE_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("marker_lines: cannot read " + path);
  std::vector<int> lines;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    const size_t at = line.find(marker);
    // the marker must end the line or be followed by a space: "x.racy" must
    // not match "x.racy_plain"
    if (at != std::string::npos &&
        (at + marker.size() == line.size() || line[at + marker.size()] == ' '))
      lines.push_back(n);
  }
  if (lines.empty()) throw std::runtime_error("marker_lines: no '" + marker + "' in " + path);
  return lines;
}

int main(int argc, char** argv, const char* layer) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string path;
  if (const char* dir = std::getenv("INTERLEAVE_REPORT_DIR"); dir && *dir) {
    std::string exe = argv[0];
    exe = exe.substr(exe.find_last_of('/') + 1);
    path = std::string(dir) + "/" + layer + "-" + exe + ".jsonl";
  }
  g_executable = relative_to_source(argv[0]);
  g_listener = new CellListener(layer, path);
  ::testing::UnitTest::GetInstance()->listeners().Append(g_listener);
  return RUN_ALL_TESTS();
}

}  // namespace interleave::testkit
