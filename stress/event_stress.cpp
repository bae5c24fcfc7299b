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
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "stress_args.hpp"

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

using interleave::stress::parse;

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc != 4)
      throw std::invalid_argument("usage: event_stress <fixed|broken_unlocked_check> <waiters> <rounds>");
    const std::string variant = argv[1];
    const int waiters = static_cast<int>(parse(argv[2], "waiters", 1, 256));
    const long rounds = parse(argv[3], "rounds", 0, 10'000'000);
    long woken;
    if (variant == "fixed")
      woken = run<interleave::Event<>>(waiters, rounds);
    else if (variant == "broken_unlocked_check")
      woken = run<interleave::BrokenUnlockedCheckEvent<>>(waiters, rounds);
    else
      throw std::invalid_argument("variant must be fixed or broken_unlocked_check, not '" + variant + "'");
    std::printf("woken=%ld expected=%ld\n", woken, waiters * rounds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "event_stress: %s\n", e.what());
    return 2;
  }
}
