// stress/event_stress.cpp — the event under load, built with ThreadSanitizer.
// Run by event_stress_test.cpp, which reads its output.
//
//   event_stress <fixed|broken_unlocked_check> <waiters> <rounds>
//
// One setter and <waiters> waiter threads go through <rounds> events in
// order: in round r every waiter waits on event r, and the setter sets event
// r, as fast as it can, so waiters arrive both before and after the set().
// Prints
// "woken=<total wait() returns> expected=<waiters*rounds>".
//
//   event_stress <publish_fixed|publish_broken_relaxed_flag> <readers> <rounds>
//
// Round r: the setter writes payload r (plain memory) and sets event r;
// every reader spins on is_set() of event r, then reads the payload. Prints
// "read=<payloads read> expected=<readers*rounds> stale=<payloads not yet
// written when read>". On the fixed event is_set()'s acquire orders the
// read after the write; on the relaxed twin TSan reports the race.
#include <interleave/event.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stress_main.hpp"

namespace {

template <class Ev>
long run(int waiters, long rounds) {
  std::vector<std::unique_ptr<Ev>> events;
  for (long r = 0; r < rounds; ++r) events.push_back(std::make_unique<Ev>());
  std::atomic<long> woken{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < waiters; ++w)
    pool.emplace_back([&] {
      for (long r = 0; r < rounds; ++r)
        if (events[static_cast<size_t>(r)]->wait()) woken.fetch_add(1, std::memory_order_relaxed);
    });
  std::thread setter([&] {
    for (long r = 0; r < rounds; ++r) {
      events[static_cast<size_t>(r)]->set();
    }
  });
  setter.join();
  for (auto& t : pool) t.join();
  return woken.load();
}

template <class Ev>
int wake(long waiters, long rounds) {
  std::printf("woken=%ld expected=%ld\n", run<Ev>(static_cast<int>(waiters), rounds),
              waiters * rounds);
  return interleave::stress::kExitOk;
}

template <class Ev>
int publish(long readers, long rounds) {
  std::vector<std::unique_ptr<Ev>> events;
  std::vector<long> payload(static_cast<size_t>(rounds), 0);  // plain data the event publishes
  for (long r = 0; r < rounds; ++r) events.push_back(std::make_unique<Ev>());
  std::atomic<long> read{0}, stale{0};
  std::vector<std::thread> pool;
  for (long w = 0; w < readers; ++w)
    pool.emplace_back([&] {
      for (long r = 0; r < rounds; ++r) {
        while (!events[static_cast<size_t>(r)]->is_set()) std::this_thread::yield();
        if (payload[static_cast<size_t>(r)] != r + 1) stale.fetch_add(1, std::memory_order_relaxed);
        read.fetch_add(1, std::memory_order_relaxed);
      }
    });
  std::thread setter([&] {
    for (long r = 0; r < rounds; ++r) {
      payload[static_cast<size_t>(r)] = r + 1;
      events[static_cast<size_t>(r)]->set();
    }
  });
  setter.join();
  for (auto& t : pool) t.join();
  std::printf("read=%ld expected=%ld stale=%ld\n", read.load(), readers * rounds, stale.load());
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  using stress::variant;
  const stress::Param waiters{"waiters", 1, 256}, rounds{"rounds", 0, 10'000'000};
  return stress::dispatch(
      "event_stress", argc, argv,
      {variant("fixed", waiters, rounds, wake<Event<>>),
       variant("broken_unlocked_check", waiters, rounds, wake<BrokenUnlockedCheckEvent<>>),
       variant("publish_fixed", waiters, rounds, publish<Event<>>),
       variant("publish_broken_relaxed_flag", waiters, rounds, publish<BrokenRelaxedFlagEvent<>>)});
}
