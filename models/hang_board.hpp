// models/hang_board.hpp — what each model thread is blocked in, in words, for
// a checker's deadlock verdict.
//
// A checker sees a hang as "every thread waits": Relacy says DEADLOCK, the
// DPOR checker names the condition variable each thread waits on. Neither
// knows *why* a wait can never end when the wait is inside a simulated OS
// call (a read whose end-of-file is impossible because the reader's own
// process still holds the write end). The simulated OS (sim_os.hpp) writes
// that reason here, one line per blocked thread, keeps it current while the
// thread waits, and clears it when the wait ends; every checker adapter
// appends `describe()` to the detail of a deadlock verdict and calls
// `reset()` before each search.
//
// The board is static, fixed-size, and never allocates: it is written from
// inside an execution (whose heap a checker may track) and read after the
// execution has been torn down. Slots are model thread indices
// (Sync::thread_index()); a thread index past the board is not recorded.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

namespace interleave::models::hang {

inline constexpr std::size_t kSlots = 32;
inline constexpr std::size_t kText = 400;

struct Board {
  bool used[kSlots] = {};
  char text[kSlots][kText] = {};
};

inline Board& board() {
  static Board b;
  return b;
}

inline void set(std::size_t slot, const char* text) {
  if (slot >= kSlots) return;
  Board& b = board();
  b.used[slot] = true;
  std::snprintf(b.text[slot], kText, "%s", text);
}

inline void clear(std::size_t slot) {
  if (slot < kSlots) board().used[slot] = false;
}

inline void reset() {
  Board& b = board();
  for (std::size_t i = 0; i < kSlots; ++i) b.used[i] = false;
}

// Every recorded line, "; "-separated; empty when no thread is blocked in an
// OS call.
inline std::string describe() {
  const Board& b = board();
  std::string s;
  for (std::size_t i = 0; i < kSlots; ++i) {
    if (!b.used[i]) continue;
    if (!s.empty()) s += "; ";
    s += b.text[i];
  }
  return s;
}

}  // namespace interleave::models::hang
