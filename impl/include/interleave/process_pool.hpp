// interleave/process_pool.hpp — a pool of reused worker processes, after
// Python's concurrent.futures.ProcessPoolExecutor, written once against the
// OS interface (interleave/os.hpp): `ProcessPool` runs on POSIX,
// `BasicProcessPool<sim_os<Sync>>` on the simulated OS the model checkers
// explore.
//
// Seed scenario: "Process pools" (seed_pool_program below: 3 workers serve
// tasks P0..P4, as_completed collects them).
//
//   int square(int x) { return x * x; }
//   INTERLEAVE_TASK(square);                       // at namespace scope
//   ProcessPool pool(3);                           // max_workers
//   Future<int> f = pool.submit(square, 7);        // f.get() == 49
//   for (int v : pool.map(square, std::vector{1, 2, 3}, 5s, /*chunksize=*/2)) ...
//   pool.shutdown(/*wait=*/true, /*cancel_futures=*/false);
//
// A task crosses the process boundary the way Python pickles one: the name
// under which its function was registered (INTERLEAVE_TASK) and its
// arguments encoded by the codec (interleave/codec.hpp, cereal). A worker
// looks the name up in its own copy of the registry (the same program), runs
// the function and sends back the encoded result, or the message of the
// exception it threw.
//
// The round trip of one task. A submit that finds no work pending and a
// worker idle writes the task record to that worker's pipe itself, under
// the pool's lock; the management thread only reads results (one read call
// for a small record), completes the futures, hands the next pending work
// to the worker that just finished, and starts, replaces and reaps workers.
// It is woken through its wake pipe only when a worker must be started or
// the pool shuts down. So a task on an idle worker costs the parent one
// write, and the management thread one poll and one read.
//
// Start method. The pool's management thread makes the parent
// multithreaded, and posix_os refuses fork() in a multithreaded process. On
// POSIX every worker is therefore started with the safe start method,
// posix_os::spawn_entry: the program re-executes itself running the pool's
// registered entry point, with the worker's two pipe ends as its only
// inherited descriptors. Requires of the program: main() calls
// `posix_os::run_entry_point_if_requested(argc, argv)` first thing, and every
// task function is registered at namespace scope (so the re-executed program
// has it too). On an OS interface without spawn_entry (the simulated OS) a
// worker is started with Os::spawn and closes, first thing, every descriptor
// it inherited but its own two.
//
// Requires: max_workers > 0 and max_tasks_per_child > 0 when given
//   (std::invalid_argument naming the argument); submit() of a registered
//   function (std::invalid_argument "... is not registered (INTERLEAVE_TASK)")
//   with arguments the codec can encode (a type cereal cannot serialize does
//   not compile; an encoding that throws, or a record over the codec's
//   max_record, is codec_error naming the function): both at submit, never a
//   crash in a worker; a map timeout >= 0 and chunksize >= 1
//   (std::invalid_argument). submit()/map() after shutdown() is
//   std::logic_error; on a broken pool BrokenProcessPool.
// Guarantees:
//   - every future resolves exactly once: its result, its task's exception
//     (RemoteTaskError naming the function and the exception's message; the
//     worker lives on), CancelledError (cancelled while pending, or by
//     shutdown(cancel_futures=true)), or BrokenProcessPool;
//   - workers are reused: at most max_workers processes exist at once, each
//     started only when work is pending and no worker is idle; with
//     max_tasks_per_child a worker exits after that many tasks and a new one
//     replaces it when needed;
//   - a worker that dies (killed, crashed, an initializer that threw) breaks
//     the pool: its task's future, every other running and pending future
//     fail with BrokenProcessPool naming the worker's pid and exit status,
//     the other workers are killed and reaped, later submits fail the same
//     way; nothing hangs;
//   - shutdown(wait) lets running and pending work finish (pending work is
//     cancelled first with cancel_futures), then every worker exits and is
//     reaped and every descriptor the pool opened is closed; wait = true
//     returns after that, wait = false at once (the destructor joins);
//   - the destructor is shutdown(true).
// Threads: submit, map, shutdown and the futures may be used from any thread
//   of the parent. Waiting on a pool future from inside a task is not
//   possible (a worker is another process).
// Memory ordering: everything the manager did to complete a future (the
//   decoded result) happens-before get() returning it (the future's mutex).
//   The worker's effects reach the parent only through its result record.
// Destruction: joins the management thread after shutdown(true); workers
//   never outlive the pool object.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "interleave/as_completed.hpp"
#include "interleave/codec.hpp"
#include "interleave/deadline.hpp"
#include "interleave/os.hpp"
#include "interleave/posix_os.hpp"
#include "interleave/promise.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave {

