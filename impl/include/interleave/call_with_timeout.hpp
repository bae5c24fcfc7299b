// interleave/call_with_timeout.hpp — run a function in a child process and
// give up on it after a timeout, written once against the OS interface.
//
// Seed scenario: "Add timeout to a function" (resolve_host). Two programs:
//
//   call_with_timeout(timeout, f, args...)       the fixed one
//   call_with_timeout_grace<Os>(timeout, grace, f, args...)
//   call_with_timeout_grace<Os, timeout_bug::outcome_first>(...)
//                                                a twin that stores the
//                                                outcome before the result
//   seed_resolve_host<Os>(lookup, host, timeout) the seed as written, with
//                                                its races (the twin)
//
// call_with_timeout: the child runs f(args...) and stores its result, encoded
// by the codec (interleave/codec.hpp), in a shared memory block
// (Os::shm_block) the parent created before the fork; the outcome byte is
// stored last. The parent waits for the child's exit until the deadline
// (Os::wait_until: on POSIX a pidfd), and reads the block once the child is
// reaped, so nothing writes it while it is read. There is no pipe: the parent
// sleeps once, until the exit, instead of waking for the result and again
// for the exit, and no result is too large to be written while the parent
// waits for the exit (a pipe holds 64 KiB).
// Requires: timeout >= 0 and grace >= 0 (std::invalid_argument naming them);
//   f's result encodable by the codec (a compile error otherwise), at most
//   max_record (64 MiB) encoded; on POSIX the calling process
//   single-threaded (the child is forked: posix_os refuses fork in a
//   multithreaded process with an error naming the safe start method; use a
//   ProcessPool there).
// Guarantees:
//   - returns f's result when the child stored it completely, even when the
//     deadline passed meanwhile or the child was being stopped: the block is
//     read after every exit, timed out or not, so a result stored whole is
//     never lost;
//   - a result cut short is never returned (its outcome byte is still
//     none): it is a timeout (TimeoutError, naming the child's pid and exit
//     status) when the deadline passed, a ChildProcessError otherwise;
//   - an exception escaping f is ChildProcessError carrying its message; a
//     child that ends without a result (crash, exit) is ChildProcessError
//     naming its exit status; a result over max_record is ChildProcessError
//     naming both sizes;
//   - on timeout the child gets SIGTERM, then SIGKILL if it has not ended
//     after `grace`; on every path (return or throw) the child is waited for
//     and the block destroyed: no zombie, no descriptor, no mapping left
//     (posix_os keeps one block per process for reuse; it is mapped once).
// Memory ordering: the child's effects reach the parent only through the
//   block, read after the child is reaped.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>

#include <chrono>
#include <cstring>
#include <csignal>
#include <cstddef>
#include <cstdint>
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

// The twin (row timeout.broken_outcome_first): the child stores the outcome
// byte before the result it announces, so a child stopped between the two
// leaves "result" over a result that is not there (zeros, or a part of it),
// and the parent returns that as f's value.
enum class timeout_bug { none, outcome_first };

namespace detail {

// Where the child leaves its outcome: a shared memory block (Os::shm_block)
// the parent creates before the fork and reads after the child is reaped.
//   byte 0       the outcome, stored last: none (0) until the rest is whole
//   bytes 4..7   the length of what follows (32 bits)
//   bytes 8..    f's encoded result, or a message
enum class child_outcome : unsigned char {
  none = 0,       // nothing complete: the child died or was stopped first
  result = 1,     // f's result, encoded by the codec
  raised = 2,     // the message of the exception f threw
  unsendable = 3  // the message saying why the result could not be sent
};
inline constexpr std::size_t outcome_offset = 0, length_offset = 4, payload_offset = 8;
inline constexpr std::size_t result_block_bytes = payload_offset + default_max_record;

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

// Stores the payload, then its length, then the outcome: a child stopped
// anywhere before the outcome's store leaves `none`.
template <class Os, timeout_bug Bug>
void store_outcome(typename Os::shm_block b, child_outcome outcome,
                   std::span<const std::byte> payload) {
  if (payload.size() > default_max_record) {
    const std::string why = "call_with_timeout: the result of " + std::to_string(payload.size()) +
                            " bytes exceeds max_record " + std::to_string(default_max_record);
    store_outcome<Os, Bug>(b, child_outcome::unsendable, std::as_bytes(std::span(why)));
    return;
  }
  const auto length = static_cast<std::uint32_t>(payload.size());
  if constexpr (Bug == timeout_bug::outcome_first) {
    Os::shm_store(b, length_offset, std::as_bytes(std::span(&length, 1)));
    Os::shm_store(b, outcome_offset, std::as_bytes(std::span(&outcome, 1)));  // interleave:bug timeout.broken_outcome_first
    Os::shm_store(b, payload_offset, payload);
  } else {
    Os::shm_store(b, payload_offset, payload);
    Os::shm_store(b, length_offset, std::as_bytes(std::span(&length, 1)));
    Os::shm_store(b, outcome_offset, std::as_bytes(std::span(&outcome, 1)));
  }
}

template <class Os, timeout_bug Bug>
void store_message(typename Os::shm_block b, child_outcome outcome, std::string_view message) {
  store_outcome<Os, Bug>(b, outcome, std::as_bytes(std::span(message.data(), message.size())));
}

// Runs `call` in the child and stores its outcome. An arithmetic result is
// stored from the child's stack: the child allocates nothing, so it copies
// no allocator page (its first malloc would).
template <class Os, timeout_bug Bug, class R, class Call>
void send_result(typename Os::shm_block b, Call& call) {
  if constexpr (std::is_arithmetic_v<R>) {
    R value{};
    try {
      value = call();
    } catch (const std::exception& e) {
      store_message<Os, Bug>(b, child_outcome::raised, e.what());
      return;
    }
    store_outcome<Os, Bug>(b, child_outcome::result, std::as_bytes(std::span(&value, 1)));
  } else {
    bool raised = true;
    std::vector<std::byte> encoded;
    try {
      decltype(auto) value = call();
      raised = false;
      encode_child_result(encoded, value);
    } catch (const std::exception& e) {
      store_message<Os, Bug>(b, raised ? child_outcome::raised : child_outcome::unsendable,
                             e.what());
      return;
    }
    store_outcome<Os, Bug>(b, child_outcome::result, encoded);
  }
}

// A forked child resolves, on its first call, every library function the
// parent has never called (lazy binding: the dynamic linker looks the symbol
// up through each library's symbol tables, faulting their pages in), and the
// resolution dies with the child, so every child pays it again. For a result
// that is not arithmetic, call_with_timeout makes the codec's calls once in
// the parent before its first fork on POSIX (encoding a string, as the child
// does). _exit is bound at load time (posix_os.hpp); memcpy, the child's
// other call, the parent has made by its second call (shm_load).
template <class R>
void resolve_child_calls_once() {
  if constexpr (!std::is_arithmetic_v<R>) {
    static const bool done = [] {
      std::vector<std::byte> scratch;
      cereal_codec::encode_into(scratch, std::string("x"));
      return true;
    }();
    (void)done;
  }
}

}  // namespace detail

