// interleave/posix_os.hpp — the OS interface (interleave/os.hpp) on POSIX
// (Linux): what users of Process, Pipe and the inter-process Queue get.
//
//   spawn       fork(); the child runs the body and leaves with _exit(code).
//               The body is taken as a template (no std::function): nothing
//               is allocated around the fork, so neither process writes a
//               heap page for it (every page either process writes while
//               both live is a copy-on-write fault). stdout and stderr
//               are flushed before the fork and by the child before _exit
//               (Python's multiprocessing does the same); other streams are
//               not flushed by the child (see flush_standard_streams)
//   wait        waitpid (EINTR retried)
//   try_wait    waitpid(WNOHANG)
//   wait_until  pidfd_open(pid) + poll(pidfd, time left): the pidfd becomes
//               readable when the child exits, so the wait sleeps in the
//               kernel and wakes at exit or deadline, no polling loop. A
//               kernel without pidfd_open (< 5.3, ENOSYS) falls back to
//               try_wait every millisecond until the deadline (documented
//               alternative; Debian 12's kernel has pidfd_open).
//   kill        kill(2)
//   pipe        pipe2(O_CLOEXEC): a descriptor never leaks into an exec'd
//               program; forked children inherit it, as fork semantics say
//   read/write  EINTR retried; write loops over partial writes
//   write_own_pipe  (optional in the interface) write to a pipe whose read
//               end the caller holds: EPIPE cannot happen, so no signal
//               mask is touched (the Queue returns its tokens with it)
//   poll        poll(2) with the time left recomputed after EINTR
//   try_read    preadv2(RWF_NOWAIT): a read that never blocks, without
//               touching the descriptor's flags (which every process holding
//               it shares); a kernel without RWF_NOWAIT on pipes
//               (EOPNOTSUPP) falls back to poll(0) and read, which can only
//               block if another reader takes the bytes in between
//   shm_lock    a pthread mutex, PTHREAD_PROCESS_SHARED and
//               PTHREAD_MUTEX_ROBUST, with its 64-bit note, in a page mapped
//               MAP_SHARED | MAP_ANONYMOUS: every child forked after its
//               creation shares it (a program re-executed by spawn_entry
//               does not: exec drops the mapping, and no call passes it).
//               Timed locks are pthread_mutex_clocklock(CLOCK_MONOTONIC),
//               the clock of std::chrono::steady_clock. EOWNERDEAD (the
//               owner's thread ended, or its process died, holding it) is
//               returned as lock_status::owner_died after
//               pthread_mutex_consistent, so the lock stays usable and the
//               caller decides from the note what the death left broken.
//               shm_lock_destroy unmaps the page in the calling process
//               (children keep their mappings until they exit).
//   shm_block   bytes after a small head in one mapping, MAP_SHARED |
//               MAP_ANONYMOUS | MAP_NORESERVE: shared with every child forked
//               after its creation, backed by memory only where touched.
//               Each process keeps its first block and hands it out again
//               after shm_block_destroy, zeroed (the first page by memset,
//               later pages given back with MADV_REMOVE), so creating and
//               destroying a block per child costs no mmap, munmap or fault.
//               shm_load is memcpy; shm_store is memcpy, or an inline copy
//               for at most 64 bytes (see copy_bytes), and raises the
//               block's high-water mark (what a reuse must zero) before
//               its bytes
//   self        getpid() cached per thread, cleared in each child by a
//               pthread_atfork handler (a child made by a raw clone/vfork,
//               which skips the handlers, is not supported)
//
// SIGPIPE never kills: write() blocks SIGPIPE in the calling thread for the
// duration of the write (pthread_sigmask; not restored, and sigpending not
// asked, when it was blocked already), and when the write fails with
// EPIPE it consumes the SIGPIPE the kernel queued for that thread
// (sigtimedwait with a zero timeout) before restoring the mask, then throws
// os_error(EPIPE) naming the fd. The process-wide disposition of SIGPIPE is
// never changed (a user's handler or SIG_IGN stays as it is).
//
// fork() in a multithreaded process is unsafe: the child holds a copy of
// every lock any other thread held at the moment of fork (malloc's, stdio's,
// the program's), and POSIX allows only async-signal-safe calls until exec.
// spawn() counts the threads of this process (/proc/self/task) and, when
// there are more than one, refuses with os_error(ENOTSUP) whose message names
// the safe start method below. The count cannot race: only the calling thread
// could start another one, and it is in spawn(). A program that never called
// pthread_create is known single-threaded without the count (glibc's
// __libc_single_threaded); a thread made by a raw clone, which glibc does
// not see, is then not counted.
//
// Under ThreadSanitizer the runtime starts a background thread of its own at
// the first pthread_create, and it stays for the life of the process
// (measured with clang-19: /proc/self/task shows 1 before any thread, 2 with
// one user thread, still 2 after that thread was joined). So under TSan a
// process that has ever started a thread (a Queue's feeder, say) is refused
// by spawn() from then on; start children first, or use spawn_entry().
//
// The safe start method: re-executing this program with a registered entry
// point (Python's "spawn" start method), chosen over a fork server because
// the child is then a real child of the caller: waitpid, kill, pidfd and
// exit statuses work exactly as for a forked child, and there is no
// long-lived server process whose status relay, descriptor passing and own
// death would need their own protocol. posix_spawn (clone with CLONE_VFORK,
// then exec) is safe in a multithreaded process. The cost is an exec (a fresh
// program image) per child, and two requirements on the program:
//
//   INTERLEAVE_ENTRY_POINT(my_worker)  // int my_worker(std::span<const std::byte> args,
//                                      //               std::span<const int> fds)
//   int main(int argc, char** argv) {
//     posix_os::run_entry_point_if_requested(argc, argv);  // first thing
//     ...
//     int pid = posix_os::spawn_entry("my_worker", args, {fd});
//   }
//
// The child gets the bytes `args` and the descriptors `fds` (same numbers,
// inherited across exec), runs the entry point and exits with its return
// value (1, message on stderr, if it throws). Everything else starts fresh.
//
// Requires: pids passed to wait/try_wait/wait_until/kill are children of
//   this process that no one else reaps (a waitpid(-1) elsewhere would take
//   their status); fds are open.
// Guarantees: every error is an os_error naming the call and the pid or fd;
//   no call leaks a descriptor (the pidfd of wait_until is closed on every
//   path) or leaves a child unreaped that it reaped the status of.
// Seed scenarios: "Starting a process", "Stopping a process",
//   "Inter-process communication with queues".
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "interleave/os.hpp"
#include "interleave/sync.hpp"