// The pool can no longer run work: a worker died abruptly. what() names the
// worker's pid and exit status.
class BrokenProcessPool : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A task's own exception, carried back from the worker: the function's
// registered name and the exception's message (what()).
class RemoteTaskError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {

// --- the task registry: name <-> function, the same in every process --------

using pool_invoker = std::string (*)(const std::string& encoded_args);

struct pool_registry {
  std::map<std::string, pool_invoker, std::less<>> by_name;
  std::map<void (*)(), std::string> by_function;
  static pool_registry& get() {
    static pool_registry r;
    return r;
  }
};

template <class T>
std::string to_blob(const T& v) {
  const std::vector<std::byte> b = cereal_codec::encode(v);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
template <class T>
T from_blob(const std::string& s) {
  return cereal_codec::decode<T>(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size()));
}

template <class F>
struct task_traits;
template <class R, class... A>
struct task_traits<R (*)(A...)> {
  using result = R;
  using args = std::tuple<std::decay_t<A>...>;
};

// Decodes the arguments, calls F, encodes its result (empty for void).
template <auto F>
std::string invoke_encoded(const std::string& encoded_args) {
  using traits = task_traits<decltype(F)>;
  auto args = from_blob<typename traits::args>(encoded_args);
  if constexpr (std::is_void_v<typename traits::result>) {
    std::apply(F, std::move(args));
    return {};
  } else {
    return to_blob(std::apply(F, std::move(args)));
  }
}

template <auto F>
struct task_registrar {
  explicit task_registrar(const char* name) {
    pool_registry& r = pool_registry::get();
    const auto [it, fresh] = r.by_name.emplace(name, &invoke_encoded<F>);
    if (!fresh && it->second != &invoke_encoded<F>)
      throw std::logic_error(
          std::string("INTERLEAVE_TASK: another function is already registered as '") + name + "'");
    r.by_function.emplace(reinterpret_cast<void (*)()>(F), name);
  }
};

// One call's outcome as a worker sends it: ok and the encoded result, or not
// ok and the exception's message.
using pool_outcome = std::pair<bool, std::string>;
// A task record: the function's name and one encoded argument tuple per call
// (one for submit, up to chunksize for map).
using pool_task = std::tuple<std::string, std::vector<std::string>>;
// A worker's start: initializer name ("" for none), its encoded arguments,
// max_tasks_per_child (0 for no limit).
using pool_worker_config = std::tuple<std::string, std::string, int>;

// Reads framed records (interleave/codec.hpp) from one pipe with as few
// read calls as it can: each read asks for what the current record still
// needs, at least `chunk` bytes, so a whole small record usually comes in one
// call (header and payload), and bytes past the record wait in the buffer
// for the next one. The same outcomes as read_record: the payload,
// std::nullopt at end-of-file between records, short_record_error at
// end-of-file inside one, codec_error for a length over max_record.
class record_reader {
 public:
  static constexpr std::size_t chunk = 4096;

  template <class ReadSome>
  std::optional<std::vector<std::byte>> next(ReadSome&& read_some) {
    for (;;) {
      const std::size_t have = buf_.size() - at_;
      std::size_t want = frame_header_bytes - std::min(have, frame_header_bytes);
      if (have >= frame_header_bytes) {
        std::size_t length = 0;
        for (std::size_t i = 0; i < frame_header_bytes; ++i)
          length |= std::to_integer<std::size_t>(buf_[at_ + i]) << (8 * i);
        if (length > default_max_record)
          throw codec_error("read_record: length header says " + std::to_string(length) +
                            " bytes, over max_record " + std::to_string(default_max_record) +
                            " (a corrupt or foreign stream)");
        if (have >= frame_header_bytes + length) {
          const auto first = buf_.begin() + static_cast<std::ptrdiff_t>(at_ + frame_header_bytes);
          std::vector<std::byte> payload(first, first + static_cast<std::ptrdiff_t>(length));
          at_ += frame_header_bytes + length;
          if (at_ == buf_.size()) {
            buf_.clear();
            at_ = 0;
          }
          return payload;
        }
        want = frame_header_bytes + length - have;
      }
      if (at_ > 0) {  // keep the unread bytes at the front
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(at_));
        at_ = 0;
      }
      const std::size_t old = buf_.size();
      buf_.resize(old + std::max(want, chunk));
      const std::size_t n = read_some(std::span<std::byte>(buf_.data() + old, buf_.size() - old));
      buf_.resize(old + n);
      if (n == 0) {
        if (old == 0) return std::nullopt;
        throw short_record_error("short record: end-of-file after " + std::to_string(old) +
                                 " bytes of a record (" + std::to_string(want) + " more expected)");
      }
    }
  }

