// models/dpor/dpor_bench.cpp — what the DPOR checker reaches on the impl's
// primitives (exact condition-variable semantics), and its throughput on the
// locked counter 2 x 5. Not a test: prints figures.
//   dpor_bench [seconds per search, default 20] [--no-spurious] [--await] [--symmetry]
//              [--only queue|barrier|pool]
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "dpor_sync.hpp"
#include "interleave/counter.hpp"
#include "explorer.hpp"
#include "interleave/queue.hpp"
#include "interleave/barrier.hpp"
#include "interleave/thread_pool.hpp"
#include <cstdio>
using namespace interleave;
using S = dpor_sync;
using namespace interleave::dpor;
void show(const char* name, const Result& r) {
  std::printf("%-40s %s, %.2f s, %zu max events\n", name, r.summary().c_str(), r.seconds,
              r.max_depth);
  std::fflush(stdout);
}
int main(int argc, char** argv) {
  Options o;
  o.max_seconds = 20;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-spurious") {
      o.spurious_wakeups = false;
    } else if (arg == "--await") {
      o.await_mode = true;
    } else if (arg == "--symmetry") {
      o.symmetry = true;
    } else if (arg == "--only" && i + 1 < argc) {
      only = argv[++i];
      if (only != "queue" && only != "barrier" && only != "pool") {
        std::fprintf(stderr, "dpor_bench: --only takes queue, barrier or pool, not '%s'\n",
                     only.c_str());
        return 2;
      }
    } else {
      char* end = nullptr;
      o.max_seconds = std::strtod(argv[i], &end);
      if (end == argv[i] || *end != '\0' || !(o.max_seconds > 0)) {
        std::fprintf(stderr,
                     "dpor_bench: seconds must be a number > 0, got '%s' (flags: --no-spurious, "
                     "--await, --symmetry, --only "
                     "queue|barrier|pool)\n",
                     argv[i]);
        return 2;
      }
    }
  }
  std::printf("spurious wake-ups of bare waits: %s; predicate waits: %s; symmetry: %s\n",
              o.spurious_wakeups ? "on" : "off",
              o.await_mode ? "await (block until the predicate holds)" : "exact",
              o.symmetry ? "on" : "off");
  if (only.empty()) {
    std::uint64_t executions = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double secs = 0;
    while (secs < 2) {
      const Result r = explore([] {
        LockedCounter<S> c;
        S::thread a([&] {
          for (int i = 0; i < 5; ++i) c.increment();
        });
        S::thread b([&] {
          for (int i = 0; i < 5; ++i) c.increment();
        });
        a.join();
        b.join();
        S::model_check(c.value() == 10, "no increment is lost");
      });
      executions += r.executions;
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::printf("locked counter 2x5: 252 executions per search, %.0f executions/s\n",
                executions / secs);
  }
  if (only.empty() || only == "queue")
    for (long cap : {1L, 2L, 0L})
      for (int n : {2, 4, 10}) {
        auto r = explore(
            [&] {
              Queue<int, S> q{cap};
              int got[10] = {};
              S::thread p([&] {
                for (int i = 1; i <= n; ++i) q.put(i);
              });
              S::thread c([&] {
                for (int i = 0; i < n; ++i) got[i] = q.get();
              });
              p.join();
              c.join();
              for (int i = 0; i < n; ++i) S::model_check(got[i] == i + 1, "fifo");
            },
            o);
        char name[64];
        std::snprintf(name, sizeof name, "queue 1p1c %d items cap %ld", n, cap);
        show(name, r);
      }
  if (only.empty() || only == "barrier")
    for (int g : {1, 2}) {
      auto r = explore(
          [&] {
            Barrier<S> b{3};
            S::thread t1([&] {
              for (int i = 0; i < g; ++i) b.wait();
            });
            S::thread t2([&] {
              for (int i = 0; i < g; ++i) b.wait();
            });
            S::thread t3([&] {
              for (int i = 0; i < g; ++i) b.wait();
            });
            t1.join();
            t2.join();
            t3.join();
          },
          o);
      char name[64];
      std::snprintf(name, sizeof name, "barrier 3 parties x %d", g);
      show(name, r);
    }
  if (only.empty() || only == "pool")
    for (auto [w, t] : {std::pair{1, 2}, std::pair{2, 2}, std::pair{2, 3}, std::pair{3, 2},
                        std::pair{3, 3}, std::pair{3, 5}}) {
      auto r = explore(
          [&] {
            int runs = 0;
            ThreadPool<S> pool{w, "P"};
            for (int i = 0; i < t; ++i)
              (void)pool.submit([&runs] {
                ++runs;
                return 0;
              });
            pool.shutdown(true);
            S::model_check(runs == t, "every task ran");
          },
          o);
      char name[64];
      std::snprintf(name, sizeof name, "pool %d workers x %d tasks", w, t);
      show(name, r);
    }
  // The model layer's pool (thread_pool.3w5t, thread_pool.3w3t): every
  // task yields inside, get() of each future, then shutdown.
  if (only.empty() || only == "pool")
    for (auto [w, t] : {std::pair{2, 2}, std::pair{2, 3}, std::pair{3, 2}, std::pair{3, 3},
                        std::pair{3, 4}, std::pair{3, 5}}) {
      auto r = explore(
          [&] {
            int runs[5] = {};
            ThreadPool<S> pool{w, "P"};
            std::vector<Future<int, S>> fs;
            for (int i = 0; i < t; ++i)
              fs.push_back(pool.submit([&runs, i] {
                S::yield();
                ++runs[i];
                return i * 10;
              }));
            for (int i = 0; i < t; ++i) S::model_check(fs[i].get() == i * 10, "get() its value");
            pool.shutdown(true);
            for (int i = 0; i < t; ++i) S::model_check(runs[i] == 1, "every task ran once");
          },
          o);
      char name[64];
      std::snprintf(name, sizeof name, "pool %d workers x %d tasks, get()", w, t);
      show(name, r);
    }
}
