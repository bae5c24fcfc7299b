// property_tests/process_props.cpp — Process on real processes (seed:
// "Starting a process", "Stopping a process"; row process.lifecycle).
//
// Each case starts real children with fork (this executable is
// single-threaded, as Process requires for fork) and checks, after it, that
// this process's descriptor count (/proc/self/fd) is unchanged and that no
// child is left unreaped (waitpid(-1, WNOHANG) finds none).
//
// What this cannot see: interleavings of the child's steps with the parent's
// that the OS does not happen to produce (a kill at a chosen step is the
// models' job, on the simulated OS).
#include <interleave/process.hpp>

#include <stdio_ext.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
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

enum class End { Return, Throw, Terminate, Kill };

INTERLEAVE_PROP(ProcessProps, exit_codes_follow_pythons_convention, "process.lifecycle", ()) {
  const End end = *rc::gen::element(End::Return, End::Throw, End::Terminate, End::Kill);
  const int code = *rc::gen::inRange(0, 256);
  const int wait_ms = *rc::gen::inRange(0, 30);  // a join timeout while the child still runs
  const int fds = open_fds();
  Process p([end, code]() -> int {
    if (end == End::Throw) throw std::runtime_error("target failed on purpose");
    if (end == End::Return) return code;
    ::pause();  // until terminate() or kill()
    return 0;
  });
  RC_ASSERT(!p.exitcode().has_value());  // before start
  RC_ASSERT(!p.pid().has_value());
  RC_ASSERT(!p.is_alive());
  p.start();
  RC_ASSERT(p.pid().has_value());
  if (end == End::Terminate || end == End::Kill) {
    RC_ASSERT(p.is_alive());
    RC_ASSERT(!p.join(std::chrono::milliseconds(wait_ms)));  // still running: the timeout runs out
    RC_ASSERT(!p.exitcode().has_value());
    if (end == End::Terminate)
      p.terminate();
    else
      p.kill();
  }
  RC_ASSERT(p.join());
  const int want = end == End::Return      ? code
                   : end == End::Throw     ? 1
                   : end == End::Terminate ? -SIGTERM
                                           : -SIGKILL;
  RC_ASSERT(p.exitcode() == std::optional<int>(want));
  RC_ASSERT(!p.is_alive());
  p.terminate();  // on a reaped child: nothing happens
  RC_ASSERT(p.exitcode() == std::optional<int>(want));
  p.close();
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

INTERLEAVE_PROP(ProcessProps, active_children_lists_exactly_the_running_ones, "process.lifecycle",
                ()) {
  const int running = *rc::gen::inRange(0, 5);
  const int finished = *rc::gen::inRange(0, 5);
  std::vector<Process> ps;
  for (int i = 0; i < running; ++i) ps.emplace_back([] { ::pause(); });
  for (int i = 0; i < finished; ++i) ps.emplace_back([] {});
  for (auto& p : ps) p.start();
  for (int i = running; i < running + finished; ++i) ps[static_cast<std::size_t>(i)].join();
  const auto live = Process::active_children();
  RC_ASSERT(live.size() == static_cast<std::size_t>(running));
  for (int i = 0; i < running; ++i) {
    ps[static_cast<std::size_t>(i)].kill();
    ps[static_cast<std::size_t>(i)].join();
  }
  RC_ASSERT(Process::active_children().empty());
  RC_ASSERT(no_child_left());
}

// Several threads join one child that cannot end by itself: one with join()
// and k others with join(timeout). Each timed join returns false once its
// timeout has run out, whichever thread waits for the child in the OS, so
// the terminate() after them comes and the untimed join returns -SIGTERM.
// (Timed joins that queued behind the untimed one without a deadline would
// hang here; the ctest timeout turns that into a failure.) The children are
// forked before the threads start.
INTERLEAVE_PROP(ProcessProps, timed_joins_return_while_another_thread_joins, "process.lifecycle",
                ()) {
  const int timed = *rc::gen::inRange(1, 5);
  const auto timeouts = *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(timed),
                                                              rc::gen::inRange(0, 20));
  const int fds = open_fds();
  Process p([] { ::pause(); });
  p.start();
  std::thread untimed([&p] { p.join(); });
  std::vector<std::thread> joiners;
  std::atomic<int> returned_true{0};
  for (const int ms : timeouts)
    joiners.emplace_back(
        [&p, &returned_true, ms] { returned_true += p.join(std::chrono::milliseconds(ms)); });
  for (auto& t : joiners) t.join();
  p.terminate();
  untimed.join();
  RC_ASSERT(returned_true.load() == 0);  // nobody ended the child before terminate()
  RC_ASSERT(p.exitcode() == std::optional<int>(-SIGTERM));
  RC_ASSERT(!p.is_alive());
  p.close();
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

// A Process destroyed while its child runs leaves the child to
// active_children(), which reaps it once it has ended.
INTERLEAVE_TEST(ProcessProps, a_dropped_process_is_reaped_by_active_children, "process.lifecycle") {
  int pid = 0;
  {
    Process p([] { return 0; });
    p.start();
    pid = *p.pid();
  }
  // wait until the child has exited, without reaping it (WNOWAIT): reaping is active_children()'s job
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(Process::active_children().empty());
  EXPECT_TRUE(no_child_left()) << "pid " << pid << " left unreaped";
  testkit::cell("process.lifecycle", "a dropped Process's child reaped by active_children()");
}

// A child inherits copies of its parent's Process objects, its own included;
// no lock in them was held at the fork, so the child may look at them: its
// own copy says "not started" (the pid was set after the fork), and
// active_children() lists none of the parent's children (not its own).
INTERLEAVE_TEST(ProcessProps, a_child_may_look_at_its_inherited_process_objects,
                "process.lifecycle") {
  Process sibling([] { ::pause(); });
  sibling.start();
  Process* self = nullptr;
  Process child([&self]() -> int {
    return static_cast<int>(Process::active_children().size()) + (self->pid().has_value() ? 10 : 0);
  });
  self = &child;
  child.start();
  const bool ended = child.join(5s);
  if (!ended) child.kill();
  child.join();
  sibling.kill();
  sibling.join();
  EXPECT_TRUE(ended) << "the child blocked on a lock it inherited held";
  EXPECT_EQ(child.exitcode(), std::optional<int>(0));
  EXPECT_TRUE(no_child_left());
  testkit::cell("process.lifecycle",
                "a child reads its inherited Process objects without blocking");
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

TEST(ProcessMisuse, each_is_refused_with_a_message_and_leaks_nothing) {
  const int fds = open_fds();
  Process p([] { ::pause(); });
  EXPECT_NE(message_of([&] { p.join(); }).find("was never started"), std::string::npos);
  EXPECT_NE(message_of([&] { p.terminate(); }).find("was never started"), std::string::npos);
  p.start();
  EXPECT_NE(message_of([&] { p.start(); }).find("already started"), std::string::npos);
  EXPECT_NE(message_of([&] { p.join(-1ms); }).find("timeout must be >= 0"), std::string::npos);
  EXPECT_NE(message_of([&] { p.close(); }).find("is still running"), std::string::npos);
  p.kill();
  p.join();
  p.close();
  EXPECT_NE(message_of([&] { p.is_alive(); }).find("is closed"), std::string::npos);
  EXPECT_NE(message_of([&] { p.exitcode(); }).find("is closed"), std::string::npos);
  EXPECT_NE(message_of([&] { p.start(); }).find("is closed"), std::string::npos);
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(no_child_left());
}

// stdout sent to a file: what the parent buffered before start() is written
// once (flushed before the fork, not again by the child), and what the child
// printed is written before the child ends, in that order.
TEST(ProcessOutput, standard_output_is_written_once_by_each_process) {
  char path[] = "/tmp/interleave_stdout_XXXXXX";
  const int file = ::mkstemp(path);
  ASSERT_GE(file, 0);
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(file, STDOUT_FILENO);
  std::printf("parent;");  // no newline: buffered, line- or fully-buffered alike
  const bool buffered = __fpending(stdout) > 0;
  Process p([] { std::printf("child;"); });
  p.start();
  p.join();
  std::printf("after;");
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::string text(64, '\0');
  const ssize_t n = ::pread(file, text.data(), text.size(), 0);
  ::close(file);
  ::unlink(path);
  EXPECT_TRUE(buffered);
  ASSERT_GE(n, 0);
  text.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(text, "parent;child;after;");
  EXPECT_EQ(p.exitcode(), std::optional<int>(0));
}

TEST(ProcessMisuse, fork_with_another_thread_running_is_refused_naming_the_safe_method) {
  std::atomic<bool> stop{false};
  std::thread other([&] {
    while (!stop.load()) std::this_thread::yield();
  });
  Process p([] {});
  const std::string why = message_of([&] { p.start(); });
  stop = true;
  other.join();
  EXPECT_NE(why.find("fork refused"), std::string::npos) << why;
  EXPECT_NE(why.find("spawn_entry"), std::string::npos) << why;
  EXPECT_FALSE(p.pid().has_value());  // nothing was started
  EXPECT_TRUE(no_child_left());
}

int exit_with_first_byte(std::span<const std::byte> args, std::span<const int> fds) {
  if (!fds.empty()) {
    const std::byte b{7};
    posix_os::write(fds[0], std::span<const std::byte>(&b, 1));
  }
  return args.empty() ? 0 : std::to_integer<int>(args[0]);
}
INTERLEAVE_ENTRY_POINT(exit_with_first_byte);

TEST(ProcessMisuse, the_safe_start_method_works_with_other_threads_running) {
  std::atomic<bool> stop{false};
  std::thread other([&] {
    while (!stop.load()) std::this_thread::yield();
  });
  const auto [r, w] = posix_os::pipe();
  const std::byte arg{42};
  const int pid = posix_os::spawn_entry("exit_with_first_byte", std::span<const std::byte>(&arg, 1),
                                        std::span<const int>(&w, 1));
  posix_os::close(w);
  std::byte got{};
  const std::size_t n = posix_os::read(r, std::span<std::byte>(&got, 1));
  posix_os::close(r);
  const int code = posix_os::wait(pid);
  stop = true;
  other.join();
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(std::to_integer<int>(got), 7);  // the passed descriptor reached the child
  EXPECT_EQ(code, 42);
  EXPECT_NE(message_of([] { posix_os::spawn_entry("no_such_entry", {}); }).find("not registered"),
            std::string::npos);
}

}  // namespace
}  // namespace interleave

int main(int argc, char** argv) {
  interleave::posix_os::run_entry_point_if_requested(
      argc, argv);  // a re-exec'd child runs its entry and exits
  return interleave::testkit::main(argc, argv, "property");
}