 private:
  std::vector<std::byte> buf_;
  std::size_t at_ = 0;
};

// The worker's loop, the same on every OS interface: run the initializer,
// then read task records from `task_fd` and write one result record each to
// `result_fd`, until end-of-file on `task_fd` (the pool shuts down) or
// max_tasks_per_child tasks. Returns the exit code.
template <OsBackend Os, class Write>
int pool_worker_main(int task_fd, int result_fd, const pool_worker_config& config,
                     Write&& write_result) {
  const auto& [init_name, init_args, max_tasks] = config;
  const pool_registry& reg = pool_registry::get();
  if (!init_name.empty()) {
    const auto it = reg.by_name.find(init_name);
    if (it == reg.by_name.end())
      throw std::invalid_argument("ProcessPool worker: initializer '" + init_name +
                                  "' is not registered");
    it->second(init_args);  // an exception ends the worker with 1: the pool breaks
  }
  record_reader tasks;
  for (int done = 0; max_tasks == 0 || done < max_tasks; ++done) {
    std::optional<std::vector<std::byte>> rec =
        tasks.next([&](std::span<std::byte> b) { return Os::read(task_fd, b); });
    if (!rec) break;  // end-of-file: the pool shuts down
    const auto [name, calls] = cereal_codec::decode<pool_task>(*rec);
    std::vector<pool_outcome> out;
    out.reserve(calls.size());
    const auto it = reg.by_name.find(name);
    for (const std::string& args : calls) {
      if (it == reg.by_name.end()) {
        out.emplace_back(false, "function '" + name + "' is not registered in the worker");
        continue;
      }
      try {
        out.emplace_back(true, it->second(args));
      } catch (const std::exception& e) {
        out.emplace_back(false, e.what());
      } catch (...) {
        out.emplace_back(false, "an exception not derived from std::exception");
      }
    }
    write_result(result_fd, encode_record<cereal_codec>(out));
  }
  Os::close(task_fd);
  Os::close(result_fd);
  return 0;
}

// The POSIX entry point of a re-executed worker: fds are {task read end,
// result write end}, args the encoded pool_worker_config.
inline int pool_worker_entry(std::span<const std::byte> args, std::span<const int> fds) {
  if (fds.size() != 2) throw std::invalid_argument("ProcessPool worker: expected 2 descriptors");
  // A worker ignores SIGPIPE, as every Python process does: a write to a
  // closed pipe (the parent gone) fails with EPIPE and ends the worker,
  // without posix_os::write's three signal-mask calls around every result
  // (a quarter of a round trip's system calls). The disposition is the
  // worker's own: the parent's is never touched.
  struct sigaction ignore{};
  ignore.sa_handler = SIG_IGN;
  if (::sigaction(SIGPIPE, &ignore, nullptr) != 0)
    detail::throw_os(errno, "ProcessPool worker: sigaction(SIGPIPE, SIG_IGN)");
  return pool_worker_main<posix_os>(
      fds[0], fds[1], cereal_codec::decode<pool_worker_config>(args),
      [](int fd, std::span<const std::byte> out) {
        for (std::size_t done = 0; done < out.size();) {
          const ssize_t n = ::write(fd, out.data() + done, out.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0)
            detail::throw_os(errno, "ProcessPool worker: write to fd " + std::to_string(fd));
          done += static_cast<std::size_t>(n);
        }
      });
}
inline const entry_registrar pool_worker_entry_registrar{"interleave_process_pool_worker",
                                                         &pool_worker_entry};

inline int default_max_workers() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace detail

// An initializer: a registered function and its arguments, run once in each
// worker before its first task.
struct PoolInitializer {
  std::string name;
  std::string args;
};
template <class R, class... A, class... Args>
PoolInitializer pool_initializer(R (*f)(A...), Args&&... args) {
  const auto& by_fn = detail::pool_registry::get().by_function;
  const auto it = by_fn.find(reinterpret_cast<void (*)()>(f));
  if (it == by_fn.end())
    throw std::invalid_argument(
        "pool_initializer: the initializer is not registered (INTERLEAVE_TASK)");
  return {it->second, detail::to_blob(std::tuple<std::decay_t<A>...>(std::forward<Args>(args)...))};
}

// The broken twin: a pool whose manager, when a worker's result pipe ends,
// reaps the worker and carries on without failing its task's future.
enum class process_pool_bug { none, ignores_dead_worker };

template <class R, SyncBackend Sync>
class ProcessMapResults;

template <OsBackend Os = posix_os, process_pool_bug Bug = process_pool_bug::none>
class BasicProcessPool {
  using Sync = typename Os::sync;
  using mutex = typename Sync::mutex;
  using clock = typename Sync::clock;

