// stress/queue_stress.cpp — Queue and the sentinel programs under load, built
// with ThreadSanitizer. Run by queue_stress_test.cpp, which reads its output.
//
//   queue_stress mpmc <producers> <consumers> <items-per-producer> <maxsize>
//       every item put once is got once: prints consumed=, expected=, lost=,
//       duplicated=, done_at_join=
//   queue_stress shutdown_load <rounds>
//       per round, on one queue under load (8 producers, 8 consumers, maxsize
//       4) plus 4 getters blocked on an empty queue and 4 putters blocked on a
//       full one: shutdown (immediate on odd rounds) must release everyone;
//       prints released=, stranded=, put_ok=, got=, dropped=; threads still
//       in the queue 60 s after shutdown are a hang (watchdog, exit 3)
//   queue_stress broken_notify_one <getters>
//       the twin: getters block on an empty queue, shutdown() wakes one;
//       prints stranded= (those still blocked 2 s later), then frees them
//   queue_stress broken_join_unlocked <rounds>
//       the twin: producer/consumer rounds ending in join(), whose unlocked
//       read of the count TSan must report
//   queue_stress programs <runs>
//       the seed, fixed and 2x2 sentinel programs, n = 35: prints seed_early=
//       (runs whose q.join() returned before all 10 were processed: the seed's
//       race), seed_delivered= (runs delivering 0..34 in order), fixed_ok=,
//       two_by_two_ok= (runs in which join() returned with everything done)
#include <interleave/producer_consumer.hpp>
#include <interleave/queue.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "stress_main.hpp"
#include "workloads.hpp"

