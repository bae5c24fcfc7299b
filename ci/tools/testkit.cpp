// ci/tools/testkit.cpp — see testkit.hpp.
#include "testkit.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

extern char** environ;

namespace interleave::testkit {

namespace {
constexpr const char* kRowKey = "interleave_row";
constexpr const char* kDetailKey = "interleave_detail";

// Writes one JSON line per test that declared a cell.
class CellListener : public ::testing::EmptyTestEventListener {
 public:
  CellListener(std::string layer, std::string path) : layer_(std::move(layer)) {
    if (!path.empty()) {
      out_.open(path, std::ios::trunc);
      if (!out_) throw std::runtime_error("testkit: cannot write " + path);
    }
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    const ::testing::TestResult* r = info.result();
    std::string row, detail;
    for (int i = 0; i < r->test_property_count(); ++i) {
      const auto& p = r->GetTestProperty(i);
      if (std::strcmp(p.key(), kRowKey) == 0) row = p.value();
      if (std::strcmp(p.key(), kDetailKey) == 0) detail = p.value();
    }
    if (row.empty() || !out_) return;
    const bool passed = r->Passed() && !r->Skipped();
    std::string failure;
    for (int i = 0; i < r->total_part_count() && failure.empty(); ++i) {
      const auto& part = r->GetTestPartResult(i);
      if (part.failed()) failure = part.message();
    }
    if (const size_t nl = failure.find('\n'); nl != std::string::npos) failure.resize(nl);
    if (failure.size() > 200) failure = failure.substr(0, 200) + "...";
    nlohmann::json j = {{"scenario", row},
                        {"layer", layer_},
                        {"verdict", passed ? "passed" : "FAILED"},
                        {"detail", passed ? detail : (failure.empty() ? "failed" : failure)},
                        {"passed", passed},
                        {"check", std::string(info.test_suite_name()) + "." + info.name()}};
    out_ << j.dump() << "\n";
    out_.flush();
  }

 private:
  std::string layer_;
  std::ofstream out_;
};
}  // namespace

void cell(const std::string& row, const std::string& detail) {
  ::testing::Test::RecordProperty(kRowKey, row);
  ::testing::Test::RecordProperty(kDetailKey, detail);
}

std::string thousands(unsigned long long n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string rapidcheck_settings() {
  const auto& params = rc::detail::configuration().testParams;
  return "seed=" + std::to_string(params.seed) + " max_success=" + std::to_string(params.maxSuccess);
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
  ::testing::UnitTest::GetInstance()->listeners().Append(new CellListener(layer, path));
  return RUN_ALL_TESTS();
}

}  // namespace interleave::testkit
