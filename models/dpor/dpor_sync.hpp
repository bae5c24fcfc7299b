// models/dpor/dpor_sync.hpp — the DPOR backend of the sync interface.
//
// `dpor_sync` implements interleave/sync.hpp's interface with the objects of
// this directory, so impl templates (`LockedCounter<dpor_sync>`) run under
// the project's own stateless model checker (explorer.hpp). Every operation
// takes a defaulted std::source_location, so listings and race reports name
// the impl's own lines.
//
// What this backend models: sequentially consistent interleavings of the
// sync operations (mutex, condition variable, atomics, thread start/join,
// stop tokens, yield/sleep), happens-before from the memory orders written in
// impl code, notify_one waking any waiter, timeouts and spurious wake-ups as
// explicit transitions. What it cannot see: weak-memory outcomes (a relaxed
// load never returns a stale value), real time (a timed wait may time out
// whatever its duration; sleep_for is a yield), thread_local data (all model
// threads share one OS thread: use thread_index()), plain members that are
// not var<T>, and processes.
#pragma once

#include <chrono>
#include <cstddef>
#include <source_location>
#include <string>

#include "atomic.hpp"
#include "condvar.hpp"
#include "execution.hpp"
#include "interleave/sync.hpp"
#include "mutex.hpp"
#include "thread.hpp"
#include "var.hpp"

namespace interleave {

struct dpor_sync {
  static constexpr const char* name = "dpor";
  using mutex = dpor::mutex;
  using condition_variable = dpor::condition_variable;
  template <class T>
  using atomic = dpor::atomic<T>;
  template <class T>
  using var = dpor::var<T>;
  using thread = dpor::thread;
  using jthread = dpor::jthread;
  using stop_source = dpor::stop_source;
  using stop_token = dpor::stop_token;
  using clock = std::chrono::steady_clock;

  // The model thread running (T0 = the body), per fiber.
  static std::size_t thread_index() noexcept {
    const dpor::Execution* x = dpor::Execution::current();
    return x != nullptr ? x->tid() : 0;
  }
  static void yield(std::source_location where = std::source_location::current()) {
    dpor::Execution::require("yield").yield(where);
  }
  template <class Rep, class Period>
  static void sleep_for(const std::chrono::duration<Rep, Period>&,
                        std::source_location where = std::source_location::current()) {
    dpor::Execution::require("sleep_for").yield(where);
  }
  // INTERLEAVE_MODEL_CHECK: a failed check gives the execution an assertion
  // verdict naming the check and its line; the execution runs on to its end
  // (like a gtest EXPECT), and the search stops after it.
  static void model_check(bool ok, const char* text,
                          std::source_location where = std::source_location::current()) {
    if (ok) return;
    dpor::Execution& x = dpor::Execution::require("model_check");
    x.record_failure(dpor::Verdict::assertion, std::string("check failed: ") + text + " at " +
                                                   where.file_name() + ":" +
                                                   std::to_string(where.line()));
    x.note_check(where);
  }
};

static_assert(SyncBackend<dpor_sync>,
              "dpor_sync implements sync.hpp's interface (the SyncBackend concept)");

}  // namespace interleave
