// models/dpor/thread.hpp — model threads (std::thread / std::jthread shape)
// and stop tokens.
//
// A thread is a fiber of the execution, numbered in start order (the body
// is T0): the numbers are the stable ids of replay tokens and listings.
// Starting is not a scheduling point of the parent; the child's first step
// is. Everything the parent did before the start happens-before the child;
// everything the child did happens-before the return of join().
//
// stop_source / stop_token: the stop state is a model atomic<bool>;
// request_stop() (acq_rel exchange) synchronises with a stop_requested()
// (acquire load) that returns true, the standard's contract. Stop callbacks
// are not modelled.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "atomic.hpp"
#include "execution.hpp"

namespace interleave::dpor {

class thread {
 public:
  thread() noexcept = default;
  template <class F>
  explicit thread(F&& f) : id_(start(std::forward<F>(f))) {}
  thread(thread&& o) noexcept : id_(std::exchange(o.id_, -1)) {}
  thread& operator=(thread&& o) noexcept {
    if (joinable()) std::terminate();
    id_ = std::exchange(o.id_, -1);
    return *this;
  }
  ~thread() {
    Execution* x = Execution::current();
    if (joinable() && (x == nullptr || !x->aborting())) std::terminate();  // std::thread's rule
  }
  [[nodiscard]] bool joinable() const noexcept { return id_ >= 0; }
  void join(std::source_location where = std::source_location::current()) {
    if (!joinable())
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "dpor thread::join: not joinable");
    const int t = std::exchange(id_, -1);
    Execution::require("thread").join(static_cast<unsigned>(t), where);
  }

 private:
  template <class F>
  static int start(F&& f) {
    Execution& x = Execution::require("thread");
    const std::uint64_t key = code_key(f);  // before f is moved from
    return static_cast<int>(x.spawn(std::function<void()>(std::forward<F>(f)), key));
  }
  int id_ = -1;
};

struct stop_state {
  atomic<bool> requested{false};
};

class stop_token {
 public:
  stop_token() noexcept = default;
  explicit stop_token(std::shared_ptr<stop_state> s) noexcept : s_(std::move(s)) {}
  [[nodiscard]] bool stop_requested(
      std::source_location where = std::source_location::current()) const {
    return s_ && s_->requested.load(std::memory_order_acquire, where);
  }
  [[nodiscard]] bool stop_possible() const noexcept { return s_ != nullptr; }

 private:
  std::shared_ptr<stop_state> s_;
};

class stop_source {
 public:
  stop_source() : s_(std::make_shared<stop_state>()) {}
  // True if this call made the request (std's rule).
  bool request_stop(std::source_location where = std::source_location::current()) {
    return !s_->requested.exchange(true, std::memory_order_acq_rel, where);
  }
  [[nodiscard]] bool stop_requested(
      std::source_location where = std::source_location::current()) const {
    return s_->requested.load(std::memory_order_acquire, where);
  }
  [[nodiscard]] stop_token get_token() const noexcept { return stop_token(s_); }

 private:
  std::shared_ptr<stop_state> s_;
};

// std::jthread: hands a stop token to a callable that takes one; the
// destructor requests stop and joins.
class jthread {
 public:
  jthread() noexcept = default;
  template <class F>
  explicit jthread(F&& f) {
    if constexpr (std::is_invocable_v<std::decay_t<F>&, stop_token>)
      t_ = thread([fn = std::forward<F>(f), tok = src_.get_token()]() mutable { fn(tok); });
    else
      t_ = thread(std::forward<F>(f));
  }
  jthread(jthread&&) noexcept = default;
  jthread& operator=(jthread&& o) noexcept {
    stop_and_join();
    src_ = std::move(o.src_);
    t_ = std::move(o.t_);
    return *this;
  }
  ~jthread() { stop_and_join(); }
  [[nodiscard]] bool joinable() const noexcept { return t_.joinable(); }
  void join() { t_.join(); }
  bool request_stop(std::source_location where = std::source_location::current()) {
    return src_.request_stop(where);
  }
  [[nodiscard]] stop_source get_stop_source() const { return src_; }
  [[nodiscard]] stop_token get_stop_token() const { return src_.get_token(); }

 private:
  void stop_and_join() {
    if (!joinable()) return;
    Execution* x = Execution::current();
    if (x != nullptr && x->aborting()) return;  // the execution is being unwound
    src_.request_stop();
    t_.join();
  }
  stop_source src_;
  thread t_;
};

}  // namespace interleave::dpor
