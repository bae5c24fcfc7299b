// stress/counter_stress.cpp — the shared counter under load, built with
// ThreadSanitizer. Run by counter_stress_test.cpp, which reads its output.
//
//   counter_stress <racy_plain|racy_relaxed|locked|atomic> <threads> <increments>
//
// Prints "counted=<value> expected=<threads*increments>". The racy variants
// yield between their read and their write-back (the seed's randsleep(),
// shortened), so the lost update shows up under load instead of by luck.
#include <interleave/counter.hpp>

#include <cstdio>
#include <thread>

#include "stress_main.hpp"
#include "workloads.hpp"

namespace {

template <class Counter, class Pause>
int count(long threads, long incs, Pause pause) {
  const long counted =
      interleave::checks::run_counter<Counter>(static_cast<int>(threads), incs, pause);
  std::printf("counted=%ld expected=%ld\n", counted, threads * incs);
  return interleave::stress::kExitOk;
}

const auto yield = [] { std::this_thread::yield(); };

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  using stress::variant;
  const stress::Param threads{"threads", 1, 1024}, incs{"increments", 0, 100'000'000};
  return stress::dispatch(
      "counter_stress", argc, argv,
      {variant("racy_plain", threads, incs,
               [](long t, long n) { return count<RacyCounter<>>(t, n, yield); }),
       variant("racy_relaxed", threads, incs,
               [](long t, long n) { return count<RelaxedRacyCounter<>>(t, n, yield); }),
       variant("locked", threads, incs,
               [](long t, long n) { return count<LockedCounter<>>(t, n, no_pause{}); }),
       variant("atomic", threads, incs,
               [](long t, long n) { return count<AtomicCounter<>>(t, n, no_pause{}); })});
}
