// interleave/ipc_queue.hpp — the inter-process Queue, after Python's
// multiprocessing.Queue (not the thread Queue of interleave/queue.hpp),
// written once against the OS interface.
//
// Seed scenario: "Inter-process communication with queues": a producer
// process puts Fibonacci numbers and the string "STOP", a consumer process
// gets until "STOP" (stop_sentinel_program below).
//
//   IpcQueue<T> q;              // before starting the processes that share it
//   q.put(v);                   // hands the record to this process's feeder thread
//   T v = q.get();  std::optional<T> v = q.get(timeout);  q.get_nowait();
//   q.empty();                  // approximate
//   q.mid_record();             // a get timed out in the middle of a record
//   q.close();  q.join_thread();  q.cancel_join_thread();
//
// How it works: one OS pipe carries length-framed records (interleave/
// codec.hpp). put() encodes the value at once, in the caller, and appends the
// record to this process's buffer; a feeder thread, started by the first
// put() of each process, writes what is buffered to the pipe. Records of
// several producer processes never interleave: a writer holds the queue's
// write token (one byte in a second pipe, read to take it, written back to
// return it) for each batch it writes. A reader holds the queue's read lock,
// a process-shared lock in shared memory (Os::shm_lock: on POSIX a robust
// pthread mutex in a MAP_SHARED page), for each record it reads; the lock's
// note, a word in the same shared memory, says whether the stream stands at
// a record boundary or which process is reading a record and how far it got.
// A get whose record is already in the pipe costs one syscall: a read that
// never blocks (Os::try_read) of the whole record, whose length is fixed for
// a T the codec encodes in a fixed size (else two: header, then payload);
// the lock itself takes no syscall unless it is contended. When the pipe is
// empty the get waits in a poll, which consumes nothing.
//
// Requires: the queue is constructed before the processes that use it are
//   started with Os::spawn (they inherit its descriptors and its shared
//   page). A program re-executed by posix_os::spawn_entry cannot share it:
//   exec drops the page, and the queue offers no way to pass it. T is
//   encodable by the codec and default-constructible; a timeout >= 0
//   (std::invalid_argument naming "timeout"); join_thread() only after
//   close() (std::logic_error); no put or get after close() in the same
//   process (std::logic_error "... queue is closed in this process").
// Guarantees:
//   - every value put is got exactly once, whole, and the values one process
//     put are got in the order it put them (unless a reader dies: below);
//   - put() of a value the codec cannot encode (its serialization throws, or
//     the record exceeds max_record) throws codec_error from that put() and
//     buffers nothing; the feeder is untouched and later values still arrive;
//   - a process that put values does not end normally before its feeder has
//     written them all (an exit hook joins it, interleave/exit_hooks.hpp),
//     unless it called cancel_join_thread(), which may lose them. So joining
//     a producer before draining more than the pipe holds (Os::pipe_capacity)
//     deadlocks: Python's documented trap, kept visible on purpose
//     (join_before_drain_program, the ipc.queue.join_before_drain row);
//   - get(timeout) returns by its deadline, in every process: waiting for
//     the read lock (a consumer process that loses the race for it gives up
//     at its deadline) and waiting for data. It returns std::nullopt when no
//     whole record arrived before it, even in the middle of a record. A get
//     that times out in the middle of a record keeps the bytes it read and
//     the read lock (so no other reader reads the rest of that record); the
//     next get of the same thread, timed or not, goes on with that record,
//     so a record completed later is delivered whole, and one never
//     completed is never delivered. Gets of other threads and processes wait
//     for the lock meanwhile. mid_record() says that this process holds such
//     a begun record. A thread that ends while it holds one breaks the queue
//     (as a reader's death does, below);
//   - a reader that dies holding the read lock (its process killed, or its
//     thread ended) is detected by the next get of any process:
//       * at a record boundary (waiting for the lock's hand-over or for data,
//         or after a whole record): nothing else is lost, and the next get
//         goes on (a value the dead reader had read whole died with it);
//       * in the middle of a record, or inside one of its reads: the stream
//         can no longer be framed, and that get, and every later get of
//         every process, throws broken_queue_error naming the dead process
//         and how far it had read ("process 2 died holding the queue's read
//         lock after reading 4 bytes of a record ..."). A death inside a read
//         is reported so even when the read took nothing (the note cannot
//         tell, and a cut value must never be delivered); the window is one
//         read that does not block;
//   - a writer killed in the middle of a record longer than Os::pipe_buf
//     (a record it writes in pieces) breaks the queue, as Python documents
//     for its Queue: the record is never completed, and the write token it
//     held is lost, so later puts of every process block. What a user can
//     rely on: no get ever returns a cut or mixed value; every get(timeout)
//     returns by its deadline (std::nullopt, with mid_record() true in the
//     process that read the cut record's beginning); an untimed get()
//     waits for the record's end. When every write end of the queue is
//     closed (every process that held it ended or destroyed it), that get
//     throws short_record_error naming the bytes expected and read; while
//     one is open (the reader's own process holds one), the OS interface
//     cannot tell a killed writer from a slow one (pipes carry no writer
//     identity and a lost token looks like a held one), so it waits for
//     ever. In a program that may kill a process that puts, get with a
//     timeout, and treat a timeout with mid_record() true, once the writers
//     are known dead, as a broken queue;
//   - empty() is approximate: true when no byte is in the pipe at that
//     moment; records still in some process's feeder buffer are not seen.
//     There is no qsize(): counting records across processes would need a
//     shared count kept by every put and get (Python's qsize is documented
//     as unreliable and raises on macOS).
// Known limits: the write token is still a pipe: a writer killed while it
//   holds it (between records too) loses it, and later puts block, as with
//   Python's semaphores; its death is not detected. A reader that dies after
//   reading a record whole, before it returns it, takes that value with it.
// Threads: put/get may be called from several threads of a process.
// Memory ordering: a put() happens-before the get() that returns its value
//   (through the feeder and the OS pipe).
// Destruction (in the process that constructed it): close() and, unless
//   cancel_join_thread() was called, join the feeder, then close the
//   descriptors. A cancelled feeder that still has records to write is
//   detached and closes its write-side descriptors itself when it finishes
//   (a pipe with no reader left ends it with EPIPE).
// Per-process state (the feeder, the read lock's holder) is kept per pid
// (Os::self()), not in the object's plain members: under the simulated OS all
// processes share one address space and one object.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include "interleave/codec.hpp"
#include "interleave/deadline.hpp"
#include "interleave/exit_hooks.hpp"
#include "interleave/os.hpp"
#include "interleave/pipe.hpp"
#include "interleave/posix_os.hpp"
#include "interleave/process.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// The queue's broken twin (ipc_queue_bug::blocks_mid_record): a timed get
// polls only before a record begins and reads the rest of a begun record
// with blocking reads, so a writer killed in the middle of a record longer
// than Os::pipe_buf makes it wait for ever (end-of-file cannot come: the
// reader's own process holds a write end). Models and property tests show it.
//
// The second twin (ipc_queue_bug::ignores_dead_reader) takes the read lock
// back from a reader that died holding it as if nothing had happened: after
// a death in the middle of a record, the next get reads from inside that
// record (a corrupt header, or a wrong value).
enum class ipc_queue_bug { none, blocks_mid_record, ignores_dead_reader };

