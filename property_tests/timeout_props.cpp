// property_tests/timeout_props.cpp — call_with_timeout and the seed's
// resolve_host on real processes (seed: "Add timeout to a function"; rows
// timeout.fixed and the twin timeout.seed_program).
//
// This executable is single-threaded, as a fork needs. After every case the
// descriptor count (/proc/self/fd) and the children (waitpid(-1, WNOHANG))
// are back where they started.
//
// What this cannot see: the child finishing at a chosen point relative to
// the deadline (the models do that); here the OS decides.
#include <interleave/call_with_timeout.hpp>

#include <netdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
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

// The seed's gethostbyname, on this machine (no network): localhost.
std::string gethostbyname(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  if (const int e = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); e != 0)
    throw std::runtime_error("getaddrinfo(" + host + "): " + ::gai_strerror(e));
  char buf[64];
  ::getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST);
  ::freeaddrinfo(res);
  return buf;
}
// A lookup that never answers (a dead name server).
std::string blocking_lookup(const std::string&) {
  ::pause();
  return "";
}

enum class Kind { value, slow_value, blocks, throws, crashes };

INTERLEAVE_PROP(TimeoutProps, result_or_timeout_and_nothing_left, "timeout.fixed", ()) {
  const Kind kind =
      *rc::gen::element(Kind::value, Kind::slow_value, Kind::blocks, Kind::throws, Kind::crashes);
  const int timeout_ms = *rc::gen::inRange(0, 40);
  const int work_ms = *rc::gen::inRange(0, 40);  // how long the slow function computes
  const long x = *rc::gen::inRange<long>(-1000, 1000);
  const int fds = open_fds();
  const auto f = [kind, work_ms](long v) -> long {
    if (kind == Kind::slow_value) std::this_thread::sleep_for(std::chrono::milliseconds(work_ms));
    if (kind == Kind::blocks) ::pause();
    if (kind == Kind::throws) throw std::runtime_error("failed on purpose");
    if (kind == Kind::crashes) ::raise(SIGKILL);
    return v * 3;
  };
  std::string outcome;
  long got = 0;
  try {
    got = call_with_timeout_grace<posix_os>(std::chrono::milliseconds(timeout_ms), 20ms, f, x);
    outcome = "value";
  } catch (const TimeoutError&) {
    outcome = "timeout";
  } catch (const ChildProcessError& e) {
    outcome =
        std::string(e.what()).find("failed on purpose") != std::string::npos ? "raised" : "died";
  }
  switch (kind) {
    case Kind::value:
    case Kind::slow_value:
      RC_ASSERT(outcome == "value" || outcome == "timeout");
      if (outcome == "value") RC_ASSERT(got == 3 * x);
      break;
    case Kind::blocks: RC_ASSERT(outcome == "timeout"); break;
    case Kind::throws: RC_ASSERT(outcome == "raised" || outcome == "timeout"); break;
    case Kind::crashes: RC_ASSERT(outcome == "died" || outcome == "timeout"); break;
  }
  RC_ASSERT(open_fds() == fds);
  RC_ASSERT(no_child_left());
}

INTERLEAVE_TEST(TimeoutUnit, seed_lookup_of_localhost_and_a_blocking_one, "timeout.fixed") {
  const int fds = open_fds();
  EXPECT_EQ(call_with_timeout(5s, gethostbyname, std::string("localhost")), "127.0.0.1");
  const auto t0 = std::chrono::steady_clock::now();
  std::string why;
  try {
    call_with_timeout(100ms, blocking_lookup, std::string("example.org"));
  } catch (const TimeoutError& e) {
    why = e.what();
  }
  EXPECT_NE(why.find("stopped with exit status -15"), std::string::npos)
      << why;  // SIGTERM sufficed
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(no_child_left());
}

INTERLEAVE_TEST(TimeoutUnit, bad_arguments_are_refused_by_name, "timeout.fixed") {
  const int fds = open_fds();
  const auto f = [](int v) { return v; };
  std::string why;
  try {
    call_with_timeout(-1ms, f, 1);
  } catch (const std::invalid_argument& e) {
    why = e.what();
  }
  EXPECT_NE(why.find("timeout"), std::string::npos) << why;
  why.clear();
  try {
    call_with_timeout_grace<posix_os>(1s, -1ms, f, 1);
  } catch (const std::invalid_argument& e) {
    why = e.what();
  }
  EXPECT_NE(why.find("grace"), std::string::npos) << why;
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(no_child_left());
}

