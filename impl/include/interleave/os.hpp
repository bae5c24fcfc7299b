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
//     Os::try_read(fd, buf)    never blocks: the bytes read (>= 1), 0 at
//                              end-of-file, std::nullopt when the pipe is
//                              empty and a write end is open
//   Process-shared locks (a lock in memory shared with every child spawned
//   after its creation; not across an exec: Os::spawn only)
//     Os::shm_lock_create()    a new, unlocked lock with a note of 0
//     Os::shm_lock_until(l, t) locks l for the calling thread, or gives up at
//                              deadline t (time_point::max() waits for ever):
//                              lock_status::acquired, timed_out, or
//                              owner_died: the lock is now the caller's, and
//                              its previous owner died holding it (its
//                              process was killed, or its thread ended); the
//                              lock is usable again, and the note says what
//                              the dead owner left
//     Os::shm_unlock(l)        by the thread that holds it (else os_error)
//     Os::shm_note(l)          a 64-bit word in the lock's shared memory, for
//                              its holder only: the state the protected data
//                              is in, readable by the next holder even when
//                              the previous one died
//     Os::shm_lock_destroy(l)  by the process that created it, unlocked
//   Shared memory blocks (shared with every child spawned after the block's
//   creation; not across an exec: Os::spawn only)
//     Os::shm_block_create(n)  a block of n >= 1 bytes, all zero
//     Os::shm_store(b, off, bytes)  copies bytes into the block at off. One
//                              process's stores land in program order; a
//                              kill may cut a store short, so a reader after
//                              the writer's death sees a prefix of its
//                              stores, the last one possibly in part
//     Os::shm_load(b, off, out)  copies out of the block. Meant for bytes
//                              whose writers have ended (been reaped): bytes
//                              stored meanwhile may be read torn
//     Os::shm_block_destroy(b)  by the process that created it
//     A range outside the block is std::out_of_range naming it.
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
#include <cstdint>
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

// What Os::shm_lock_until did.
enum class lock_status {
  acquired,    // locked; the previous owner unlocked it
  owner_died,  // locked; the previous owner died holding it (see its note)
  timed_out,   // not locked: the deadline passed first
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
      { Os::try_read(fd, in) } -> std::same_as<std::optional<std::size_t>>;
      { Os::close(fd) } -> std::same_as<void>;
      { Os::poll(fds, deadline) } -> std::same_as<std::size_t>;
      // Process-shared locks.
      { Os::shm_lock_create() } -> std::same_as<typename Os::shm_lock>;
      requires requires(typename Os::shm_lock l) {
        { Os::shm_lock_until(l, deadline) } -> std::same_as<lock_status>;
        { Os::shm_unlock(l) } -> std::same_as<void>;
        { Os::shm_note(l) } -> std::same_as<std::uint64_t&>;
        { Os::shm_lock_destroy(l) } -> std::same_as<void>;
      };
      // Shared memory blocks.
      { Os::shm_block_create(std::size_t{1}) } -> std::same_as<typename Os::shm_block>;
      requires requires(typename Os::shm_block b, std::size_t offset) {
        { Os::shm_store(b, offset, out) } -> std::same_as<void>;
        { Os::shm_load(b, offset, in) } -> std::same_as<void>;
        { Os::shm_block_destroy(b) } -> std::same_as<void>;
      };
      { Os::pipe_buf } -> std::convertible_to<std::size_t>;
      { Os::pipe_capacity } -> std::convertible_to<std::size_t>;
      { Os::name } -> std::convertible_to<std::string_view>;
    };

}  // namespace interleave
