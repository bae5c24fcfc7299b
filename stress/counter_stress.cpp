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

using interleave::stress::Args;

template <class Counter, class Pause>
interleave::stress::Variant variant(const char* name, Pause pause) {
  return {name, "<threads> <increments>", [pause](Args& a) {
            const int threads = a.count("threads", 1, 1024);
            const long incs = a.integer("increments", 0, 100'000'000);
            const long counted = interleave::checks::run_counter<Counter>(threads, incs, pause);
            std::printf("counted=%ld expected=%ld\n", counted, threads * incs);
            return interleave::stress::kExitOk;
          }};
}

const auto yield = [] { std::this_thread::yield(); };

}  // namespace

int main(int argc, char** argv) {
  using namespace interleave;
  return stress::dispatch("counter_stress", argc, argv,
                          {variant<RacyCounter<>>("racy_plain", yield),
                           variant<RelaxedRacyCounter<>>("racy_relaxed", yield),
                           variant<LockedCounter<>>("locked", no_pause{}),
                           variant<AtomicCounter<>>("atomic", no_pause{})});
}
