// bench/mergesort_table.cpp — the seed's program ("Multithreaded/
// Multiprocessing mergesort", performance_measurement_and_testing): lists of
// 4, 1,000 and 1,000,000 shuffled integers, each sorted by every sort and
// checked against the original order, and a table of the times.
//
// The seed times with process_time(), which counts only the calling process's
// CPU. This table prints wall time and CPU time including children:
// getrusage(RUSAGE_SELF) (every thread of this process) + getrusage(
// RUSAGE_CHILDREN) (terminated, waited-for children), user + system: the
// process variant's workers are children, reaped before the call returns, so
// their CPU is counted in its row.
//
//   mergesort_table [--max N]   sizes above N are skipped (the smoke test)
// Exit 1 if a sort's result differs from the original order, 2 on bad usage.
#include <sys/resource.h>

#include <interleave/mergesort.hpp>
#include <interleave/mergesort_process.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

double cpu_ms() {
  double ms = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    ms += (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
          (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
  }
  return ms;
}

struct Sort {
  const char* name;
  std::function<std::vector<int>(const std::vector<int>&)> run;
};

}  // namespace

int main(int argc, char** argv) {
  interleave::posix_os::run_entry_point_if_requested(argc, argv);  // a re-exec'd worker
  long max = 1'000'000;
  if (argc == 3 && std::string(argv[1]) == "--max") {
    char* end = nullptr;
    max = std::strtol(argv[2], &end, 10);
    if (*end || max < 0) {
      std::fprintf(stderr, "mergesort_table: --max must be a non-negative integer, got '%s'\n",
                   argv[2]);
      return 2;
    }
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: mergesort_table [--max N]\n");
    return 2;
  }
  namespace ms = interleave::mergesort;
  const Sort sorts[] = {
      {"sort", [](const std::vector<int>& v) { return ms::sort(v); }},
      {"sort_multithreading", [](const std::vector<int>& v) { return ms::sort_multithreading(v); }},
      {"sort_multiprocessing",
       [](const std::vector<int>& v) { return ms::sort_multiprocessing(v); }},
  };
  std::mt19937 rng(20260611);
  int failures = 0;
  std::printf("%-12s %-22s %14s %14s %8s  %s\n", "list length", "sort", "wall ms", "CPU ms",
              "CPU/wall", "result");
  for (long n : {4L, 1'000L, 1'000'000L}) {
    if (n > max) continue;
    std::vector<int> orig(static_cast<std::size_t>(n));
    std::iota(orig.begin(), orig.end(), 0);
    std::vector<int> lt = orig;
    std::shuffle(lt.begin(), lt.end(), rng);
    for (const Sort& s : sorts) {
      const double c0 = cpu_ms();
      const auto w0 = std::chrono::steady_clock::now();
      const std::vector<int> sorted = s.run(lt);
      const auto w1 = std::chrono::steady_clock::now();
      const double cpu = cpu_ms() - c0;
      const double wall = std::chrono::duration<double, std::milli>(w1 - w0).count();
      const bool ok = sorted == orig;
      failures += !ok;
      std::printf("%-12ld %-22s %14.3f %14.3f %8.2f  %s\n", n, s.name, wall, cpu,
                  wall > 0 ? cpu / wall : 0.0,
                  ok ? "equals the original order" : "WRONG: differs from the original order");
    }
  }
  std::printf(
      "\nwall: steady_clock around the call. CPU: user + system time of this process (all its "
      "threads,\n"
      "getrusage RUSAGE_SELF) plus its terminated children (RUSAGE_CHILDREN), unlike the seed's\n"
      "process_time(), which misses children. sort_multithreading starts a pool of 6 workers per "
      "call\n"
      "(the seed's default), sort_multiprocessing a pool of 6 worker processes (re-executed from\n"
      "this program; chunks sorted in place in a shared memfd segment); this machine has %u\n"
      "hardware threads.\n",
      std::thread::hardware_concurrency());
  return failures ? 1 : 0;
}
