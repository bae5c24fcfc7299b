// stress/stress_main.hpp — what every stress binary shares: its exit codes,
// its command line (a variant name, then that variant's integer arguments),
// one dispatcher main, and one watchdog for hangs. A binary declares only
// what differs, its variants:
//
//   int main(int argc, char** argv) {
//     const Param threads{"threads", 1, 1024}, increments{"increments", 0, 100'000'000};
//     return dispatch("counter_stress", argc, argv, {
//         variant("locked", threads, increments, [](long t, long n) { ...; return kExitOk; }),
//         ...});
//   }
//
// `counter_stress --help` lists the variants and their arguments.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace interleave::stress {

// How a stress binary ends. The drivers (stress_support.hpp) read these.
inline constexpr int kExitOk = 0;  // ran to the end; its figures are on stdout
inline constexpr int kExitInconsistent =
    1;  // its own accounting failed (printed), or an unexpected exception
inline constexpr int kExitUsage = 2;  // bad arguments, refused with a message naming the argument
inline constexpr int kExitHang =
    3;  // the watchdog saw no progress: a hang, with its figures printed
inline constexpr int kTsanExitCode = 66;  // TSAN_OPTIONS exitcode: TSan reported something

// A usage error (exit kExitUsage). Its message names the argument.
struct usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// An integer in [lo, hi]; anything else throws, naming the argument.
inline long parse(const std::string& s, const std::string& what, long lo, long hi) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || !end || *end || v < lo || v > hi)
    throw usage_error(what + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], not '" + s + "'");
  return v;
}

// A variant's arguments, read in the order its `params` names them.
class Args {
 public:
  explicit Args(std::vector<std::string> values) : values_(std::move(values)) {}

  // The next argument, an integer in [lo, hi], called `what` in messages.
  long integer(const std::string& what, long lo, long hi) {
    if (next_ >= values_.size()) throw usage_error("missing argument " + what);
    return parse(values_[next_++], what, lo, hi);
  }
  int count(const std::string& what, int lo, int hi) {
    return static_cast<int>(integer(what, lo, hi));
  }

 private:
  std::vector<std::string> values_;
  std::size_t next_ = 0;
};

struct Variant {
  std::string name;
  std::string params;             // "<threads> <increments>": one <...> per argument, in order
  std::function<int(Args&)> run;  // returns the exit code (kExitOk when it ran to the end)

  std::size_t arity() const {
    std::size_t n = 0;
    for (char c : params) n += c == '<';
    return n;
  }
};

// An integer argument: its name and range.
struct Param {
  std::string name;
  long lo, hi;
};

// A variant of one or two integer arguments, run as run(a) or run(a, b).
template <class Run>
Variant variant(const std::string& name, const Param& p, Run run) {
  return {name, "<" + p.name + ">", [=](Args& a) { return run(a.integer(p.name, p.lo, p.hi)); }};
}
template <class Run>
Variant variant(const std::string& name, const Param& p, const Param& q, Run run) {
  return {name, "<" + p.name + "> <" + q.name + ">", [=](Args& a) {
            const long first = a.integer(p.name, p.lo, p.hi);
            return run(first, a.integer(q.name, q.lo, q.hi));
          }};
}

inline std::string usage(const std::string& program, const std::vector<Variant>& variants) {
  std::string out = "usage: " + program + " VARIANT ARGUMENTS..., one of:\n";
  for (const Variant& v : variants) out += "  " + program + " " + v.name + " " + v.params + "\n";
  out +=
      "exit codes: 0 ran (figures on stdout), 1 inconsistent, 2 bad arguments, 3 hang "
      "(watchdog), " +
      std::to_string(kTsanExitCode) + " TSan reported";
  return out;
}

// The main of a stress binary: picks the variant argv[1] names, checks the
// argument count, runs it. Bad arguments exit kExitUsage with a message.
inline int dispatch(const std::string& program, int argc, char** argv,
                    const std::vector<Variant>& variants) {
  try {
    if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
      std::printf("%s\n", usage(program, variants).c_str());
      return kExitOk;
    }
    if (argc < 2) throw usage_error("no variant given");
    const std::string name = argv[1];
    const Variant* chosen = nullptr;
    std::string names;
    for (const Variant& v : variants) {
      if (v.name == name) chosen = &v;
      names += (names.empty() ? "" : ", ") + v.name;
    }
    if (!chosen) throw usage_error("variant must be one of " + names + ", not '" + name + "'");
    const std::vector<std::string> values(argv + 2, argv + argc);
    if (values.size() != chosen->arity())
      throw usage_error(name + " takes " + std::to_string(chosen->arity()) + " argument(s) " +
                        chosen->params + ", got " + std::to_string(values.size()));
    Args args(values);
    return chosen->run(args);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "%s: %s\n%s\n", program.c_str(), e.what(),
                 usage(program, variants).c_str());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), e.what());
    return kExitInconsistent;
  }
}

// Detects a hang. Every `quiet` it reads `progress()`; if the value has not
// changed since its last look, it prints "hang: " + report() and ends the
// process at once with kExitHang: the stuck threads cannot be joined, and
// TSan's exit-time thread-leak report would only restate the hang, so it
// leaves through exit_group, past the atexit hooks. Detection only: nothing
// waits on the watchdog to be correct, and a run that finishes destroys it.
class Watchdog {
 public:
  Watchdog(std::chrono::milliseconds quiet, std::function<long()> progress,
           std::function<std::string()> report)
      : quiet_(quiet),
        progress_(std::move(progress)),
        report_(std::move(report)),
        thread_([this] { watch(); }) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void watch() {
    long last = progress_();
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, quiet_, [this] { return stopped_; })) {
      const long now = progress_();
      if (now == last) {
        std::printf("hang: %s\n", report_().c_str());
        std::fflush(stdout);
        syscall(SYS_exit_group, kExitHang);
      }
      last = now;
    }
  }

  const std::chrono::milliseconds quiet_;
  const std::function<long()> progress_;
  const std::function<std::string()> report_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace interleave::stress