// A get that finds the queue's stream cut for good: a reader died (or gave
// the read lock up) in the middle of a record. Every later get of every
// process throws it too.
struct broken_queue_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T, OsBackend Os = posix_os, class C = cereal_codec,
          ipc_queue_bug Bug = ipc_queue_bug::none>
  requires Codec<C, T>
class BasicIpcQueue {
  using Sync = typename Os::sync;
  using mutex = typename Sync::mutex;
  using condition_variable = typename Sync::condition_variable;
  using clock = typename Sync::clock;
  using record = std::vector<std::byte>;

 public:
  explicit BasicIpcQueue(std::size_t max_record = default_max_record) : max_record_(max_record) {
    std::vector<int> opened;
    try {
      const auto data = Os::pipe();
      opened = {data.first, data.second};
      const auto wlock = Os::pipe();
      opened.insert(opened.end(), {wlock.first, wlock.second});
      fds_ = {data.first, data.second, wlock.first, wlock.second};
      put_token(fds_.wlock_w);
      rlock_ = Os::shm_lock_create();
    } catch (...) {
      for (int fd : opened) Os::close(fd);
      throw;
    }
  }
  BasicIpcQueue(const BasicIpcQueue&) = delete;
  BasicIpcQueue& operator=(const BasicIpcQueue&) = delete;

