// models/ipc_model.cpp — pipes between processes on the simulated OS
// (models/sim_os.hpp), under every checker.
//
// The models here call the OS interface directly (Os::pipe, spawn, read,
// write, close, wait): they check the simulated OS itself — end-of-file,
// PIPE_BUF atomicity, EPIPE, and the hang it names — so that the models of
// the process-level primitives built on it rest on a checked kernel.
//
// Pipes are tiny (pipe_buf 2 bytes, capacity 4) so that a few bytes fill
// them. Every model declares heap_under_test = false: the kernel's tables
// are bookkeeping, not state under test.
//
// What this cannot see: real time, real descriptors (the POSIX side is
// checked by the property and stress layers), and anything sim_os.hpp lists.
#include "model.hpp"
//
#include "sim_os.hpp"

namespace interleave::models {
namespace {

template <class Os>
void write_bytes(int fd, std::initializer_list<int> bytes) {
  std::vector<std::byte> b;
  for (int x : bytes) b.push_back(static_cast<std::byte>(x));
  Os::write(fd, b);
}

// Reads fd until end-of-file.
template <class Os>
std::vector<int> read_to_eof(int fd) {
  std::vector<int> got;
  std::byte buf[4];
  for (;;) {
    const std::size_t n = Os::read(fd, buf);
    if (n == 0) return got;
    for (std::size_t i = 0; i < n; ++i) got.push_back(static_cast<int>(buf[i]));
  }
}

// The parent reads a pipe until end-of-file while a child writes 1, 2 then 3
// and exits. Fixed: the parent closes its own copy of the write end first,
// so end-of-file comes once the child's copy is gone. Twin: the parent keeps
// it, and its read can never see end-of-file.
template <class Sync, bool CloseOwnWriteEnd>
struct PipeToEof {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<int> got;

  void thread(unsigned) {
    const auto [r, w] = Os::pipe();
    const int child = Os::spawn([r = r, w = w] {
      Os::close(r);
      write_bytes<Os>(w, {1, 2});
      write_bytes<Os>(w, {3});
      Os::close(w);
      return 0;
    });
    if (CloseOwnWriteEnd) Os::close(w);
    got = read_to_eof<Os>(r);
    Os::close(r);
    INTERLEAVE_MODEL_CHECK(Os::wait(child) == 0);
    if (!CloseOwnWriteEnd) Os::close(w);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK((got == std::vector<int>{1, 2, 3}));
    kernel.check_clean();
  }
};
template <class Sync>
using PipeEof = PipeToEof<Sync, true>;
template <class Sync>
using PipeKeepsWriteEnd = PipeToEof<Sync, false>;

// Two children write one record each to one pipe; the parent reads both
// records and checks that neither was cut by the other. The parent first
// puts a 2-byte header in the pipe, so that a record may find it half full.
// Records of pipe_buf bytes land whole; records of pipe_buf + 1 bytes may be
// split (POSIX allows it, and the simulated pipe does it when the pipe fills
// mid-record). The children leave their descriptors to their exit.
template <class Sync, std::size_t Record>
struct TwoWriters {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<int> got;

  void thread(unsigned) {
    const auto [r, w] = Os::pipe();
    write_bytes<Os>(w, {0, 0});
    int kids[2];
    for (int c = 0; c < 2; ++c)
      kids[c] = Os::spawn([w = w, c] {
        std::vector<std::byte> rec(Record, static_cast<std::byte>(10 + c));
        Os::write(w, rec);
        return 0;
      });
    Os::close(w);
    got = read_to_eof<Os>(r);
    Os::close(r);
    for (int c = 0; c < 2; ++c) INTERLEAVE_MODEL_CHECK(Os::wait(kids[c]) == 0);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(got.size() == 2 + 2 * Record);
    bool whole = true;
    for (std::size_t i = 2; i < got.size(); ++i) whole = whole && got[i] == got[i - (i - 2) % Record];
    INTERLEAVE_MODEL_CHECK_MSG(whole, "each record arrives whole (no bytes of the other writer inside it)");
    kernel.check_clean();
  }
};
template <class Sync>
using AtPipeBuf = TwoWriters<Sync, 2>;
template <class Sync>
using OverPipeBuf = TwoWriters<Sync, 3>;

// The reader goes away: the parent closes its read end while the child
// writes one byte at a time. The child's write fails with EPIPE (an
// exception, not a death by SIGPIPE) once the pipe has no reader, after at
// most `capacity` bytes; the child exits with 7 then.
template <class Sync>
struct BrokenPipe {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  int code = -100;

