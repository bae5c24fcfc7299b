// process_counts.hpp — what a process-level check counts before and after a
// run to prove that nothing leaked: this process's open descriptors and its
// children not yet reaped. Shared by the property tests and the stress
// binaries of the process, ipc, process_pool and timeout scenarios.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>

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

}  // namespace interleave::process_counts