  ~BasicIpcQueue() {
    std::shared_ptr<local> me;
    {
      std::unique_lock<mutex> lk(map_mu_);
      me = find(Os::self());
    }
    bool feeder_keeps_write_side = false;
    if (me) {
      std::unique_lock<mutex> lk(me->mu);
      // A record this thread began and did not finish: the lock goes back,
      // its note saying so (other processes that hold the queue see it broken).
      if (me->holder == Sync::thread_index()) {
        me->holder = no_thread;
        try {
          Os::shm_unlock(rlock_);
        } catch (...) {  // released with this process's view of it below
        }
      }
      me->closed = true;
      me->cv.notify_all();
      if (me->hook != 0) exit_hooks::remove(me->hook);
      if (me->feeder.joinable()) {
        if (me->cancelled && !me->done) {
          me->orphaned = true;  // the feeder closes the write side when it finishes
          feeder_keeps_write_side = true;
          me->feeder.detach();
        } else {
          lk.unlock();
          me->feeder.join();
        }
      }
    }
    close_quietly(fds_.data_r);
    try {
      Os::shm_lock_destroy(rlock_);
    } catch (...) {  // the mapping is released either way
    }
    if (!feeder_keeps_write_side)
      for (int fd : {fds_.data_w, fds_.wlock_r, fds_.wlock_w}) close_quietly(fd);
  }

  void put(const T& value) {
    record rec =
        encode_record<C>(value, max_record_);  // codec_error: this put fails, nothing else changes
    std::shared_ptr<local> me = mine();
    std::unique_lock<mutex> lk(me->mu);
    if (me->closed) throw std::logic_error("IpcQueue::put: the queue is closed in this process");
    if (me->error) std::rethrow_exception(me->error);
    me->buffer.push_back(std::move(rec));
    if (!me->started) {
      me->started = true;
      me->feeder = typename Sync::thread([me, fds = fds_] { feed(*me, fds); });
      me->hook = exit_hooks::add(Os::self(), [me] { flush_at_exit(*me); });
    }
    me->cv.notify_one();
  }

  T get() { return *get_until(clock::time_point::max(), "IpcQueue::get"); }
  template <class Rep, class Period>
  std::optional<T> get(const std::chrono::duration<Rep, Period>& timeout) {
    return get_until(detail::deadline_after<clock>(timeout, "IpcQueue::get"), "IpcQueue::get");
  }
  std::optional<T> get_nowait() { return get_until(clock::now(), "IpcQueue::get_nowait"); }

  // True when a get of this process timed out in the middle of a record and
  // that record has not been finished since: the thread whose get timed out
  // holds the read lock, and its next get goes on with the record.
  bool mid_record() {
    std::shared_ptr<local> me = mine();
    std::unique_lock<mutex> lk(me->mu);
    return me->mid;
  }

  // Approximate: no byte in the pipe right now.
  bool empty() {
    poll_fd p{fds_.data_r};
    return Os::poll(std::span<poll_fd>(&p, 1), clock::now()) == 0;
  }

  // This process puts no more; the feeder writes what is buffered and ends.
  void close() {
    std::shared_ptr<local> me = mine();
    std::unique_lock<mutex> lk(me->mu);
    me->closed = true;
    me->cv.notify_all();
  }

  // Waits until the feeder has written everything (after close()).
  void join_thread() {
    std::shared_ptr<local> me = mine();
    std::unique_lock<mutex> lk(me->mu);
    if (!me->closed)
      throw std::logic_error(
          "IpcQueue::join_thread: call close() first (the feeder is still accepting puts)");
    if (!me->feeder.joinable()) return;
    lk.unlock();
    me->feeder.join();
    lk.lock();
    if (me->hook != 0) exit_hooks::remove(std::exchange(me->hook, 0));
  }