extern char** environ;

namespace interleave {

namespace detail {

[[noreturn]] inline void throw_os(int err, const std::string& what) {
  throw os_error(std::error_code(err, std::generic_category()), what);
}

// The number of threads of this process. procfs gives /proc/self/task a
// link count of 2 + the number of threads: one stat call; a kernel that does
// not (a count below 3) has the directory's entries counted instead.
inline int thread_count() {
  struct stat st;
  if (::stat("/proc/self/task", &st) == 0 && st.st_nlink >= 3)
    return static_cast<int>(st.st_nlink - 2);
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr)
    throw_os(errno, "spawn: cannot count this process's threads in /proc/self/task");
  int n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

// This process's pid without a getpid() syscall per call: cached per thread,
// set by the thread's first call, and cleared in a forked child by a
// pthread_atfork handler (fork() runs it in the forking thread, the child's
// only thread), so the child's first call asks getpid() again (an exec
// starts a fresh cache). Per thread rather than process-wide: the forking
// thread's TLS block lies next to its thread control block, which the
// kernel and fork() write in every child anyway, so clearing it copies no
// page of its own, and a child that never asks pays no getpid(); a
// process-wide cache refreshed at fork cost every forked child a page fault
// and a getpid().
inline constinit thread_local int cached_pid = 0;
inline void forget_pid() noexcept { cached_pid = 0; }
inline int current_pid() noexcept {
  [[maybe_unused]] static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, &forget_pid);
    return true;
  }();
  if (cached_pid == 0) cached_pid = ::getpid();
  return cached_pid;
}

// True when this process certainly runs one thread: glibc's
// __libc_single_threaded (set false by the first pthread_create, and never
// back) saves the count's stat call in a program that never started a thread.
inline bool surely_single_threaded() noexcept {
#if __has_include(<sys/single_threaded.h>)
  return __libc_single_threaded != 0;
#else
  return false;
#endif
}

// Writes all of `out` to fd, retrying after EINTR and partial writes; 0, or
// the errno that stopped it.
inline int write_all(int fd, std::span<const std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (errno != EINTR) return errno;
  }
  return 0;
}

// A failed write as an os_error naming the descriptor.
[[noreturn]] inline void throw_write(int fd, int err) {
  if (err == EPIPE)
    throw_os(EPIPE, "write: fd " + std::to_string(fd) + ": no reader left (broken pipe)");
  if (err == EBADF) throw_os(EBADF, "write: fd " + std::to_string(fd) + " is not open for writing");
  throw_os(err, "write: fd " + std::to_string(fd));
}

// waitpid's status as an exit code: >= 0 exited, -N killed by signal N.
inline exit_code decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return 255;  // not reachable without WUNTRACED / WCONTINUED
}

