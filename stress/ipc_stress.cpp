// stress/ipc_stress.cpp — the inter-process Queue and Pipe under load, built
// with ThreadSanitizer. Run by ipc_stress_test.cpp, which reads its output.
//
//   ipc_stress stop_sentinel <runs> <n>
//   ipc_stress parent_feeder <items> <putters>
//   ipc_stress parent_getters <items> <getters>
//   ipc_stress join_before_drain <items> <bytes> <timeout_ms>
//   ipc_stress pipe <runs> <items>
//   ipc_stress pipe_keeps_write_end <items> <timeout_ms>
//
// stop_sentinel: <runs> runs of the seed's program (producer and consumer
//   processes, <n> Fibonacci numbers and "STOP"). Prints "runs=<n> items=<got>
//   bad_runs=<runs whose items were not exactly F(0..n-1) in order, or whose
//   exit codes were not 0> fd_delta=<n> unreaped=<n>".
// parent_feeder: the parent forks one consumer process, then <putters>
//   threads of the parent put <items> values each at once (the parent's
//   feeder thread writes them): TSan watches put() and the feeder in the
//   parent. The consumer checks each putter's values arrived once, in order.
//   Prints "items=<got> out_of_order=<n> consumer=<exit code> fd_delta unreaped".
// parent_getters: a producer process puts <items> values and one STOP per
//   getter; <getters> threads of the parent get at once (half of them with a
//   timeout of a few microseconds, half untimed): TSan watches the read lock
//   (a robust pthread mutex in shared memory) and the per-process state of
//   the reading threads. Prints "items=<got> duplicates=<n> missing=<n>
//   out_of_order=<n> producer=<exit code> fd_delta unreaped".
// join_before_drain: the twin's program with a join timeout. Prints
//   "join_timed_out=<0|1> drained=<n> producer=<exit code> fd_delta unreaped".
// pipe: <runs> runs of the fixed pipe reader with <items> items. Prints
//   "runs=<n> bad_runs=<n> fd_delta=<n> unreaped=<n>".
// pipe_keeps_write_end: the twin reader. Prints "timed_out=<0|1> fd_delta unreaped".
//
// What TSan sees: the parent's threads. Children forked from a
// single-threaded parent are TSan processes too, and the producers' feeder
// threads run there under TSan; their reports would go to the inherited
// stderr and their exit code would be TSan's (checked as 0). After the
// parent has started a thread, it forks no more (fork would be refused).
#include <interleave/ipc_queue.hpp>
#include <interleave/pipe.hpp>

#include <cereal/types/utility.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "stress_main.hpp"
#include "process_counts.hpp"

