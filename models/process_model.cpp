// models/process_model.cpp — Process (impl/include/interleave/process.hpp)
// on the simulated OS (models/sim_os.hpp), under every checker: start, join,
// join with a timeout, terminate, kill, exit codes, and a kill landing at any
// OS step of a child that is sending records.
//
// dynamic_threads counts every thread an execution starts (each child's main
// thread, and the threads a process starts), not only the most alive at
// once: Relacy does not reuse a finished dynamic thread's slot.
//
// Every model ends with the simulated OS's own check (no zombie, no
// descriptor left open, no thread blocked) and declares heap_under_test =
// false: the kernel's tables and the Process state are bookkeeping.
//
// What this cannot see: real time (a timed join may time out at any point,
// whatever its timeout), a kill between two plain sync operations of the
// child (it lands at the child's OS calls), and the absence of destructors
// in a killed child (the simulated kill unwinds it); see sim_os.hpp.
#include "model.hpp"
//
#include <csignal>
#include <stdexcept>

#include "interleave/pipe.hpp"
#include "interleave/process.hpp"
#include "sim_os.hpp"

namespace interleave::models {
namespace {

// The seed's start_proc: a child that reports its pid; exit code 0. Around
// it, the misuse Process refuses: join and exitcode before start, a second
// start.
template <class Sync>
struct StartProc {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;  // two children, one after the other
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::string line;
  exit_code code = -100;
  bool refused_join = false, refused_restart = false;

  void thread(unsigned) {
    code = start_proc<Os>([this](std::string s) { line = std::move(s); });
    BasicProcess<Os> p([] { return 3; });
    try {
      p.join();
    } catch (const std::logic_error&) {
      refused_join = true;
    }
    INTERLEAVE_MODEL_CHECK(!p.exitcode());
    p.start();
    p.join();
    INTERLEAVE_MODEL_CHECK(p.exitcode() == 3);
    try {
      p.start();
    } catch (const std::logic_error&) {
      refused_restart = true;
    }
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 0);
    INTERLEAVE_MODEL_CHECK(line == "Process running in child pid 2");
    INTERLEAVE_MODEL_CHECK(refused_join && refused_restart);
    kernel.check_clean();
  }
};

// A child that cannot end by itself: it reads a pipe whose write end the
// parent holds until the end. Stop::terminate: terminate() then join() gives
// -SIGTERM. Stop::timeout_then_kill: join(timeout) returns false (the child
// is still running), kill() then join() gives -SIGKILL. Either way the
// child's descriptors are closed by its death and the parent's by itself.
// Stop::concurrent_timed_join: two threads of the parent join the child, the
// main thread with join(), a second one with join(timeout) and then
// terminate(). The timed join must return false when its timeout runs out,
// whichever thread waits for the child in the OS, so the terminate() comes
// and the untimed join returns -SIGTERM. The broken twin
// (process_bug::timed_join_waits_behind_joiner) serialises the waits with a
// mutex: when join() holds it, the join(timeout) queues behind it without a
// deadline, nobody terminates the child, and the three threads hang.
enum class Stop { terminate, timeout_then_kill, concurrent_timed_join };
template <class Sync, Stop How, process_bug Bug = process_bug::none>
struct StopChild {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = How == Stop::concurrent_timed_join ? 2 : 1;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::optional<exit_code> code;
  bool timed_out = false, alive_after = true;