// Writes the message of an exception escaping a child's body to stderr with
// write(2) only (the child may not trust stdio's state), then returns 1.
inline int report_child_exception(std::string_view message) {
  const std::string line = "interleave: exception in child process " + std::to_string(::getpid()) +
                           ": " + std::string(message) + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return 1;
}

// _exit, called through its address. A forked child that calls _exit
// through the lazily bound PLT resolves it on that call (the parent never
// calls _exit, so its PLT slot is still unresolved): the dynamic linker looks
// it up through the symbol tables of every loaded library, faulting their
// pages in and writing the GOT, in every child again, since the resolution
// dies with the child (measured: about ten of the child's page faults). Taking
// _exit's address makes the linker bind it at load time instead (a GOT
// entry, not a lazy PLT slot); the volatile keeps the compiler from turning
// the call back into a direct one. Under eager binding (-z now) nothing
// changes.
inline void (*const volatile child_exit)(int) = &::_exit;

// The standard streams, flushed before a fork and by the child before it
// leaves, as Python's multiprocessing flushes sys.stdout and sys.stderr: what
// the parent buffered in them is written once (not again by the child), and
// what the child printed to them is written before it ends. Other streams are
// left alone: the child leaves with _exit, as Python's child leaves with
// os._exit, so a FILE the child opened is its to flush or close. Each stream
// is flushed only when it holds buffered output (read without its lock):
// fflush(nullptr) locks the list of streams and every stream, writes to
// library pages that every forked child then copies (measured: five page
// faults per spawn, parent and child together, about a tenth of a bare
// fork + exit + wait). The unlocked read is race-free in the parent (spawn
// refuses a multithreaded process) and in the child unless its body left
// threads running, whose output _exit would cut short anyway.
//
// With glibc the check reads the stream's own fields: glibc's FILE is public
// (bits/types/struct_FILE.h), and a byte-oriented stream's buffered output
// lies between _IO_write_base and _IO_write_ptr, the two fields __fpending
// subtracts. Calling __fpending instead costs every forked child a page
// fault on the page of libc's code it lies on. A wide-oriented stream
// (_mode > 0) buffers elsewhere: __fpending answers for it.
inline bool holds_output(FILE* f) {
#if defined(__GLIBC__)
  if (f->_mode <= 0) return f->_IO_write_ptr > f->_IO_write_base;
#endif
  return __fpending(f) > 0;
}
inline void flush_standard_streams() {
  if (holds_output(stdout)) std::fflush(stdout);
  if (holds_output(stderr)) std::fflush(stderr);
}

// Runs a child's body; never returns.
template <class Body>
[[noreturn]] void run_child(Body& body) {
  int code = 1;
  try {
    code = body();
  } catch (const std::exception& e) {
    code = report_child_exception(e.what());
  } catch (...) {
    code = report_child_exception("an exception not derived from std::exception");
  }
  flush_standard_streams();
  child_exit(code & 0xff);
  std::abort();  // not reached: _exit does not return
}

// The process-shared robust mutex of posix_os::shm_lock. Relacy's pthread.hpp
// (in model builds that also include this header) renames pthread's mutex
// names with macros; this block means the real ones.
#pragma push_macro("pthread_mutex_t")
#pragma push_macro("pthread_mutexattr_t")
#pragma push_macro("pthread_mutexattr_init")
#pragma push_macro("pthread_mutexattr_destroy")
#pragma push_macro("pthread_mutex_init")
#pragma push_macro("pthread_mutex_lock")
#pragma push_macro("pthread_mutex_unlock")
#undef pthread_mutex_t
#undef pthread_mutexattr_t
#undef pthread_mutexattr_init
#undef pthread_mutexattr_destroy
#undef pthread_mutex_init
#undef pthread_mutex_lock
#undef pthread_mutex_unlock
struct shm_lock_page {
  pthread_mutex_t mutex;
  std::uint64_t note;
};