template <OsBackend Os, timeout_bug Bug = timeout_bug::none, class Rep1, class Period1, class Rep2,
          class Period2, class F, class... Args>
auto call_with_timeout_grace(std::chrono::duration<Rep1, Period1> timeout,
                             std::chrono::duration<Rep2, Period2> grace, F&& f, Args&&... args) {
  using clock = typename Os::sync::clock;
  using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>;
  static_assert(!std::is_void_v<R>,
                "call_with_timeout: f must return a value (the child sends it back)");
  using detail::child_outcome;
  const auto deadline = detail::deadline_after<clock>(timeout, "call_with_timeout");
  if (grace < std::chrono::duration<Rep2, Period2>::zero())
    throw std::invalid_argument("call_with_timeout: grace must be >= 0");
  if constexpr (std::is_same_v<Os, posix_os>) detail::resolve_child_calls_once<R>();
  const typename Os::shm_block block = Os::shm_block_create(detail::result_block_bytes);
  int pid = 0;
  std::optional<exit_code> code;
  bool timed_out = false;
  try {
    pid = Os::spawn(
        [block, fn = std::decay_t<F>(std::forward<F>(f)),
         tup = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() mutable -> int {
          auto call = [&]() -> R { return std::apply(fn, tup); };
          detail::send_result<Os, Bug, R>(block, call);
          return 0;
        });
    code = Os::wait_until(pid, deadline);
    if (!code) {
      // Timeout: stop the child. Whatever it stored whole before it ended is
      // read below all the same.
      timed_out = true;
      Os::kill(pid, SIGTERM);
      code = Os::wait_until(pid, clock::now() + grace);
      if (!code) {
        Os::kill(pid, SIGKILL);
        code = Os::wait(pid);
      }
    }
  } catch (...) {
    if (pid != 0 && !code) {
      try {
        Os::kill(pid, SIGKILL);
        Os::wait(pid);
      } catch (...) {
      }
    }
    Os::shm_block_destroy(block);
    throw;
  }
  // The child is reaped: nothing writes the block any more.
  std::byte head[detail::payload_offset];
  std::uint32_t length = 0;
  std::vector<std::byte> payload;
  std::optional<R> number;  // an arithmetic result, read without allocating
  try {
    Os::shm_load(block, 0, head);
    std::memcpy(&length, head + detail::length_offset, sizeof length);
    const auto outcome = static_cast<child_outcome>(head[detail::outcome_offset]);
    if (outcome != child_outcome::none && length <= default_max_record) {
      if constexpr (std::is_arithmetic_v<R>) {
        if (outcome == child_outcome::result && length == sizeof(R)) {
          R value;
          Os::shm_load(block, detail::payload_offset, std::as_writable_bytes(std::span(&value, 1)));
          number = value;
        }
      }
      if (!number) {
        payload.resize(length);
        Os::shm_load(block, detail::payload_offset, payload);
      }
    }
  } catch (...) {
    Os::shm_block_destroy(block);
    throw;
  }
  Os::shm_block_destroy(block);
  const auto outcome = static_cast<child_outcome>(head[detail::outcome_offset]);
  const std::string child = "child pid " + std::to_string(pid);
  const auto text = [&] {
    return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
  };
  switch (outcome) {
    case child_outcome::none:
      if (timed_out)
        throw TimeoutError("call_with_timeout: no result within the timeout; " + child +
                           " stopped with exit status " + std::to_string(*code));
      throw ChildProcessError("call_with_timeout: " + child + " exited with status " +
                              std::to_string(*code) + " without a result");
    case child_outcome::result:
      if (number) return std::move(*number);
      if (payload.size() == length) return cereal_codec::decode<R>(payload);
      break;
    case child_outcome::raised:
      throw ChildProcessError("call_with_timeout: the function raised in " + child + ": " + text());
    case child_outcome::unsendable:
      throw ChildProcessError("call_with_timeout: " + child +
                              " could not send its result: " + text());
  }
  throw ChildProcessError(
      "call_with_timeout: " + child + " left a result header no call writes (outcome " +
      std::to_string(static_cast<int>(outcome)) + ", length " + std::to_string(length) + ")");
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