  // This process's end will not wait for the feeder: buffered values may be lost.
  void cancel_join_thread() {
    std::shared_ptr<local> me = mine();
    std::unique_lock<mutex> lk(me->mu);
    me->cancelled = true;
  }

 private:
  struct fd_set4 {
    int data_r = -1, data_w = -1, wlock_r = -1, wlock_w = -1;
  };
  static constexpr std::size_t no_thread = static_cast<std::size_t>(-1);

  // What one process keeps of the queue: its feeder and its readers' turn.
  struct local {
    int pid = 0;
    mutex mu;
    condition_variable cv;
    std::deque<record> buffer INTERLEAVE_GUARDED_BY(mu);
    bool started INTERLEAVE_GUARDED_BY(mu) = false;
    bool closed INTERLEAVE_GUARDED_BY(mu) = false;
    bool cancelled INTERLEAVE_GUARDED_BY(mu) = false;
    bool done INTERLEAVE_GUARDED_BY(mu) = false;
    bool orphaned INTERLEAVE_GUARDED_BY(mu) = false;
    std::exception_ptr error INTERLEAVE_GUARDED_BY(mu);
    std::uint64_t hook INTERLEAVE_GUARDED_BY(mu) = 0;
    // The thread of this process that holds the queue's read lock (set while
    // it is inside a get, and kept while a get of it timed out in the middle
    // of a record: `mid`), or no_thread.
    std::size_t holder INTERLEAVE_GUARDED_BY(mu) = no_thread;
    bool mid INTERLEAVE_GUARDED_BY(mu) = false;
    // Owned by the holder: the bytes of the record it began to read and has
    // not finished (header included).
    record begun;
    typename Sync::thread feeder;  // started once under mu; joined by one caller
  };

  // Every process that holds the queue holds the token pipes' read ends, so
  // returning a token cannot meet EPIPE: the OS's cheaper write for that,
  // where it has one.
  static void put_token(int fd) {
    const std::byte token{1};
    if constexpr (requires { Os::write_own_pipe(fd, std::span<const std::byte>(&token, 1)); })
      Os::write_own_pipe(fd, std::span<const std::byte>(&token, 1));
    else
      Os::write(fd, std::span<const std::byte>(&token, 1));
  }
  static void take_token(int fd) {
    std::byte token{};
    if (Os::read(fd, std::span<std::byte>(&token, 1)) != 1)
      throw os_error(std::make_error_code(std::errc::broken_pipe),
                     "IpcQueue: token pipe fd " + std::to_string(fd) + " at end-of-file");
  }
  static void close_quietly(int fd) noexcept {
    try {
      if (fd >= 0) Os::close(fd);
    } catch (...) {  // the descriptor is released either way
    }
  }

