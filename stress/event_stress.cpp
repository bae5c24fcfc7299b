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
  std::printf("woken=%ld expected=%ld\n", run<Ev>(static_cast<int>(waiters), rounds), waiters * rounds);
  return interleave::stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  using stress::variant;
  const stress::Param waiters{"waiters", 1, 256}, rounds{"rounds", 0, 10'000'000};
  return stress::dispatch("event_stress", argc, argv,
                          {variant("fixed", waiters, rounds, wake<Event<>>),
                           variant("broken_unlocked_check", waiters, rounds, wake<BrokenUnlockedCheckEvent<>>)});
}