inline shm_lock_page* shm_lock_create() {
  void* mem = ::mmap(nullptr, sizeof(shm_lock_page), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw_os(errno, "shm_lock_create: mmap of a shared page");
  auto* page = static_cast<shm_lock_page*>(mem);
  pthread_mutexattr_t attr;
  int e = ::pthread_mutexattr_init(&attr);
  if (e == 0) e = ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  if (e == 0) e = ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (e == 0) e = ::pthread_mutex_init(&page->mutex, &attr);
  ::pthread_mutexattr_destroy(&attr);
  if (e != 0) {
    ::munmap(mem, sizeof(shm_lock_page));
    throw_os(e, "shm_lock_create: a process-shared robust mutex");
  }
  page->note = 0;
  return page;
}

// Locks `l` (until *deadline on CLOCK_MONOTONIC, or for ever when null).
inline lock_status shm_lock_wait(shm_lock_page* l, const timespec* deadline) {
  const int e = deadline == nullptr
                    ? ::pthread_mutex_lock(&l->mutex)
                    : ::pthread_mutex_clocklock(&l->mutex, CLOCK_MONOTONIC, deadline);
  if (e == 0) return lock_status::acquired;
  if (e == ETIMEDOUT) return lock_status::timed_out;
  if (e == EOWNERDEAD) {
    if (const int c = ::pthread_mutex_consistent(&l->mutex); c != 0)
      throw_os(c, "shm_lock_until: pthread_mutex_consistent after EOWNERDEAD");
    return lock_status::owner_died;
  }
  if (e == EDEADLK)
    throw_os(e, "shm_lock_until: the calling thread already holds this shared lock");
  throw_os(e, "shm_lock_until: pthread_mutex_lock of a shared lock");
}

inline void shm_unlock(shm_lock_page* l) {
  if (const int e = ::pthread_mutex_unlock(&l->mutex); e != 0)
    throw_os(e, e == EPERM ? "shm_unlock: the calling thread does not hold this shared lock"
                           : "shm_unlock: pthread_mutex_unlock of a shared lock");
}
#pragma pop_macro("pthread_mutex_unlock")
#pragma pop_macro("pthread_mutex_lock")
#pragma pop_macro("pthread_mutex_init")
#pragma pop_macro("pthread_mutexattr_destroy")
#pragma pop_macro("pthread_mutexattr_init")
#pragma pop_macro("pthread_mutexattr_t")
#pragma pop_macro("pthread_mutex_t")

// The memory of posix_os::shm_block: one MAP_SHARED | MAP_ANONYMOUS |
// MAP_NORESERVE mapping, this head first, the block's bytes after it. The
// kernel backs a page only once it is touched, so a large block costs
// address space, not memory, until it is used; and fork copies no page-table
// entry of a shared mapping (the child maps a page at its first touch), so
// the mapping adds nothing measurable to a fork.
struct shm_block_head {
  std::size_t size;      // the bytes asked for by the block's current user
  std::size_t capacity;  // the bytes after the head (a kept block: >= size)
  std::size_t mapped;    // the whole mapping's length
  pid_t creator;
  bool recyclable;  // the process's kept block (see shm_block_create)
  std::atomic<bool> in_use;
  // The end of the furthest store so far, by any process: what a recycled
  // block has to zero again.
  std::atomic<std::size_t> high_water;
};
inline constexpr std::size_t shm_block_offset = 64;
static_assert(sizeof(shm_block_head) <= shm_block_offset);
inline constexpr std::size_t shm_block_max = std::size_t{1} << 40;

// memcpy, with a short copy made inline: a forked child that calls libc's
// memcpy faults in the page of libc's code it lies on (a shared library's
// code is not copied at fork; the child maps each page at its first use), a
// twentieth of a bare fork + exit + wait. The compiler barrier in the loop
// keeps the compiler from turning it back into a memcpy call.
inline void copy_bytes(std::byte* to, const std::byte* from, std::size_t n) {
  if (n > 64) {
    std::memcpy(to, from, n);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    to[i] = from[i];
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}

inline std::byte* shm_bytes(shm_block_head* b) {
  return reinterpret_cast<std::byte*>(b) + shm_block_offset;
}

// The block this process keeps for reuse. A block is mapped once per process
// and handed out again after each destroy, zeroed: a call that creates and
// destroys a block around every child (call_with_timeout) then makes no
// mmap, munmap or page fault for it in the parent. A forked child must not
// take its parent's kept block (the parent may still be using it: it is the
// block the child was started to fill), so the pointer lives in a private
// page marked MADV_WIPEONFORK, which reads as zero in every forked child:
// the child maps its own, and no pid is compared (a pid cache would need an
// atfork handler, whose code every forked child runs and faults in).
struct kept_block_page {
  std::atomic<shm_block_head*> block;
};
inline kept_block_page* kept_block_slot() {
  static kept_block_page* const slot = [] {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* mem = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw_os(errno, "shm_block_create: mmap of the kept block's page");
    if (::madvise(mem, page, MADV_WIPEONFORK) != 0) {
      const int e = errno;
      ::munmap(mem, page);
      throw_os(e, "shm_block_create: madvise(MADV_WIPEONFORK) of the kept block's page");
    }
    return ::new (mem) kept_block_page{{nullptr}};
  }();
  return slot;
}

inline shm_block_head* map_shm_block(std::size_t bytes) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t mapped = (shm_block_offset + bytes + page - 1) / page * page;
  void* mem = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED)
    throw_os(errno, "shm_block_create: mmap of " + std::to_string(mapped) + " shared bytes");
  auto* b = ::new (mem) shm_block_head{bytes, bytes, mapped, ::getpid(), false, {true}, {0}};
  return b;
}

