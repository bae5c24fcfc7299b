// models/sim_os.hpp — a simulated OS on the sync backend, so that
// process-level impl code (written against interleave/os.hpp's OsBackend)
// runs under the model checkers.
//
// A model owns one kernel per execution, as a member (constructed afresh for
// every execution like all model state):
//
//   using Os = sim_os<Sync, /*pipe_buf=*/2, /*pipe_capacity=*/4>;
//   typename Os::kernel kernel;        // installs itself for Os's statics
//   ... Process<..., Os>, or raw Os::pipe() / Os::spawn(...) ...
//   void after() { kernel.check_clean(); }
//
// What is simulated (every call is a critical section of one kernel mutex, so
// every OS call is a visible step of the checker, dependent with every other
// OS call; different pipes are not told apart — a coarser dependence than a
// real kernel's, which costs executions, not verdicts):
// - A process is a group of backend threads with its own descriptor table.
//   The model's own threads are process 1. spawn(body) has fork semantics:
//   the child (pid 2, 3, ... in spawn order) is a new backend thread holding
//   copies of the caller's descriptors (each copy counts as an open end).
//   Threads a process starts through Os::sync::thread / jthread belong to it.
// - A pipe holds at most pipe_capacity bytes. A write of <= pipe_buf bytes
//   waits for room for all of it and lands at once; a larger write lands in
//   pieces as room appears, so other writers' bytes may come between.
//   read returns >= 1 byte, or 0 (end-of-file) once no write end is open in
//   any process; write with no read end open throws os_error(EPIPE) naming
//   the descriptor (no SIGPIPE).
// - kill(pid, SIGKILL|SIGTERM) is a step of the killer: it marks the target,
//   and wakes it if it waits in an OS call. The target's threads notice at
//   their next OS call (or at once, if blocked in one) and are unwound with
//   `sim_killed`, an exception that is not a std::exception; the process's
//   exit then runs its last step: its descriptors close (readers see
//   end-of-file, writers EPIPE) and it is a zombie with exit code -sig until
//   waited for. A kill that comes after the body returned but before that
//   last step still wins (exit code -sig). SIGTERM has no handler here: it
//   acts like SIGKILL with its own number.
// - wait / try_wait / wait_until reap a zombie (and join its thread);
//   the timeout of wait_until and poll is the checker's: it may fire at any
//   point of the wait (Relacy and the DPOR checker both explore it),
//   whatever the deadline, and the real clock is never read (it would make
//   executions differ from run to run), so a zero timeout may also wait.
//   Only time_point::max() waits for ever.
// - try_read is read that returns std::nullopt where read would block.
// - A shared lock (shm_lock_create) is a lock object of the kernel with an
//   owner (pid and thread) and a 64-bit note. shm_lock_until blocks through
//   the kernel like the other waits (its timeout, too, is the checker's).
//   When its owner's thread ends, or its process exits or is killed, holding
//   it, the lock is released as owner-died: the next shm_lock_until returns
//   lock_status::owner_died, and the note is what the owner last wrote. A
//   killed process runs no more code, so an unlock it makes while it is
//   unwound (a destructor, a catch block) is ignored: its death releases
//   the lock, as the robust mutex's does on POSIX. The hang board names a
//   blocked locker and the holder ("process 2 blocks in lock of shared lock
//   #0 held by process 3, which ...").
// - A shared memory block (shm_block_create) is a byte array of the kernel,
//   zero at creation. A store lands in pieces of at most pipe_buf bytes, each
//   a step of its own, so a kill can cut it short between pieces (a real
//   kill stops the writer between two instructions); a load is one step.
//   As on POSIX, a destroy ends only the creator's use of the block (a use
//   after it is an error naming the block); a child keeps its own.
//   check_clean() requires every block destroyed by its creator.
// - An exception escaping the child's body exits it with 1 and records its
//   message (stderr_of(pid)).
// - End of execution (check_clean(), from the model's after()): no zombie
//   and no child left unreaped, every descriptor table back to its size when
//   the kernel was built, every shared lock destroyed by its creator.
// - A hang: every thread blocked in an OS call writes what it waits for, and
//   why that cannot end, to the hang board (hang_board.hpp), which the
//   checker adapters append to their deadlock verdict, e.g.
//   "process 1 blocks in read on fd 3: end-of-file impossible, this process
//   still holds write end fd 4".
//
// What this cannot see (say so next to each model that relies on it):
// - a kill lands only at the target's OS calls, not between its plain sync
//   operations (the backends have no hook for that); code between two OS
//   calls runs as one step as far as the kill is concerned;
// - a killed thread is unwound, so destructors on its stack do run (a real
//   SIGKILL runs none): a model must not rely on their absence; locks the
//   killed code held are released by those destructors;
// - a thread that waits on a plain sync object (not an OS call) is not woken
//   by a kill of its process;
// - real time: a timed wait may time out at any point;
// - the other threads of a process whose main body returned are not stopped
//   (a real exit ends them): their next OS call unwinds them, and
//   check_clean() fails if one is still running at the end.
#pragma once

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "hang_board.hpp"
#include "interleave/os.hpp"

