// models/dpor/vector_clock.hpp — a vector clock over the model threads of one
// execution.
//
// Two clocks per thread use this type (as loom keeps `causality` and
// `dpor_vv`): the *dependence* clock of every event (program order joined
// with every earlier dependent event, the happens-before of the Mazurkiewicz
// trace that source-set DPOR reasons about) and the *causality* clock of the
// C++ memory model (only synchronising edges: unlock->lock, release->acquire,
// start, join, notify->woken waiter), against which `var<T>` accesses are
// race-checked in the manner of FastTrack (Flanagan & Freund, PLDI'09).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace interleave::dpor {

// Model threads per execution (main thread included).
inline constexpr unsigned kMaxThreads = 16;

struct VectorClock {
  std::array<std::uint32_t, kMaxThreads> c{};

  void join(const VectorClock& o) noexcept {
    for (unsigned i = 0; i < kMaxThreads; ++i) c[i] = std::max(c[i], o.c[i]);
  }
  // Whether the clock knows event number `seq` of thread `tid`.
  [[nodiscard]] bool covers(unsigned tid, std::uint32_t seq) const noexcept {
    return c[tid] >= seq;
  }
  void clear() noexcept { c.fill(0); }
};

}  // namespace interleave::dpor