 public:
  explicit BasicProcessPool(std::optional<int> max_workers = std::nullopt,
                            std::optional<PoolInitializer> initializer = std::nullopt,
                            std::optional<int> max_tasks_per_child = std::nullopt)
      : max_workers_(max_workers.value_or(detail::default_max_workers())),
        config_(initializer ? initializer->name : std::string(),
                initializer ? initializer->args : std::string(), max_tasks_per_child.value_or(0)) {
    if (max_workers_ <= 0)
      throw std::invalid_argument("ProcessPool: max_workers must be > 0, got " +
                                  std::to_string(max_workers_));
    if (max_tasks_per_child && *max_tasks_per_child <= 0)
      throw std::invalid_argument("ProcessPool: max_tasks_per_child must be > 0, got " +
                                  std::to_string(*max_tasks_per_child));
    std::tie(wake_r_, wake_w_) = Os::pipe();
    try {
      manager_ = typename Sync::thread([this] { manage(); });
    } catch (...) {
      Os::close(wake_r_);
      Os::close(wake_w_);
      throw;
    }
  }
  BasicProcessPool(const BasicProcessPool&) = delete;
  BasicProcessPool& operator=(const BasicProcessPool&) = delete;
  ~BasicProcessPool() {
    try {
      shutdown(true);
    } catch (...) {
    }
    if (manager_.joinable()) manager_.join();
  }

  int max_workers() const noexcept { return max_workers_; }

  template <class R, class... A, class... Args>
    requires std::constructible_from<std::tuple<std::decay_t<A>...>, Args&&...>
  [[nodiscard]] Future<R, Sync> submit(R (*f)(A...), Args&&... args) {
    const std::string name = registered_name(f, "submit");
    std::string encoded =
        encode_args(name, "submit", std::tuple<std::decay_t<A>...>(std::forward<Args>(args)...));
    auto promise = std::make_shared<Promise<R, Sync>>();
    Future<R, Sync> future = promise->get_future();
    auto it = std::make_shared<item>();
    it->record = task_record(name, {std::move(encoded)});
    it->start = [promise] { return promise->set_running_or_notify_cancel(); };
    it->cancel = [future]() mutable { future.cancel(); };
    it->fail = [promise](std::exception_ptr e) { promise->set_exception(std::move(e)); };
    it->finish = [promise, name](std::vector<detail::pool_outcome>&& out) {
      try {
        if (out.size() != 1)
          throw BrokenProcessPool("ProcessPool: a worker answered a task with " +
                                  std::to_string(out.size()) + " results");
        if (!out[0].first) throw RemoteTaskError("task '" + name + "' raised: " + out[0].second);
        if constexpr (std::is_void_v<R>) {
          promise->set_value();
        } else {
          promise->set_value(detail::from_blob<R>(out[0].second));
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    };
    enqueue(std::move(it), "submit");
    return future;
  }

  // Python's Executor.map over one range: f(x) for each element x (an element
  // that is a std::tuple is unpacked into f's arguments), sent in chunks of
  // `chunksize` calls per task. The results come in order; the timeout counts
  // from this call; see ProcessMapResults.
  template <class R, class... A, std::ranges::input_range Range, class Rep, class Period>
  ProcessMapResults<R, Sync> map(R (*f)(A...), Range&& range,
                                 std::chrono::duration<Rep, Period> timeout, int chunksize = 1) {
    return map_until(f, std::forward<Range>(range),
                     detail::deadline_after<clock>(timeout, "ProcessPool::map"), chunksize);
  }
  template <class R, class... A, std::ranges::input_range Range>
  ProcessMapResults<R, Sync> map(R (*f)(A...), Range&& range, std::nullopt_t = std::nullopt,
                                 int chunksize = 1) {
    return map_until(f, std::forward<Range>(range), clock::time_point::max(), chunksize);
  }

  // Stops accepting work. cancel_futures: pending (not yet running) work is
  // cancelled. wait: returns once every worker has exited and been reaped.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    {
      std::unique_lock<mutex> lk(mu_);
      shutdown_.store(true);
      if (cancel_futures) cancel_requested_.store(true);
      wake(lk);
    }
    if (wait) {
      std::unique_lock<mutex> jl(join_mu_);
      if (manager_.joinable()) manager_.join();
    }
  }

