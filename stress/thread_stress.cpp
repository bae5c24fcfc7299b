// stress/thread_stress.cpp — thread lifecycle and the Obi-Wan/Anakin program
// under load, built with ThreadSanitizer. Run by thread_stress_test.cpp.
//
//   thread_stress lifecycle <threads> <rounds>
//     Each round: <threads> Threads start at once and block on a gate
//     (Event); the registry must list all of them; the gate opens; all are
//     joined; the registry must be empty. An observer thread enumerates the
//     registry throughout and checks that no listed thread is New or Dead.
//     Prints "rounds=<n> listed_ok=<n> observed=<n> bad=<n>".
//   thread_stress joiners <joiners> <rounds>
//     Each round: one Thread whose thread_local destructor writes a plain
//     int; <joiners> threads join it at once while another Thread of the
//     registry starts and dies; each joiner then reads the int (TSan sees a
//     read without happens-before from the exit as a race). Prints
//     "rounds=<n> reads=<n> unset=<n>".
//   thread_stress throwing <threads> <rounds>
//     Each round: <threads> Threads, every other one throwing; all joined;
//     an observer enumerates throughout. Prints "rounds=<n> kept=<n>
//     listed_dead=<n> left=<n>".
//   thread_stress thread_local <threads> <rounds>
//     Each round: <threads> Threads at once each set a value in one
//     long-lived ThreadLocal; after the joins no slot is left. Prints
//     "rounds=<n> slots_left=<n>".
//   thread_stress reader <runs>
//   thread_stress broken_unlocked_size <runs>
//     The seed's program (fixed) or two writers of 4 + 3 lines (the twin's
//     log) while a reader calls size() and lines() until they finish; every
//     snapshot must be a prefix of the final output. Prints "runs=<n>
//     snapshots=<n> not_prefixes=<n>".
//   thread_stress starwars <runs>
//     The seed's program <runs> times with tiny random pauses; prints
//     "runs=<n> not_merges=<n> distinct=<n>".
#include <interleave/event.hpp>
#include <interleave/interleavings.hpp>
#include <interleave/thread.hpp>
#include <interleave/thread_local.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "stress_main.hpp"