  // The feeder thread of one process: writes buffered records in batches,
  // holding the write token for each batch.
  static void feed(local& me, fd_set4 fds) {
    for (;;) {
      record batch;
      {
        std::unique_lock<mutex> lk(me.mu);
        me.cv.wait(lk, [&]() INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
          return !me.buffer.empty() || me.closed;
        });
        if (me.buffer.empty()) break;  // closed and flushed
        batch = std::move(me.buffer.front());
        me.buffer.pop_front();
        while (!me.buffer.empty() && batch.size() < 65536) {
          batch.insert(batch.end(), me.buffer.front().begin(), me.buffer.front().end());
          me.buffer.pop_front();
        }
      }
      try {
        take_token(fds.wlock_r);
        try {
          Os::write(fds.data_w, batch);
        } catch (...) {
          put_token(fds.wlock_w);
          throw;
        }
        put_token(fds.wlock_w);
      } catch (...) {
        std::unique_lock<mutex> lk(me.mu);
        me.error = std::current_exception();
        me.buffer.clear();
        break;
      }
    }
    std::unique_lock<mutex> lk(me.mu);
    me.done = true;
    if (me.orphaned)
      for (int fd : {fds.data_w, fds.wlock_r, fds.wlock_w}) close_quietly(fd);
    me.cv.notify_all();
  }

  // The exit hook: a process that put values waits for its feeder to write them.
  static void flush_at_exit(local& me) {
    std::unique_lock<mutex> lk(me.mu);
    me.closed = true;
    me.cv.notify_all();
    if (me.cancelled || !me.feeder.joinable()) return;
    lk.unlock();
    me.feeder.join();  // blocks while the pipe is full and nobody drains it
  }

  // The read lock's note (in the lock's shared memory, written by its
  // holder): 0 while the stream stands at a record boundary; otherwise the
  // pid of the process reading a record, the bytes of it read so far, and
  // whether a read of it is under way (the read may have taken more).
  static constexpr std::uint64_t note_broken = std::uint64_t{1} << 63;  // a get found it broken
  static constexpr std::uint64_t note_in_read = std::uint64_t{1} << 62;
  static constexpr std::uint64_t note_died = std::uint64_t{1} << 60;  // its holder died holding it
  static constexpr unsigned note_pid_shift = 38;
  static constexpr std::uint64_t note_pid_mask = (std::uint64_t{1} << 22) - 1;
  static constexpr std::uint64_t note_have_mask = (std::uint64_t{1} << note_pid_shift) - 1;

  static std::uint64_t note_of(std::size_t have, bool in_read) {
    if (have == 0 && !in_read) return 0;
    const auto pid = static_cast<std::uint64_t>(static_cast<unsigned>(Os::self())) & note_pid_mask;
    return (in_read ? note_in_read : 0) | pid << note_pid_shift |
           std::min<std::uint64_t>(have, note_have_mask);
  }
  static std::string describe(std::uint64_t note) {
    const std::string pid = std::to_string((note >> note_pid_shift) & note_pid_mask);
    const std::string have = std::to_string(note & note_have_mask);
    std::string s = "the queue is broken: ";
    if (note & note_died)
      s += "process " + pid + " died holding the queue's read lock ";
    else
      s += "process " + pid + " gave the queue's read lock up ";
    if (note & note_in_read)
      s += "inside a read of a record (" + have +
           " bytes of it read before that read, which may have taken more)";
    else
      s += "after reading " + have + " bytes of a record";
    return s + "; the rest of the stream cannot be framed, so no value is delivered from it";
  }

  std::optional<T> get_until(typename clock::time_point deadline, const char* who) {
    std::shared_ptr<local> me = mine();
    const std::size_t self_thread = Sync::thread_index();
    bool continuing = false;
    {
      std::unique_lock<mutex> lk(me->mu);
      if (me->closed)
        throw std::logic_error(std::string(who) + ": the queue is closed in this process");
      continuing = me->holder == self_thread;  // a record this thread began
    }
    if (!continuing) {
      const lock_status st = Os::shm_lock_until(rlock_, deadline);
      if (st == lock_status::timed_out) return std::nullopt;
      std::uint64_t& note = Os::shm_note(rlock_);
      if (Bug == ipc_queue_bug::ignores_dead_reader && st == lock_status::owner_died) note = 0;
      if (note != 0) {  // the stream does not stand at a record boundary
        note |= note_broken | (st == lock_status::owner_died ? note_died : 0);
        const std::uint64_t seen = note;
        Os::shm_unlock(rlock_);
        throw broken_queue_error(std::string(who) + ": " + describe(seen));
      }
      // (owner_died with a note of 0: the dead reader stood at a record
      // boundary; a value it had read whole died with it, nothing else is lost.)
      std::unique_lock<mutex> lk(me->mu);
      me->holder = self_thread;
    }
    // From here this thread holds the read lock: me->begun and the note are its own.
    const auto release = [&] {
      {
        std::unique_lock<mutex> lk(me->mu);
        me->holder = no_thread;
        me->mid = false;
      }
      Os::shm_unlock(rlock_);
    };
    record& rec = me->begun;
    std::uint64_t& note = Os::shm_note(rlock_);
    try {
      for (;;) {
        const std::size_t have = rec.size();
        // Every record of a T of fixed encoded size has the same length: its
        // header and payload are read together (never past the record).
        std::size_t want = frame_header_bytes + fixed_payload;
        if (have >= frame_header_bytes) {
          std::size_t length = 0;
          for (std::size_t i = 0; i < frame_header_bytes; ++i)
            length |= std::to_integer<std::size_t>(rec[i]) << (8 * i);
          if (length > max_record_)
            throw codec_error(std::string(who) + ": length header says " + std::to_string(length) +
                              " bytes, over max_record " + std::to_string(max_record_) +
                              " (a corrupt or foreign stream)");
          if (fixed_payload != 0 && length != fixed_payload)
            throw codec_error(std::string(who) + ": length header says " + std::to_string(length) +
                              " bytes, a T is always " + std::to_string(fixed_payload) +
                              " (a corrupt or foreign stream)");
          want = frame_header_bytes + length;
        }
        if (have == want) break;
        // A read that never blocks, with the note saying it is under way: a
        // death inside it is seen as a cut record. The waits for data are
        // polls (which consume nothing), each with the time left. (The
        // broken twin reads the rest of a begun record with blocking reads.)
        rec.resize(want);
        const std::span<std::byte> rest(rec.data() + have, want - have);
        note = note_of(have, true);
        std::optional<std::size_t> n;
        if (Bug == ipc_queue_bug::blocks_mid_record && have > 0)
          n = Os::read(fds_.data_r, rest);
        else
          n = Os::try_read(fds_.data_r, rest);
        rec.resize(have + n.value_or(0));
        note = note_of(rec.size(), false);
        if (!n) {
          if (wait_readable(fds_.data_r, deadline)) continue;
          // The deadline passed. At a record boundary the lock goes back; in
          // the middle of a record this thread keeps it, and the bytes, for
          // its next get (no other reader may read the rest).
          if (have == 0) {
            release();
          } else {
            std::unique_lock<mutex> lk(me->mu);
            me->mid = true;
          }
          return std::nullopt;
        }
        if (*n == 0) {
          if (have == 0)
            throw os_error(std::make_error_code(std::errc::broken_pipe),
                           std::string(who) + ": end-of-file on fd " + std::to_string(fds_.data_r) +
                               ": the queue's write ends are closed");
          throw short_record_error(std::string(who) + ": short record: expected " +
                                   std::to_string(want) +
                                   " bytes (header included), end-of-file after " +
                                   std::to_string(have) + ": its writer was killed mid-record");
        }
      }
    } catch (const std::exception&) {
      // End-of-file, a corrupt header, an OS error: the lock goes back. A
      // record begun stays cut, and the note tells the next holder so.
      note = note_of(rec.size(), false);
      rec.clear();
      release();
      throw;
    }
    // The record is this thread's before the lock goes back: another thread
    // of this process may take the lock, and me->begun, at once.
    const record whole = std::move(rec);
    rec.clear();
    note = 0;
    release();
    return C::template decode<T>(std::span<const std::byte>(whole).subspan(frame_header_bytes));
  }

  // The encoded size of every T when the codec says it is fixed, else 0.
  static constexpr std::size_t fixed_payload = [] {
    if constexpr (requires { C::template fixed_size<T>(); })
      return C::template fixed_size<T>();
    else
      return std::size_t{0};
  }();

  static bool wait_readable(int fd, typename clock::time_point deadline) {
    poll_fd p{fd};
    return Os::poll(std::span<poll_fd>(&p, 1), deadline) == 1;
  }

  std::shared_ptr<local> find(int pid) INTERLEAVE_REQUIRES(map_mu_) {
    for (auto& l : locals_)
      if (l->pid == pid) return l;
    return nullptr;
  }
  std::shared_ptr<local> mine() {
    const int self = Os::self();
    std::unique_lock<mutex> lk(map_mu_);
    if (auto l = find(self)) return l;
    auto l = std::make_shared<local>();
    l->pid = self;
    locals_.push_back(l);
    return l;
  }

  std::size_t max_record_;
  fd_set4 fds_;
  typename Os::shm_lock rlock_{};
  mutex map_mu_;
  std::list<std::shared_ptr<local>> locals_ INTERLEAVE_GUARDED_BY(map_mu_);
};