 private:
  struct item {
    std::vector<std::byte> record;
    std::function<bool()> start;   // pending -> running; false if cancelled
    std::function<void()> cancel;  // cancel the future (pending work at shutdown)
    std::function<void(std::exception_ptr)> fail;
    std::function<void(std::vector<detail::pool_outcome>&&)> finish;
  };
  // A worker process. pid and the two descriptors are fixed once it is in
  // workers_; only the management thread adds or removes a worker, closes
  // its descriptors or reads its results. `busy` (the task it runs) is under
  // mu_: a submitting thread may hand an idle worker its task directly.
  struct worker {
    int pid = 0;
    int task_fd = -1;
    int result_fd = -1;
    std::shared_ptr<item> busy;     // under mu_
    int done = 0;                   // management thread only
    detail::record_reader results;  // management thread only
  };

  template <class T>
  struct is_tuple : std::false_type {};
  template <class... T>
  struct is_tuple<std::tuple<T...>> : std::true_type {};

  template <class R, class... A, class Range>
  ProcessMapResults<R, Sync> map_until(R (*f)(A...), Range&& range,
                                       typename clock::time_point deadline, int chunksize) {
    static_assert(!std::is_void_v<R>, "ProcessPool::map needs a function with a result");
    if (chunksize < 1)
      throw std::invalid_argument("ProcessPool::map: chunksize must be >= 1, got " +
                                  std::to_string(chunksize));
    const std::string name = registered_name(f, "map");
    using Args = std::tuple<std::decay_t<A>...>;
    std::vector<std::string> all;
    for (auto&& x : range) {
      if constexpr (is_tuple<std::remove_cvref_t<decltype(x)>>::value)
        all.push_back(encode_args(name, "map", std::make_from_tuple<Args>(x)));
      else
        all.push_back(encode_args(name, "map", Args(x)));
    }
    const auto cs = static_cast<std::size_t>(chunksize);
    ProcessMapResults<R, Sync> results(all.size(), cs, deadline, name);
    for (std::size_t at = 0; at < all.size(); at += cs) {
      const auto first = all.begin() + static_cast<std::ptrdiff_t>(at);
      const auto last = all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + cs));
      std::vector<std::string> chunk(std::make_move_iterator(first), std::make_move_iterator(last));
      auto promise = std::make_shared<Promise<std::vector<detail::pool_outcome>, Sync>>();
      auto future = promise->get_future();
      auto it = std::make_shared<item>();
      it->record = task_record(name, std::move(chunk));
      it->start = [promise] { return promise->set_running_or_notify_cancel(); };
      it->cancel = [future]() mutable { future.cancel(); };
      it->fail = [promise](std::exception_ptr e) { promise->set_exception(std::move(e)); };
      it->finish = [promise](std::vector<detail::pool_outcome>&& out) {
        promise->set_value(std::move(out));
      };
      results.chunks_.push_back(future);
      enqueue(std::move(it), "map");
    }
    return results;
  }

  template <class F>
  static std::string registered_name(F f, const char* who) {
    const auto& by_fn = detail::pool_registry::get().by_function;
    const auto it = by_fn.find(reinterpret_cast<void (*)()>(f));
    if (it == by_fn.end())
      throw std::invalid_argument(
          std::string("ProcessPool::") + who +
          ": the function is not registered (INTERLEAVE_TASK): a worker could not find it");
    return it->second;
  }
  template <class Tuple>
  static std::string encode_args(const std::string& name, const char* who, const Tuple& args) {
    try {
      return detail::to_blob(args);
    } catch (const codec_error& e) {
      throw codec_error(std::string("ProcessPool::") + who + ": the arguments of '" + name +
                        "' cannot be encoded: " + e.what());
    }
  }
  static std::vector<std::byte> task_record(const std::string& name,
                                            std::vector<std::string> calls) {
    try {
      return encode_record<cereal_codec>(detail::pool_task(name, std::move(calls)));
    } catch (const codec_error& e) {
      throw codec_error("ProcessPool: the task record of '" + name +
                        "' cannot be encoded: " + e.what());
    }
  }

  // The hot path: with nothing pending and a worker idle, the submitting
  // thread writes the task record to that worker's pipe itself, under mu_,
  // and the management thread is not involved until the result comes back.
  // Otherwise the work waits in pending_: the management thread hands it to
  // the next worker that finishes, and is woken only when it must start a
  // worker (fewer than max_workers exist and none is idle).
  void enqueue(std::shared_ptr<item> it, const char* who) {
    std::unique_lock<mutex> lk(mu_);
    if (broken_) throw BrokenProcessPool(*broken_);
    if (shutdown_.load())
      throw std::logic_error(std::string("ProcessPool::") + who +
                             ": cannot schedule new work after shutdown");
    if (pending_.empty()) {
      if (worker* w = idle_worker(lk)) {
        if (it->start()) send(lk, *w, std::move(it));
        return;
      }
    }
    pending_.push_back(std::move(it));
    if (static_cast<int>(workers_.size()) < max_workers_) wake(lk);
  }

  worker* idle_worker(std::unique_lock<mutex>&) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    for (const auto& w : workers_)
      if (!w->busy) return w.get();
    return nullptr;
  }

  // Makes `it` (already running) worker w's task and writes its record.
  // Under mu_, so no other thread picks w, and the management thread (which
  // closes descriptors under mu_ only) cannot close w's pipe meanwhile.
  static void send(std::unique_lock<mutex>&, worker& w, std::shared_ptr<item> it) {
    w.busy = std::move(it);
    try {
      Os::write(w.task_fd, w.busy->record);
    } catch (const os_error&) {
      // The worker is gone (EPIPE): its result pipe's end-of-file tells the
      // management thread, which fails this task with the pool.
    }
  }

  // Hands the oldest pending work that was not cancelled to idle worker w.
  void send_pending(std::unique_lock<mutex>& lk, worker& w) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    while (!pending_.empty()) {
      std::shared_ptr<item> it = std::move(pending_.front());
      pending_.pop_front();
      if (it->start()) {  // false: cancelled while pending
        send(lk, w, std::move(it));
        return;
      }
    }
  }

  // Wakes the manager from its poll: one byte in the wake pipe at most.
  void wake(std::unique_lock<mutex>&) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    if (wake_pending_.load() || wake_w_ < 0) return;
    wake_pending_.store(true);
    const std::byte b{1};
    Os::write(wake_w_, std::span<const std::byte>(&b, 1));
  }

  // --- the management thread: starts, reads, reaps and closes workers ------

  void manage() {
    try {
      run();
    } catch (...) {
      break_pool("ProcessPool: the management thread failed: " +
                     detail::describe(std::current_exception()),
                 nullptr);
    }
    std::unique_lock<mutex> lk(mu_);
    Os::close(wake_r_);
    Os::close(std::exchange(wake_w_, -1));
  }

  void run() {
    std::vector<worker*> polled;
    std::vector<poll_fd> fds;
    for (;;) {
      std::deque<std::shared_ptr<item>> to_cancel;
      {
        std::unique_lock<mutex> lk(mu_);
        if (cancel_requested_.load()) to_cancel.swap(pending_);
      }
      for (auto& c : to_cancel) c->cancel();
      start_workers();
      {
        std::unique_lock<mutex> lk(mu_);
        if (shutdown_.load() && pending_.empty() && !any_busy(lk)) break;
        polled.clear();
        for (const auto& w : workers_) polled.push_back(w.get());
      }
      fds.assign(1, poll_fd{wake_r_});
      for (const worker* w : polled) fds.push_back(poll_fd{w->result_fd});
      Os::poll(fds, clock::time_point::max());
      if (fds[0].ready) {
        // Take the byte first, then allow the next one: a submit in between
        // sees wake_pending_ still set and writes nothing, but its work is
        // already queued and start_workers at the top of the loop takes it.
        // (Clearing first let a second byte in that this read also took:
        // wake_pending_ stayed set over an empty pipe and every later
        // submit's wake was lost.)
        std::byte b[1];
        Os::read(wake_r_, b);
        std::unique_lock<mutex> lk(mu_);
        wake_pending_.store(false);
      }
      for (std::size_t i = fds.size() - 1; i >= 1; --i)
        if (fds[i].ready && !receive(*polled[i - 1])) return;  // the pool broke
    }
    // Shutdown: end-of-file on every task pipe; each worker exits and is reaped.
    std::vector<std::unique_ptr<worker>> all;
    {
      std::unique_lock<mutex> lk(mu_);
      all.swap(workers_);
    }
    for (const auto& w : all) Os::close(w->task_fd);
    for (const auto& w : all) {
      Os::wait(w->pid);
      Os::close(w->result_fd);
    }
  }

  bool any_busy(std::unique_lock<mutex>&) INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    for (const auto& w : workers_)
      if (w->busy) return true;
    return false;
  }

  // Starts workers while work is pending, none is idle and fewer than
  // max_workers exist; each new worker takes the oldest pending work. An
  // idle worker and pending work meet here too (a worker freed while the
  // work was being queued).
  void start_workers() {
    for (;;) {
      std::vector<int> inherited;  // the pool's descriptors, for the fork start method
      {
        std::unique_lock<mutex> lk(mu_);
        if (pending_.empty()) return;
        if (worker* idle = idle_worker(lk)) {
          send_pending(lk, *idle);
          continue;
        }
        if (static_cast<int>(workers_.size()) >= max_workers_) return;
        inherited = {wake_r_, wake_w_};
        for (const auto& o : workers_) {
          inherited.push_back(o->task_fd);
          inherited.push_back(o->result_fd);
        }
      }
      std::unique_ptr<worker> w = start_worker(std::move(inherited));
      std::unique_lock<mutex> lk(mu_);
      send_pending(lk, *w);
      workers_.push_back(std::move(w));
    }
  }

  std::unique_ptr<worker> start_worker(std::vector<int> others) {
    const auto [task_r, task_w] = Os::pipe();
    const auto [result_r, result_w] = Os::pipe();
    auto w = std::make_unique<worker>();
    w->task_fd = task_w;
    w->result_fd = result_r;
    try {
      if constexpr (requires {
                      Os::spawn_entry(std::string_view(), std::span<const std::byte>(),
                                      std::span<const int>());
                    }) {
        const std::vector<std::byte> args = cereal_codec::encode(config_);
        const int fds[2] = {task_r, result_w};
        w->pid = Os::spawn_entry("interleave_process_pool_worker", args, fds);
      } else {
        // fork semantics: the child closes what it inherited but its own two ends.
        others.push_back(task_w);
        others.push_back(result_r);
        w->pid = Os::spawn([task_r = task_r, result_w = result_w, others = std::move(others),
                            config = config_]() -> int {
          for (int fd : others) Os::close(fd);
          return detail::pool_worker_main<Os>(
              task_r, result_w, config,
              [](int fd, std::span<const std::byte> out) { Os::write(fd, out); });
        });
      }
    } catch (...) {
      Os::close(task_r);
      Os::close(task_w);
      Os::close(result_r);
      Os::close(result_w);
      throw;
    }
    Os::close(task_r);
    Os::close(result_w);
    return w;
  }

  // Removes w from workers_ (under mu_), giving the caller its ownership.
  std::unique_ptr<worker> take_worker(std::unique_lock<mutex>&, worker& w)
      INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS {
    for (auto i = workers_.begin(); i != workers_.end(); ++i)
      if (i->get() == &w) {
        std::unique_ptr<worker> out = std::move(*i);
        workers_.erase(i);
        return out;
      }
    throw std::logic_error("ProcessPool: a worker the management thread read is not in the pool");
  }

  // Reads worker w's result and completes its task's future; the worker
  // takes the oldest pending work at once. False if the pool broke.
  bool receive(worker& w) {
    std::optional<std::vector<std::byte>> rec;
    std::string cut;
    try {
      rec = w.results.next([&](std::span<std::byte> b) { return Os::read(w.result_fd, b); });
    } catch (const codec_error& e) {
      cut = e.what();
    }
    if (!rec) {
      const exit_code code = Os::wait(w.pid);
      std::unique_ptr<worker> gone;
      std::shared_ptr<item> lost;
      {
        std::unique_lock<mutex> lk(mu_);
        gone = take_worker(lk, w);
        lost = std::move(gone->busy);
        Os::close(gone->task_fd);
        Os::close(gone->result_fd);
      }
      if constexpr (Bug == process_pool_bug::ignores_dead_worker) {
        if (lost) forgotten_.push_back(std::move(lost));  // its future never resolves
        return true;  // interleave:bug process_pool.broken_ignores_dead_worker
      } else {
        break_pool("ProcessPool: worker pid " + std::to_string(gone->pid) +
                       " terminated abruptly with exit status " + std::to_string(code) +
                       (cut.empty() ? std::string() : " (" + cut + ")") + "; the pool is broken",
                   std::move(lost));
        return false;
      }
    }
    std::shared_ptr<item> it;
    std::unique_ptr<worker> retired;
    {
      std::unique_lock<mutex> lk(mu_);
      it = std::move(w.busy);
      const int max_tasks = std::get<2>(config_);
      if (max_tasks != 0 && ++w.done >= max_tasks) {
        retired = take_worker(lk, w);  // it exits by itself; a new one replaces it when needed
        Os::close(retired->task_fd);
      } else {
        send_pending(lk, w);
      }
    }
    if (retired) {
      Os::wait(retired->pid);
      Os::close(retired->result_fd);
    }
    std::vector<detail::pool_outcome> out;
    try {
      out = cereal_codec::decode<std::vector<detail::pool_outcome>>(*rec);
    } catch (...) {
      if (it) it->fail(std::current_exception());
      return true;
    }
    if (it) it->finish(std::move(out));
    return true;
  }

  // Fails `lost` (the dead worker's task), every running and pending future
  // with BrokenProcessPool(why), kills and reaps the other workers, closes
  // their descriptors.
  void break_pool(const std::string& why, std::shared_ptr<item> lost) {
    std::deque<std::shared_ptr<item>> pending;
    std::vector<std::unique_ptr<worker>> all;
    std::vector<std::shared_ptr<item>> running;
    if (lost) running.push_back(std::move(lost));
    {
      std::unique_lock<mutex> lk(mu_);
      broken_ = why;
      pending.swap(pending_);
      all.swap(workers_);
      for (const auto& w : all)
        if (w->busy) running.push_back(std::move(w->busy));
    }
    for (const auto& w : all) {
      try {
        Os::kill(w->pid, SIGKILL);
      } catch (const os_error&) {
      }
      Os::close(w->task_fd);
      Os::close(w->result_fd);
      Os::wait(w->pid);
    }
    const auto error = std::make_exception_ptr(BrokenProcessPool(why));
    for (auto& it : running) it->fail(error);
    for (auto& it : pending)
      if (it->start()) it->fail(error);
  }

  const int max_workers_;
  const detail::pool_worker_config config_;
  int wake_r_ = -1, wake_w_ = -1;
  mutex mu_;
  mutex join_mu_;
  std::deque<std::shared_ptr<item>> pending_ INTERLEAVE_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<worker>> workers_ INTERLEAVE_GUARDED_BY(mu_);
  typename Sync::template var<bool> shutdown_ INTERLEAVE_GUARDED_BY(mu_){false};
  typename Sync::template var<bool> cancel_requested_ INTERLEAVE_GUARDED_BY(mu_){false};
  typename Sync::template var<bool> wake_pending_ INTERLEAVE_GUARDED_BY(mu_){false};
  std::optional<std::string> broken_ INTERLEAVE_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<item>>
      forgotten_;  // the twin's lost tasks, kept so their promises stay unset
  typename Sync::thread manager_;
};