namespace interleave::models {

// Unwinds a thread of a killed (or exited) process; never caught by impl
// code that catches std::exception.
struct sim_killed {
  int sig;
};

template <class Sync>
class sim_kernel;

namespace sim_detail {

template <class Sync>
struct installed {
  static inline sim_kernel<Sync>* kernel = nullptr;
};

// The calling thread's kernel, or an error naming the call.
template <class Sync>
sim_kernel<Sync>& kernel_for(const char* call) {
  sim_kernel<Sync>* k = installed<Sync>::kernel;
  if (k == nullptr)
    throw std::logic_error(std::string("sim_os::") + call +
                           ": no sim_kernel is installed (a model owns one per execution)");
  return *k;
}

// A thread started by a simulated process belongs to that process: the
// callable wrapped so that it registers itself first, and ends quietly when
// its process is killed (sim_killed). Takes the stop token when F does.
template <class Sync, class Fn>
struct adopted {
  sim_kernel<Sync>* k;
  int pid;
  Fn fn;
  template <class... A>
  void operator()(A&&... a) {
    if (k != nullptr) k->adopt(pid);
    try {
      fn(std::forward<A>(a)...);
    } catch (const sim_killed&) {
      // its process was killed or exited: this thread ends here
    }
    if (k != nullptr) {
      k->thread_ends();
      k->leave();
    }
  }
};
template <class Sync, class F>
auto adopt(F&& f) {
  sim_kernel<Sync>* k = installed<Sync>::kernel;
  using Fn = std::decay_t<F>;
  adopted<Sync, Fn> a{k, k != nullptr ? k->self() : 1, Fn(std::forward<F>(f))};
  if constexpr (std::is_invocable_v<Fn&, typename Sync::stop_token>)
    return [a = std::move(a)](typename Sync::stop_token t) mutable { a(std::move(t)); };
  else
    return [a = std::move(a)]() mutable { a(); };
}

}  // namespace sim_detail

// Os::sync: the backend, with threads that belong to the process that
// started them.
template <class Sync>
struct sim_sync : Sync {
  class thread : public Sync::thread {
   public:
    thread() noexcept = default;
    template <class F>
      requires(!std::is_same_v<std::decay_t<F>, thread>)
    explicit thread(F&& f) : Sync::thread(sim_detail::adopt<Sync>(std::forward<F>(f))) {}
    // std::thread::detach, which the backends' threads lack: the kernel keeps
    // the handle, never joins it, and at its end leaks it (see ~sim_kernel).
    // A detached thread still running when the execution ends is a hang.
    void detach() {
      sim_detail::kernel_for<Sync>("thread::detach").keep_detached(std::move(*this));
    }
  };
  class jthread : public Sync::jthread {
   public:
    jthread() noexcept = default;
    template <class F>
      requires(!std::is_same_v<std::decay_t<F>, jthread>)
    explicit jthread(F&& f) : Sync::jthread(sim_detail::adopt<Sync>(std::forward<F>(f))) {}
  };
};

template <class Sync>
class sim_kernel {
 public:
  using mutex = typename Sync::mutex;
  using lock_type = std::unique_lock<mutex>;
  using time_point = typename Sync::clock::time_point;

  sim_kernel(std::size_t pipe_buf, std::size_t pipe_capacity)
      : pipe_buf_(pipe_buf), capacity_(pipe_capacity) {
    if (pipe_buf == 0 || pipe_capacity < pipe_buf)
      throw std::invalid_argument(
          "sim_kernel: pipe_buf must be >= 1 and pipe_capacity >= pipe_buf, got pipe_buf " +
          std::to_string(pipe_buf) + ", pipe_capacity " + std::to_string(pipe_capacity));
    // The newest kernel is the installed one: a checker may abandon a failed
    // execution without destroying its model.
    sim_detail::installed<Sync>::kernel = this;
    procs_[1].state = State::running;
    hang::reset();
  }
  sim_kernel(const sim_kernel&) = delete;
  sim_kernel& operator=(const sim_kernel&) = delete;
  ~sim_kernel() {
    if (sim_detail::installed<Sync>::kernel == this) sim_detail::installed<Sync>::kernel = nullptr;
    // A child never reaped (check_clean() has failed the execution) keeps its
    // thread handle: destroying a joinable thread would terminate. The
    // handle is leaked on purpose, in memory no checker tracks.
    for (auto& [pid, h] : handles_)
      if (h.joinable()) ::new (std::malloc(sizeof(thread_type))) thread_type(std::move(h));
    for (auto& h : detached_)
      if (h.joinable()) ::new (std::malloc(sizeof(thread_type))) thread_type(std::move(h));
  }

  // ---- processes -----------------------------------------------------------

  int self() const {
    const auto it = thread_pid_.find(Sync::thread_index());
    return it == thread_pid_.end() ? 1 : it->second;
  }

