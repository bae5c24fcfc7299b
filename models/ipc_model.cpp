// models/ipc_model.cpp — pipes between processes on the simulated OS
// (models/sim_os.hpp), under every checker.
//
// Two kinds of model:
// - the programs of the rows, on the impl's Pipe/Connection, Process and
//   inter-process Queue (impl/include/interleave/pipe.hpp, process.hpp,
//   ipc_queue.hpp): pipe_reader_program and its twin that keeps its own
//   write end, the seed's stop_sentinel_program, and join_before_drain;
// - "raw_os" models that call the OS interface directly (Os::pipe, spawn,
//   read, write, close, wait): they check the simulated OS itself —
//   end-of-file, PIPE_BUF atomicity, EPIPE, and the hang it names — so that
//   the models of the primitives rest on a checked kernel.
//
// Pipes are tiny (pipe_buf 2 bytes, capacity 4) so that a few bytes fill
// them. Every model declares heap_under_test = false: the kernel's tables
// are bookkeeping, not state under test.
//
// What this cannot see: real time, real descriptors (the POSIX side is
// checked by the property and stress layers), and anything sim_os.hpp lists.
#include "model.hpp"
//
#include <array>
#include <chrono>
#include <csignal>
#include <string_view>
#include <type_traits>

#include "interleave/ipc_queue.hpp"
#include "interleave/pipe.hpp"
#include "interleave/process.hpp"
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
    for (std::size_t i = 2; i < got.size(); ++i)
      whole = whole && got[i] == got[i - (i - 2) % Record];
    INTERLEAVE_MODEL_CHECK_MSG(
        whole, "each record arrives whole (no bytes of the other writer inside it)");
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

// The pipe rows' program: a reader process receives 0, 1 until end-of-file
// while the parent sends them, closes its write end and joins the reader
// (untimed). Fixed: the reader closes its own copy of the write end first,
// and exits 0 having got exactly 0, 1. Twin: it keeps that copy, so
// end-of-file never comes: the reader waits in read for ever and the parent
// in join.
template <class Sync, bool KeepWriteEnd>
struct PipeReader {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 4, 8>;
  typename Os::kernel kernel;
  std::optional<exit_code> code;

  void thread(unsigned) {
    code = pipe_reader_program<Os>(2, KeepWriteEnd, std::chrono::hours::max());
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 0);
    kernel.check_clean();
  }
};
template <class Sync>
using PipeReaderFixed = PipeReader<Sync, false>;
template <class Sync>
using PipeReaderKeepsWriteEnd = PipeReader<Sync, true>;

// The seed's producer and consumer processes over the inter-process Queue:
// the producer puts the first N Fibonacci numbers and "STOP" (its feeder
// thread writes them), the consumer gets until "STOP" and sends what it got
// back through a pipe; the parent drains that, then joins both. Every number
// arrives once, in order; both exit 0; nothing is left.
template <class Sync, int N>
struct StopSentinel {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;  // producer, its feeder, consumer
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 32, 64>;
  typename Os::kernel kernel;
  sentinel_result r;

  void thread(unsigned) { r = stop_sentinel_program<Os>(N); }
  void after() {
    INTERLEAVE_MODEL_CHECK(r.received == fibonacci(N));
    INTERLEAVE_MODEL_CHECK(r.producer == 0 && r.consumer == 0);
    kernel.check_clean();
  }
};
template <class Sync>
using StopSentinel2 = StopSentinel<Sync, 2>;

// A producer process puts 1 and 2 (records of 8 bytes, under PIPE_BUF: each
// is written whole by one OS call of the feeder) while a second thread of
// the parent kills it; the parent joins it, then takes what the pipe holds
// with get_nowait. The kill lands at every OS step of the producer's feeder
// (taking the write token, writing, giving it back) and at its exit: the
// parent gets 1, 2 in order, or a prefix of them — every item completely
// written arrives, none twice, none cut — and all of them if the producer
// exited 0. (Records over PIPE_BUF can be cut by the kill; the queue is then
// broken, as its header says: not modelled here.)
template <class Sync>
struct KillProducer {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;  // producer, its feeder, the killer
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 32, 64>;
  typename Os::kernel kernel;
  std::vector<int> got;
  std::optional<exit_code> code;