// The results of ProcessPool::map, in order. next() (or iterating) waits for
// the next result until the map's deadline (TimeoutError naming the
// position), returns it, or throws at its own position: the task's
// RemoteTaskError, BrokenProcessPool, CancelledError. Destroying it cancels
// the work that has not started.
template <class R, SyncBackend Sync>
class ProcessMapResults {
 public:
  ProcessMapResults(ProcessMapResults&&) noexcept = default;
  ProcessMapResults& operator=(ProcessMapResults&&) noexcept = default;
  ~ProcessMapResults() {
    for (auto& c : chunks_) c.cancel();
  }
  std::size_t size() const noexcept { return size_; }
  bool has_next() const noexcept { return at_ < size_; }
  R next() {
    if (at_ >= size_)
      throw std::out_of_range("ProcessMapResults::next: all " + std::to_string(size_) +
                              " results taken");
    const std::size_t i = at_++;
    auto& chunk = chunks_[i / chunksize_];
    if (!chunk.wait_until(deadline_))
      throw TimeoutError("ProcessPool::map: result " + std::to_string(i) + " of '" + name_ +
                         "' not ready within the timeout");
    const detail::pool_outcome& o = chunk.get()[i % chunksize_];
    if (!o.first) throw RemoteTaskError("task '" + name_ + "' raised: " + o.second);
    return detail::from_blob<R>(o.second);
  }
  std::vector<R> to_vector() {
    std::vector<R> out;
    while (has_next()) out.push_back(next());
    return out;
  }