  void thread(unsigned) {
    const auto [r, w] = Os::pipe();
    BasicProcess<Os, Bug> p([r = r, w = w] {
      Os::close(w);
      std::byte b[1];
      return static_cast<int>(Os::read(r, b));  // end-of-file only after the parent closes w
    });
    p.start();
    if constexpr (How == Stop::concurrent_timed_join) {
      typename Sync::thread stopper([&] {
        timed_out = !p.join(std::chrono::milliseconds(1));
        p.terminate();
      });
      p.join();
      stopper.join();
    } else {
      if (How == Stop::terminate) {
        p.terminate();
      } else {
        timed_out = !p.join(std::chrono::milliseconds(1));
        p.kill();
      }
      p.join();
    }
    code = p.exitcode();
    alive_after = p.is_alive();
    Os::close(r);
    Os::close(w);
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == (How == Stop::timeout_then_kill ? -SIGKILL : -SIGTERM));
    if (How != Stop::terminate) INTERLEAVE_MODEL_CHECK(timed_out);
    INTERLEAVE_MODEL_CHECK(!alive_after);
    kernel.check_clean();
  }
};
template <class Sync>
using Terminate = StopChild<Sync, Stop::terminate>;
template <class Sync>
using TimeoutThenKill = StopChild<Sync, Stop::timeout_then_kill>;
template <class Sync>
using ConcurrentJoinFixed = StopChild<Sync, Stop::concurrent_timed_join>;
template <class Sync>
using ConcurrentJoinBehindJoiner =
    StopChild<Sync, Stop::concurrent_timed_join, process_bug::timed_join_waits_behind_joiner>;

// A child sends 0 and 1 as framed records (8 bytes each, more than PIPE_BUF
// and than the 4-byte pipe: they go in pieces) while the parent receives
// until the pipe ends and a second thread of the parent kills the child. The
// kill lands at every OS step of the child: before, inside and between the
// records, and after its exit. The parent gets a prefix of 0, 1 — every
// record completely written arrives, a cut one is a short_record_error,
// never a value — and the exit code is 0 only if both records arrived.
template <class Sync>
struct KillMidRecord {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 2;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<int> got;
  bool short_record = false;
  std::optional<exit_code> code;

  void thread(unsigned) {
    auto [in, out] = Pipe<Os>(false);
    BasicProcess<Os> p([rfd = in.read_fd(), wfd = out.write_fd()] {
      Os::close(rfd);
      BasicConnection<Os> o(-1, wfd);
      o.send(0);
      o.send(1);
      return 0;
    });
    p.start();
    out.close();
    typename Os::sync::thread killer([&p] { p.kill(); });
    for (;;) {
      try {
        got.push_back(in.template recv<int>());
      } catch (const eof_error&) {
        break;
      } catch (const short_record_error&) {
        short_record = true;
        break;
      }
    }
    in.close();
    killer.join();
    p.join();
    code = p.exitcode();
  }
  void after() {
    INTERLEAVE_MODEL_CHECK(code == 0 || code == -SIGKILL);
    INTERLEAVE_MODEL_CHECK(got.size() <= 2);
    for (std::size_t i = 0; i < got.size(); ++i)
      INTERLEAVE_MODEL_CHECK(got[i] == static_cast<int>(i));
    if (code == 0) INTERLEAVE_MODEL_CHECK(got.size() == 2 && !short_record);
    kernel.check_clean();
    // Which kill point this execution showed.
    if (code == 0)
      seen()[3] = true;
    else if (short_record)
      seen()[1] = true;
    else
      seen()[got.empty() ? 0 : 2] = true;
  }
  static void before_search() { seen() = {}; }
  // Every kill point shows up somewhere in the search: before any record,
  // inside a record, between the records, and after the child's exit.
  static bool after_search() { return seen()[0] && seen()[1] && seen()[2] && seen()[3]; }
  static std::array<bool, 4>& seen() {
    static std::array<bool, 4> s{};
    return s;
  }
};

// The simulated OS refuses misuse with os_error naming the call and the
// descriptor or pid: a closed descriptor, the wrong end of a pipe, waiting
// for a process that is not a child, killing a reaped pid, an unsimulated
// signal. An exception escaping a child's body exits it with 1 and its
// message is the child's stderr. Messages are compared in full.
template <class Sync>
struct RawOsErrors {
  static constexpr unsigned threads = 1;
  static constexpr unsigned dynamic_threads = 1;
  static constexpr bool heap_under_test = false;
  using Os = sim_os<Sync, 2, 4>;
  typename Os::kernel kernel;
  std::vector<std::string> messages;
  exit_code thrown = -100;