  void thread(unsigned) {
    BasicIpcQueue<int, Os> q;
    BasicProcess<Os> producer([&q] {
      q.put(1);
      q.put(2);
    });
    producer.start();
    typename Os::sync::thread killer([&producer] { producer.kill(); });
    killer.join();
    producer.join();
    code = producer.exitcode();
    while (const std::optional<int> v = q.get_nowait()) got.push_back(*v);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 0 || code == -SIGKILL);
    INTERLEAVE_MODEL_CHECK(got.size() <= 2);
    for (std::size_t i = 0; i < got.size(); ++i)
      INTERLEAVE_MODEL_CHECK(got[i] == static_cast<int>(i) + 1);
    if (code == 0) INTERLEAVE_MODEL_CHECK(got.size() == 2);
    kernel.check_clean();
    if (got.size() <= 2) seen()[got.size()] = true;
  }
  static void before_search() { seen() = {}; }
  // The search reaches every outcome: the kill before the first item was
  // written, between the two, and after both.
  static bool after_search() { return seen()[0] && seen()[1] && seen()[2]; }
  static std::array<bool, 3>& seen() {
    static std::array<bool, 3> s{};
    return s;
  }
};

// A producer process puts 1, a record of 8 bytes (a 4-byte header and a
// 4-byte int): more than pipe_buf (2) and than the pipe holds (4), so its
// feeder writes it in pieces. The parent gets with a timeout, kills the
// producer, joins it, then gets with a timeout until a get times out. The
// kill lands wherever the producer and its feeder are then: before the
// record, in the middle of it (the parent may have read part of it; the
// rest never comes, and end-of-file cannot come either: the parent holds a
// write end) or after it. Fixed: every get returns by its deadline; a get
// that times out in the middle of the record keeps what it read, so the
// record, completed later, arrives whole; the parent gets 1 once or nothing,
// never a cut value, and 1 if the producer exited 0. Twin (the queue whose
// timed get polls only before a record begins and reads the rest with
// blocking reads, as the queue did before): a get after a kill in the middle
// of the record waits for ever in that read; found, and the hang names it.
// (Timeouts are the checker's: a timed poll may time out at any point of its
// wait, so a get that times out in the middle of the record is explored.)
template <class Sync, bool Twin>
struct KillMidRecordGet {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;  // producer, its feeder
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<int> got;
  std::optional<exit_code> code;

  void thread(unsigned) {
    std::conditional_t<Twin, BrokenBlocksMidRecordIpcQueue<int, Os>, BasicIpcQueue<int, Os>> q;
    BasicProcess<Os> producer([&q] { q.put(1); });
    producer.start();
    if (const std::optional<int> v = q.get(std::chrono::milliseconds(1))) got.push_back(*v);
    producer.kill();
    producer.join();
    code = producer.exitcode();
    while (const std::optional<int> v = q.get(std::chrono::milliseconds(1))) got.push_back(*v);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 0 || code == -SIGKILL);
    INTERLEAVE_MODEL_CHECK(got.empty() || got == std::vector<int>{1});
    if (code == 0) INTERLEAVE_MODEL_CHECK(got == std::vector<int>{1});
    kernel.check_clean();
    seen()[code == 0 ? 2 : got.size()] = true;
  }
  static void before_search() { seen() = {}; }
  // The search reaches every outcome: killed before the record arrived
  // whole, killed after it arrived, and not killed before its exit (a claim
  // of the fixed queue's search; the twin's search stops at its hang).
  static bool after_search() { return Twin || (seen()[0] && seen()[1] && seen()[2]); }
  static std::array<bool, 3>& seen() {
    static std::array<bool, 3> s{};
    return s;
  }
};
template <class Sync>
using KillMidRecordTimedGet = KillMidRecordGet<Sync, false>;
template <class Sync>
using KillMidRecordBlocksTwin = KillMidRecordGet<Sync, true>;