 private:
  template <OsBackend, process_pool_bug>
  friend class BasicProcessPool;
  ProcessMapResults(std::size_t size, std::size_t chunksize,
                    typename Sync::clock::time_point deadline, std::string name)
      : size_(size), chunksize_(chunksize), deadline_(deadline), name_(std::move(name)) {}
  std::vector<Future<std::vector<detail::pool_outcome>, Sync>> chunks_;
  std::size_t size_, chunksize_, at_ = 0;
  typename Sync::clock::time_point deadline_;
  std::string name_;
};

// What users get: worker processes on POSIX.
using ProcessPool = BasicProcessPool<posix_os>;
using BrokenIgnoresDeadWorkerProcessPool =
    BasicProcessPool<posix_os, process_pool_bug::ignores_dead_worker>;

}  // namespace interleave

// Registers `fn` (a function, not an overload set) as a task the pool can
// send to a worker, under its own spelling. At namespace scope, in the
// program whose workers run it.
#define INTERLEAVE_TASK_CAT2(a, b) a##b
#define INTERLEAVE_TASK_CAT(a, b) INTERLEAVE_TASK_CAT2(a, b)
#define INTERLEAVE_TASK(fn)                                                                    \
  [[maybe_unused]] static const ::interleave::detail::task_registrar<&fn> INTERLEAVE_TASK_CAT( \
      interleave_task_, __LINE__) {                                                            \
    #fn                                                                                        \
  }