template <class T>
using IpcQueue = BasicIpcQueue<T, posix_os>;
template <class T, OsBackend Os = posix_os>
using BrokenBlocksMidRecordIpcQueue =
    BasicIpcQueue<T, Os, cereal_codec, ipc_queue_bug::blocks_mid_record>;
template <class T, OsBackend Os = posix_os>
using BrokenIgnoresDeadReaderIpcQueue =
    BasicIpcQueue<T, Os, cereal_codec, ipc_queue_bug::ignores_dead_reader>;

// --- the seed's programs --------------------------------------------------------

// An item of the seed's queue: a Fibonacci number, or the sentinel "STOP".
using fib_item = std::variant<std::uint64_t, std::string>;

inline std::vector<std::uint64_t> fibonacci(int n) {
  std::vector<std::uint64_t> out;
  std::uint64_t a = 0, b = 1;
  for (int i = 0; i < n; ++i) {
    out.push_back(a);
    b = std::exchange(a, b) + b;
  }
  return out;
}

struct sentinel_result {
  std::vector<std::uint64_t> received;  // what the consumer got before "STOP", in order
  exit_code producer = -1, consumer = -1;
};

// The seed's producer and consumer processes: the producer puts the first `n`
// Fibonacci numbers and "STOP"; the consumer gets until "STOP" and sends what
// it got back to the parent through a one-way pipe. The parent drains that
// result first and only then joins both processes.
template <OsBackend Os>
sentinel_result stop_sentinel_program(int n) {
  BasicIpcQueue<fib_item, Os> q;
  auto [result_r, result_w] = Pipe<Os>(false);
  BasicProcess<Os> producer([&q, n] {
    for (std::uint64_t f : fibonacci(n)) q.put(fib_item{f});
    q.put(fib_item{std::string("STOP")});
  });
  BasicProcess<Os> consumer([&q, wfd = result_w.write_fd()] {
    std::vector<std::uint64_t> got;
    for (;;) {
      fib_item item = q.get();
      if (std::holds_alternative<std::string>(item) && std::get<std::string>(item) == "STOP") break;
      if (std::holds_alternative<std::uint64_t>(item)) got.push_back(std::get<std::uint64_t>(item));
    }
    BasicConnection<Os> out(-1, wfd);  // this process's copy of the result pipe
    out.send(got);
  });
  producer.start();
  try {
    consumer.start();
  } catch (...) {
    producer.kill();
    producer.join();
    throw;
  }
  sentinel_result r;
  try {
    result_w.close();
    r.received = result_r.template recv<std::vector<std::uint64_t>>();
  } catch (...) {
    producer.kill();
    consumer.kill();
    producer.join();
    consumer.join();
    throw;
  }
  producer.join();
  consumer.join();
  r.producer = *producer.exitcode();
  r.consumer = *consumer.exitcode();
  return r;
}

