// interleave/pipe.hpp — Connection and Pipe, after Python's
// multiprocessing.Pipe, written once against the OS interface.
//
//   auto [a, b] = Pipe<>();             // duplex: each end sends and receives
//   auto [r, w] = Pipe<>(false);        // one-way: r receives, w sends
//   w.send(value);  T v = r.recv<T>();  r.poll(timeout);  r.close();
//
// A duplex pipe is two OS pipes (one per direction), so each duplex end holds
// two descriptors; a one-way end holds one. Values go through a codec
// (interleave/codec.hpp; cereal by default) as length-framed records.
//
// Requires: send() on an end that can send, recv() on one that can receive
//   (std::logic_error naming the state otherwise: "closed", "receive-only");
//   a timeout >= 0 (std::invalid_argument naming "timeout"). One thread at a
//   time per end and direction (as in Python): two threads sending on one end
//   may interleave their records' bytes when a record exceeds Os::pipe_buf.
// Guarantees:
//   - records arrive whole and in order; send() of a value the codec cannot
//     encode, or of a record over max_record, throws codec_error and writes
//     nothing;
//   - recv() blocks until a record is there; once every write end of the
//     direction is closed (in every process) and nothing is left, it throws
//     eof_error; end-of-file inside a record (the writer was killed
//     mid-record) is short_record_error, never a value;
//   - send() to a direction with no reader left throws os_error(EPIPE) naming
//     the fd (SIGPIPE never kills);
//   - poll(timeout) is true when recv() would not block (a record, or
//     end-of-file, is there);
//   - close() is idempotent; the destructor closes; no path leaks a
//     descriptor (Pipe() closes what it opened if a later pipe() fails).
// End-of-file needs every write end closed. A forked child holds copies of
// all of its parent's ends: the process that waits for end-of-file must close
// its own copy of the write end first, or it waits forever
// (ipc.pipe.broken_keeps_write_end, pipe_reader_program below).
// Memory ordering: a value's encoding happens-before its decoding (through
//   the OS pipe).
// Seed scenario: pipes between processes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "interleave/codec.hpp"
#include "interleave/deadline.hpp"
#include "interleave/os.hpp"
#include "interleave/posix_os.hpp"
#include "interleave/process.hpp"

namespace interleave {

// recv() found end-of-file between records: the peer closed and nothing is left.
struct eof_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <OsBackend Os, class C = cereal_codec>
class BasicConnection {
  using clock = typename Os::sync::clock;

 public:
  BasicConnection() = default;
  BasicConnection(int read_fd, int write_fd, std::size_t max_record = default_max_record)
      : rfd_(read_fd), wfd_(write_fd), max_record_(max_record) {}
  BasicConnection(BasicConnection&& o) noexcept
      : rfd_(std::exchange(o.rfd_, -1)),
        wfd_(std::exchange(o.wfd_, -1)),
        max_record_(o.max_record_) {}
  BasicConnection& operator=(BasicConnection&& o) noexcept {
    if (this != &o) {
      close_quietly();
      rfd_ = std::exchange(o.rfd_, -1);
      wfd_ = std::exchange(o.wfd_, -1);
      max_record_ = o.max_record_;
    }
    return *this;
  }
  BasicConnection(const BasicConnection&) = delete;
  BasicConnection& operator=(const BasicConnection&) = delete;
  ~BasicConnection() { close_quietly(); }

  bool closed() const noexcept { return rfd_ < 0 && wfd_ < 0; }
  bool readable() const noexcept { return rfd_ >= 0; }
  bool writable() const noexcept { return wfd_ >= 0; }
  int read_fd() const noexcept { return rfd_; }
  int write_fd() const noexcept { return wfd_; }

  template <class T>
  void send(const T& value) {
    require(wfd_, "send", "receive-only");
    const std::vector<std::byte> record = encode_record<C>(value, max_record_);
    Os::write(wfd_, record);
  }

  template <class T>
  T recv() {
    require(rfd_, "recv", "send-only");
    std::optional<std::vector<std::byte>> payload =
        read_record([this](std::span<std::byte> b) { return Os::read(rfd_, b); }, max_record_);
    if (!payload)
      throw eof_error("Connection::recv: end-of-file on fd " + std::to_string(rfd_) +
                      ": every write end is closed and nothing is left");
    return C::template decode<T>(*payload);
  }