// Zeroes what stores reached, so the block reads as new: the bytes of the
// first page with memset, whole pages after it given back to the kernel
// (MADV_REMOVE: they read as zero, and hold no memory, until touched again).
inline void zero_shm_block(shm_block_head* b) {
  const std::size_t used = std::min(b->high_water.load(std::memory_order_relaxed), b->capacity);
  if (used == 0) return;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t first = std::min(used, page - shm_block_offset);
  std::memset(shm_bytes(b), 0, first);
  if (used > first) {
    const std::size_t end = (shm_block_offset + used + page - 1) / page * page;
    if (::madvise(reinterpret_cast<std::byte*>(b) + page, end - page, MADV_REMOVE) != 0)
      std::memset(shm_bytes(b) + first, 0, used - first);  // cannot fail on shmem; still zero
  }
  b->high_water.store(0, std::memory_order_relaxed);
}

// A registered entry point of the re-exec start method.
using entry_fn = int (*)(std::span<const std::byte> args, std::span<const int> fds);

inline std::map<std::string, entry_fn, std::less<>>& entry_points() {
  static std::map<std::string, entry_fn, std::less<>> table;
  return table;
}

inline std::string hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 15];
  }
  return out;
}

inline std::vector<std::byte> unhex(std::string_view s) {
  const auto nibble = [&](char c) -> unsigned {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    throw std::invalid_argument(
        "run_entry_point_if_requested: --interleave-args is not hexadecimal");
  };
  if (s.size() % 2 != 0)
    throw std::invalid_argument(
        "run_entry_point_if_requested: --interleave-args has an odd length");
  std::vector<std::byte> out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::byte>(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
  return out;
}

struct entry_registrar {
  entry_registrar(const char* name, entry_fn fn) {
    if (!entry_points().emplace(name, fn).second)
      throw std::logic_error(std::string("INTERLEAVE_ENTRY_POINT: entry point '") + name +
                             "' registered twice");
  }
};

}  // namespace detail

struct posix_os {
  using sync = std_sync;
  using clock = sync::clock;
  static constexpr std::string_view name = "posix";
  static constexpr std::size_t pipe_buf = PIPE_BUF;
  static constexpr std::size_t pipe_capacity = 65536;  // Linux's default pipe size

  // --- processes -----------------------------------------------------------

  template <class Body>
  static int spawn(Body&& body) {
    if (const int threads = detail::surely_single_threaded() ? 1 : detail::thread_count();
        threads > 1)
      detail::throw_os(
          ENOTSUP, "spawn: fork refused: this process runs " + std::to_string(threads) +
                       " threads, and fork in a multithreaded process is unsafe (the child may "
                       "only make async-signal-safe calls); start children before any thread, or "
                       "use the safe start method posix_os::spawn_entry (re-exec with an "
                       "INTERLEAVE_ENTRY_POINT)");
    detail::flush_standard_streams();  // nothing buffered is written twice, by parent and child
    const pid_t pid = ::fork();
    if (pid < 0) detail::throw_os(errno, "spawn: fork failed");
    if (pid == 0) detail::run_child(body);
    return pid;
  }

  static exit_code wait(int pid) {
    int status = 0;
    for (;;) {
      if (::waitpid(pid, &status, 0) == pid) return detail::decode_status(status);
      if (errno != EINTR) throw_wait("wait", pid);
    }
  }

