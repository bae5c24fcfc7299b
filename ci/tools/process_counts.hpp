// process_counts.hpp — what a process-level check counts before and after a
// run to prove that nothing leaked: this process's open descriptors, its
// children not yet reaped, and its shared memory mappings. Shared by the property tests and the stress
// binaries of the process, ipc, process_pool and timeout scenarios.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

namespace interleave::process_counts {

// The descriptors open in this process (/proc/self/fd), not counting the
// one the directory iterator itself holds.
inline int open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n - 1;
}

// Reaps every exited child nobody had waited for and counts them, plus one
// if a child is still running: 0 means no child is left.
inline int unreaped() {
  int n = 0, status = 0;
  for (;;) {
    const pid_t r = ::waitpid(-1, &status, WNOHANG);
    if (r > 0) {
      ++n;  // an exited child nobody had reaped
      continue;
    }
    if (r == 0) ++n;  // a child still running
    return n;
  }
}

// True when this process has no child left to reap (none exited unwaited,
// none running); reaps nothing while one is running.
inline bool no_child_left() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

// The shared anonymous mappings of this process: the lines of
// /proc/self/maps naming "/dev/zero (deleted)", as the kernel shows
// MAP_SHARED | MAP_ANONYMOUS memory (a shared memory block, a shared lock's
// page). One never unmapped, or a kept block mapped again, shows as one more.
// Other mappings are not counted: allocators and sanitizer runtimes map and
// unmap memory of their own.
inline int shared_mappings() {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);)
    n += line.find("/dev/zero (deleted)") != std::string::npos;
  return n;
}

}  // namespace interleave::process_counts