  // True if recv() would not block. poll() is a check, poll(timeout) waits.
  bool poll() { return poll_until(clock::now()); }
  template <class Rep, class Period>
  bool poll(const std::chrono::duration<Rep, Period>& timeout) {
    return poll_until(detail::deadline_after<clock>(timeout, "Connection::poll"));
  }

  void close() {
    const int r = std::exchange(rfd_, -1), w = std::exchange(wfd_, -1);
    if (r >= 0) Os::close(r);
    if (w >= 0) Os::close(w);
  }
  // Closes the sending side only (the receiving side stays).
  void close_write() {
    if (wfd_ >= 0) Os::close(std::exchange(wfd_, -1));
  }

 private:
  void require(int fd, const char* who, const char* one_way) const {
    if (closed())
      throw std::logic_error(std::string("Connection::") + who + ": connection is closed");
    if (fd < 0)
      throw std::logic_error(std::string("Connection::") + who + ": connection is " + one_way);
  }
  bool poll_until(typename clock::time_point deadline) {
    require(rfd_, "poll", "send-only");
    poll_fd p{rfd_};
    return Os::poll(std::span<poll_fd>(&p, 1), deadline) == 1;
  }
  void close_quietly() noexcept {
    try {
      close();
    } catch (...) {  // a destructor does not throw; the descriptors are released either way
    }
  }

  int rfd_ = -1, wfd_ = -1;
  std::size_t max_record_ = default_max_record;
};

// Two connected ends. duplex: each end sends to and receives from the other;
// otherwise first receives and second sends.
template <OsBackend Os = posix_os, class C = cereal_codec>
std::pair<BasicConnection<Os, C>, BasicConnection<Os, C>> Pipe(
    bool duplex = true, std::size_t max_record = default_max_record) {
  const auto [r1, w1] = Os::pipe();
  if (!duplex)
    return {BasicConnection<Os, C>(r1, -1, max_record), BasicConnection<Os, C>(-1, w1, max_record)};
  std::pair<int, int> second;
  try {
    second = Os::pipe();
  } catch (...) {
    Os::close(r1);
    Os::close(w1);
    throw;
  }
  // a reads what b writes (pipe 1), b reads what a writes (pipe 2)
  return {BasicConnection<Os, C>(r1, second.second, max_record),
          BasicConnection<Os, C>(second.first, w1, max_record)};
}

using Connection = BasicConnection<posix_os>;

// --- the pipe rows' program ---------------------------------------------------

// One reader process receives `items` ints (0, 1, ...) until end-of-file and
// ends with exit code 0 if it got exactly 0..items-1 in order (else 1); the
// parent sends them, closes its write end and joins the reader.
// keep_write_end = false is the fixed reader: it closes its own copy of the
// write end first. keep_write_end = true is the twin
// (ipc.pipe.broken_keeps_write_end): its own copy keeps the pipe open, so
// end-of-file never comes and it waits forever in recv(). Returns the
// reader's exit code, or std::nullopt if `join_timeout` ran out (the reader is
// then killed and reaped: no child is left behind).
//
// The child touches no object it shares with the parent: it gets the two
// descriptor numbers by value and owns its own copies (under the simulated
// OS, where parent and child share one address space, the parent's objects
// are not the child's to change).
template <OsBackend Os, class Rep, class Period>
std::optional<exit_code> pipe_reader_program(int items, bool keep_write_end,
                                             std::chrono::duration<Rep, Period> join_timeout) {
  auto [r, w] = Pipe<Os>(false);
  BasicProcess<Os> reader([rfd = r.read_fd(), wfd = w.write_fd(), items, keep_write_end]() -> int {
    BasicConnection<Os> in(rfd, -1), own_write_end(-1, wfd);  // this process's copies
    // the fix closes this process's write end, so only the parent holds one; the twin keeps it
    if (!keep_write_end) own_write_end.close();  // interleave:bug ipc.pipe.broken_keeps_write_end
    int expected = 0;
    for (;;) {
      int v = 0;
      try {
        v = in.template recv<int>();
      } catch (const eof_error&) {
        break;
      }
      if (v != expected) return 1;
      ++expected;
    }
    return expected == items ? 0 : 1;
  });
  reader.start();
  try {
    r.close();
    for (int i = 0; i < items; ++i) w.send(i);
    w.close();
    if (reader.join(join_timeout)) return reader.exitcode();
  } catch (...) {
    reader.kill();
    reader.join();
    throw;
  }
  reader.kill();  // the reader is stuck: end it, reap it, report the timeout
  reader.join();
  return std::nullopt;
}

}  // namespace interleave
