// interleave/interleavings.hpp — the seed's "Swapping multiple threads"
// program: Obi-Wan prints 4 lines and Anakin 3, each pausing after every
// line; the scheduler decides how the two streams merge.
//
// Seed scenario: "Swapning multiple threads" (starwars.py).
//
// Requires: the registry outlives the call; `pause` is a callable run after
//   every line (the seed's sleep(0.2 * random()); a scheduling point in
//   models).
// Guarantees: starwars() returns after both threads have been joined; the
//   log then holds each thread's lines in its own order, merged in some
//   order: one of the C(7,3) = 35 merges, and nothing else (every line is
//   printed whole, under the log's lock). lines() and size() may be called
//   while writers still print: each returns a snapshot, a prefix of every
//   later one (Python's list of printed lines read mid-run).
// Memory ordering: print(), lines() and size() synchronise through the log's
//   mutex; lines() after the joins sees every line.
//
// Broken twin: BrokenUnlockedSizeLineLog<Sync> (linelog_bug::unlocked_size)
//   reads the line count in size() without the lock (a "cheap" read-only
//   accessor): a data race with a print() still running.
// Destruction: no thread may be inside print().
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "interleave/sync.hpp"
#include "interleave/thread.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// Which log: the fixed one, or the broken twin (see the header comment).
enum class linelog_bug { none, unlocked_size };

// A shared output: whole lines, appended under a lock (Python's print of one
// line).
template <SyncBackend Sync = std_sync, linelog_bug Bug = linelog_bug::none>
class BasicLineLog {
 public:
  void print(std::string line) INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    lines_.push_back(std::move(line));
    count_.store(count_.load() + 1);  // interleave:race-write interleavings.broken_unlocked_size
  }
  std::vector<std::string> lines() const INTERLEAVE_EXCLUDES(mu_) {
    std::unique_lock<typename Sync::mutex> lk(mu_);
    return lines_;
  }
  // Lines printed so far (a snapshot).
  [[nodiscard]] std::size_t size() const INTERLEAVE_EXCLUDES(mu_) {
    if constexpr (Bug == linelog_bug::unlocked_size) {
      return unguarded_count();  // interleave:race-read interleavings.broken_unlocked_size
    } else {
      std::unique_lock<typename Sync::mutex> lk(mu_);
      return count_.load();
    }
  }

 private:
  // The twin's unguarded read (the analysis is told it is deliberate).
  std::size_t unguarded_count() const INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS { return count_.load(); }

  mutable typename Sync::mutex mu_;
  std::vector<std::string> lines_ INTERLEAVE_GUARDED_BY(mu_);
  typename Sync::template var<std::size_t> count_ INTERLEAVE_GUARDED_BY(mu_){0};
};

template <SyncBackend Sync = std_sync>
using LineLog = BasicLineLog<Sync, linelog_bug::none>;
// The broken twin (see the header comment). Kept on purpose: its checks must
// fail.
template <SyncBackend Sync = std_sync>
using BrokenUnlockedSizeLineLog = BasicLineLog<Sync, linelog_bug::unlocked_size>;

inline std::string hello_line(const std::string& name, int count) {
  return "Hello from " + name + "! (" + std::to_string(count) + ")";
}

// The seed's program.
template <SyncBackend Sync, class Pause>
void starwars(ThreadRegistry<Sync>& registry, LineLog<Sync>& out, Pause pause, int obi_lines = 4,
              int ani_lines = 3) {
  auto run = [&registry, &out, &pause](int n) {
    Thread<Sync>* t = registry.current_thread();
    for (int count = 0; count < n; ++count) {
      out.print(hello_line(t->name(), count));
      pause();
    }
  };
  Thread<Sync> obi(registry, [&run, obi_lines] { run(obi_lines); }, "Obi-Wan");
  Thread<Sync> ani(registry, [&run, ani_lines] { run(ani_lines); }, "Anakin");
  obi.start();
  ani.start();
  obi.join();
  ani.join();
}

// If `lines` is a merge of Obi-Wan's obi_lines lines and Anakin's ani_lines
// lines, each in its own order: the bit mask of the positions Anakin
// printed (bit i = line i). Otherwise -1.
inline long merge_mask(const std::vector<std::string>& lines, int obi_lines = 4,
                       int ani_lines = 3) {
  if (lines.size() != static_cast<std::size_t>(obi_lines + ani_lines) || lines.size() > 62)
    return -1;
  int obi = 0, ani = 0;
  long mask = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (obi < obi_lines && lines[i] == hello_line("Obi-Wan", obi)) {
      ++obi;
    } else if (ani < ani_lines && lines[i] == hello_line("Anakin", ani)) {
      ++ani;
      mask |= 1L << i;
    } else {
      return -1;
    }
  }
  return mask;
}

}  // namespace interleave