  int spawn(std::function<int()> body) {
    if (!body) throw std::invalid_argument("spawn: body is empty");
    lock_type lk(m_);
    const int parent = self();
    deliver(parent);
    const int pid = next_pid_++;
    Proc& child = procs_[pid];
    child.parent = parent;
    child.state = State::running;
    child.fds = procs_[parent].fds;
    for (const auto& [fd, e] : child.fds)
      ++(e.write ? pipes_[e.pipe].writers : pipes_[e.pipe].readers);
    changed();
    lk.unlock();
    // Not through sim_sync: the main thread's exit is the process's exit.
    handles_[pid] = thread_type([this, pid, body = std::move(body)] { run_process(pid, body); });
    return pid;
  }

  exit_code wait(int pid) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Proc& p = child_of("wait", pid, me);
    if (p.state == State::running) {
      Waiter w{Op::wait, me, pid};
      block(lk, w, [&] { return p.state != State::running || signalled(me); });
      deliver(me);
    }
    return reap(lk, pid);
  }

  std::optional<exit_code> try_wait(int pid) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Proc& p = child_of("try_wait", pid, me);
    if (p.state == State::running) return std::nullopt;
    return reap(lk, pid);
  }

  std::optional<exit_code> wait_until(int pid, time_point deadline) {
    if (deadline == time_point::max()) return wait(pid);
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Proc& p = child_of("wait_until", pid, me);
    if (p.state == State::running) {
      Waiter w{Op::wait, me, pid};
      block_until(lk, w, deadline, [&] { return p.state != State::running || signalled(me); });
      deliver(me);
    }
    if (p.state == State::running) return std::nullopt;
    return reap(lk, pid);
  }

  void kill(int pid, int sig) {
    if (sig != SIGKILL && sig != SIGTERM)
      throw os_error(
          std::make_error_code(std::errc::invalid_argument),
          "kill: signal " + std::to_string(sig) + " is not simulated (SIGTERM or SIGKILL)");
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const auto it = procs_.find(pid);
    if (it == procs_.end() || pid == 1)
      throw os_error(std::make_error_code(std::errc::no_such_process),
                     "kill: no process " + std::to_string(pid));
    Proc& p = it->second;
    if (p.state == State::reaped)
      throw os_error(std::make_error_code(std::errc::no_such_process),
                     "kill: pid " + std::to_string(pid) + " already reaped");
    if (p.state == State::running && p.pending != SIGKILL) p.pending = sig;
    changed();
  }

  // ---- pipes ---------------------------------------------------------------

  std::pair<int, int> pipe() {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const int id = static_cast<int>(pipes_.size());
    pipes_.push_back(Pipe{});
    Proc& p = procs_[me];
    const int r = lowest_free(p);
    p.fds[r] = Fd{id, false};
    const int w = lowest_free(p);
    p.fds[w] = Fd{id, true};
    pipes_[id].readers = pipes_[id].writers = 1;
    changed();
    return {r, w};
  }

  std::size_t read(int fd, std::span<std::byte> in) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const Fd e = end_of("read", me, fd, false);
    Pipe& pp = pipes_[e.pipe];
    if (in.empty()) return 0;
    if (pp.buf.empty() && pp.writers > 0) {
      Waiter w{Op::read, me, fd, e.pipe, in.size()};
      block(lk, w, [&] { return !pp.buf.empty() || pp.writers == 0 || signalled(me); });
      deliver(me);
    }
    return drain(pp, in);
  }

  void write(int fd, std::span<const std::byte> out) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const Fd e = end_of("write", me, fd, true);
    Pipe& pp = pipes_[e.pipe];
    std::size_t done = 0;
    while (done < out.size()) {
      if (pp.readers == 0) throw epipe(fd, me, done, out.size());
      const std::size_t left = out.size() - done;
      const std::size_t need = out.size() <= pipe_buf_ ? left : 1;  // atomic: room for all of it
      if (capacity_ - pp.buf.size() < need) {
        Waiter w{Op::write, me, fd, e.pipe, left};
        block(lk, w, [&] {
          return capacity_ - pp.buf.size() >= need || pp.readers == 0 || signalled(me);
        });
        deliver(me);
        continue;
      }
      const std::size_t n = std::min(left, capacity_ - pp.buf.size());
      for (std::size_t i = 0; i < n; ++i) pp.buf.push_back(out[done + i]);
      done += n;
      changed();
    }
  }

  void close(int fd) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Proc& p = procs_[me];
    const auto it = p.fds.find(fd);
    if (it == p.fds.end()) throw ebadf("close", fd, me);
    drop(it->second);
    p.fds.erase(it);
    changed();
  }

  std::size_t poll(std::span<poll_fd> fds, time_point deadline) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    std::vector<Fd> ends;
    for (poll_fd& f : fds) {
      ends.push_back(end_of("poll", me, f.fd, std::nullopt));
      f.ready = false;
    }
    const auto ready_count = [&] {
      std::size_t n = 0;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        const Pipe& pp = pipes_[ends[i].pipe];
        fds[i].ready = ends[i].write ? (capacity_ > pp.buf.size() || pp.readers == 0)
                                     : (!pp.buf.empty() || pp.writers == 0);
        n += fds[i].ready ? 1 : 0;
      }
      return n;
    };
    if (ready_count() > 0) return ready_count();
    Waiter w{Op::poll, me, fds.empty() ? -1 : fds[0].fd, -1, fds.size()};
    const auto pred = [&] { return ready_count() > 0 || signalled(me); };
    if (deadline == time_point::max())
      block(lk, w, pred);
    else
      block_until(lk, w, deadline, pred);
    deliver(me);
    return ready_count();
  }

  std::optional<std::size_t> try_read(int fd, std::span<std::byte> in) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const Fd e = end_of("try_read", me, fd, false);
    Pipe& pp = pipes_[e.pipe];
    if (in.empty()) return 0;
    if (pp.buf.empty() && pp.writers > 0) return std::nullopt;
    return drain(pp, in);
  }

  // ---- shared locks --------------------------------------------------------

  int shm_lock_create() {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const int id = static_cast<int>(locks_.size());
    locks_.push_back(Lock{});
    locks_.back().creator = me;
    return id;
  }

  lock_status shm_lock_until(int id, time_point deadline) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Lock& l = lock_of("shm_lock_until", id);
    const std::size_t tid = Sync::thread_index();
    if (l.owner != 0 && l.owner_thread == tid)
      throw os_error(std::make_error_code(std::errc::resource_deadlock_would_occur),
                     "shm_lock_until: this thread of process " + std::to_string(me) +
                         " already holds shared lock #" + std::to_string(id));
    if (l.owner != 0) {
      Waiter w{Op::lock, me, id};
      const auto pred = [&] { return l.owner == 0 || signalled(me); };
      if (deadline == time_point::max())
        block(lk, w, pred);
      else
        block_until(lk, w, deadline, pred);
      deliver(me);
      if (l.owner != 0) return lock_status::timed_out;
    }
    l.owner = me;
    l.owner_thread = tid;
    changed();
    return std::exchange(l.died, false) ? lock_status::owner_died : lock_status::acquired;
  }

  void shm_unlock(int id) {
    lock_type lk(m_);
    const int me = self();
    if (signalled(me)) return;  // a killed process runs no code: its death releases the lock
    Lock& l = lock_of("shm_unlock", id);
    if (l.owner != me || l.owner_thread != Sync::thread_index())
      throw os_error(std::make_error_code(std::errc::operation_not_permitted),
                     "shm_unlock: shared lock #" + std::to_string(id) + " is " +
                         (l.owner == 0 ? std::string("not held")
                                       : "held by process " + std::to_string(l.owner)) +
                         ", not by this thread of process " + std::to_string(me));
    l.owner = 0;
    changed();
  }

  // Only its holder reads or writes it: no kernel step.
  std::uint64_t& shm_note(int id) { return lock_of("shm_note", id).note; }

  void shm_lock_destroy(int id) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Lock& l = lock_of("shm_lock_destroy", id);
    by_creator("shm_lock_destroy: shared lock #", id, l.creator, me);
    l.destroyed = true;  // as on POSIX, a holder elsewhere keeps it (the creator unmaps its view)
  }

  // ---- shared memory blocks ------------------------------------------------

  int shm_block_create(std::size_t bytes) {
    if (bytes == 0) throw std::invalid_argument("shm_block_create: bytes must be >= 1, got 0");
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    const int id = static_cast<int>(blocks_.size());
    blocks_.push_back(Block{});
    blocks_.back().size = bytes;
    blocks_.back().creator = me;
    return id;
  }

  void shm_store(int id, std::size_t offset, std::span<const std::byte> in) {
    range_of("shm_store", id, offset, in.size());
    std::size_t done = 0;
    do {
      lock_type lk(m_);
      deliver(self());
      Block& b = block_of("shm_store", id);
      const std::size_t n = std::min(pipe_buf_, in.size() - done);
      if (b.bytes.size() < offset + done + n) b.bytes.resize(offset + done + n);
      std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(done), n,
                  b.bytes.begin() + static_cast<std::ptrdiff_t>(offset + done));
      done += n;
    } while (done < in.size());
  }

  void shm_load(int id, std::size_t offset, std::span<std::byte> out) {
    range_of("shm_load", id, offset, out.size());
    lock_type lk(m_);
    deliver(self());
    const Block& b = block_of("shm_load", id);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = offset + i < b.bytes.size() ? b.bytes[offset + i] : std::byte{0};
  }

  void shm_block_destroy(int id) {
    lock_type lk(m_);
    const int me = self();
    deliver(me);
    Block& b = block_of("shm_block_destroy", id);
    by_creator("shm_block_destroy: shared block #", id, b.creator, me);
    b.destroyed = true;
  }

  // ---- for models ----------------------------------------------------------

  // No zombie, no unreaped child, every descriptor table as it was when the
  // kernel was built (process 1: empty). Fails the execution through the
  // backend's model_check with the first fault found, named.
  void check_clean() {
    lock_type lk(m_);
    std::string fault;
    for (const auto& [pid, p] : procs_) {
      if (pid == 1) {
        if (!p.fds.empty())
          fault = "descriptor leak: process 1 still holds " + fd_list(p) + " at the end";
      } else if (p.state == State::zombie) {
        fault = "zombie: process " + std::to_string(pid) + " exited and was never waited for";
      } else if (p.state == State::running) {
        fault = "process " + std::to_string(pid) + " still runs at the end";
      }
      if (!fault.empty()) break;
    }
    for (std::size_t i = 0; i < locks_.size() && fault.empty(); ++i)
      if (!locks_[i].destroyed)
        fault = "shared lock #" + std::to_string(i) + " was never destroyed by process " +
                std::to_string(locks_[i].creator);
    for (std::size_t i = 0; i < blocks_.size() && fault.empty(); ++i)
      if (!blocks_[i].destroyed)
        fault = "shared block #" + std::to_string(i) + " was never destroyed by process " +
                std::to_string(blocks_[i].creator);
    if (fault.empty() && !thread_pid_.empty())
      fault = "a thread of process " + std::to_string(thread_pid_.begin()->second) +
              " still runs at the end";
    static char text[256];
    std::snprintf(text, sizeof text, "%s", fault.c_str());
    Sync::model_check(fault.empty(), text, std::source_location::current());
  }

  // What the child wrote to its stderr (an exception's message), "" if none.
  std::string stderr_of(int pid) const {
    const auto it = procs_.find(pid);
    return it == procs_.end() ? std::string() : it->second.err;
  }
  // Descriptors open in process pid.
  std::size_t open_fds(int pid) const {
    const auto it = procs_.find(pid);
    return it == procs_.end() ? 0 : it->second.fds.size();
  }
  // The pids spawned so far (2, 3, ...).
  int spawned() const { return next_pid_ - 2; }
  std::size_t pipe_buf() const { return pipe_buf_; }
  std::size_t pipe_capacity() const { return capacity_; }

  // ---- for sim_sync's threads ----------------------------------------------
  void adopt(int pid) { thread_pid_[Sync::thread_index()] = pid; }
  void keep_detached(typename Sync::thread&& t) {
    if (!t.joinable())
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "thread::detach: not joinable");
    detached_.push_back(std::move(t));
  }
  void leave() { thread_pid_.erase(Sync::thread_index()); }
  // A thread that ends holding a shared lock releases it as owner-died. (The
  // lookup takes no kernel step when the thread holds none: the checkers run
  // one thread at a time.)
  void thread_ends() {
    const std::size_t tid = Sync::thread_index();
    const int pid = self();
    bool holds = false;
    for (const Lock& l : locks_) holds = holds || (l.owner == pid && l.owner_thread == tid);
    if (!holds) return;
    lock_type lk(m_);
    for (Lock& l : locks_)
      if (l.owner == pid && l.owner_thread == tid) release_dead(l);
    changed();
  }

 private:
  using thread_type = typename Sync::thread;
  enum class State { running, zombie, reaped };
  enum class Op { read, write, wait, poll, lock };
  struct Fd {
    int pipe = -1;
    bool write = false;
  };
  struct Pipe {
    std::deque<std::byte> buf;
    unsigned readers = 0, writers = 0;
  };
  struct Lock {
    int owner = 0;  // pid, 0 when free
    std::size_t owner_thread = 0;
    bool died = false;  // released by its owner's death: the next lock says so
    bool destroyed = false;
    int creator = 0;
    std::uint64_t note = 0;
  };
  struct Block {
    std::vector<std::byte> bytes;  // grows with the stores; beyond it the block reads zero
    std::size_t size = 0;
    int creator = 0;
    bool destroyed = false;
  };
  struct Proc {
    int parent = 0;
    State state = State::running;
    std::map<int, Fd> fds;
    int pending = 0;  // a signal not yet delivered
    exit_code code = 0;
    std::string err;
  };
  struct Waiter {
    Op op;
    int pid;
    int arg;  // fd, or the pid waited for
    int pipe = -1;
    std::size_t n = 0;  // bytes to read / still to write, fds polled
  };

  // The child's main thread: the body, then the exit step.
  void run_process(int pid, const std::function<int()>& body) {
    adopt(pid);
    exit_code code = 0;
    std::string err;
    try {
      code = body();
    } catch (const sim_killed& k) {
      code = -k.sig;
    } catch (const std::exception& e) {
      code = 1;
      err = e.what();
    } catch (...) {
      code = 1;
      err = "an exception that is not a std::exception";
    }
    lock_type lk(m_);
    Proc& p = procs_[pid];
    if (p.pending != 0) code = -p.pending;
    for (const auto& [fd, e] : p.fds) drop(e);
    p.fds.clear();
    for (Lock& l : locks_)
      if (l.owner == pid) release_dead(l);
    p.state = State::zombie;
    p.code = code;
    p.err = std::move(err);
    leave();
    changed();
  }

  exit_code reap(lock_type& lk, int pid) {
    Proc& p = procs_[pid];
    p.state = State::reaped;
    const exit_code code = p.code;
    thread_type t = std::move(handles_[pid]);
    changed();
    lk.unlock();
    if (t.joinable()) t.join();
    return code;
  }

  void release_dead(Lock& l) {
    l.owner = 0;
    l.died = true;
  }
  Lock& lock_of(const char* call, int id) {
    if (id < 0 || static_cast<std::size_t>(id) >= locks_.size())
      throw std::invalid_argument(std::string(call) + ": no shared lock #" + std::to_string(id));
    return locks_[static_cast<std::size_t>(id)];
  }

  // A destroy is its creator's: an os_error naming both processes otherwise.
  static void by_creator(const char* what, int id, int creator, int me) {
    if (creator != me)
      throw os_error(std::make_error_code(std::errc::operation_not_permitted),
                     what + std::to_string(id) + " was created by process " +
                         std::to_string(creator) + ", not by " + std::to_string(me));
  }
  // As on POSIX, a destroy ends the creator's use of a block (it unmaps its
  // view); a child keeps its own until it exits.
  Block& block_of(const char* call, int id) {
    if (id < 0 || static_cast<std::size_t>(id) >= blocks_.size())
      throw std::invalid_argument(std::string(call) + ": no shared block #" + std::to_string(id));
    Block& b = blocks_[static_cast<std::size_t>(id)];
    if (b.destroyed && b.creator == self())
      throw std::invalid_argument(std::string(call) + ": shared block #" + std::to_string(id) +
                                  " was destroyed by this process");
    return b;
  }
  // The checkers run one thread at a time: the size is read without a step.
  void range_of(const char* call, int id, std::size_t offset, std::size_t n) {
    const Block& b = block_of(call, id);
    if (offset > b.size || n > b.size - offset)
      throw std::out_of_range(std::string(call) + ": bytes [" + std::to_string(offset) + ", " +
                              std::to_string(offset) + " + " + std::to_string(n) +
                              ") lie outside shared block #" + std::to_string(id) + "'s " +
                              std::to_string(b.size) + " bytes");
  }

  Proc& child_of(const char* call, int pid, int me) {
    const auto it = procs_.find(pid);
    if (it == procs_.end() || pid == 1 || it->second.parent != me)
      throw os_error(std::make_error_code(std::errc::no_child_process),
                     std::string(call) + ": pid " + std::to_string(pid) +
                         " is not a child of process " + std::to_string(me));
    if (it->second.state == State::reaped)
      throw os_error(std::make_error_code(std::errc::no_child_process),
                     std::string(call) + ": pid " + std::to_string(pid) + " already reaped");
    return it->second;
  }

  bool signalled(int pid) const {
    const auto it = procs_.find(pid);
    return it != procs_.end() && (it->second.pending != 0 || it->second.state != State::running);
  }
  // A pending signal (or the process's exit) lands on the calling thread.
  void deliver(int pid) {
    const Proc& p = procs_[pid];
    if (p.state != State::running) throw sim_killed{SIGKILL};
    if (p.pending != 0) throw sim_killed{p.pending};
  }

  Fd end_of(const char* call, int me, int fd, std::optional<bool> write) {
    Proc& p = procs_[me];
    const auto it = p.fds.find(fd);
    if (it == p.fds.end()) throw ebadf(call, fd, me);
    if (write && it->second.write != *write)
      throw os_error(std::make_error_code(std::errc::bad_file_descriptor),
                     std::string(call) + ": fd " + std::to_string(fd) + " is the " +
                         (it->second.write ? "write" : "read") + " end of a pipe in process " +
                         std::to_string(me));
    return it->second;
  }
  static os_error ebadf(const char* call, int fd, int me) {
    return os_error(std::make_error_code(std::errc::bad_file_descriptor),
                    std::string(call) + ": fd " + std::to_string(fd) + " is not open in process " +
                        std::to_string(me));
  }
  static os_error epipe(int fd, int me, std::size_t done, std::size_t size) {
    return os_error(std::make_error_code(std::errc::broken_pipe),
                    "write: fd " + std::to_string(fd) + " in process " + std::to_string(me) +
                        ": no process holds the read end (" + std::to_string(done) + " of " +
                        std::to_string(size) + " bytes written)");
  }

  static int lowest_free(const Proc& p) {
    int fd = 3;  // 0, 1, 2: the standard streams
    while (p.fds.count(fd) != 0) ++fd;
    return fd;
  }
  void drop(const Fd& e) {
    Pipe& pp = pipes_[e.pipe];
    --(e.write ? pp.writers : pp.readers);
  }

  // Waiting. Every state change notifies all waiters, and refreshes the hang
  // board. A notify goes out only while some thread sleeps on the condition
  // variable (`sleepers_`, zeroed by each notify_all; `gen_` tells a waiter
  // whether a notify woke it): a notify that no thread receives would read
  // as a lost wake-up to a checker.
  template <class Pred>
  void block(lock_type& lk, const Waiter& w, Pred pred) {
    enter(w);
    Sleep s{*this};
    cv_.wait(lk, [&] { return s.check(pred); });
    s.done();
    leave_wait();
  }
  template <class Pred>
  void block_until(lock_type& lk, const Waiter& w, time_point deadline, Pred pred) {
    enter(w);
    Sleep s{*this};
    cv_.wait_until(lk, deadline, [&] { return s.check(pred); });
    s.done();
    leave_wait();
  }
  struct Sleep {
    sim_kernel& k;
    bool asleep = false;
    std::uint64_t gen = 0;
    template <class Pred>
    bool check(Pred& pred) {
      done();
      if (pred()) return true;
      ++k.sleepers_;
      gen = k.gen_;
      asleep = true;
      return false;
    }
    // Woken by no notify (a timeout, a spurious wake-up), or never slept
    // again: no longer counted.
    void done() {
      if (asleep && gen == k.gen_) --k.sleepers_;
      asleep = false;
    }
  };
  void enter(const Waiter& w) {
    waiting_[Sync::thread_index()] = w;
    refresh();
  }
  void leave_wait() {
    waiting_.erase(Sync::thread_index());
    hang::clear(Sync::thread_index());
  }
  // Moves what the pipe holds, up to in.size() bytes, into in; how many.
  std::size_t drain(Pipe& pp, std::span<std::byte> in) {
    std::size_t n = 0;
    while (n < in.size() && !pp.buf.empty()) {
      in[n++] = pp.buf.front();
      pp.buf.pop_front();
    }
    if (n > 0) changed();
    return n;
  }

  void changed() {
    if (waiting_.empty()) return;
    if (sleepers_ > 0) {
      sleepers_ = 0;
      ++gen_;
      cv_.notify_all();
    }
    refresh();
  }

  // ---- hang texts ----------------------------------------------------------
  std::string fd_list(const Proc& p) const {
    std::string s;
    for (const auto& [fd, e] : p.fds)
      s += (s.empty() ? "fd " : ", fd ") + std::to_string(fd) +
           (e.write ? " (write end)" : " (read end)");
    return s.empty() ? "no descriptor" : s;
  }
  // Where the other end of pipe `pipe` is open: "process 2 (fd 4), ...".
  std::string holders(int pipe, bool write, int except_pid) const {
    std::string s;
    for (const auto& [pid, p] : procs_)
      for (const auto& [fd, e] : p.fds)
        if (e.pipe == pipe && e.write == write && pid != except_pid)
          s += (s.empty() ? "" : ", ") + ("process " + std::to_string(pid)) + " (fd " +
               std::to_string(fd) + ")";
    return s;
  }
  // A short "what it does" for a process, from its blocked threads.
  std::string doing(int pid) const {
    std::string s;
    for (const auto& [tid, w] : waiting_)
      if (w.pid == pid) s += (s.empty() ? "" : " and ") + short_op(w);
    return s.empty() ? "is not blocked in an OS call" : "blocks in " + s;
  }
  std::string short_op(const Waiter& w) const {
    switch (w.op) {
      case Op::read: return "read on fd " + std::to_string(w.arg);
      case Op::write: return "write on fd " + std::to_string(w.arg) + " (pipe full)";
      case Op::wait: return "wait for pid " + std::to_string(w.arg);
      case Op::poll: return "poll";
      case Op::lock: return "lock of shared lock #" + std::to_string(w.arg);
    }
    return "?";
  }
  std::string why(const Waiter& w) const {
    const std::string me = "process " + std::to_string(w.pid);
    switch (w.op) {
      case Op::read: {
        const Pipe& pp = pipes_[w.pipe];
        std::string s = me + " blocks in read on fd " + std::to_string(w.arg) + " (pipe empty): ";
        std::string own;
        for (const auto& [fd, e] : procs_.at(w.pid).fds)
          if (e.pipe == w.pipe && e.write) own += (own.empty() ? "" : ", ") + std::to_string(fd);
        if (!own.empty())
          return s + "end-of-file impossible, this process still holds write end fd " + own;
        if (pp.writers > 0) {
          std::string o;
          for (const auto& [pid, p] : procs_)
            for (const auto& [fd, e] : p.fds)
              if (e.pipe == w.pipe && e.write)
                o += (o.empty() ? "" : ", ") + ("process " + std::to_string(pid) + " (fd " +
                                                std::to_string(fd) + ", which " + doing(pid) + ")");
          return s + "the write end is still open in " + o;
        }
        return s + "nothing";
      }
      case Op::write: {
        const Pipe& pp = pipes_[w.pipe];
        std::string s = me + " blocks in write on fd " + std::to_string(w.arg) + ": pipe full (" +
                        std::to_string(pp.buf.size()) + " of " + std::to_string(capacity_) +
                        " bytes, " + std::to_string(w.n) + " more to write); ";
        std::string o;
        for (const auto& [pid, p] : procs_)
          for (const auto& [fd, e] : p.fds)
            if (e.pipe == w.pipe && !e.write)
              o += (o.empty() ? "" : ", ") + ("process " + std::to_string(pid) + " (fd " +
                                              std::to_string(fd) + ", which " + doing(pid) + ")");
        return s + "the read end is open in " + o;
      }
      case Op::wait:
        return me + " blocks in wait for pid " + std::to_string(w.arg) + ", which " + doing(w.arg);
      case Op::poll:
        return me + " blocks in poll on " + std::to_string(w.n) + " descriptor(s): none ready";
      case Op::lock: {
        const Lock& l = locks_[static_cast<std::size_t>(w.arg)];
        return me + " blocks in lock of shared lock #" + std::to_string(w.arg) + " held by " +
               (l.owner == 0 ? std::string("no one (being handed over)")
                             : "process " + std::to_string(l.owner) + ", which " + doing(l.owner));
      }
    }
    return me + " blocks";
  }
  // Not while an exception unwinds this thread: a checker that found a hang
  // unwinds the blocked threads, whose destructors may close descriptors;
  // the board must keep the state the hang was found in.
  void refresh() {
    if (std::uncaught_exceptions() > 0) return;
    for (const auto& [tid, w] : waiting_) hang::set(tid, why(w).c_str());
  }

  const std::size_t pipe_buf_, capacity_;
  mutex m_;
  typename Sync::condition_variable cv_;
  std::map<int, Proc> procs_;
  std::deque<Pipe>
      pipes_;  // not a vector: a blocked read/write holds a reference to its pipe across pipe()
  std::deque<Lock> locks_;  // not a vector: a blocked locker holds a reference across create
  std::deque<Block> blocks_;
  std::map<std::size_t, int> thread_pid_;
  std::map<std::size_t, Waiter> waiting_;
  std::map<int, thread_type> handles_;
  std::vector<thread_type> detached_;
  int next_pid_ = 2;
  unsigned sleepers_ = 0;
  std::uint64_t gen_ = 0;
};