// A reader process killed at any step while it holds the queue's read lock
// (a shared lock on the simulated OS). A producer process puts 1 and -1:
// records of 8 bytes (a 4-byte header and a 4-byte int) through a 4-byte
// pipe with pipe_buf 2, so a record arrives, and is read, in pieces. A
// reader process gets one value (untimed); the parent joins it with a
// timeout (which the checker may fire at any point), kills it if the join
// timed out, joins it, then gets (untimed) until -1 or an error. The kill lands
// wherever the reader is: before the lock, waiting in it or in a poll for
// data, inside a read, in the middle of a record, or after a whole record
// before the lock goes back. Expected: no get waits for ever, none returns a
// cut value. The reader exits 0 having got 1 (the parent then gets -1); or
// it is killed, and then: having read nothing (the parent gets 1, -1),
// having read 1 whole (-1: the value died with the reader), or in the middle
// of a record or inside a read (the parent's first get throws
// broken_queue_error naming the dead reader; the producer, whose feeder may
// wait for room in the pipe for ever, is killed). A death inside a read
// counts as a cut record even when the read took nothing (the note cannot
// tell): that false alarm is the price of never delivering a cut value.
// Nothing is left at the end. Twin (the queue that takes the lock back from
// a dead reader as if nothing had happened): after a death in the middle of
// a record, the parent's get reads from inside it: found (a corrupt header
// or a wrong value).
template <class Sync, bool Twin>
struct KillReader {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 3;  // the reader, the producer, its feeder
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<int> got;
  bool broken = false, misframed = false;
  bool names_the_death = false;
  std::optional<exit_code> code, producer_code;

  void thread(unsigned) {
    std::conditional_t<Twin, BrokenIgnoresDeadReaderIpcQueue<int, Os>, BasicIpcQueue<int, Os>> q;
    BasicProcess<Os> reader([&q] { return q.get() == 1 ? 0 : 3; });
    BasicProcess<Os> producer([&q] {
      q.put(1);
      q.put(-1);
    });
    reader.start();
    producer.start();
    // The join's timeout is the checker's: the kill lands at any step.
    if (!reader.join(std::chrono::milliseconds(1))) reader.kill();
    reader.join();
    code = reader.exitcode();
    try {
      for (int v = q.get(); got.push_back(v), v != -1; v = q.get()) {
      }
    } catch (const broken_queue_error& e) {
      broken = true;
      names_the_death = std::string_view(e.what()).find(
                            "process 2 died holding the queue's "
                            "read lock") != std::string_view::npos;
      producer.kill();
    } catch (const codec_error&) {
      misframed = true;  // a header read from inside a record
      producer.kill();
    }
    producer.join();
    producer_code = producer.exitcode();
  }
  void after() {
    INTERLEAVE_MODEL_CHECK_MSG(!misframed,
                               "no get reads a header from inside a record a dead reader cut");
    INTERLEAVE_MODEL_CHECK(code == 0 || code == -SIGKILL);
    INTERLEAVE_MODEL_CHECK(producer_code == 0 || (broken && producer_code == -SIGKILL));
    if (broken) {
      INTERLEAVE_MODEL_CHECK(code == -SIGKILL && got.empty());
      INTERLEAVE_MODEL_CHECK_MSG(names_the_death, "the error names the reader that died");
    } else {
      INTERLEAVE_MODEL_CHECK((got == std::vector<int>{1, -1} || got == std::vector<int>{-1}));
      if (code == 0) INTERLEAVE_MODEL_CHECK((got == std::vector<int>{-1}));
    }
    kernel.check_clean();
    seen()[broken ? 3 : code == 0 ? 0 : got.size() == 2 ? 1 : 2] = true;
  }
  static void before_search() { seen() = {}; }
  // The search reaches every outcome: the reader not killed before it got 1;
  // killed having read nothing; killed having read 1 whole; killed in the
  // middle of a record (the queue reported broken).
  static bool after_search() { return Twin || (seen()[0] && seen()[1] && seen()[2] && seen()[3]); }
  static std::array<bool, 4>& seen() {
    static std::array<bool, 4> s{};
    return s;
  }
};