  void thread(unsigned) {
    const auto [r, w] = Os::pipe();
    const int child = Os::spawn([r = r, w = w] {
      Os::close(r);
      try {
        for (int i = 0; i < 8; ++i) write_bytes<Os>(w, {i});
      } catch (const os_error& e) {
        Os::close(w);
        return e.code() == std::errc::broken_pipe ? 7 : 8;
      }
      Os::close(w);
      return 0;
    });
    Os::close(w);
    Os::close(r);
    code = Os::wait(child);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 7);
    kernel.check_clean();
  }
};

// Joining a writer before draining its pipe: the child writes 6 bytes
// (more than the 4 the pipe holds) and the parent waits for it before
// reading. Fixed: the parent reads to end-of-file first, then waits.
template <class Sync, bool DrainFirst>
struct WaitBeforeDrain {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<int> got;
  int code = -100;

  void thread(unsigned) {
    const auto [r, w] = Os::pipe();
    const int child = Os::spawn([r = r, w = w] {
      Os::close(r);
      for (int i = 0; i < 3; ++i) write_bytes<Os>(w, {2 * i, 2 * i + 1});
      Os::close(w);
      return 0;
    });
    Os::close(w);
    if (!DrainFirst) code = Os::wait(child);
    got = read_to_eof<Os>(r);
    Os::close(r);
    if (DrainFirst) code = Os::wait(child);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 0);
    INTERLEAVE_MODEL_CHECK((got == std::vector<int>{0, 1, 2, 3, 4, 5}));
    kernel.check_clean();
  }
};
template <class Sync>
using DrainThenWait = WaitBeforeDrain<Sync, true>;
template <class Sync>
using WaitThenDrain = WaitBeforeDrain<Sync, false>;

}  // namespace

INTERLEAVE_MODEL(PipeEof, "ipc.pipe.raw_os.eof", "ipc.pipe",
                 "simulated OS: a child writes 1,2 then 3 and exits; the parent, having closed its write end, reads "
                 "exactly 1,2,3 then end-of-file; no zombie, no descriptor left",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(AtPipeBuf, "ipc.pipe.raw_os.pipe_buf_atomic", "ipc.pipe",
                 "simulated OS: two children each write a PIPE_BUF-sized record to one pipe; both arrive whole",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(OverPipeBuf, "ipc.pipe.raw_os.over_pipe_buf_splits", "ipc.pipe",
                 "simulated OS: records of PIPE_BUF + 1 bytes from two writers can interleave (found, as POSIX allows)",
                 Expect::assertion, Search::deepen(2));
INTERLEAVE_MODEL(BrokenPipe, "ipc.pipe.raw_os.epipe", "ipc.pipe",
                 "simulated OS: writing after the last reader closed fails with EPIPE in the writer, which lives on "
                 "and exits with its own code",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(PipeKeepsWriteEnd, "ipc.pipe.raw_os.keeps_write_end", "ipc.pipe.broken_keeps_write_end",
                 "simulated OS: a reader waiting for end-of-file while its own process holds the write end hangs; "
                 "the hang names the read and the write end's descriptor",
                 Expect::deadlock, Search::deepen(1));
INTERLEAVE_MODEL(DrainThenWait, "ipc.pipe.raw_os.drain_then_wait", "ipc.queue.stop_sentinel",
                 "simulated OS: a child writes more than the pipe holds; the parent drains to end-of-file, then "
                 "waits: all 6 bytes in order, exit 0",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(WaitThenDrain, "ipc.pipe.raw_os.wait_then_drain", "ipc.queue.join_before_drain",
                 "simulated OS: waiting for a child before draining its pipe, with more data than the pipe holds, "
                 "deadlocks; the hang names the full pipe and the wait",
                 Expect::deadlock, Search::deepen(1));

}  // namespace interleave::models
