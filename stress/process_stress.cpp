// stress/process_stress.cpp — Process under load, built with
// ThreadSanitizer. Run by process_stress_test.cpp, which reads its output.
//
//   process_stress lifecycle <runs>
//   process_stress concurrent_waits <children> <threads>
//   process_stress entry <runs> <threads>
//
// lifecycle: <runs> children started with fork one after another, ended in
//   turn by returning a code, by terminate(), by kill() and (every 100th) by
//   throwing; each exit code checked. The parent is single-threaded (fork
//   requires it). Prints "runs=<n> wrong_codes=<n> fd_delta=<n> unreaped=<n>":
//   fd_delta is the change of this process's /proc/self/fd count across the
//   runs, unreaped the children waitpid(-1, WNOHANG) still finds afterwards.
// concurrent_waits: <children> children that wait for a signal are forked
//   first; then <threads> threads share the Process objects, each calling
//   is_alive, exitcode and join(timeout) on all of them and terminate() on
//   its share, then join() on all. TSan watches the Process objects' locking
//   in the parent. Prints "children=<n> wrong_codes=<n> fd_delta=<n> unreaped=<n>".
// entry: the safe start method from a multithreaded parent: <threads> threads
//   each start <runs> children with posix_os::spawn_entry (re-exec with a
//   registered entry point) and wait for them. Prints "runs=<total>
//   wrong_codes=<n> fd_delta=<n> unreaped=<n>".
//
// What TSan sees: the parent's threads (its waits and the Process objects'
// state). Forked children of a single-threaded parent are TSan processes too,
// but these children start no thread, so there is nothing for it to see in
// them; re-exec'd children are fresh TSan processes.
#include <interleave/process.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "stress_main.hpp"
#include "process_counts.hpp"

namespace {

using namespace std::chrono_literals;
using interleave::posix_os;
using interleave::Process;

using interleave::process_counts::open_fds;

// Children left to reap after a run: 0 when waitpid(-1, WNOHANG) finds none.
using interleave::process_counts::unreaped;

int lifecycle(long runs) {
  const int fds = open_fds();
  long wrong = 0;
  for (long i = 0; i < runs; ++i) {
    const int kind = i % 100 == 99 ? 3 : static_cast<int>(i % 3);
    const int code = static_cast<int>(i % 200);
    Process p([kind, code]() -> int {
      if (kind == 3) throw std::runtime_error("thrown on purpose");
      if (kind == 0) return code;
      ::pause();
      return 0;
    });
    p.start();
    if (kind == 1) p.terminate();
    if (kind == 2) p.kill();
    p.join();
    const int want = kind == 0 ? code : kind == 1 ? -SIGTERM : kind == 2 ? -SIGKILL : 1;
    wrong += p.exitcode() != std::optional<int>(want);
    p.close();
  }
  std::printf("runs=%ld wrong_codes=%ld fd_delta=%d unreaped=%d\n", runs, wrong, open_fds() - fds,
              unreaped());
  return interleave::stress::kExitOk;
}

int concurrent_waits(long children, long threads) {
  const int fds = open_fds();
  std::vector<Process> ps;
  for (long i = 0; i < children; ++i) ps.emplace_back([] { ::pause(); });
  for (auto& p : ps) p.start();  // all forks before the first thread
  std::atomic<long> alive_seen{0};
  std::vector<std::thread> ts;
  for (long t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (std::size_t i = 0; i < ps.size(); ++i) {
        alive_seen += ps[i].is_alive();
        (void)ps[i].exitcode();
        (void)ps[i].join(1ms);
        if (static_cast<long>(i) % threads == t) ps[i].terminate();
      }
      for (auto& p : ps) p.join();
    });
  for (auto& t : ts) t.join();
  long wrong = 0;
  for (auto& p : ps) wrong += p.exitcode() != std::optional<int>(-SIGTERM);
  ps.clear();
  std::printf("children=%ld wrong_codes=%ld fd_delta=%d unreaped=%d alive_seen=%ld\n", children,
              wrong, open_fds() - fds, unreaped(), alive_seen.load());
  return interleave::stress::kExitOk;
}

int echo_code(std::span<const std::byte> args, std::span<const int>) {
  return args.empty() ? 255 : std::to_integer<int>(args[0]);
}
INTERLEAVE_ENTRY_POINT(echo_code);

int entry(long runs, long threads) {
  const int fds = open_fds();
  std::atomic<long> wrong{0};
  std::vector<std::thread> ts;
  for (long t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (long i = 0; i < runs; ++i) {
        const std::byte code{static_cast<unsigned char>((t * 31 + i) % 200)};
        const int pid = posix_os::spawn_entry("echo_code", std::span<const std::byte>(&code, 1));
        wrong += posix_os::wait(pid) != std::to_integer<int>(code);
      }
    });
  for (auto& t : ts) t.join();
  std::printf("runs=%ld wrong_codes=%ld fd_delta=%d unreaped=%d\n", runs * threads, wrong.load(),
              open_fds() - fds, unreaped());
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  posix_os::run_entry_point_if_requested(argc, argv);
  using interleave::stress::Param;
  using interleave::stress::variant;
  const Param runs{"runs", 1, 1'000'000}, children{"children", 1, 1000}, threads{"threads", 1, 64};
  return interleave::stress::dispatch(
      "process_stress", argc, argv,
      {variant("lifecycle", runs, lifecycle),
       variant("concurrent_waits", children, threads, concurrent_waits),
       variant("entry", runs, threads, entry)});
}