// The child encodes an arithmetic result as its own bytes instead of
// through cereal's stream: the bytes must be cereal's, since the parent
// decodes them with cereal. Each arithmetic type at its limits, and a value
// of each through a real child.
template <class T>
void expect_cereal_bytes(T v) {
  std::vector<std::byte> direct;
  detail::encode_child_result(direct, v);
  EXPECT_EQ(direct, cereal_codec::encode(v)) << typeid(T).name();
  EXPECT_EQ(cereal_codec::decode<T>(direct), v) << typeid(T).name();
}
template <class T>
void expect_limits_encode_as_cereal() {
  expect_cereal_bytes<T>(std::numeric_limits<T>::min());
  expect_cereal_bytes<T>(std::numeric_limits<T>::max());
  expect_cereal_bytes<T>(T{});
}
INTERLEAVE_TEST(TimeoutUnit, arithmetic_results_encode_as_cereal_does, "timeout.fixed") {
  expect_limits_encode_as_cereal<bool>();
  expect_limits_encode_as_cereal<char>();
  expect_limits_encode_as_cereal<signed char>();
  expect_limits_encode_as_cereal<unsigned char>();
  expect_limits_encode_as_cereal<short>();
  expect_limits_encode_as_cereal<unsigned short>();
  expect_limits_encode_as_cereal<int>();
  expect_limits_encode_as_cereal<unsigned>();
  expect_limits_encode_as_cereal<long>();
  expect_limits_encode_as_cereal<unsigned long long>();
  expect_limits_encode_as_cereal<float>();
  expect_limits_encode_as_cereal<double>();
  expect_limits_encode_as_cereal<long double>();
  expect_cereal_bytes(true);
  expect_cereal_bytes(-1.5);
  const int fds = open_fds();
  EXPECT_EQ(call_with_timeout(5s, [] { return true; }), true);
  EXPECT_EQ(call_with_timeout(5s, [] { return -7; }), -7);
  EXPECT_EQ(call_with_timeout(5s, [] { return 2.5; }), 2.5);
  EXPECT_EQ(call_with_timeout(5s, [] { return std::numeric_limits<long long>::min(); }),
            std::numeric_limits<long long>::min());
  EXPECT_EQ(call_with_timeout(5s, [] { return std::string(5000, 'x'); }),
            std::string(5000, 'x'));  // past the record reserved before the fork
  EXPECT_EQ(open_fds(), fds);
  EXPECT_TRUE(no_child_left());
}

// The seed as written: after a timeout it terminates the child and reads its
// exit code without a join. Property of the fixed contract: the reported exit
// code is known. Falsified as soon as a run reads it before the child died
// (the window is the child's death after SIGTERM: nearly every run).
INTERLEAVE_PROP_FALSIFIED(TimeoutProps, seed_reports_a_known_exit_code, "timeout.seed_program",
                          ()) {
  const int timeout_ms = *rc::gen::inRange(0, 20);
  const auto r = seed_resolve_host<posix_os>(&blocking_lookup, "example.org",
                                             std::chrono::milliseconds(timeout_ms));
  RC_ASSERT(r.code.has_value());
}

INTERLEAVE_TEST(TimeoutUnit, seed_program_works_on_its_happy_path, "timeout.seed_program") {
  const auto r = seed_resolve_host<posix_os>(&gethostbyname, "localhost", 5s);
  EXPECT_EQ(r.ip, std::optional<std::string>("127.0.0.1"));
  EXPECT_EQ(r.final_code, 0);
  const auto lines = testkit::marker_lines("impl/include/interleave/call_with_timeout.hpp",
                                           "interleave:bug timeout.seed_program");
  EXPECT_EQ(lines.size(), 1u);
  EXPECT_TRUE(no_child_left());
}

}  // namespace
}  // namespace interleave

INTERLEAVE_TEST_MAIN("property")
