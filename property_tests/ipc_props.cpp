// property_tests/ipc_props.cpp — the inter-process Queue and Pipe on real
// processes (seed: "Inter-process communication with queues", pipes; rows
// ipc.queue.stop_sentinel, ipc.queue.join_before_drain, ipc.pipe,
// ipc.pipe.broken_keeps_write_end).
//
// Item sizes are drawn around and above PIPE_BUF (4,096 bytes, the largest
// atomic pipe write) and the pipe's capacity (65,536 bytes). Every case
// checks afterwards that this process's descriptor count is unchanged and no
// child is left unreaped.
//
// The twins' hangs are seen through the programs' own join timeouts (500 ms):
// the program then kills and reaps the stuck child, so a caught twin leaves
// no process behind, and the fixed program passes the same property.
//
// What this cannot see: kill points the OS does not happen to produce, and
// interleavings of several producers' feeders beyond those this machine
// produces (the models on the simulated OS explore them). A producer killed
// while it writes to a Queue breaks that queue (its write token is lost), as
// in Python; on the Queue the check is that a get with a timeout still
// returns by its deadline and never delivers a cut value; on the Pipe, where
// end-of-file follows, that the stream ends cleanly.
#include <interleave/ipc_queue.hpp>
#include <interleave/pipe.hpp>

#include <cereal/types/tuple.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "testkit.hpp"
#include "process_counts.hpp"
// after gtest (testkit.hpp includes it)
#include <rapidcheck/gtest.h>