struct drain_result {
  bool join_timed_out = false;  // the producer could not end before its queue was drained
  std::size_t drained = 0;      // records the parent got afterwards
  exit_code producer = -1;
};

// The twin of the seed's program (ipc.queue.join_before_drain): the producer
// puts `items` strings of `item_bytes` bytes, and the parent joins it BEFORE
// getting anything. With more than Os::pipe_capacity bytes in flight the
// producer's feeder blocks on the full pipe, the producer's end waits for its
// feeder, and the parent's join waits for the producer: a deadlock. With
// `join_timeout` the parent gives up after it, drains every item and joins
// again (so the program ends and leaves no child); with std::nullopt the join
// is untimed, exactly Python's trap, and hangs.
template <OsBackend Os>
drain_result join_before_drain_program(int items, std::size_t item_bytes,
                                       std::optional<std::chrono::milliseconds> join_timeout) {
  BasicIpcQueue<std::string, Os> q;
  BasicProcess<Os> producer([&q, items, item_bytes] {
    for (int i = 0; i < items; ++i) q.put(std::string(item_bytes, static_cast<char>('a' + i % 26)));
  });
  producer.start();
  drain_result r;
  if (join_timeout) {
    r.join_timed_out = !producer.join(*join_timeout);  // interleave:bug ipc.queue.join_before_drain
  } else {
    producer.join();  // interleave:bug ipc.queue.join_before_drain
  }
  for (int i = 0; i < items; ++i) {
    q.get();
    ++r.drained;
  }
  producer.join();
  r.producer = *producer.exitcode();
  return r;
}

}  // namespace interleave
