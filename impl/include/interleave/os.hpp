// interleave/os.hpp — the OS interface that process-level primitives are
// written against.
//
// Process, Pipe/Connection and the inter-process Queue are templates over an
// OS backend `Os`, exactly as thread primitives are templates over `Sync`.
// Two implementations exist: `posix_os` (interleave/posix_os.hpp, what users
// get) and a simulated OS on a sync backend (models/, what the model checkers
// run). Process-level impl code calls only `Os::` functions and uses only
// `Os::sync` primitives, so the same code runs on both.
//
// Requires of an implementation (the concept `OsBackend` below):
//   Processes
//     Os::spawn(body)          fork semantics: the child runs `body` in a new
//                              process holding copies of the caller's
//                              descriptors; body's return value is the exit
//                              code; an exception escaping body writes its
//                              message to the child's stderr and exits with 1.
//                              Returns the child's pid.
//     Os::wait(pid)            blocks until the child exits; reaps it
//     Os::try_wait(pid)        never blocks; reaps if it has exited
//     Os::wait_until(pid, t)   blocks until exit or deadline t on
//                              Os::sync::clock; reaps if it has exited
//     Os::kill(pid, sig)       SIGTERM / SIGKILL (<csignal>); a zombie may be
//                              signalled; a reaped pid is an error
//     Os::self()               the caller's pid
//   Pipes (close-on-exec on POSIX)
//     Os::pipe()               {read end, write end}
//     Os::read(fd, buf)        blocks until >= 1 byte; 0 is end-of-file (no
//                              write end open in any process)
//     Os::write(fd, bytes)     blocks while full; writes of <= Os::pipe_buf
//                              bytes are atomic, larger ones may interleave
//                              with other writers; with no reader left it
//                              throws os_error(EPIPE) naming the fd: SIGPIPE
//                              never kills the caller
//     Os::close(fd)
//     Os::poll(fds, t)         marks each ready fd (readable, or end-of-file /
//                              hang-up) and returns how many are; t ==
//                              time_point::max() waits forever
//   Constants: Os::pipe_buf, Os::pipe_capacity, Os::name.
//
// Exit codes follow Python's Process.exitcode: >= 0 the code of a child that
// returned or exited, -N a child killed by signal N.
//
// Errors of OS calls are os_error (a std::system_error with an errno-style
// code) whose what() names the call and the descriptor or pid ("read: fd 7
// is not open in process 2", "kill: pid 4711 already reaped").
//
// Time: `Os::sync::clock` is the monotonic clock; timeouts become deadlines
// through interleave/deadline.hpp, as in every thread primitive. Threads
// inside a process (the Queue's feeder) are `Os::sync::thread`.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "interleave/sync.hpp"

namespace interleave {

// Python's Process.exitcode convention everywhere: >= 0 the exit code of a
// child that returned/exited; -N a child killed by signal N.
using exit_code = int;

// Errors of OS calls: what() names the call and the descriptor or pid.
struct os_error : std::system_error {
  using std::system_error::system_error;
};

// One descriptor of a poll: `ready` is set when it is readable, or at
// end-of-file / hang-up (a read would not block).
struct poll_fd {
  int fd;
  bool ready = false;
};

template <class Os>
concept OsBackend =
    SyncBackend<typename Os::sync> &&
    requires(std::function<int()> body, int pid, int fd, int sig, std::span<std::byte> in,
             std::span<const std::byte> out, std::span<poll_fd> fds,
             typename Os::sync::clock::time_point deadline) {
      // Processes.
      { Os::spawn(std::move(body)) } -> std::same_as<int>;
      { Os::wait(pid) } -> std::same_as<exit_code>;
      { Os::try_wait(pid) } -> std::same_as<std::optional<exit_code>>;
      { Os::wait_until(pid, deadline) } -> std::same_as<std::optional<exit_code>>;
      { Os::kill(pid, sig) } -> std::same_as<void>;
      { Os::self() } -> std::same_as<int>;
      // Pipes.
      { Os::pipe() } -> std::same_as<std::pair<int, int>>;
      { Os::read(fd, in) } -> std::same_as<std::size_t>;
      { Os::write(fd, out) } -> std::same_as<void>;
      { Os::close(fd) } -> std::same_as<void>;
      { Os::poll(fds, deadline) } -> std::same_as<std::size_t>;
      { Os::pipe_buf } -> std::convertible_to<std::size_t>;
      { Os::pipe_capacity } -> std::convertible_to<std::size_t>;
      { Os::name } -> std::convertible_to<std::string_view>;
    };

}  // namespace interleave
