// interleave/call_with_timeout.hpp — run a function in a child process and
// give up on it after a timeout, written once against the OS interface.
//
// Seed scenario: "Add timeout to a function" (resolve_host). Two programs:
//
//   call_with_timeout(timeout, f, args...)       the fixed one
//   call_with_timeout_grace<Os>(timeout, grace, f, args...)
//   seed_resolve_host<Os>(lookup, host, timeout) the seed as written, with
//                                                its races (the twin)
//
// call_with_timeout: the child runs f(args...) and writes its result as one
// length-framed record (interleave/codec.hpp) to a pipe, then exits. The
// parent reads that record until the deadline.
// Requires: timeout >= 0 and grace >= 0 (std::invalid_argument naming them);
//   f's result encodable by the codec (a compile error otherwise); on POSIX
//   the calling process single-threaded (the child is forked: posix_os
//   refuses fork in a multithreaded process with an error naming the safe
//   start method; use a ProcessPool there).
// Guarantees:
//   - returns f's result when the child delivered it completely, even when
//     the deadline passed meanwhile or the child was being stopped: after a
//     timeout the parent drains the pipe to end-of-file before it decides, so
//     a result written whole is never lost;
//   - a result cut short is never returned: it is a timeout (TimeoutError,
//     naming the child's pid and exit status) when the deadline passed, a
//     ChildProcessError otherwise;
//   - an exception escaping f is ChildProcessError carrying its message; a
//     child that ends without a result (crash, exit) is ChildProcessError
//     naming its exit status;
//   - on timeout the child gets SIGTERM, then SIGKILL if it has not ended
//     after `grace`; on every path (return or throw) the child is waited for
//     and both pipe ends are closed: no zombie, no descriptor left.
// Memory ordering: the child's effects reach the parent only through the
//   result record.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <csignal>
#include <cstddef>
#include <optional>
#include <string_view>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "interleave/as_completed.hpp"  // TimeoutError
#include "interleave/codec.hpp"
#include "interleave/deadline.hpp"
#include "interleave/ipc_queue.hpp"
#include "interleave/os.hpp"
#include "interleave/posix_os.hpp"
#include "interleave/process.hpp"

namespace interleave {

// The child failed: f threw (the message is its what()), or the child ended
// without a result (the message names its exit status).
class ChildProcessError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {

// A frame being read from a pipe a piece at a time: complete() once the
// header and the whole payload are in. Held inline while it is small (the
// usual result: nothing allocated in the parent between fork and wait, where
// every page it writes is a copy-on-write fault), on the heap once it grows.
class frame_reader {
 public:
  // Where the next read goes: at least one byte.
  std::span<std::byte> room() {
    if (!on_heap_) {
      if (size_ < sizeof inline_) return std::span<std::byte>(inline_).subspan(size_);
      heap_.assign(inline_, inline_ + size_);
      on_heap_ = true;
    }
    heap_.resize(size_ + std::clamp<std::size_t>(need(), 512, 65536));
    return std::span<std::byte>(heap_).subspan(size_);
  }
  void commit(std::size_t n) { size_ += n; }
  std::size_t size() const { return size_; }
  // Bytes the frame still needs (0 once complete).
  std::size_t need() const {
    if (size_ < frame_header_bytes) return frame_header_bytes - size_;
    return size_ < total() ? total() - size_ : 0;
  }
  bool complete() const { return need() == 0; }
  // Header plus payload, once the header is in.
  std::size_t total() const {
    std::size_t length = 0;
    for (std::size_t i = 0; i < frame_header_bytes; ++i)
      length |= std::to_integer<std::size_t>(data()[i]) << (8 * i);
    return frame_header_bytes + length;
  }
  std::span<const std::byte> payload() const {
    return std::span<const std::byte>(data() + frame_header_bytes, total() - frame_header_bytes);
  }