namespace {

using namespace interleave;

using interleave::process_counts::open_fds;
using interleave::process_counts::unreaped;

int stop_sentinel(long runs, long n) {
  const int fds = open_fds();
  long items = 0, bad = 0;
  const auto want = fibonacci(static_cast<int>(n));
  for (long i = 0; i < runs; ++i) {
    const sentinel_result r = stop_sentinel_program<posix_os>(static_cast<int>(n));
    items += static_cast<long>(r.received.size());
    bad += r.received != want || r.producer != 0 || r.consumer != 0;
  }
  std::printf("runs=%ld items=%ld bad_runs=%ld fd_delta=%d unreaped=%d\n", runs, items, bad,
              open_fds() - fds, unreaped());
  return stress::kExitOk;
}

int parent_feeder(long items, long putters) {
  const int fds = open_fds();
  long got = 0, out_of_order = 0;
  int consumer_code = -1;
  {
    IpcQueue<std::pair<int, long>> q;  // (putter, seq); seq -1 is that putter's STOP
    auto [result_r, result_w] = Pipe<>(false);
    Process consumer([&q, putters, wfd = result_w.write_fd()] {
      std::vector<long> next(static_cast<std::size_t>(putters), 0);
      long count = 0, disorder = 0;
      for (long stops = 0; stops < putters;) {
        const auto [p, seq] = q.get();
        if (seq < 0) {
          ++stops;
          continue;
        }
        disorder += seq != next[static_cast<std::size_t>(p)]++;
        ++count;
      }
      Connection(-1, wfd).send(std::pair<long, long>{count, disorder});
    });
    consumer.start();  // before the first thread of this process
    result_w.close();
    std::vector<std::thread> ts;
    for (long t = 0; t < putters; ++t)
      ts.emplace_back([&q, t, items] {
        for (long i = 0; i < items; ++i) q.put({static_cast<int>(t), i});
        q.put({static_cast<int>(t), -1});
      });
    for (auto& t : ts) t.join();
    const auto [count, disorder] = result_r.recv<std::pair<long, long>>();
    got = count;
    out_of_order = disorder;
    consumer.join();
    consumer_code = *consumer.exitcode();
  }
  std::printf("items=%ld out_of_order=%ld consumer=%d fd_delta=%d unreaped=%d\n", got, out_of_order,
              consumer_code, open_fds() - fds, unreaped());
  return stress::kExitOk;
}

int parent_getters(long items, long getters) {
  const int fds = open_fds();
  long got = 0, duplicates = 0, missing = 0, out_of_order = 0;
  int producer_code = -1;
  {
    IpcQueue<std::pair<int, long>> q;  // (0, seq); seq -1 is a STOP
    Process producer([&q, items, getters] {
      for (long i = 0; i < items; ++i) q.put({0, i});
      for (long g = 0; g < getters; ++g) q.put({0, -1});
    });
    producer.start();  // before the first thread of this process
    std::vector<std::vector<long>> seen(static_cast<std::size_t>(getters));
    std::vector<std::thread> ts;
    for (long g = 0; g < getters; ++g)
      ts.emplace_back([&q, &mine = seen[static_cast<std::size_t>(g)], g] {
        for (;;) {
          std::optional<std::pair<int, long>> v;
          if (g % 2 == 0)
            v = q.get();
          else
            v = q.get(std::chrono::microseconds(5 * g));
          if (!v) continue;
          if (v->second < 0) return;
          mine.push_back(v->second);
        }
      });
    for (auto& t : ts) t.join();
    producer.join();
    producer_code = *producer.exitcode();
    std::vector<int> count(static_cast<std::size_t>(items), 0);
    for (const auto& mine : seen) {
      for (std::size_t i = 0; i < mine.size(); ++i) {
        ++count[static_cast<std::size_t>(mine[i])];
        out_of_order += i > 0 && mine[i] <= mine[i - 1];
      }
      got += static_cast<long>(mine.size());
    }
    for (int c : count) {
      duplicates += c > 1 ? c - 1 : 0;
      missing += c == 0;
    }
  }
  std::printf(
      "items=%ld duplicates=%ld missing=%ld out_of_order=%ld producer=%d fd_delta=%d "
      "unreaped=%d\n",
      got, duplicates, missing, out_of_order, producer_code, open_fds() - fds, unreaped());
  return stress::kExitOk;
}

int join_before_drain(stress::Args& a) {
  const long items = a.integer("items", 1, 1'000'000), bytes = a.integer("bytes", 0, 10'000'000),
             timeout = a.integer("timeout_ms", 1, 600'000);
  const int fds = open_fds();
  const drain_result r = join_before_drain_program<posix_os>(
      static_cast<int>(items), static_cast<std::size_t>(bytes), std::chrono::milliseconds(timeout));
  std::printf("join_timed_out=%d drained=%zu producer=%d fd_delta=%d unreaped=%d\n",
              r.join_timed_out ? 1 : 0, r.drained, r.producer, open_fds() - fds, unreaped());
  return stress::kExitOk;
}

int pipe_runs(long runs, long items) {
  const int fds = open_fds();
  long bad = 0;
  for (long i = 0; i < runs; ++i)
    bad += pipe_reader_program<posix_os>(static_cast<int>(items), false,
                                         std::chrono::seconds(60)) != std::optional<int>(0);
  std::printf("runs=%ld bad_runs=%ld fd_delta=%d unreaped=%d\n", runs, bad, open_fds() - fds,
              unreaped());
  return stress::kExitOk;
}

int pipe_keeps_write_end(long items, long timeout_ms) {
  const int fds = open_fds();
  const auto r = pipe_reader_program<posix_os>(static_cast<int>(items), true,
                                               std::chrono::milliseconds(timeout_ms));
  std::printf("timed_out=%d fd_delta=%d unreaped=%d\n", r ? 0 : 1, open_fds() - fds, unreaped());
  return stress::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using stress::Param;
  using stress::variant;
  const Param runs{"runs", 1, 1'000'000}, n{"n", 0, 93}, items{"items", 0, 10'000'000},
      putters{"putters", 1, 64}, getters{"getters", 1, 64}, timeout{"timeout_ms", 1, 600'000};
  return stress::dispatch(
      "ipc_stress", argc, argv,
      {variant("stop_sentinel", runs, n, stop_sentinel),
       variant("parent_feeder", items, putters, parent_feeder),
       variant("parent_getters", items, getters, parent_getters),
       stress::Variant{"join_before_drain", "<items> <bytes> <timeout_ms>", join_before_drain},
       variant("pipe", runs, items, pipe_runs),
       variant("pipe_keeps_write_end", items, timeout, pipe_keeps_write_end)});
}