  static std::optional<exit_code> try_wait(int pid) {
    int status = 0;
    for (;;) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) return detail::decode_status(status);
      if (r == 0) return std::nullopt;
      if (errno != EINTR) throw_wait("try_wait", pid);
    }
  }

  static std::optional<exit_code> wait_until(int pid, clock::time_point deadline) {
    if (deadline == clock::time_point::max()) return wait(pid);
    if (auto done = try_wait(pid)) return done;
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      if (errno == ESRCH) throw_wait("wait_until", pid);
      if (errno != ENOSYS)
        detail::throw_os(errno, "wait_until: pidfd_open(" + std::to_string(pid) + ") failed");
      // No pidfd on this kernel: look every millisecond until the deadline.
      for (;;) {
        if (auto done = try_wait(pid)) return done;
        if (clock::now() >= deadline) return std::nullopt;
        sync::sleep_for(std::chrono::milliseconds(1));
      }
    }
    struct closer {
      int fd;
      ~closer() { ::close(fd); }
    } guard{pidfd};
    pollfd p{pidfd, POLLIN, 0};
    for (;;) {
      const int r = ::poll(&p, 1, timeout_ms(deadline));
      if (r > 0) return try_wait(pid);  // readable: the child has exited
      if (r == 0) {
        if (clock::now() >= deadline) return try_wait(pid);
        continue;  // poll's millisecond rounding woke us early
      }
      if (errno != EINTR)
        detail::throw_os(errno, "wait_until: poll on the pidfd of pid " + std::to_string(pid));
    }
  }

  static void kill(int pid, int sig) {
    if (pid <= 0)
      detail::throw_os(EINVAL, "kill: pid " + std::to_string(pid) + " names no single process");
    if (::kill(pid, sig) != 0) {
      if (errno == ESRCH)
        detail::throw_os(ESRCH, "kill: pid " + std::to_string(pid) + " already reaped");
      detail::throw_os(errno,
                       "kill: signal " + std::to_string(sig) + " to pid " + std::to_string(pid));
    }
  }

  static int self() { return detail::current_pid(); }

  // --- the safe start method: re-exec with a registered entry point --------

  // Starts /proc/self/exe running the entry point `entry`
  // (INTERLEAVE_ENTRY_POINT) with `args`, passing the descriptors `fds`
  // (same numbers in the child). Safe in a multithreaded process.
  static int spawn_entry(std::string_view entry, std::span<const std::byte> args,
                         std::span<const int> fds = {}) {
    if (detail::entry_points().find(entry) == detail::entry_points().end())
      throw std::invalid_argument("spawn_entry: entry '" + std::string(entry) +
                                  "' is not registered (INTERLEAVE_ENTRY_POINT)");
    std::string fd_list;
    for (int fd : fds) {
      if (::fcntl(fd, F_GETFD) < 0)
        detail::throw_os(EBADF, "spawn_entry: fd " + std::to_string(fd) + " is not open");
      fd_list += (fd_list.empty() ? "" : ",") + std::to_string(fd);
    }
    std::string exe = "/proc/self/exe";
    std::vector<std::string> argv_s{exe, "--interleave-entry=" + std::string(entry),
                                    "--interleave-args=" + detail::hex(args),
                                    "--interleave-fds=" + fd_list};
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    if (int e = posix_spawn_file_actions_init(&actions))
      detail::throw_os(e, "spawn_entry: file actions");
    // dup2(fd, fd) in the child clears close-on-exec (POSIX 2024, glibc >= 2.29).
    for (int fd : fds) posix_spawn_file_actions_adddup2(&actions, fd, fd);
    std::fflush(nullptr);
    pid_t pid = 0;
    const int e = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (e != 0)
      detail::throw_os(
          e, "spawn_entry: posix_spawn of " + exe + " for entry '" + std::string(entry) + "'");
    return pid;
  }

  // Call first thing in main(). When this process was started by
  // spawn_entry, runs the requested entry point and exits with its code;
  // otherwise returns at once.
  static void run_entry_point_if_requested(int argc, char** argv) {
    if (argc < 4 || std::string_view(argv[1]).substr(0, 19) != "--interleave-entry=") return;
    int code = 1;
    try {
      const std::string_view name = std::string_view(argv[1]).substr(19);
      const std::string_view args_hex =
          std::string_view(argv[2]).substr(std::string_view("--interleave-args=").size());
      const std::string fds_s(
          std::string_view(argv[3]).substr(std::string_view("--interleave-fds=").size()));
      const auto it = detail::entry_points().find(name);
      if (it == detail::entry_points().end())
        throw std::invalid_argument("run_entry_point_if_requested: entry '" + std::string(name) +
                                    "' is not registered");
      const std::vector<std::byte> args = detail::unhex(args_hex);
      std::vector<int> fds;
      for (std::size_t at = 0; at < fds_s.size();) {
        const std::size_t comma = std::min(fds_s.find(',', at), fds_s.size());
        fds.push_back(std::stoi(fds_s.substr(at, comma - at)));
        at = comma + 1;
      }
      code = it->second(args, fds);
    } catch (const std::exception& e) {
      code = detail::report_child_exception(e.what());
    } catch (...) {
      code = detail::report_child_exception("an exception not derived from std::exception");
    }
    std::fflush(nullptr);
    std::_Exit(code & 0xff);
  }

  // --- pipes ---------------------------------------------------------------

  static std::pair<int, int> pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) detail::throw_os(errno, "pipe: pipe2 failed");
    return {fds[0], fds[1]};
  }

  static std::size_t read(int fd, std::span<std::byte> in) {
    for (;;) {
      const ssize_t n = ::read(fd, in.data(), in.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EBADF)
        detail::throw_os(EBADF, "read: fd " + std::to_string(fd) + " is not open for reading");
      detail::throw_os(errno, "read: fd " + std::to_string(fd));
    }
  }

  static void write(int fd, std::span<const std::byte> out) {
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    // Was a SIGPIPE already pending for this thread? Then it is not ours to
    // consume. Only possible if SIGPIPE was blocked already (an unblocked one
    // would have been delivered), so only then is it asked (a syscall less).
    const bool was_blocked = sigismember(&old, SIGPIPE) == 1;
    bool was_pending = false;
    if (was_blocked) {
      sigset_t pending;
      sigpending(&pending);
      was_pending = sigismember(&pending, SIGPIPE) == 1;
    }
    const int err = detail::write_all(fd, out);
    if (err == EPIPE && !was_pending) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    if (!was_blocked) pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0) detail::throw_write(fd, err);
  }

  // write() to a pipe whose read end the calling process holds open, so no
  // reader can be missing: EPIPE, and so SIGPIPE, cannot happen, and the
  // signal mask is left alone (two syscalls fewer than write()). An optional
  // member of the OS interface (callers fall back to write()).
  static void write_own_pipe(int fd, std::span<const std::byte> out) {
    if (const int err = detail::write_all(fd, out); err != 0) detail::throw_write(fd, err);
  }

  // A read that never blocks: >= 1 bytes read, 0 at end-of-file, nullopt
  // when the pipe is empty and a write end is open.
  static std::optional<std::size_t> try_read(int fd, std::span<std::byte> in) {
    if (in.empty()) return 0;
    for (;;) {
      iovec v{in.data(), in.size()};
      const ssize_t n = ::preadv2(fd, &v, 1, -1, RWF_NOWAIT);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return std::nullopt;
      if (errno == EOPNOTSUPP || errno == EINVAL) {  // no RWF_NOWAIT for pipes here
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) detail::throw_os(errno, "try_read: poll on fd " + std::to_string(fd));
        if (p.revents & POLLNVAL)
          detail::throw_os(EBADF, "try_read: fd " + std::to_string(fd) + " is not open");
        if (r == 0) return std::nullopt;
        return read(fd, in);
      }
      if (errno == EBADF)
        detail::throw_os(EBADF, "try_read: fd " + std::to_string(fd) + " is not open for reading");
      detail::throw_os(errno, "try_read: fd " + std::to_string(fd));
    }
  }

  // --- process-shared locks --------------------------------------------------

  using shm_lock = detail::shm_lock_page*;

  static shm_lock shm_lock_create() { return detail::shm_lock_create(); }

  static lock_status shm_lock_until(shm_lock l, clock::time_point deadline) {
    check_lock("shm_lock_until", l);
    if (deadline == clock::time_point::max()) return detail::shm_lock_wait(l, nullptr);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::max(deadline, clock::time_point{}).time_since_epoch())
                        .count();
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000),
                      static_cast<long>(ns % 1'000'000'000)};
    return detail::shm_lock_wait(l, &ts);
  }

  static void shm_unlock(shm_lock l) {
    check_lock("shm_unlock", l);
    detail::shm_unlock(l);
  }

  static std::uint64_t& shm_note(shm_lock l) {
    check_lock("shm_note", l);
    return l->note;
  }

  static void shm_lock_destroy(shm_lock l) {
    check_lock("shm_lock_destroy", l);
    if (::munmap(l, sizeof(detail::shm_lock_page)) != 0)
      detail::throw_os(errno, "shm_lock_destroy: munmap of the shared page");
  }

  // --- shared memory blocks ------------------------------------------------

  using shm_block = detail::shm_block_head*;

  static shm_block shm_block_create(std::size_t bytes) {
    if (bytes == 0 || bytes > detail::shm_block_max)
      throw std::invalid_argument("shm_block_create: bytes must be in [1, 2^40], got " +
                                  std::to_string(bytes));
    std::atomic<detail::shm_block_head*>& slot = detail::kept_block_slot()->block;
    detail::shm_block_head* kept = slot.load(std::memory_order_acquire);
    if (kept != nullptr && kept->capacity >= bytes && !kept->in_use.exchange(true)) {
      kept->size = bytes;
      return kept;
    }
    detail::shm_block_head* b = detail::map_shm_block(bytes);
    if (kept == nullptr) {
      // This process keeps its first block (a forked child: its own first one).
      b->recyclable = true;
      if (!slot.compare_exchange_strong(kept, b)) b->recyclable = false;
    }
    return b;
  }

  // A kill stops a process between two instructions, so what a reader sees
  // after the writer died is the writer's stores in program order, cut at
  // that point; the signal fences keep the compiler from moving one store's
  // bytes across another's. The high-water mark goes up before the bytes.
  static void shm_store(shm_block b, std::size_t offset, std::span<const std::byte> bytes) {
    check_range("shm_store", b, offset, bytes.size());
    const std::size_t end = offset + bytes.size();
    std::size_t hw = b->high_water.load(std::memory_order_relaxed);
    while (hw < end && !b->high_water.compare_exchange_weak(hw, end, std::memory_order_relaxed)) {
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    detail::copy_bytes(detail::shm_bytes(b) + offset, bytes.data(), bytes.size());
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }

  static void shm_load(shm_block b, std::size_t offset, std::span<std::byte> out) {
    check_range("shm_load", b, offset, out.size());
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (!out.empty()) std::memcpy(out.data(), detail::shm_bytes(b) + offset, out.size());
  }

  static void shm_block_destroy(shm_block b) {
    check_block("shm_block_destroy", b);
    const bool ours = b->recyclable
                          ? detail::kept_block_slot()->block.load(std::memory_order_relaxed) == b
                          : b->creator == ::getpid();
    if (!ours)
      detail::throw_os(EPERM, "shm_block_destroy: the block was created by process " +
                                  std::to_string(b->creator) + ", not by " +
                                  std::to_string(::getpid()));
    if (b->recyclable) {
      detail::zero_shm_block(b);
      b->in_use.store(false, std::memory_order_release);
      return;
    }
    if (::munmap(b, b->mapped) != 0)
      detail::throw_os(errno, "shm_block_destroy: munmap of the shared block");
  }

  static void close(int fd) {
    // On Linux the descriptor is released even when close reports EINTR: never retry.
    if (::close(fd) != 0 && errno == EBADF)
      detail::throw_os(EBADF, "close: fd " + std::to_string(fd) + " is not open");
  }

  static std::size_t poll(std::span<poll_fd> fds, clock::time_point deadline) {
    // Up to 4 descriptors on the stack: no allocation for the usual poll.
    pollfd small[4];
    std::vector<pollfd> large;
    if (fds.size() > std::size(small)) large.resize(fds.size());
    pollfd* const p = large.empty() ? small : large.data();
    for (std::size_t i = 0; i < fds.size(); ++i) p[i] = pollfd{fds[i].fd, POLLIN, 0};
    for (;;) {
      const int timeout = deadline == clock::time_point::max() ? -1 : timeout_ms(deadline);
      const int r = ::poll(p, fds.size(), timeout);
      if (r < 0) {
        if (errno == EINTR) continue;
        detail::throw_os(errno, "poll: " + std::to_string(fds.size()) + " fds");
      }
      if (r == 0 && clock::now() < deadline) continue;  // millisecond rounding woke us early
      std::size_t ready = 0;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (p[i].revents & POLLNVAL)
          detail::throw_os(EBADF, "poll: fd " + std::to_string(fds[i].fd) + " is not open");
        fds[i].ready = (p[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
        ready += fds[i].ready;
      }
      return ready;
    }
  }

 private:
  [[noreturn]] static void throw_wait(const char* call, int pid) {
    if (errno == ECHILD || errno == ESRCH)
      detail::throw_os(
          ECHILD,
          std::string(call) + ": pid " + std::to_string(pid) +
              " is not an unreaped child of this process (never started here, or already reaped)");
    detail::throw_os(errno, std::string(call) + ": waitpid(" + std::to_string(pid) + ")");
  }

  static void check_lock(const char* call, shm_lock l) {
    if (l == nullptr)
      throw std::invalid_argument(std::string(call) + ": the shared lock is null (never created)");
  }

  static void check_block(const char* call, shm_block b) {
    if (b == nullptr)
      throw std::invalid_argument(std::string(call) + ": the shared block is null (never created)");
  }
  static void check_range(const char* call, shm_block b, std::size_t offset, std::size_t n) {
    check_block(call, b);
    if (offset > b->size || n > b->size - offset)
      throw std::out_of_range(std::string(call) + ": bytes [" + std::to_string(offset) + ", " +
                              std::to_string(offset) + " + " + std::to_string(n) +
                              ") lie outside the block's " + std::to_string(b->size) + " bytes");
  }

  // Milliseconds until `deadline`, rounded up, clamped to poll's int range.
  static int timeout_ms(clock::time_point deadline) {
    const auto now = clock::now();
    if (deadline <= now) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    return static_cast<int>(std::min<long long>(ms, INT_MAX));
  }
};

static_assert(OsBackend<posix_os>);

}  // namespace interleave

// Registers `fn` (int fn(std::span<const std::byte>, std::span<const int>))
// as an entry point of the re-exec start method, under its own name.
#define INTERLEAVE_ENTRY_POINT(fn)                                                            \
  [[maybe_unused]] static const ::interleave::detail::entry_registrar interleave_entry_##fn { \
    #fn, &fn                                                                                  \
  }
