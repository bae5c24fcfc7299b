// bench/process_pool_bench.cpp — the process pool and call_with_timeout
// against bare POSIX baselines, in the same run. Names follow the
// benchmarks' scheme <benchmark>/<role>.
//
//   process_pool.round_trip/baseline_raw_pipe_echo
//       one 8-byte message to an already running forked child that echoes
//       it back over a second pipe: write + read per iteration
//   process_pool.round_trip/interleave
//       ProcessPool(1).submit(empty task).get() on an already started worker:
//       encode, write the task record to the idle worker, the worker
//       decodes, runs, encodes, the management thread reads the result and
//       completes the future
//   Target: the pool's round trip <= 2x the raw echo.
//
//   call_with_timeout.empty/baseline_fork_waitpid
//       fork(); the child _exit(0)s; waitpid
//   call_with_timeout.empty/interleave
//       call_with_timeout(10 s, a function returning 0): fork, the child
//       stores the result in the reused shared memory block, the parent
//       waits for its exit (pidfd_open, poll, waitpid), reads the block
//   Target: call_with_timeout <= 1.2x the bare fork + waitpid.
//   The baseline's child calls _exit through a pointer, bound when the
//   program loads, as interleave's child does: a child that calls _exit
//   through the lazy PLT resolves it again in every child (about ten page
//   faults), which would flatter the ratio.
//
// Speed is never asserted in a test; ./ci/bench runs this, ctest only
// smoke-runs it. main() runs the pool's re-executed workers first.
#include <benchmark/benchmark.h>
#include <interleave/call_with_timeout.hpp>
#include <interleave/process_pool.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace {

// _exit bound at load time (not through the lazy PLT), like interleave's
// children: the baselines measure the fork protocol, not the dynamic linker.
void (*const volatile bound_exit)(int) = &::_exit;

int empty_task() { return 0; }
INTERLEAVE_TASK(empty_task);

void full_write(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t k = ::write(fd, c, n);
    if (k <= 0) throw std::runtime_error("bench: write failed");
    c += k;
    n -= static_cast<std::size_t>(k);
  }
}
bool full_read(int fd, void* p, std::size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t k = ::read(fd, c, n);
    if (k <= 0) return false;
    c += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

void raw_pipe_echo(benchmark::State& state) {
  int to[2], from[2];
  if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("bench: pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(to[1]);
    ::close(from[0]);
    std::uint64_t v = 0;
    while (full_read(to[0], &v, sizeof v)) full_write(from[1], &v, sizeof v);
    ::_exit(0);
  }
  ::close(to[0]);
  ::close(from[1]);
  std::uint64_t v = 0;
  for (auto _ : state) {
    full_write(to[1], &v, sizeof v);
    full_read(from[0], &v, sizeof v);
    ++v;
    benchmark::DoNotOptimize(v);
  }
  ::close(to[1]);
  ::close(from[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
}
BENCHMARK(raw_pipe_echo)->Name("process_pool.round_trip/baseline_raw_pipe_echo")->UseRealTime();

void pool_round_trip(benchmark::State& state) {
  interleave::ProcessPool pool(1);
  if (pool.submit(empty_task).get() != 0)
    throw std::runtime_error("bench: the warm-up task failed");
  for (auto _ : state) benchmark::DoNotOptimize(pool.submit(empty_task).get());
}
BENCHMARK(pool_round_trip)->Name("process_pool.round_trip/interleave")->UseRealTime();

void fork_waitpid(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) bound_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(fork_waitpid)->Name("call_with_timeout.empty/baseline_fork_waitpid")->UseRealTime();

void empty_call_with_timeout(benchmark::State& state) {
  using namespace std::chrono_literals;
  for (auto _ : state)
    benchmark::DoNotOptimize(interleave::call_with_timeout(10s, [] { return 0; }));
}
BENCHMARK(empty_call_with_timeout)->Name("call_with_timeout.empty/interleave")->UseRealTime();

// The targets, in the JSON's context: "target <interleave row> vs <baseline
// role>" -> the least acceptable ratio (baseline time / interleave time):
// the pool's round trip at most 2x the raw echo, call_with_timeout at most
// 1.2x fork + waitpid.
const bool kTargetsDeclared = [] {
  benchmark::AddCustomContext(
      "target process_pool.round_trip/interleave/real_time vs baseline_raw_pipe_echo", "0.5");
  benchmark::AddCustomContext(
      "target call_with_timeout.empty/interleave/real_time vs baseline_fork_waitpid", "0.833");
  return true;
}();

}  // namespace

int main(int argc, char** argv) {
  interleave::posix_os::run_entry_point_if_requested(argc, argv);  // a re-executed pool worker
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