 private:
  const std::byte* data() const { return on_heap_ ? heap_.data() : inline_; }
  std::byte inline_[256];
  std::vector<std::byte> heap_;
  std::size_t size_ = 0;
  bool on_heap_ = false;
};

// Appends the codec's encoding of a child's result. cereal's binary archive
// writes an arithmetic value as its own bytes, so for one those bytes are
// appended directly: the same encoding (a unit test compares the two),
// without the stream set-up whose library pages every child would fault in.
template <class R>
void encode_child_result(std::vector<std::byte>& out, const R& value) {
  if constexpr (std::is_arithmetic_v<R>) {
    const auto* b = reinterpret_cast<const std::byte*>(&value);
    out.insert(out.end(), b, b + sizeof value);
  } else {
    cereal_codec::encode_into(out, value);
  }
}

// The child's result record: the length header, then 1 and f's encoded
// result, or 0 and the message of f's exception. send_record fills the
// header and writes the record to the pipe's write end w. The parent holds
// the read end open until it has reaped the child, so the write cannot meet
// a missing reader (EPIPE) unless the parent process itself is gone: where
// the OS has write_own_pipe, the child uses it (no signal-mask calls).
template <class Os>
void send_record(int w, std::span<std::byte> record) {
  const std::size_t n = record.size() - frame_header_bytes;
  if (n > default_max_record)
    throw codec_error("call_with_timeout: the result record of " + std::to_string(n) +
                      " bytes exceeds max_record " + std::to_string(default_max_record));
  for (std::size_t i = 0; i < frame_header_bytes; ++i)
    record[i] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
  if constexpr (requires { Os::write_own_pipe(w, std::span<const std::byte>(record)); })
    Os::write_own_pipe(w, record);
  else
    Os::write(w, record);
}

template <class Os>
void send_failure(int w, std::string_view message) {
  std::vector<std::byte> record(frame_header_bytes + 1 + message.size(), std::byte{0});
  std::memcpy(record.data() + frame_header_bytes + 1, message.data(), message.size());
  send_record<Os>(w, record);
}

// Runs `call` in the child and sends its outcome. An arithmetic result has a
// fixed-size record, built on the child's stack: the child allocates
// nothing, so it copies no allocator page (its first malloc would).
template <class Os, class R, class Call>
void send_result(int w, Call& call) {
  if constexpr (std::is_arithmetic_v<R>) {
    std::byte record[frame_header_bytes + 1 + sizeof(R)];
    try {
      const R value = call();
      std::memcpy(record + frame_header_bytes + 1, &value, sizeof(R));
    } catch (const std::exception& e) {
      send_failure<Os>(w, e.what());
      return;
    }
    record[frame_header_bytes] = std::byte{1};
    send_record<Os>(w, record);
  } else {
    std::vector<std::byte> record(frame_header_bytes + 1, std::byte{0});
    try {
      encode_child_result(record, call());
    } catch (const std::exception& e) {
      send_failure<Os>(w, e.what());
      return;
    }
    record[frame_header_bytes] = std::byte{1};
    send_record<Os>(w, record);
  }
}

// A forked child resolves, on its first call, every library function the
// parent has never called (lazy binding: the dynamic linker looks the symbol
// up through each library's symbol tables, faulting their pages in), and the
// resolution dies with the child, so every child pays it again: measured at
// about a third of the child's page faults. Before its first fork on POSIX,
// call_with_timeout makes the calls the child makes once in the parent:
// write(2) (a zero-length write to the empty pipe, which writes no byte) and,
// for a result that is not arithmetic, the codec's stream set-up and appends
// (encoding a string, as the child does). _exit is bound at load time
// (posix_os.hpp).
template <class R>
void resolve_child_calls_once(int pipe_write_end) {
  static const bool done = [pipe_write_end] {
    if constexpr (!std::is_arithmetic_v<R>) {
      std::vector<std::byte> scratch(frame_header_bytes + 1, std::byte{0});
      cereal_codec::encode_into(scratch, std::string("x"));
    }
    (void)::write(pipe_write_end, nullptr, 0);  // writes nothing: the pipe stays empty
    return true;
  }();
  (void)done;
}

}  // namespace detail

template <OsBackend Os, class Rep1, class Period1, class Rep2, class Period2, class F,
          class... Args>
auto call_with_timeout_grace(std::chrono::duration<Rep1, Period1> timeout,
                             std::chrono::duration<Rep2, Period2> grace, F&& f, Args&&... args) {
  using clock = typename Os::sync::clock;
  using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>;
  static_assert(!std::is_void_v<R>,
                "call_with_timeout: f must return a value (the child sends it back)");
  const auto deadline = detail::deadline_after<clock>(timeout, "call_with_timeout");
  if (grace < std::chrono::duration<Rep2, Period2>::zero())
    throw std::invalid_argument("call_with_timeout: grace must be >= 0");
  const auto [r, w] = Os::pipe();
  int pid = 0;
  try {
    if constexpr (std::is_same_v<Os, posix_os>) detail::resolve_child_calls_once<R>(w);
    pid = Os::spawn(
        [r = r, w = w, fn = std::decay_t<F>(std::forward<F>(f)),
         tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable -> int {
          Os::close(r);
          auto call = [&]() -> R { return std::apply(fn, tup); };
          detail::send_result<Os, R>(w, call);
          Os::close(w);
          return 0;
        });
  } catch (...) {
    Os::close(r);
    Os::close(w);
    throw;
  }
  Os::close(w);
  detail::frame_reader frame;
  bool eof = false, timed_out = false;
  std::optional<exit_code> code;
  // Reads what is there (or waits until `until`); false if nothing came.
  // More than the frame comes only from a child that wrote more than one
  // result, which the check after the loop refuses.
  const auto read_some = [&](typename clock::time_point until) {
    poll_fd p{r};
    if (Os::poll(std::span<poll_fd>(&p, 1), until) == 0) return false;
    const std::size_t n = Os::read(r, frame.room());
    if (n == 0) eof = true;
    frame.commit(n);
    return true;
  };
  try {
    while (!frame.complete() && !eof)
      if (!read_some(deadline)) break;  // the deadline passed
    if (!frame.complete() && !eof) {
      // Timeout: stop the child, then drain the pipe to end-of-file, so a
      // result it wrote whole before it died is still taken.
      timed_out = true;
      Os::kill(pid, SIGTERM);
      code = Os::wait_until(pid, clock::now() + grace);
      if (!code) {
        Os::kill(pid, SIGKILL);
        code = Os::wait(pid);
      }
      while (!eof) read_some(clock::time_point::max());
    } else {
      code = Os::wait(pid);
    }
  } catch (...) {
    if (!code) {
      try {
        Os::kill(pid, SIGKILL);
        Os::wait(pid);
      } catch (...) {
      }
    }
    Os::close(r);
    throw;
  }
  Os::close(r);
  if (!frame.complete()) {
    if (timed_out)
      throw TimeoutError("call_with_timeout: no result within the timeout; child pid " +
                         std::to_string(pid) + " stopped with exit status " +
                         std::to_string(*code));
    throw ChildProcessError("call_with_timeout: child pid " + std::to_string(pid) +
                            " exited with status " + std::to_string(*code) +
                            " without a complete result (" + std::to_string(frame.size()) +
                            " bytes of it)");
  }
  if (frame.size() != frame.total())
    throw ChildProcessError("call_with_timeout: the child wrote more than one result");
  const std::span<const std::byte> payload = frame.payload();
  if (payload.empty() || std::to_integer<int>(payload[0]) > 1)
    throw ChildProcessError("call_with_timeout: child pid " + std::to_string(pid) +
                            " sent a result record without its outcome flag");
  if (std::to_integer<int>(payload[0]) == 0)
    throw ChildProcessError(
        "call_with_timeout: the function raised in child pid " + std::to_string(pid) + ": " +
        std::string(reinterpret_cast<const char*>(payload.data() + 1), payload.size() - 1));
  return cereal_codec::decode<R>(payload.subspan(1));
}

// What users get: POSIX, SIGKILL 100 ms after SIGTERM.
template <class Rep, class Period, class F, class... Args>
auto call_with_timeout(std::chrono::duration<Rep, Period> timeout, F&& f, Args&&... args) {
  return call_with_timeout_grace<posix_os>(timeout, std::chrono::milliseconds(100),
                                           std::forward<F>(f), std::forward<Args>(args)...);
}

// --- the seed's resolve_host, as it is (the twin, timeout.seed_program) --------

// The seed's program: a Process puts lookup(host) into an inter-process
// Queue; the parent joins it with the timeout, then reads queue.empty() at
// once, terminates the child if it looks empty, and returns the child's
// exitcode and the value. Its races, kept on purpose:
//   - empty() right after join(timeout) can miss a value the child already
//     put (its feeder has not written it yet, or writes it just after the
//     check): a success reported as a failure;
//   - exitcode() read right after terminate(), without a join, is still
//     empty: the caller cannot tell how the child ended.
// Differences from the seed: the child is reaped and the queue closed
// before returning, so a run leaves nothing behind; `code` is the exit code
// read where the seed reads it, `final_code` the one the reaping join gives.
struct seed_resolve_result {
  std::optional<exit_code> code;
  std::optional<std::string> ip;
  exit_code final_code;
};
template <OsBackend Os, class Lookup, class Rep, class Period>
seed_resolve_result seed_resolve_host(Lookup lookup, const std::string& host,
                                      std::chrono::duration<Rep, Period> timeout) {
  BasicIpcQueue<std::string, Os> queue;
  BasicProcess<Os> proc([&queue, lookup, host]() mutable { queue.put(lookup(host)); });
  proc.start();
  proc.join(timeout);
  std::optional<std::string> ip;
  if (queue.empty()) {  // interleave:bug timeout.seed_program
    proc.terminate();
  } else {
    ip = queue.get();
  }
  const std::optional<exit_code> code = proc.exitcode();  // not joined after terminate()
  proc.join();  // not in the seed: reap the child so the run leaves no zombie
  return {code, ip, *proc.exitcode()};
}

}  // namespace interleave