// The OsBackend over a kernel: static calls forwarded to the kernel
// installed for Sync (one per execution).
template <class Sync, std::size_t PipeBuf = 2, std::size_t PipeCapacity = 4>
struct sim_os {
  using sync = sim_sync<Sync>;
  static constexpr std::size_t pipe_buf = PipeBuf;
  static constexpr std::size_t pipe_capacity = PipeCapacity;
  static constexpr std::string_view name = "sim";

  // The kernel a model owns: sim_kernel with this OS's pipe sizes.
  struct kernel : sim_kernel<Sync> {
    kernel() : sim_kernel<Sync>(PipeBuf, PipeCapacity) {}
  };

  static int spawn(std::function<int()> body) { return k("spawn").spawn(std::move(body)); }
  static exit_code wait(int pid) { return k("wait").wait(pid); }
  static std::optional<exit_code> try_wait(int pid) { return k("try_wait").try_wait(pid); }
  static std::optional<exit_code> wait_until(int pid, typename Sync::clock::time_point deadline) {
    return k("wait_until").wait_until(pid, deadline);
  }
  static void kill(int pid, int sig) { k("kill").kill(pid, sig); }
  static int self() { return k("self").self(); }
  static std::pair<int, int> pipe() { return k("pipe").pipe(); }
  static std::size_t read(int fd, std::span<std::byte> in) { return k("read").read(fd, in); }
  static void write(int fd, std::span<const std::byte> out) { k("write").write(fd, out); }
  static void close(int fd) { k("close").close(fd); }
  static std::size_t poll(std::span<poll_fd> fds, typename Sync::clock::time_point deadline) {
    return k("poll").poll(fds, deadline);
  }
  static std::optional<std::size_t> try_read(int fd, std::span<std::byte> in) {
    return k("try_read").try_read(fd, in);
  }
  using shm_lock = int;  // the kernel's lock number
  static shm_lock shm_lock_create() { return k("shm_lock_create").shm_lock_create(); }
  static lock_status shm_lock_until(shm_lock l, typename Sync::clock::time_point deadline) {
    return k("shm_lock_until").shm_lock_until(l, deadline);
  }
  static void shm_unlock(shm_lock l) { k("shm_unlock").shm_unlock(l); }
  static std::uint64_t& shm_note(shm_lock l) { return k("shm_note").shm_note(l); }
  static void shm_lock_destroy(shm_lock l) { k("shm_lock_destroy").shm_lock_destroy(l); }
  using shm_block = int;  // the kernel's block number
  static shm_block shm_block_create(std::size_t bytes) {
    return k("shm_block_create").shm_block_create(bytes);
  }
  static void shm_store(shm_block b, std::size_t offset, std::span<const std::byte> in) {
    k("shm_store").shm_store(b, offset, in);
  }
  static void shm_load(shm_block b, std::size_t offset, std::span<std::byte> out) {
    k("shm_load").shm_load(b, offset, out);
  }
  static void shm_block_destroy(shm_block b) { k("shm_block_destroy").shm_block_destroy(b); }

 private:
  static sim_kernel<Sync>& k(const char* call) {
    sim_kernel<Sync>& kern = sim_detail::kernel_for<Sync>(call);
    if (kern.pipe_buf() != PipeBuf || kern.pipe_capacity() != PipeCapacity)
      throw std::logic_error(std::string("sim_os::") + call +
                             ": the installed kernel's pipes (pipe_buf " +
                             std::to_string(kern.pipe_buf()) + ", capacity " +
                             std::to_string(kern.pipe_capacity()) + ") are not this sim_os's");
    return kern;
  }
};

}  // namespace interleave::models