  template <class F>
  void expect_error(F f) {
    try {
      f();
      messages.push_back("no error");
    } catch (const os_error& e) {
      messages.push_back(e.what());
    }
  }
  void thread(unsigned) {
    const auto [r, w] = Os::pipe();
    std::byte b[1] = {};
    expect_error([&] { Os::read(w, b); });
    expect_error([&] { Os::write(r, b); });
    Os::close(r);
    Os::close(w);
    expect_error([&] { Os::read(r, b); });
    expect_error([&] { Os::close(w); });
    expect_error([&] { Os::wait(7); });
    const int child = Os::spawn([]() -> int { throw std::runtime_error("boom"); });
    expect_error([&] { Os::kill(child, SIGHUP); });
    thrown = Os::wait(child);
    expect_error([&] { Os::kill(child, SIGKILL); });
    expect_error([&] { Os::wait(child); });
  }
  void after() {
    const std::vector<std::string> want = {
        "read: fd 4 is the write end of a pipe in process 1: Bad file descriptor",
        "write: fd 3 is the read end of a pipe in process 1: Bad file descriptor",
        "read: fd 3 is not open in process 1: Bad file descriptor",
        "close: fd 4 is not open in process 1: Bad file descriptor",
        "wait: pid 7 is not a child of process 1: No child processes",
        "kill: signal 1 is not simulated (SIGTERM or SIGKILL): Invalid argument",
        "kill: pid 2 already reaped: No such process",
        "wait: pid 2 already reaped: No child processes",
    };
    INTERLEAVE_MODEL_CHECK(messages == want);
    INTERLEAVE_MODEL_CHECK(thrown == 1);
    INTERLEAVE_MODEL_CHECK(kernel.stderr_of(2) == "boom");
    kernel.check_clean();
  }
};

}  // namespace

INTERLEAVE_MODEL(
    RawOsErrors, "process.lifecycle.raw_os.errors", "process.lifecycle",
    "simulated OS: misuse (closed descriptor, wrong pipe end, not a child, reaped pid, unsimulated "
    "signal) is an os_error naming the call and the descriptor or pid; a child's escaping "
    "exception "
    "exits it with 1 and its message is on its stderr",
    Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(StartProc, "process.lifecycle.start_proc", "process.lifecycle",
                 "the seed's start_proc child exits 0 and reports pid 2; join before start and a "
                 "second start are "
                 "refused; an int result is the exit code; no zombie, no descriptor left",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(Terminate, "process.lifecycle.terminate", "process.lifecycle",
                 "terminate() of a child blocked in read, then join(): exit code -SIGTERM, not "
                 "alive, nothing left",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(TimeoutThenKill, "process.lifecycle.join_timeout_then_kill", "process.lifecycle",
                 "join(timeout) of a blocked child returns false; kill() then join(): exit code "
                 "-SIGKILL, nothing left",
                 Expect::holds, Search::bounded(3));
INTERLEAVE_MODEL(ConcurrentJoinFixed, "process.lifecycle.concurrent_join", "process.lifecycle",
                 "join() and, in another thread, join(timeout) then terminate() of a child that "
                 "cannot end by itself: the timed join returns false whichever thread waits in "
                 "the OS, the join() gets -SIGTERM, nothing left",
                 Expect::holds, Search::bounded(2));
INTERLEAVE_MODEL(ConcurrentJoinBehindJoiner, "process.lifecycle.timed_join_behind_joiner",
                 "process.lifecycle",
                 "broken twin: waits serialised by a mutex, so a join(timeout) queued behind "
                 "join() never times out and nobody terminates the child: the deadlock is found",
                 Expect::deadlock, Search::deepen(1));
INTERLEAVE_MODEL(
    KillMidRecord, "process.lifecycle.kill_mid_record", "process.lifecycle",
    "a child killed at any OS step while sending two framed records: the parent receives a prefix "
    "of "
    "them, never a cut record as a value; exit code 0 only if both arrived; nothing left",
    Expect::holds, Search::bounded(2), DporSearch{}.budget(20));

}  // namespace interleave::models