namespace {

int lifecycle(long n, long rounds) {
  using namespace interleave;
  auto reg = std::make_unique<ThreadRegistry<>>();
  std::atomic<bool> done{false};
  std::atomic<long> observed{0}, bad{0};
  std::thread observer([&] {
    while (!done.load()) {
      for (const ThreadInfo& info : reg->enumerate()) {
        if (info.state == ThreadState::New || info.state == ThreadState::Dead) bad.fetch_add(1);
        observed.fetch_add(1, std::memory_order_relaxed);
      }
      std::this_thread::yield();
    }
  });
  long listed_ok = 0;
  for (long r = 0; r < rounds; ++r) {
    auto gate = std::make_unique<Event<>>();
    std::vector<std::unique_ptr<Thread<>>> threads;
    for (int i = 0; i < n; ++i)
      threads.push_back(std::make_unique<Thread<>>(*reg, [&gate] { gate->wait(); }));
    for (auto& t : threads) t->start();
    if (reg->enumerate().size() == static_cast<size_t>(n)) ++listed_ok;
    gate->set();
    for (auto& t : threads) {
      t->join();
      if (t->state() != ThreadState::Dead || t->is_alive()) bad.fetch_add(1);
    }
    if (!reg->enumerate().empty()) bad.fetch_add(1);
  }
  done.store(true);
  observer.join();
  std::printf("rounds=%ld listed_ok=%ld observed=%ld bad=%ld\n", rounds, listed_ok, observed.load(),
              bad.load());
  return 0;
}

// Written by the exiting thread's thread_local destructor, read by joiners.
struct ExitWrite {
  int* target;
  ~ExitWrite() { *target = 1; }
};

int joiners(long n, long rounds) {
  using namespace interleave;
  ThreadRegistry<> reg;
  long reads = 0, unset = 0;
  for (long r = 0; r < rounds; ++r) {
    int exited = 0;  // plain: only the join orders it
    Thread<> t(reg, [&exited] {
      thread_local ExitWrite w{&exited};
      (void)w;
    });
    t.start();
    std::vector<int> seen(static_cast<size_t>(n), 0);
    std::vector<std::thread> js;
    for (long i = 0; i < n; ++i)
      js.emplace_back([&, i] {
        t.join();
        seen[static_cast<size_t>(i)] = exited;
      });
    Thread<> other(reg, [] {});
    other.start();
    other.join();
    for (auto& j : js) j.join();
    for (int v : seen) {
      ++reads;
      if (v != 1) ++unset;
    }
  }
  std::printf("rounds=%ld reads=%ld unset=%ld\n", rounds, reads, unset);
  return 0;
}

int throwing(long n, long rounds) {
  using namespace interleave;
  ThreadRegistry<> reg;
  std::atomic<bool> done{false};
  std::atomic<long> listed_dead{0};
  std::thread observer([&] {
    while (!done.load()) {
      for (const ThreadInfo& info : reg.enumerate())
        if (info.state == ThreadState::Dead) listed_dead.fetch_add(1);
      std::this_thread::yield();
    }
  });
  long kept = 0, left = 0;
  for (long r = 0; r < rounds; ++r) {
    std::vector<std::unique_ptr<Thread<>>> ts;
    for (long i = 0; i < n; ++i)
      ts.push_back(std::make_unique<Thread<>>(reg, [i] {
        if (i % 2 == 1) throw std::runtime_error("target failed");
      }));
    for (auto& t : ts) t->start();
    for (long i = 0; i < n; ++i) {
      ts[static_cast<size_t>(i)]->join();
      if ((ts[static_cast<size_t>(i)]->exception() != nullptr) == (i % 2 == 1)) ++kept;
    }
    left += static_cast<long>(reg.enumerate().size());
  }
  done.store(true);
  observer.join();
  std::printf("rounds=%ld kept=%ld listed_dead=%ld left=%ld\n", rounds, kept, listed_dead.load(),
              left);
  return 0;
}

int thread_local_exit(long n, long rounds) {
  using namespace interleave;
  ThreadRegistry<> reg;
  ThreadLocal<std::vector<int>> local;
  long slots_left = 0;
  for (long r = 0; r < rounds; ++r) {
    std::vector<std::unique_ptr<Thread<>>> ts;
    for (long i = 0; i < n; ++i)
      ts.push_back(std::make_unique<Thread<>>(
          reg, [&local, i] { local.set(std::vector<int>(16, static_cast<int>(i))); }));
    for (auto& t : ts) t->start();
    for (auto& t : ts) t->join();
    slots_left += static_cast<long>(local.size());
  }
  std::printf("rounds=%ld slots_left=%ld\n", rounds, slots_left);
  return 0;
}

template <class Log>
long check_snapshots(const std::vector<std::pair<std::size_t, std::vector<std::string>>>& snaps,
                     const Log& out) {
  const std::vector<std::string> final_lines = out.lines();
  long bad = 0;
  std::size_t last = 0;
  for (const auto& [size, lines] : snaps) {
    if (size > lines.size() || lines.size() < last || lines.size() > final_lines.size() ||
        !std::equal(lines.begin(), lines.end(), final_lines.begin()))
      ++bad;
    last = lines.size();
  }
  return bad;
}

template <class Log>
int reader_runs(long runs, bool seed_program) {
  using namespace interleave;
  long snapshots = 0, not_prefixes = 0;
  for (long r = 0; r < runs; ++r) {
    auto out = std::make_unique<Log>();
    std::atomic<bool> done{false};
    std::vector<std::pair<std::size_t, std::vector<std::string>>> snaps;
    std::thread reader([&] {
      while (!done.load()) {
        const std::size_t n = out->size();
        snaps.emplace_back(n, out->lines());
        std::this_thread::yield();
      }
    });
    if constexpr (std::is_same_v<Log, LineLog<>>) {
      if (seed_program) {
        auto reg = std::make_unique<ThreadRegistry<>>();
        starwars(*reg, *out, [] { std::this_thread::yield(); });
      }
    }
    if (!seed_program) {
      std::thread obi([&] {
        for (int i = 0; i < 4; ++i) out->print(hello_line("Obi-Wan", i));
      });
      std::thread ani([&] {
        for (int i = 0; i < 3; ++i) out->print(hello_line("Anakin", i));
      });
      obi.join();
      ani.join();
    }
    done.store(true);
    reader.join();
    snapshots += static_cast<long>(snaps.size());
    not_prefixes += check_snapshots(snaps, *out);
  }
  std::printf("runs=%ld snapshots=%ld not_prefixes=%ld\n", runs, snapshots, not_prefixes);
  return 0;
}

int starwars_runs(long runs) {
  using namespace interleave;
  long not_merges = 0;
  std::set<long> distinct;
  for (long r = 0; r < runs; ++r) {
    auto reg = std::make_unique<ThreadRegistry<>>();
    auto out = std::make_unique<LineLog<>>();
    std::atomic<unsigned> salt{static_cast<unsigned>(r)};
    starwars(*reg, *out, [&] {
      std::minstd_rand rng(salt.fetch_add(7919));
      reg->sleep_for(std::chrono::microseconds(rng() % 50));
    });
    const long mask = merge_mask(out->lines());
    if (mask < 0)
      ++not_merges;
    else
      distinct.insert(mask);
  }
  std::printf("runs=%ld not_merges=%ld distinct=%zu\n", runs, not_merges, distinct.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using interleave::stress::variant;
  return interleave::stress::dispatch(
      "thread_stress", argc, argv,
      {variant("lifecycle", {"threads", 1, 1024}, {"rounds", 0, 100000}, lifecycle),
       variant("joiners", {"joiners", 1, 256}, {"rounds", 0, 100000}, joiners),
       variant("throwing", {"threads", 1, 1024}, {"rounds", 0, 100000}, throwing),
       variant("thread_local", {"threads", 1, 1024}, {"rounds", 0, 100000}, thread_local_exit),
       variant("reader", {"runs", 0, 1000000},
               [](long n) { return reader_runs<interleave::LineLog<>>(n, true); }),
       variant(
           "broken_unlocked_size", {"runs", 0, 1000000},
           [](long n) { return reader_runs<interleave::BrokenUnlockedSizeLineLog<>>(n, false); }),
       variant("starwars", {"runs", 0, 1000000}, starwars_runs)});
}