template <class Sync>
using KillReaderDetected = KillReader<Sync, false>;
template <class Sync>
using KillReaderIgnoredTwin = KillReader<Sync, true>;

// Joining the producer before draining its queue, with more data than the
// pipe holds (2 records of 32 bytes, a 64-byte pipe holding also the 4-byte
// headers: 72 > 64). Untimed join (the twin, Python's trap): the producer's
// end waits for its feeder, the feeder for room in the pipe, the parent for
// the producer: a deadlock, which the hang names. With a timed join (the
// fix): the join times out, the parent drains both records and joins again.
template <class Sync, bool Timed>
struct JoinBeforeDrain {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;  // producer, its feeder
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 32, 64>;
  typename Os::kernel kernel;
  drain_result r;

  void thread(unsigned) {
    r = join_before_drain_program<Os>(
        2, 24, Timed ? std::optional(std::chrono::milliseconds(10)) : std::nullopt);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(r.drained == 2 && r.producer == 0);
    INTERLEAVE_MODEL_CHECK(r.join_timed_out);
    kernel.check_clean();
  }
};
template <class Sync>
using DrainAfterTimedJoin = JoinBeforeDrain<Sync, true>;
template <class Sync>
using JoinThenDrain = JoinBeforeDrain<Sync, false>;

}  // namespace