namespace {

using namespace std::chrono_literals;
using interleave::Queue;
using interleave::queue_shut_down;
using interleave::checks::start_blocked_callers;

int mpmc(int producers, int consumers, long per, long maxsize) {
  Queue<long> q(maxsize);
  const long total = producers * per;
  std::vector<std::vector<long>> got(static_cast<size_t>(consumers));
  std::vector<std::thread> cons, prods;
  for (int c = 0; c < consumers; ++c)
    cons.emplace_back([&, c] {
      auto& mine = got[static_cast<size_t>(c)];
      try {
        while (true) {
          mine.push_back(q.get());
          q.task_done();
        }
      } catch (const queue_shut_down&) {
      }
    });
  for (int p = 0; p < producers; ++p)
    prods.emplace_back([&, p] {
      for (long i = 0; i < per; ++i) q.put(p * per + i);
    });
  for (auto& t : prods) t.join();
  q.join();
  // Everything was task_done: the consumers' vectors are complete except for
  // nothing; count what they hold after they are joined.
  q.shutdown(false);
  for (auto& t : cons) t.join();
  std::vector<unsigned char> seen(static_cast<size_t>(total), 0);
  long consumed = 0, duplicated = 0, out_of_range = 0;
  for (auto& g : got)
    for (long v : g) {
      ++consumed;
      if (v < 0 || v >= total) {
        ++out_of_range;
        continue;
      }
      if (seen[static_cast<size_t>(v)]++) ++duplicated;
    }
  long lost = 0;
  for (unsigned char s : seen) lost += s == 0;
  std::printf("consumed=%ld expected=%ld lost=%ld duplicated=%ld out_of_range=%ld\n", consumed,
              total, lost, duplicated, out_of_range);
  return 0;
}

// Waits until `count` reaches `want` or `limit` passes; the count is bumped
// under `mu` by each thread as it exits.
struct ExitCounter {
  std::mutex mu;
  std::condition_variable cv;
  int exited = 0;
  void exit_one() {
    std::lock_guard<std::mutex> lk(mu);
    ++exited;
    cv.notify_all();
  }
  int wait_for(int want, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait_for(lk, limit, [&] { return exited >= want; });
    return exited;
  }
};

int shutdown_load(long rounds) {
  long released_total = 0, put_ok_total = 0, got_total = 0, dropped_total = 0;
  for (int r = 0; r < rounds; ++r) {
    const bool immediate = r % 2 == 1;
    Queue<long> q(4), empty_q, full_q(1);
    full_q.put(-1);
    std::atomic<long> put_ok{0}, got{0};
    std::atomic<int> started{0};
    ExitCounter exits;
    std::vector<std::thread> pool;
    for (int p = 0; p < 8; ++p)
      pool.emplace_back([&, p] {
        started.fetch_add(1);
        try {
          for (long i = 0;; ++i) {
            q.put(p * 1'000'000L + i);
            put_ok.fetch_add(1);
          }
        } catch (const queue_shut_down&) {
        }
        exits.exit_one();
      });
    for (int c = 0; c < 8; ++c)
      pool.emplace_back([&] {
        started.fetch_add(1);
        try {
          while (true) {
            (void)q.get();
            got.fetch_add(1);
            q.task_done();
          }
        } catch (const queue_shut_down&) {
        }
        exits.exit_one();
      });
    const auto exit_one = [&exits](bool) { exits.exit_one(); };
    start_blocked_callers<queue_shut_down>(
        pool, 4, started, [&](int) { (void)empty_q.get(); }, exit_one);
    start_blocked_callers<queue_shut_down>(
        pool, 4, started, [&](int i) { full_q.put(i); }, exit_one);
    const int threads = static_cast<int>(pool.size());
    while (started.load() < threads || got.load() < 2000) std::this_thread::yield();
    q.shutdown(immediate);
    empty_q.shutdown(immediate);
    full_q.shutdown(immediate);
    {
      interleave::stress::Watchdog watchdog(
          60s, [&] { return exits.wait_for(threads, 0s); },
          [&] {
            const int exited = exits.wait_for(threads, 0s);
            return "released=" + std::to_string(exited) +
                   " stranded=" + std::to_string(threads - exited) + " round=" + std::to_string(r);
          });
      for (auto& t : pool) t.join();
    }
    q.join();  // every item got was task_done, the dropped ones were settled
    const long dropped = put_ok.load() - got.load();
    if (dropped < 0 || (!immediate && dropped != 0) || q.unfinished_tasks() != 0 || !q.empty()) {
      std::printf("accounting broken: round=%d immediate=%d put_ok=%ld got=%ld unfinished=%ld\n", r,
                  immediate, put_ok.load(), got.load(), q.unfinished_tasks());
      return interleave::stress::kExitInconsistent;
    }
    released_total += threads;
    put_ok_total += put_ok.load();
    got_total += got.load();
    dropped_total += dropped;
  }
  std::printf("released=%ld stranded=0 put_ok=%ld got=%ld dropped=%ld rounds=%ld\n", released_total,
              put_ok_total, got_total, dropped_total, rounds);
  return 0;
}

int broken_notify_one(long getters) {
  interleave::BrokenNotifyOneQueue<int> q;
  std::atomic<int> started{0};
  ExitCounter exits;
  std::vector<std::thread> pool;
  start_blocked_callers<queue_shut_down>(
      pool, getters, started, [&](int) { (void)q.get(); }, [&exits](bool) { exits.exit_one(); });
  while (started.load() < getters) std::this_thread::yield();
  // Give the getters time to reach their wait (not synchronisation: a getter
  // that arrives after shutdown() just sees the flag; the figure counts
  // those stranded).
  for (int i = 0; i < 1000; ++i) std::this_thread::yield();
  q.shutdown();
  const int exited = exits.wait_for(getters, 2s);
  std::printf("stranded=%ld getters=%ld\n", getters - exited, getters);
  std::fflush(stdout);
  // Free the stranded: each further shutdown() wakes one more.
  while (exits.wait_for(getters, 0s) < getters) {
    q.shutdown();
    std::this_thread::yield();
  }
  for (auto& t : pool) t.join();
  return 0;
}

// A joiner thread that has never taken the queue's lock reads the count
// while the producer and consumer write it under the lock: with the fixed
// join() the read is under the lock; with the twin's it is a data race.
int broken_join_unlocked(long rounds) {
  for (int r = 0; r < rounds; ++r) {
    interleave::BrokenJoinUnlockedQueue<int> q;
    std::thread consumer([&] {
      for (int i = 0; i < 100; ++i) {
        (void)q.get();
        q.task_done();
      }
    });
    std::thread producer([&] {
      for (int i = 0; i < 100; ++i) q.put(i);
    });
    std::thread joiner([&] { q.join(); });
    producer.join();
    consumer.join();
    joiner.join();
  }
  std::printf("rounds=%ld\n", rounds);
  return 0;
}

int programs(long runs) {
  namespace pc = interleave::producer_consumer;
  const std::vector<long> expected = interleave::checks::fibonacci_upto(35);
  const long per = static_cast<long>(expected.size());
  int fixed_ok = 0, two_ok = 0, seed_early = 0, seed_delivered = 0;
  for (int r = 0; r < runs; ++r) {
    struct Sink {
      std::atomic<long> processed{0};
      std::vector<long> values;  // written by the one consumer only (seed, fixed)
      bool record = true;
      void operator()(const pc::Item& it) {
        if (record) values.push_back(it.value);
        processed.fetch_add(1);
      }
    } seed, s1, s2;
    s2.record = false;  // two consumers: count only
    long at_join = -1;
    pc::seed_program(35, seed, [&] { at_join = seed.processed.load(); });
    seed_early += at_join < per;
    seed_delivered += seed.values == expected;
    pc::fixed_program(35, s1, [&] { at_join = s1.processed.load(); });
    fixed_ok += at_join == per && s1.values == expected;
    pc::program_2x2(35, s2, [&] { at_join = s2.processed.load(); });
    two_ok += at_join == 2 * per;
  }
  std::printf("seed_early=%d seed_delivered=%d fixed_ok=%d two_by_two_ok=%d runs=%ld\n", seed_early,
              seed_delivered, fixed_ok, two_ok, runs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using interleave::stress::Args;
  using interleave::stress::variant;
  return interleave::stress::dispatch(
      "queue_stress", argc, argv,
      {{"mpmc", "<producers> <consumers> <items-per-producer> <maxsize>",
        [](Args& a) {
          const int producers = a.count("producers", 1, 1000);
          const int consumers = a.count("consumers", 1, 1000);
          const long per = a.integer("items-per-producer", 0, 10'000'000);
          return mpmc(producers, consumers, per, a.integer("maxsize", -1, 1'000'000));
        }},
       variant("shutdown_load", {"rounds", 1, 10'000}, shutdown_load),
       variant("broken_notify_one", {"getters", 2, 1000}, broken_notify_one),
       variant("broken_join_unlocked", {"rounds", 1, 1'000'000}, broken_join_unlocked),
       variant("programs", {"runs", 1, 100'000}, programs)});
}
