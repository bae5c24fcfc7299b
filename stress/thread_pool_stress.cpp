// stress/thread_pool_stress.cpp — Future/Promise, ThreadPool, as_completed
// and wait under load, built with ThreadSanitizer. Run by
// thread_pool_stress_test.cpp, which reads its output ("key=value" figures).
//
//   thread_pool_stress load <submitters> <workers> <tasks per submitter>
//   thread_pool_stress load_broken_unlocked_check <submitters> <workers> <tasks per submitter>
//   thread_pool_stress cancel_shutdown <submitters> <workers> <tasks per submitter>
//   thread_pool_stress reuse <submitters> <workers> <rounds per submitter>
//   thread_pool_stress idle_shutdown <workers>
//   thread_pool_stress idle_shutdown_broken_notify_one <workers>
//   thread_pool_stress futures <promises> <getters>
//   thread_pool_stress as_completed <submitters> <workers> <tasks per submitter>
//   thread_pool_stress wait <workers> <tasks>
//
// `thread_pool_stress --help` lists them with the exit codes.
#include <interleave/future.hpp>
#include <interleave/thread_pool.hpp>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "stress_main.hpp"

namespace {

using namespace interleave;

// Submitters each submit `per` tiny tasks, then get every future.
template <class Pool>
int load(int submitters, int workers, long per) {
  std::atomic<long> ran{0}, resolved{0}, wrong{0};
  {
    Pool pool(workers, "stress");
    std::barrier start(submitters);
    std::vector<std::thread> ts;
    for (int s = 0; s < submitters; ++s)
      ts.emplace_back([&, s] {
        std::vector<Future<long>> fs;
        fs.reserve(static_cast<std::size_t>(per));
        start.arrive_and_wait();
        for (long i = 0; i < per; ++i)
          fs.push_back(pool.submit([&ran, v = s * per + i] {
            ran.fetch_add(1, std::memory_order_relaxed);
            return v;
          }));
        for (long i = 0; i < per; ++i) {
          if (fs[static_cast<std::size_t>(i)].get() != s * per + i) wrong.fetch_add(1);
          resolved.fetch_add(1, std::memory_order_relaxed);
        }
      });
    for (auto& t : ts) t.join();
    std::printf("workers_started=%d\n", pool.worker_count());
  }
  std::printf("submitted=%ld ran=%ld resolved=%ld wrong=%ld\n", submitters * per, ran.load(),
              resolved.load(), wrong.load());
  return 0;
}

// Submitters race a shutdown(wait, cancel_futures) issued mid-stream; some
// submitters also cancel() futures. Every accepted task either ran or was
// cancelled, never both; the rest were refused.
int cancel_shutdown(int submitters, int workers, long per) {
  std::atomic<long> ran{0}, accepted{0}, refused{0}, cancelled{0}, done{0}, both{0}, submitted{0};
  ThreadPool<> pool(workers, "cancel");
  std::barrier start(submitters + 1);
  std::vector<std::thread> ts;
  std::vector<std::vector<Future<long>>> all(static_cast<std::size_t>(submitters));
  std::vector<std::vector<std::atomic<int>>> runs;
  for (int s = 0; s < submitters; ++s) runs.emplace_back(static_cast<std::size_t>(per));
  for (int s = 0; s < submitters; ++s)
    ts.emplace_back([&, s] {
      auto& fs = all[static_cast<std::size_t>(s)];
      auto& rs = runs[static_cast<std::size_t>(s)];
      start.arrive_and_wait();
      for (long i = 0; i < per; ++i) {
        submitted.fetch_add(1);
        try {
          fs.push_back(pool.submit([&ran, &rs, i] {
            rs[static_cast<std::size_t>(i)].fetch_add(1);
            ran.fetch_add(1, std::memory_order_relaxed);
            return i;
          }));
          accepted.fetch_add(1);
          if (i % 7 == 3) (void)fs.back().cancel();
        } catch (const std::runtime_error&) {
          refused.fetch_add(1);
        }
      }
    });
  start.arrive_and_wait();
  while (submitted.load() < submitters * per / 2)
    std::this_thread::yield();  // mid-stream: load, not synchronisation
  pool.shutdown(/*wait=*/true, /*cancel_futures=*/true);
  for (auto& t : ts) t.join();
  for (int s = 0; s < submitters; ++s) {
    std::size_t k = 0;
    for (auto& f : all[static_cast<std::size_t>(s)]) {
      (void)k;
      if (f.done()) done.fetch_add(1);
      if (f.cancelled()) cancelled.fetch_add(1);
    }
    for (auto& r : runs[static_cast<std::size_t>(s)])
      if (r.load() > 1) both.fetch_add(1);
  }
  std::printf("submitted=%ld accepted=%ld refused=%ld ran=%ld cancelled=%ld done=%ld twice=%ld\n",
              submitters * per, accepted.load(), refused.load(), ran.load(), cancelled.load(),
              done.load(), both.load());
  return 0;
}

// Each submitter does submit + get in a loop: at most `submitters` tasks
// are ever outstanding, so at most that many workers start.
int reuse(int submitters, int workers, long rounds) {
  ThreadPool<> pool(workers, "reuse");
  std::atomic<long> ok{0};
  std::vector<std::thread> ts;
  for (int s = 0; s < submitters; ++s)
    ts.emplace_back([&] {
      for (long i = 0; i < rounds; ++i)
        if (pool.submit([i] { return i; }).get() == i) ok.fetch_add(1, std::memory_order_relaxed);
    });
  for (auto& t : ts) t.join();
  std::printf("rounds=%ld ok=%ld workers_started=%d\n", submitters * rounds, ok.load(),
              pool.worker_count());
  return 0;
}

// All workers busy, then all asleep, then shutdown(wait) under a watchdog.
template <class Pool>
int notify_one(long workers) {
  auto* pool = new Pool(workers, "idle");  // leaked if it hangs: the process exits
  {
    std::atomic<int> in{0};
    std::vector<Future<int>> fs;
    for (int i = 0; i < workers; ++i)
      fs.push_back(pool->submit([&in, workers] {
        in.fetch_add(1);
        while (in.load() < workers) std::this_thread::yield();  // every worker holds a task
        return 0;
      }));
    for (auto& f : fs) (void)f.get();
  }
  while (pool->idle_workers() < workers)
    std::this_thread::yield();  // all asleep on the condition variable
  std::atomic<bool> returned{false};
  std::thread shut([&] {
    pool->shutdown(true);
    returned.store(true);
  });
  {
    stress::Watchdog watchdog(
        std::chrono::seconds(5), [&] { return returned.load() ? 1L : 0L; },
        [&] {
          return "workers=" + std::to_string(workers) +
                 " shutdown_returned=0 asleep_after_shutdown=" +
                 std::to_string(pool->idle_workers());
        });
    shut.join();  // a shutdown that never returns: the watchdog ends the process
  }
  std::printf("workers=%ld shutdown_returned=1 live=%d\n", workers, pool->live_workers());
  delete pool;
  return 0;
}

// Promises set on some threads, futures waited on by others, callbacks.
int futures(long promises, long getters) {
  std::vector<Promise<int>> ps(static_cast<std::size_t>(promises));
  std::vector<Future<int>> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  std::atomic<long> callbacks{0}, seen{0}, wrong{0};
  std::vector<std::thread> ts;
  for (int g = 0; g < getters; ++g)
    ts.emplace_back([&, g] {
      for (int i = 0; i < promises; ++i) {
        auto& f = fs[static_cast<std::size_t>((i + g) % promises)];
        if (g == 0) f.add_done_callback([&](const Future<int>&) { callbacks.fetch_add(1); });
        if (f.get() != (i + g) % promises) wrong.fetch_add(1);
        seen.fetch_add(1);
      }
    });
  std::thread setter([&] {
    for (int i = 0; i < promises; ++i) ps[static_cast<std::size_t>(i)].set_value(i);
  });
  setter.join();
  for (auto& t : ts) t.join();
  std::printf("promises=%ld gets=%ld wrong=%ld callbacks=%ld\n", promises, seen.load(),
              wrong.load(), callbacks.load());
  return 0;
}

int as_completed_load(int submitters, int workers, long per) {
  ThreadPool<> pool(workers, "ac");
  std::atomic<long> yielded{0}, dup{0};
  std::vector<std::thread> ts;
  for (int s = 0; s < submitters; ++s)
    ts.emplace_back([&] {
      std::vector<Future<long>> fs;
      for (long i = 0; i < per; ++i) fs.push_back(pool.submit([i] { return i; }));
      std::vector<Future<long>> passed = fs;
      for (long i = 0; i < per; i += 3) passed.push_back(fs[static_cast<std::size_t>(i)]);
      std::vector<char> got(static_cast<std::size_t>(per), 0);
      for (const auto& f : as_completed(passed)) {
        if (got[static_cast<std::size_t>(f.get())]++) dup.fetch_add(1);
        yielded.fetch_add(1, std::memory_order_relaxed);
      }
    });
  for (auto& t : ts) t.join();
  std::printf("futures=%ld yielded=%ld duplicates=%ld\n", submitters * per, yielded.load(),
              dup.load());
  return 0;
}

int wait_load(long workers, long tasks) {
  ThreadPool<> pool(workers, "wait");
  std::vector<Future<long>> fs;
  for (long i = 0; i < tasks; ++i)
    fs.push_back(pool.submit([i]() -> long {
      // ~20 us of work, so that completions overlap the waits (load, not
      // synchronisation: the figures below hold whatever the timing).
      const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
      while (std::chrono::steady_clock::now() < end) std::this_thread::yield();
      if (i % 11 == 5) throw std::runtime_error("task " + std::to_string(i));
      return i;
    }));
  long rounds = 0;
  std::vector<Future<long>> rest = fs;
  long seen_done = 0;
  while (!rest.empty()) {
    auto r = wait(rest, FIRST_COMPLETED);
    if (r.done.empty()) return stress::kExitInconsistent;
    seen_done += static_cast<long>(r.done.size());
    rest = std::move(r.not_done);
    ++rounds;
  }
  auto first_exc = wait(fs, FIRST_EXCEPTION);
  auto all = wait(fs, ALL_COMPLETED);
  std::printf("tasks=%ld done_seen=%ld rounds=%ld all_done=%zu first_exception_done=%zu\n", tasks,
              seen_done, rounds, all.done.size(), first_exc.done.size());
  return 0;
}

// "<submitters> <workers> <tasks>" variants share their argument ranges.
template <class Run>
stress::Variant pool_load(const char* name, const char* last, long last_lo, Run run) {
  return {name, std::string("<submitters> <workers> <") + last + ">", [=](stress::Args& a) {
            const int submitters = a.count("submitters", 1, 64);
            const int workers = a.count("workers", 1, 64);
            return run(submitters, workers, a.integer(last, last_lo, 10'000'000));
          }};
}

}  // namespace

int main(int argc, char** argv) {
  using stress::variant;
  const stress::Param workers{"workers", 1, 64};
  return stress::dispatch(
      "thread_pool_stress", argc, argv,
      {pool_load("load", "tasks", 0, load<ThreadPool<>>),
       pool_load("load_broken_unlocked_check", "tasks", 0, load<BrokenUnlockedCheckThreadPool<>>),
       pool_load("cancel_shutdown", "tasks", 2, cancel_shutdown),
       pool_load("reuse", "rounds", 0, reuse),
       pool_load("as_completed", "tasks", 0, as_completed_load),
       variant("idle_shutdown", workers, notify_one<ThreadPool<>>),
       variant("idle_shutdown_broken_notify_one", workers,
               notify_one<BrokenShutdownNotifyOneThreadPool<>>),
       variant("futures", {"promises", 1, 10'000'000}, {"getters", 1, 64}, futures),
       variant("wait", workers, {"tasks", 0, 10'000'000}, wait_load)});
}