namespace interleave {
namespace {

using namespace std::chrono_literals;

using interleave::process_counts::no_child_left;
using interleave::process_counts::open_fds;

// A size around the interesting boundaries: small, PIPE_BUF +- a little, the
// pipe capacity +- a little, or well above it.
rc::Gen<int> item_size() {
  const int pb = static_cast<int>(posix_os::pipe_buf),
            cap = static_cast<int>(posix_os::pipe_capacity);
  return rc::gen::oneOf(rc::gen::inRange(0, 65), rc::gen::inRange(pb - 16, pb + 17),
                        rc::gen::inRange(cap - 16, cap + 17), rc::gen::inRange(cap, 3 * cap));
}

// The bytes of item `seq` of `producer`: recognisable, so a torn or mixed
// record is seen.
std::string body(int producer, int seq, int size) {
  std::string s(static_cast<std::size_t>(size), '\0');
  for (int i = 0; i < size; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>('a' + (producer * 7 + seq * 3 + i) % 26);
  return s;
}

// ---------------------------------------------------------------------------
// ipc.queue.stop_sentinel
// ---------------------------------------------------------------------------

INTERLEAVE_PROP(IpcQueueProps, every_fibonacci_number_arrives_once_in_order,
                "ipc.queue.stop_sentinel", ()) {
  const int n = *rc::gen::inRange(0, 94);  // F(93) is the last that fits 64 bits
  const int fds = open_fds();
  const sentinel_result r = stop_sentinel_program<posix_os>(n);
  RC_ASSERT(r.received == fibonacci(n));
  RC_ASSERT(r.producer == 0);
  RC_ASSERT(r.consumer == 0);
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

using tagged = std::tuple<int, int, std::string>;  // producer, seq (-1: STOP), body

INTERLEAVE_PROP(IpcQueueProps, items_of_several_producers_arrive_whole_once_in_producer_order,
                "ipc.queue.stop_sentinel", ()) {
  const int producers = *rc::gen::inRange(1, 4);
  const auto sizes = *rc::gen::container<std::vector<std::vector<int>>>(
      static_cast<std::size_t>(producers),
      rc::gen::resize(6, rc::gen::container<std::vector<int>>(item_size())));
  long total = 0;
  for (const auto& v : sizes)
    for (int n : v) total += n;
  RC_CLASSIFY(total > static_cast<long>(posix_os::pipe_capacity),
              "more than the pipe holds in flight");
  const int fds = open_fds();
  {
    IpcQueue<tagged> q;
    auto [result_r, result_w] = Pipe<>(false);
    std::vector<Process> ps;
    for (int p = 0; p < producers; ++p)
      ps.emplace_back([&q, p, mine = sizes[static_cast<std::size_t>(p)]] {
        for (int i = 0; i < static_cast<int>(mine.size()); ++i)
          q.put(tagged{p, i, body(p, i, mine[static_cast<std::size_t>(i)])});
        q.put(tagged{p, -1, "STOP"});
      });
    // The consumer reports (producer, seq, body intact) for each item, in arrival order.
    ps.emplace_back([&q, producers, wfd = result_w.write_fd()] {
      std::vector<std::tuple<int, int, bool>> got;
      for (int stops = 0; stops < producers;) {
        const tagged t = q.get();
        if (std::get<1>(t) < 0) {
          ++stops;
          continue;
        }
        got.emplace_back(std::get<0>(t), std::get<1>(t),
                         std::get<2>(t) == body(std::get<0>(t), std::get<1>(t),
                                                static_cast<int>(std::get<2>(t).size())));
      }
      Connection(-1, wfd).send(got);
    });
    for (auto& p : ps) p.start();
    result_w.close();
    const auto got =
        result_r.recv<std::vector<std::tuple<int, int, bool>>>();  // drain first, then join
    for (auto& p : ps) {
      p.join();
      RC_ASSERT(p.exitcode() == std::optional<int>(0));
    }
    std::vector<int> next(static_cast<std::size_t>(producers), 0);
    for (const auto& [p, seq, intact] : got) {
      RC_ASSERT(intact);
      RC_ASSERT(seq == next[static_cast<std::size_t>(p)]++);  // once, in that producer's order
    }
    for (int p = 0; p < producers; ++p)
      RC_ASSERT(next[static_cast<std::size_t>(p)] ==
                static_cast<int>(sizes[static_cast<std::size_t>(p)].size()));
  }
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

struct maybe_poison {
  int v = 0;
  bool poison = false;
  template <class Archive>
  void serialize(Archive& ar) {
    if (poison) throw std::runtime_error("this value refuses to be encoded");
    ar(v);
  }
};

INTERLEAVE_PROP(IpcQueueProps, an_unencodable_item_fails_only_its_put, "ipc.queue.stop_sentinel",
                ()) {
  const auto poison = *rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>());
  const int fds = open_fds();
  {
    BasicIpcQueue<maybe_poison, posix_os> q;
    Process producer([&q, poison] {
      int failed = 0;
      for (int i = 0; i < static_cast<int>(poison.size()); ++i) {
        try {
          q.put(maybe_poison{i, poison[static_cast<std::size_t>(i)]});
        } catch (const codec_error&) {
          ++failed;
        }
      }
      q.put(maybe_poison{-1, false});
      return failed;
    });
    producer.start();
    std::vector<int> got;
    for (int v = q.get().v; v != -1; v = q.get().v) got.push_back(v);
    producer.join();
    std::vector<int> want;
    for (int i = 0; i < static_cast<int>(poison.size()); ++i)
      if (!poison[static_cast<std::size_t>(i)]) want.push_back(i);
    RC_ASSERT(got == want);
    RC_ASSERT(producer.exitcode() ==
              std::optional<int>(static_cast<int>(std::count(poison.begin(), poison.end(), true))));
  }
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

INTERLEAVE_PROP(IpcQueueProps, get_on_an_empty_queue_times_out_after_its_timeout,
                "ipc.queue.stop_sentinel", ()) {
  const int ms = *rc::gen::inRange(0, 20);
  IpcQueue<int> q;
  const auto t0 = std::chrono::steady_clock::now();
  RC_ASSERT(!q.get(std::chrono::milliseconds(ms)).has_value());
  RC_ASSERT(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(ms));
  RC_ASSERT(q.empty());
}

// ---------------------------------------------------------------------------
// A producer killed in the middle of a record longer than PIPE_BUF
// (ipc.queue.stop_sentinel; the twin ipc.queue.broken_blocks_mid_record)
// ---------------------------------------------------------------------------

struct cut_record_result {
  bool consumer_returned = false;  // every get of the consumer returned, and it reported
  int delivered = 0;               // values the consumer got, in total
  bool intact = true;              // each of them whole and in order
  bool mid_record = false;         // the get that timed out held a begun record
  long last_get_ms = -1;           // how long that get took
  std::optional<exit_code> producer;
};

// The producer puts strings of `sizes` bytes (all longer than PIPE_BUF). A
// consumer process gets `before_kill` of them, tells the parent and waits.
// The parent kills the producer, whose feeder is then writing, or blocked on
// the full pipe, somewhere inside a record (where depends on the sizes and on
// before_kill), reaps it and lets the consumer go on: it gets with `timeout`
// until a get returns nothing, and reports. The parent joins the consumer
// with `patience` (the library's own join timeout) and kills it if it is
// still blocked then. Every descriptor and child is released on every path.
template <template <class> class Queue>
cut_record_result kill_mid_record_program(const std::vector<int>& sizes, int before_kill,
                                          std::chrono::milliseconds timeout,
                                          std::chrono::milliseconds patience) {
  cut_record_result r;
  Queue<std::string> q;
  auto [report_r, report_w] = Pipe<>(false);
  auto [go_r, go_w] = Pipe<>(false);
  Process producer([&q, &sizes] {
    for (int i = 0; i < static_cast<int>(sizes.size()); ++i)
      q.put(body(0, i, sizes[static_cast<std::size_t>(i)]));
  });
  Process consumer(
      [&q, &sizes, before_kill, timeout, rfd = go_r.read_fd(), wfd = report_w.write_fd()] {
        Connection report(-1, wfd), go(rfd, -1);
        const auto expect = [&](int i) {
          return i < static_cast<int>(sizes.size()) ? body(0, i, sizes[static_cast<std::size_t>(i)])
                                                    : std::string("(no such item)");
        };
        int delivered = 0;
        bool intact = true;
        for (; delivered < before_kill; ++delivered)
          intact = intact && q.get() == expect(delivered);
        report.send(delivered);  // ready: the parent kills the producer now
        (void)go.recv<int>();
        long last_ms = -1;
        for (;; ++delivered) {
          const auto t0 = std::chrono::steady_clock::now();
          const std::optional<std::string> v = q.get(timeout);
          if (!v) {
            last_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - t0)
                                            .count());
            break;
          }
          intact = intact && *v == expect(delivered);
        }
        report.send(std::tuple<int, bool, bool, long>(delivered, intact, q.mid_record(), last_ms));
      });
  producer.start();
  consumer.start();
  report_w.close();
  go_r.close();
  try {
    (void)report_r.recv<int>();
  } catch (...) {
    producer.kill();
    consumer.kill();
    producer.join();
    consumer.join();
    throw;
  }
  producer.kill();
  producer.join();
  r.producer = producer.exitcode();
  go_w.send(1);
  if (consumer.join(patience)) {
    r.consumer_returned = true;
    std::tie(r.delivered, r.intact, r.mid_record, r.last_get_ms) =
        report_r.recv<std::tuple<int, bool, bool, long>>();
  } else {
    consumer.kill();
    consumer.join();
  }
  return r;
}

rc::Gen<std::vector<int>> long_record_sizes() {
  const int pb = static_cast<int>(posix_os::pipe_buf),
            cap = static_cast<int>(posix_os::pipe_capacity);
  return rc::gen::nonEmpty(rc::gen::resize(
      8, rc::gen::container<std::vector<int>>(rc::gen::oneOf(
             rc::gen::inRange(pb + 1, 2 * pb), rc::gen::inRange(cap - 16, 3 * cap)))));
}

template <class T>
using QueueOf = IpcQueue<T>;
template <class T>
using BlocksMidRecordQueueOf = BrokenBlocksMidRecordIpcQueue<T>;

INTERLEAVE_PROP(IpcQueueProps, a_get_with_a_timeout_returns_when_its_writer_was_killed_mid_record,
                "ipc.queue.stop_sentinel", ()) {
  const auto sizes = *long_record_sizes();
  const int before_kill = *rc::gen::inRange(0, static_cast<int>(sizes.size()));
  const int timeout_ms = *rc::gen::inRange(1, 50);
  const int fds = open_fds();
  const cut_record_result r = kill_mid_record_program<QueueOf>(
      sizes, before_kill, std::chrono::milliseconds(timeout_ms), 20s);
  RC_TAG(r.mid_record ? "the kill cut a record" : "the kill fell between records");
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
  if (!r.consumer_returned)
    RC_FAIL("the consumer's get(" + std::to_string(timeout_ms) +
            " ms) still had not returned 20 s after the producer was killed");
  RC_ASSERT(r.intact);  // never a cut or mixed value
  RC_ASSERT(r.delivered >= before_kill);
  RC_ASSERT(r.delivered <= static_cast<int>(sizes.size()));
  RC_ASSERT(r.last_get_ms >= timeout_ms);
  RC_ASSERT(r.last_get_ms < timeout_ms + 2000);  // by its deadline (slack for a loaded machine)
  if (r.producer == std::optional<int>(0)) {     // it ended before the kill: all of it arrived
    RC_ASSERT(r.delivered == static_cast<int>(sizes.size()));
    RC_ASSERT(!r.mid_record);
  }
  if (r.mid_record) RC_ASSERT(r.producer == std::optional<int>(-SIGKILL));
}

INTERLEAVE_PROP_FALSIFIED(IpcQueueTwins,
                          a_get_with_a_timeout_returns_when_its_writer_was_killed_mid_record,
                          "ipc.queue.broken_blocks_mid_record", ()) {
  const auto sizes = *long_record_sizes();
  const int before_kill = *rc::gen::inRange(0, static_cast<int>(sizes.size()));
  const int timeout_ms = *rc::gen::inRange(1, 50);
  const int fds = open_fds();
  const cut_record_result r = kill_mid_record_program<BlocksMidRecordQueueOf>(
      sizes, before_kill, std::chrono::milliseconds(timeout_ms), 500ms);
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
  if (!r.consumer_returned)
    RC_FAIL("the consumer's get(" + std::to_string(timeout_ms) +
            " ms) still blocked 500 ms after the producer was killed: it waits for the rest of a "
            "cut record in a blocking read (killed and reaped)");
  RC_ASSERT(r.intact);
}

// ---------------------------------------------------------------------------
// A reader killed while it holds the read lock (ipc.queue.stop_sentinel)
// ---------------------------------------------------------------------------

struct killed_reader_result {
  bool broken = false;     // a get threw broken_queue_error
  std::string error;       // its message
  bool misframed = false;  // a get threw codec_error: a header read from inside a record
  bool timed_out = false;  // a get(10 s) returned nothing
  bool intact = true;      // every value the parent got whole
  bool in_order = true;    // and after the reader's, in order, none twice
};

// A producer process puts items of `sizes` bytes and then "STOP" (seq -1). A
// reader process gets items and reports each one's seq to the parent; the
// parent kills it after `before_kill` reports, so it dies somewhere in a later
// get: waiting for the lock or for data, inside a read, in the middle of a
// record, or after a whole one. The parent then gets with `timeout` until
// "STOP" or an error; if the queue broke, it kills the producer (whose feeder
// may wait for room for ever). Every descriptor and child is released.
template <template <class> class Queue>
killed_reader_result kill_reader_program(const std::vector<int>& sizes, int before_kill,
                                         std::chrono::milliseconds timeout) {
  killed_reader_result r;
  Queue<tagged> q;
  Process producer([&q, &sizes] {
    for (int i = 0; i < static_cast<int>(sizes.size()); ++i)
      q.put(tagged{0, i, body(0, i, sizes[static_cast<std::size_t>(i)])});
    q.put(tagged{0, -1, "STOP"});
  });
  producer.start();
  // After the producer's start: only the reader holds the write end, so its
  // death is the report's end-of-file.
  auto [report_r, report_w] = Pipe<>(false);
  Process reader([&q, wfd = report_w.write_fd()] {
    Connection report(-1, wfd);
    for (;;) report.send(std::get<1>(q.get()));
  });
  reader.start();
  report_w.close();
  int last = -1;  // the last seq the reader got; -2: it got "STOP"
  for (int i = 0; i < before_kill && last != -2; ++i) {
    const int seq = report_r.recv<int>();
    last = seq < 0 ? -2 : seq;
  }
  reader.kill();
  reader.join();
  for (;;) {  // what the reader got and reported after that
    try {
      const int seq = report_r.recv<int>();
      last = seq < 0 ? -2 : std::max(last, seq);
    } catch (const eof_error&) {
      break;
    }
  }
  if (last != -2) {
    try {
      for (;;) {
        const std::optional<tagged> t = q.get(timeout);
        if (!t) {
          r.timed_out = true;
          break;
        }
        const int seq = std::get<1>(*t);
        if (seq == -1) break;
        r.in_order = r.in_order && seq > last && seq < static_cast<int>(sizes.size());
        if (!r.in_order) break;
        last = seq;
        r.intact =
            r.intact && std::get<2>(*t) == body(0, seq, sizes[static_cast<std::size_t>(seq)]);
      }
    } catch (const broken_queue_error& e) {
      r.broken = true;
      r.error = e.what();
    } catch (const codec_error&) {
      r.misframed = true;
    }
  }
  if (r.broken || r.misframed || r.timed_out || !r.in_order) producer.kill();
  producer.join();
  return r;
}

template <class T>
using IgnoresDeadReaderQueueOf = BrokenIgnoresDeadReaderIpcQueue<T>;

INTERLEAVE_PROP(IpcQueueProps, a_reader_killed_holding_the_read_lock_is_detected_or_costs_nothing,
                "ipc.queue.stop_sentinel", ()) {
  const auto sizes =
      *rc::gen::nonEmpty(rc::gen::resize(8, rc::gen::container<std::vector<int>>(item_size())));
  const int before_kill = *rc::gen::inRange(0, static_cast<int>(sizes.size()));
  const int fds = open_fds();
  const killed_reader_result r = kill_reader_program<QueueOf>(sizes, before_kill, 10s);
  RC_TAG(r.broken ? "the reader died inside a record: broken_queue_error"
                  : "the reader died at a record boundary");
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
  if (r.timed_out) RC_FAIL("a get(10 s) of the parent timed out after the reader was killed");
  RC_ASSERT(!r.misframed);  // never a header read from inside a record
  RC_ASSERT(r.intact);      // never a cut or mixed value
  RC_ASSERT(r.in_order);    // and none twice
  if (r.broken) RC_ASSERT(r.error.find("died holding the queue's read lock") != std::string::npos);
}

INTERLEAVE_PROP_FALSIFIED(IpcQueueTwins,
                          a_reader_killed_holding_the_read_lock_is_detected_or_costs_nothing,
                          "ipc.queue.broken_ignores_dead_reader", ()) {
  const auto sizes =
      *rc::gen::nonEmpty(rc::gen::resize(8, rc::gen::container<std::vector<int>>(item_size())));
  const int before_kill = *rc::gen::inRange(0, static_cast<int>(sizes.size()));
  const int fds = open_fds();
  const killed_reader_result r =
      kill_reader_program<IgnoresDeadReaderQueueOf>(sizes, before_kill, 2s);
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
  if (r.misframed || !r.intact || !r.in_order || r.timed_out)
    RC_FAIL(
        "after the reader was killed inside a record, a get of the parent read from the "
        "middle of it (a corrupt header, a wrong value, or a length it waits for)");
}

// ---------------------------------------------------------------------------
// ipc.queue.join_before_drain (twin): the fixed program drains, then joins
// (above); the twin joins first. The property of the fixed program: the
// producer's join returns. Falsified once more than the pipe holds is in flight.
// ---------------------------------------------------------------------------

INTERLEAVE_PROP_FALSIFIED(IpcQueueTwins, joining_a_producer_before_draining_returns,
                          "ipc.queue.join_before_drain", ()) {
  const int items = *rc::gen::inRange(1, 65);
  const int size = *item_size();
  const int fds = open_fds();
  const drain_result r =
      join_before_drain_program<posix_os>(items, static_cast<std::size_t>(size), 500ms);
  RC_ASSERT(r.drained == static_cast<std::size_t>(items));  // drained afterwards, ended cleanly
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
  if (r.join_timed_out)
    RC_FAIL("producer.join() still blocked after 500 ms with " + std::to_string(items) + " x " +
            std::to_string(size) +
            " bytes put and none drained: its feeder waits on the full pipe, its exit waits on its "
            "feeder");
}

// ---------------------------------------------------------------------------
// ipc.pipe and its twin
// ---------------------------------------------------------------------------

INTERLEAVE_PROP(PipeProps, a_reader_that_closed_its_write_end_gets_every_item_then_eof, "ipc.pipe",
                ()) {
  const int items = *rc::gen::inRange(0, 3000);
  const int fds = open_fds();
  const auto r = pipe_reader_program<posix_os>(items, false, 10s);
  RC_ASSERT(r == std::optional<int>(0));
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

// A writer killed at a random point: every record delivered is whole and in
// order; the stream ends with end-of-file or a short-record error, never a
// corrupted value.
INTERLEAVE_PROP(PipeProps, a_killed_writer_never_delivers_a_partial_record, "ipc.pipe", ()) {
  const auto sizes =
      *rc::gen::nonEmpty(rc::gen::resize(8, rc::gen::container<std::vector<int>>(item_size())));
  const int before_kill = *rc::gen::inRange(0, 20);  // records read before the kill
  const int fds = open_fds();
  int delivered = 0;
  bool short_record = false;
  {
    auto [r, w] = Pipe<>(false);
    Process writer([wfd = w.write_fd(), sizes] {
      Connection out(-1, wfd);
      for (int i = 0;; ++i) out.send(body(0, i, sizes[static_cast<std::size_t>(i) % sizes.size()]));
    });
    writer.start();
    w.close();  // only the writer holds a write end: its death is end-of-file
    const auto expect = [&](int i) {
      return body(0, i, sizes[static_cast<std::size_t>(i) % sizes.size()]);
    };
    for (; delivered < before_kill; ++delivered)
      RC_ASSERT(r.recv<std::string>() == expect(delivered));
    writer.kill();
    writer.join();
    RC_ASSERT(writer.exitcode() == std::optional<int>(-SIGKILL));
    for (;; ++delivered) {
      try {
        RC_ASSERT(r.recv<std::string>() == expect(delivered));
      } catch (const eof_error&) {
        break;
      } catch (const short_record_error&) {
        short_record = true;
        break;
      }
    }
  }
  RC_TAG(short_record ? "ended with a short record" : "ended at a record boundary");
  RC_ASSERT(delivered >= before_kill);
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

INTERLEAVE_PROP(PipeProps, a_duplex_pipe_echoes_every_value, "ipc.pipe", ()) {
  const auto values = *rc::gen::container<std::vector<std::string>>(
      rc::gen::map(item_size(), [](int n) { return body(1, n, n); }));
  const int fds = open_fds();
  {
    auto [mine, theirs] = Pipe<>();
    Process echo([rfd = theirs.read_fd(), wfd = theirs.write_fd(), n = values.size()] {
      Connection c(rfd, wfd);
      for (std::size_t i = 0; i < n; ++i) c.send(c.recv<std::string>());
    });
    echo.start();
    theirs.close();
    for (const auto& v : values) {
      mine.send(v);
      RC_ASSERT(mine.poll(10s));
      RC_ASSERT(mine.recv<std::string>() == v);
    }
    echo.join();
    RC_ASSERT(echo.exitcode() == std::optional<int>(0));
    RC_ASSERT_THROWS_AS(mine.recv<std::string>(), eof_error);  // the echo's ends closed at its exit
  }
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

INTERLEAVE_PROP_FALSIFIED(PipeTwins, a_reader_that_keeps_its_write_end_gets_every_item_then_eof,
                          "ipc.pipe.broken_keeps_write_end", ()) {
  const int items = *rc::gen::inRange(0, 3000);
  const int fds = open_fds();
  const auto r = pipe_reader_program<posix_os>(items, true, 500ms);
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
  if (!r)
    RC_FAIL(
        "the reader is still blocked in recv() 500 ms after the parent closed its write end: its "
        "own copy "
        "of the write end keeps end-of-file from coming (killed and reaped)");
  RC_ASSERT(*r == 0);
}

// --- the OS interface's shared lock on real processes -----------------------------

// A child takes the lock, writes the note and waits; the parent's timed lock
// gives up at its deadline; once the child is killed, the parent's lock
// reports the owner's death (EOWNERDEAD, made consistent) with the note the
// child left, and the lock works normally afterwards.
TEST(SharedLock, a_holder_killed_is_reported_as_owner_died_and_a_timed_lock_keeps_its_deadline) {
  const int fds = open_fds();
  {
    const posix_os::shm_lock l = posix_os::shm_lock_create();
    auto [ready_r, ready_w] = Pipe<>(false);
    auto [never_r, never_w] = Pipe<>(false);
    Process holder([l, wfd = ready_w.write_fd(), rfd = never_r.read_fd()] {
      if (posix_os::shm_lock_until(l, posix_os::clock::time_point::max()) != lock_status::acquired)
        return 3;
      posix_os::shm_note(l) = 42;
      Connection(-1, wfd).send(1);
      (void)Connection(rfd, -1).recv<int>();  // never comes: killed here, holding the lock
      return 0;
    });
    holder.start();
    ready_w.close();
    EXPECT_EQ(ready_r.recv<int>(), 1);
    const auto t0 = posix_os::clock::now();
    EXPECT_EQ(posix_os::shm_lock_until(l, t0 + 50ms), lock_status::timed_out);
    const auto waited = posix_os::clock::now() - t0;
    EXPECT_GE(waited, 50ms);
    EXPECT_LT(waited, 2050ms);  // by its deadline (slack for a loaded machine)
    holder.kill();
    holder.join();
    EXPECT_EQ(holder.exitcode(), std::optional<int>(-SIGKILL));
    EXPECT_EQ(posix_os::shm_lock_until(l, posix_os::clock::now() + 10s), lock_status::owner_died);
    EXPECT_EQ(posix_os::shm_note(l), 42u);
    posix_os::shm_unlock(l);
    EXPECT_EQ(posix_os::shm_lock_until(l, posix_os::clock::now()), lock_status::acquired);
    posix_os::shm_unlock(l);
    posix_os::shm_lock_destroy(l);
  }
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(no_child_left());
}

// --- misuse: each an exception naming the argument or the state -----------------

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(IpcMisuse, each_is_refused_with_a_message_and_leaks_nothing) {
  const int fds = open_fds();
  {
    auto [r, w] = Pipe<>(false);
    EXPECT_NE(message_of([&] { r.send(1); }).find("receive-only"), std::string::npos);
    EXPECT_NE(message_of([&] { w.recv<int>(); }).find("send-only"), std::string::npos);
    EXPECT_NE(message_of([&] { r.poll(-1ms); }).find("timeout must be >= 0"), std::string::npos);
    EXPECT_NE(message_of([&] { w.send(maybe_poison{1, true}); }).find("cannot be encoded"),
              std::string::npos);
    EXPECT_FALSE(r.poll());  // the failed send wrote nothing
    auto [small_r, small_w] = Pipe<>(false, 100);
    EXPECT_NE(
        message_of([&] { small_w.send(std::string(200, 'x')); }).find("exceeds max_record 100"),
        std::string::npos);
    r.close();
    EXPECT_NE(message_of([&] { w.send(1); }).find("broken pipe"),
              std::string::npos);  // SIGPIPE did not kill us
    w.close();
    EXPECT_NE(message_of([&] { w.send(1); }).find("connection is closed"), std::string::npos);
    IpcQueue<int> q;
    EXPECT_NE(message_of([&] { q.get(-5ms); }).find("timeout must be >= 0"), std::string::npos);
    EXPECT_NE(message_of([&] { q.join_thread(); }).find("call close() first"), std::string::npos);
    BasicIpcQueue<maybe_poison, posix_os> pq;
    EXPECT_NE(message_of([&] { pq.put(maybe_poison{1, true}); }).find("cannot be encoded"),
              std::string::npos);
    q.close();
    EXPECT_NE(message_of([&] { q.put(1); }).find("closed in this process"), std::string::npos);
  }
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(no_child_left());
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