INTERLEAVE_MODEL(
    PipeReaderFixed, "ipc.pipe.reader_closes_write_end", "ipc.pipe",
    "a reader process that closed its own write end receives 0, 1 then end-of-file and exits 0; "
    "no zombie, no descriptor left",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(
    PipeReaderKeepsWriteEnd, "ipc.pipe.reader_keeps_write_end", "ipc.pipe.broken_keeps_write_end",
    "a reader process that keeps its own write end waits for end-of-file for ever: the deadlock is "
    "found and the hang names the read and the write end it holds",
    Expect::deadlock, Search::deepen(1));
INTERLEAVE_MODEL(
    StopSentinel2, "ipc.queue.stop_sentinel.fib2", "ipc.queue.stop_sentinel",
    "the seed's producer and consumer processes with \"STOP\": Fibonacci 0, 1 arrive once each, in "
    "order; both exit 0; no zombie, no descriptor left (context bound 1 on both checkers: "
    "exhaustive "
    "search does not fit the time)",
    Expect::holds, Search::bounded(1), DporSearch::with(Search::bounded(1)).budget(15));
INTERLEAVE_MODEL(
    KillProducer, "ipc.queue.kill_producer", "ipc.queue.stop_sentinel",
    "a producer process killed at any OS step of its feeder: the parent gets a prefix of 1, 2, in "
    "order, none twice, none cut; both if it exited 0; no zombie, no descriptor left",
    Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(
    KillMidRecordTimedGet, "ipc.queue.kill_mid_record_timed_get", "ipc.queue.stop_sentinel",
    "a producer killed at any OS step while its feeder writes a record longer than pipe_buf: "
    "every get(timeout) of the parent returns, a record cut by the kill is never delivered, one "
    "completed after a timed-out get arrives whole; 1 if the producer exited 0; nothing left",
    Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(
    KillMidRecordBlocksTwin, "ipc.queue.kill_mid_record_blocks",
    "ipc.queue.broken_blocks_mid_record",
    "twin: a queue whose timed get reads the rest of a begun record with blocking reads waits for "
    "ever once its writer is killed mid-record: found, and the hang names the read and the write "
    "end the reader's process holds",
    Expect::deadlock, Search::deepen(2));
INTERLEAVE_MODEL(
    KillReaderDetected, "ipc.queue.kill_reader_holding_lock", "ipc.queue.stop_sentinel",
    "a reader process killed at any step while it holds the queue's read lock: no get waits for "
    "ever or returns a cut value; killed at a record boundary, the next reader goes on (a value "
    "read whole dies with it); killed in the middle of a record or inside a read, the next get "
    "throws broken_queue_error naming the dead reader; nothing left (Relacy: 100,000 random "
    "schedules, its bound-2 search does not end in minutes; DPOR: full search stopped at 10 s)",
    Expect::holds, Search::random(100000), DporSearch::with(Search::full()).budget(10));
INTERLEAVE_MODEL(
    KillReaderIgnoredTwin, "ipc.queue.kill_reader_ignored", "ipc.queue.broken_ignores_dead_reader",
    "twin: a queue that takes the read lock back from a reader killed in the middle of a record as "
    "if nothing had happened reads its next header from inside that record: found",
    Expect::assertion, Search::deepen(2));
INTERLEAVE_MODEL(
    DrainAfterTimedJoin, "ipc.queue.join_timeout_then_drain", "ipc.queue.join_before_drain",
    "joining the producer with a timeout before draining: the join times out, both records are "
    "drained, the producer exits 0; nothing left (Relacy: 20,000 random schedules, its "
    "context-bounded "
    "search does not end; DPOR: context bound 2)",
    Expect::holds, Search::random(20000), DporSearch::with(Search::bounded(2)).budget(15));
INTERLEAVE_MODEL(
    JoinThenDrain, "ipc.queue.join_before_drain", "ipc.queue.join_before_drain",
    "joining the producer (untimed) before draining more than the pipe holds deadlocks: found, and "
    "the hang names the full pipe, the feeder's write and the parent's wait",
    Expect::deadlock, Search::deepen(1));

INTERLEAVE_MODEL(PipeEof, "ipc.pipe.raw_os.eof", "ipc.pipe",
                 "simulated OS: a child writes 1,2 then 3 and exits; the parent, having closed its "
                 "write end, reads "
                 "exactly 1,2,3 then end-of-file; no zombie, no descriptor left",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(
    AtPipeBuf, "ipc.pipe.raw_os.pipe_buf_atomic", "ipc.pipe",
    "simulated OS: two children each write a PIPE_BUF-sized record to one pipe; both arrive whole",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(OverPipeBuf, "ipc.pipe.raw_os.over_pipe_buf_splits", "ipc.pipe",
                 "simulated OS: records of PIPE_BUF + 1 bytes from two writers can interleave "
                 "(found, as POSIX allows)",
                 Expect::assertion, Search::deepen(2));
INTERLEAVE_MODEL(BrokenPipe, "ipc.pipe.raw_os.epipe", "ipc.pipe",
                 "simulated OS: writing after the last reader closed fails with EPIPE in the "
                 "writer, which lives on "
                 "and exits with its own code",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(PipeKeepsWriteEnd, "ipc.pipe.raw_os.keeps_write_end",
                 "ipc.pipe.broken_keeps_write_end",
                 "simulated OS: a reader waiting for end-of-file while its own process holds the "
                 "write end hangs; "
                 "the hang names the read and the write end's descriptor",
                 Expect::deadlock, Search::deepen(1));
INTERLEAVE_MODEL(
    DrainThenWait, "ipc.queue.raw_os.drain_then_wait", "ipc.queue.stop_sentinel",
    "simulated OS: a child writes more than the pipe holds; the parent drains to end-of-file, then "
    "waits: all 6 bytes in order, exit 0",
    Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(WaitThenDrain, "ipc.queue.raw_os.wait_then_drain", "ipc.queue.join_before_drain",
                 "simulated OS: waiting for a child before draining its pipe, with more data than "
                 "the pipe holds, "
                 "deadlocks; the hang names the full pipe and the wait",
                 Expect::deadlock, Search::deepen(1));

}  // namespace interleave::models
