// interleave/mergesort_process.hpp — the seed's mergesort with its chunks
// sorted in worker processes: sort_multiprocessing on a ProcessPool,
// written once against the OS interface (interleave/os.hpp) like the pool,
// so `sort_multiprocessing` runs on POSIX and `BasicProcessMergeSort<sim_os>`
// on the simulated OS the model checkers explore. A separate header so that
// interleave/mergesort.hpp (threads only) does not pull in process headers.
//
// Seed scenario: "Multithreaded/Multiprocessing mergesort" (the process part).
//
//   namespace interleave::mergesort
//   std::vector<T> sort_multiprocessing(range, workers = 6, comp = {})
//   std::vector<T> sort_on_process_pool(pool, range, chunks, comp = {},
//                                       transport = chunk_transport::automatic)
//   BasicProcessMergeSort<Os, Bug>     static members; Bug selects the twin
//
// How chunks travel. Python's ProcessPoolExecutor pickles each chunk into the
// task and the sorted chunk back into the result: every element crosses a
// pipe twice and is encoded and decoded on both sides. For 10,000,000 ints
// that is ~80 MB of encoding, copying through 64 KiB pipes and decoding
// (one run here, 10,000,000 keyed records on 6 workers: 2.9 s encoded
// against 1.4 s in a shared segment). So for element types that may be
// copied as bytes the chunks do not travel at all:
//   - shared_memory: the caller copies the input once into a shared segment
//     (memfd_create + mmap MAP_SHARED on POSIX), and each pool task carries
//     only the segment's handle, its size and the chunk's [begin, end): a
//     few dozen bytes. The worker maps the pages of its slice (MAP_POPULATE:
//     one call, not a fault per page), sorts its slice in place
//     (with its own scratch buffer), unmaps it and answers (begin, end), a
//     status the caller checks against what it asked for. The caller then
//     merges the sorted chunks in the segment as they complete (stably, with
//     neighbours only, as the threaded sort does) and copies the result out.
//     On POSIX the handle is "/proc/<caller pid>/fd/<memfd>": a worker is a
//     re-executed program that inherits no descriptor but its pipes, and
//     opening that path re-opens the caller's memfd (same user, read access
//     to the caller's /proc entry; Yama's ptrace restrictions do not apply to
//     it). A memfd has no name in any file system: nothing is left behind if
//     the caller dies. On the simulated OS, whose processes are threads of
//     one address space, the segment is a heap block and the handle its
//     address: the protocol (handle, range, status) is the same.
//   - encoded: each chunk travels in the task's encoded arguments (the codec,
//     cereal) and comes back sorted in the result, with its index. Used for
//     element types whose bytes are not their value (std::string, ...) and,
//     with `automatic`, for inputs under kSharedMemoryMinElements elements,
//     where setting up a segment costs more than encoding a few KB.
// The choice is `chunk_transport`: automatic (the above), shared_memory
// (std::invalid_argument naming "transport" for an element type that is not
// byte-copyable: trivially copyable, or with a trivial copy constructor and
// destructor, like std::pair<int, int>), encoded.
//
// Requires:
//   - `workers >= 1`, `chunks >= 1` (std::invalid_argument naming the
//     argument);
//   - T default-constructible and move-assignable (the scratch buffers); for
//     the encoded transport, T serializable by the codec (a type cereal
//     cannot serialize does not compile);
//   - Compare stateless: an empty, default-constructible, trivially copyable
//     class (std::less<>, a captureless lambda's type, a struct with only an
//     operator()). A worker is another process: it cannot call the caller's
//     comparator object, so it builds its own, Compare{}; state in it (a
//     captured variable, a function pointer) would be lost on the way, so it
//     is refused at compile time (static_assert) instead;
//   - the program lets the pool start its workers: main() calls
//     posix_os::run_entry_point_if_requested(argc, argv) first thing (see
//     interleave/process_pool.hpp); the task functions are registered by
//     this header when a sort for (Os, T, Compare) is instantiated, so the
//     re-executed program has them too;
//   - sort_on_process_pool is not called from a worker of `pool`.
// Guarantees:
//   - the result equals std::stable_sort of the input under `comp` (sorted,
//     a permutation, equal elements in input order); the input is untouched;
//     any size: 0 and 1 return a copy without starting any process;
//   - a worker that dies (killed, crashed) while it holds a chunk makes the
//     sort throw BrokenProcessPool (the pool's error, naming the worker's pid
//     and exit status), never return a short or unsorted result: a chunk is
//     merged only after its worker's answer arrived and matched the chunk
//     asked for; a mismatching answer is std::logic_error;
//   - an exception thrown in a worker (by comp, by T, by a failed mapping) is
//     RemoteTaskError naming the task and the exception's message;
//   - before any exception leaves, the chunk tasks not started are
//     cancelled and the others waited for, so no worker still writes to the
//     segment when it is unmapped and closed; descriptors and children: the
//     segment's descriptor is closed when the call returns or throws;
//     sort_multiprocessing's own pool has shut down, its workers exited and
//     been reaped, and its pipes closed before it returns.
// Splitting: as the threaded sort: chunk = max(1, n / chunks), chunks start
//   at 0, chunk, 2*chunk, ...; each worker sorts its chunk as the threaded
//   sort's tasks do (detail::sort_chunk, bottom-up); the caller merges.
// Memory ordering: the caller's copy into the segment happens-before a
//   worker's mapping reads it (the task record is written to the worker's
//   pipe after the copy, and read by the worker before it maps); a worker's
//   writes to its slice happen-before the caller merges it (the worker
//   writes its answer to its result pipe after sorting; the caller reads it,
//   and the future completes, before finished()).
// Destruction: sort_on_process_pool leaves `pool` running (the caller owns
//   it); after an error the pool is broken or still usable as the pool says.
//
// Broken twin (process_sort_bug::merges_lost_chunk,
//   BrokenMergesLostChunkSort): when a chunk's future fails it carries on and
//   merges that chunk's slice as if it had been sorted (the common
//   `try: merged = merge(merged, f.result()) except: pass`). A worker killed
//   before it sorted its slice, or a chunk never dispatched because the pool
//   broke, leaves the slice as the input had it: the twin returns an unsorted
//   result without an error. The model catches it.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "interleave/as_completed.hpp"
#include "interleave/mergesort.hpp"
#include "interleave/os.hpp"
#include "interleave/posix_os.hpp"
#include "interleave/process_pool.hpp"
#include "interleave/promise.hpp"

namespace interleave::mergesort {

enum class chunk_transport { automatic, shared_memory, encoded };

// Which process sort: the fixed one, or the broken twin (see the header comment).
enum class process_sort_bug { none, merges_lost_chunk };

// Under this many elements `automatic` encodes the chunks (see the header comment).
inline constexpr std::size_t kSharedMemoryMinElements = 4096;

namespace detail {

// A comparator a worker can rebuild as Compare{} (see Requires).
template <class Compare>
inline constexpr bool stateless_comparator_v =
    std::is_empty_v<Compare> && std::is_default_constructible_v<Compare> &&
    std::is_trivially_copyable_v<Compare>;

// An element whose bytes are its value: trivially copyable, or with a trivial
// copy constructor and destructor (std::pair<int, int>, whose assignment is
// user-provided).
template <class T>
inline constexpr bool byte_copyable_v =
    std::is_default_constructible_v<T> &&
    (std::is_trivially_copyable_v<T> ||
     (std::is_trivially_copy_constructible_v<T> && std::is_trivially_destructible_v<T>));

// --- the shared segment ------------------------------------------------------

// POSIX: an anonymous memfd mapped MAP_SHARED. The caller's side.
template <class T>
class posix_segment {
 public:
  explicit posix_segment(std::size_t n) : bytes_(n * sizeof(T)) {
    fd_ = ::memfd_create("interleave-mergesort", MFD_CLOEXEC);
    if (fd_ < 0) interleave::detail::throw_os(errno, "mergesort: memfd_create");
    if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) {
      const int err = errno;
      ::close(fd_);
      interleave::detail::throw_os(err, "mergesort: ftruncate of the shared segment to " +
                                            std::to_string(bytes_) + " bytes");
    }
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd_);
      interleave::detail::throw_os(err, "mergesort: mmap of the shared segment");
    }
    base_ = static_cast<T*>(p);
  }
  posix_segment(const posix_segment&) = delete;
  posix_segment& operator=(const posix_segment&) = delete;
  ~posix_segment() {
    ::munmap(base_, bytes_);
    ::close(fd_);
  }
  T* data() const noexcept { return base_; }
  std::string handle() const {
    return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_);
  }

 private:
  std::size_t bytes_;
  int fd_ = -1;
  T* base_ = nullptr;
};

// POSIX: a worker's mapping of elements [begin, end) of the caller's
// `n`-element segment: only the pages that hold them, populated at once
// (MAP_POPULATE: one call instead of a page fault per page).
template <class T>
class posix_mapping {
 public:
  posix_mapping(const std::string& handle, std::size_t n, std::size_t first, std::size_t last) {
    const int fd = ::open(handle.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) interleave::detail::throw_os(errno, "mergesort worker: open " + handle);
    struct stat st{};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) != n * sizeof(T)) {
      ::close(fd);
      throw std::runtime_error("mergesort worker: the shared segment " + handle + " is not " +
                               std::to_string(n * sizeof(T)) + " bytes");
    }
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t from = first * sizeof(T) / page * page;
    bytes_ = last * sizeof(T) - from;
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                     static_cast<off_t>(from));
    const int err = errno;
    ::close(fd);  // the mapping keeps the memory
    if (p == MAP_FAILED) interleave::detail::throw_os(err, "mergesort worker: mmap " + handle);
    map_ = p;
    first_ = reinterpret_cast<T*>(static_cast<std::byte*>(p) + (first * sizeof(T) - from));
  }
  posix_mapping(const posix_mapping&) = delete;
  posix_mapping& operator=(const posix_mapping&) = delete;
  ~posix_mapping() { ::munmap(map_, bytes_); }
  T* begin() const noexcept { return first_; }  // element `first` of the segment

 private:
  std::size_t bytes_ = 0;
  void* map_ = nullptr;
  T* first_ = nullptr;
};

// Any other OS interface (the simulated OS: processes are threads of one
// address space): a heap block, its address as the handle.
template <class T>
class heap_segment {
 public:
  explicit heap_segment(std::size_t n) : mem_(n) {}
  T* data() noexcept { return mem_.data(); }
  std::string handle() const {
    return std::to_string(reinterpret_cast<std::uintptr_t>(mem_.data()));
  }

 private:
  std::vector<T> mem_;
};
template <class T>
class heap_mapping {
 public:
  heap_mapping(const std::string& handle, std::size_t, std::size_t first, std::size_t)
      : first_(reinterpret_cast<T*>(static_cast<std::uintptr_t>(std::stoull(handle))) + first) {}
  T* begin() const noexcept { return first_; }

 private:
  T* first_;
};

template <class Os, class T>
using segment = std::conditional_t<std::is_same_v<Os, posix_os>, posix_segment<T>, heap_segment<T>>;
template <class Os, class T>
using mapping = std::conditional_t<std::is_same_v<Os, posix_os>, posix_mapping<T>, heap_mapping<T>>;

// --- the tasks a worker runs (registered below) --------------------------------

// Shared memory: sorts elements [begin, end) of the `total`-element segment
// behind `handle` in place; answers the range it sorted.
template <class Os, class T, class Compare>
std::pair<std::uint64_t, std::uint64_t> sort_shared_chunk(std::string handle, std::uint64_t total,
                                                          std::uint64_t begin, std::uint64_t end) {
  if (begin > end || end > total)
    throw std::invalid_argument("mergesort worker: chunk [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") is not inside a segment of " +
                                std::to_string(total));
  if (begin == end) return {begin, end};
  mapping<Os, T> m(handle, static_cast<std::size_t>(total), static_cast<std::size_t>(begin),
                   static_cast<std::size_t>(end));
  const auto len = static_cast<std::size_t>(end - begin);
  std::vector<T> scratch(len);
  Compare comp{};
  sort_chunk(m.begin(), scratch.data(), len, comp);
  return {begin, end};
}

// Encoded: the chunk travels in the arguments and comes back sorted, with
// its index.
template <class T, class Compare>
std::pair<std::uint64_t, std::vector<T>> sort_encoded_chunk(std::uint64_t index,
                                                            std::vector<T> chunk) {
  std::vector<T> scratch(chunk.size());
  Compare comp{};
  sort_chunk(chunk.data(), scratch.data(), chunk.size(), comp);
  return {index, std::move(chunk)};
}

// A task's registered name: short (it travels in every task record) and the
// same in every copy of the program: a kind and a hash of the instantiation's
// type names. A clash of two hashes is not silent: the registry refuses a
// second function under one name at program start.
inline std::string task_name(const char* kind, std::initializer_list<const char*> types) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (const char* t : types) {
    for (const char* c = t; *c; ++c) h = (h ^ static_cast<unsigned char>(*c)) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  static const char hex[] = "0123456789abcdef";
  std::string out = std::string("mergesort.") + kind + "#";
  for (int i = 60; i >= 0; i -= 4) out += hex[(h >> i) & 0xf];
  return out;
}

// Registered at program start for every (Os, T, Compare) a sort names (a
// variable template's initialisation runs before main, like INTERLEAVE_TASK's).
template <class Os, class T, class Compare>
inline const interleave::detail::task_registrar<&sort_shared_chunk<Os, T, Compare>>
    shared_chunk_task{
        task_name("shared_chunk", {typeid(Os).name(), typeid(T).name(), typeid(Compare).name()})
            .c_str()};
template <class T, class Compare>
inline const interleave::detail::task_registrar<&sort_encoded_chunk<T, Compare>> encoded_chunk_task{
    task_name("encoded_chunk", {typeid(T).name(), typeid(Compare).name()}).c_str()};

}  // namespace detail

template <OsBackend Os = posix_os, process_sort_bug Bug = process_sort_bug::none>
struct BasicProcessMergeSort {
  using Sync = typename Os::sync;

  // Sorts a copy of `range` in `chunks` chunks on `pool` (the caller keeps the
  // pool), merging each chunk on the caller as its worker answers.
  template <process_pool_bug Flavor, std::ranges::input_range R, class Compare = std::less<>>
  static auto sort_on_process_pool(BasicProcessPool<Os, Flavor>& pool, R&& range, int chunks,
                                   Compare comp = {},
                                   chunk_transport transport = chunk_transport::automatic) {
    static_assert(detail::stateless_comparator_v<Compare>,
                  "mergesort::sort_multiprocessing: the comparator must be stateless (an empty, "
                  "default-constructible, trivially copyable class such as std::less<> or a "
                  "captureless lambda): a worker process rebuilds it as Compare{}");
    detail::check_at_least(chunks, 1, "mergesort::sort_on_process_pool", "chunks");
    auto v = detail::to_vector(std::forward<R>(range));
    using T = typename decltype(v)::value_type;
    if (transport == chunk_transport::shared_memory && !detail::byte_copyable_v<T>)
      throw std::invalid_argument(
          "mergesort::sort_on_process_pool: transport shared_memory needs an element type whose "
          "bytes are its value (trivially copyable, or a trivial copy constructor and destructor)");
    if (v.size() <= 1) return v;
    const std::size_t n = v.size();
    const std::size_t chunk = std::max<std::size_t>(1, n / static_cast<std::size_t>(chunks));
    if constexpr (detail::byte_copyable_v<T>) {
      if (transport == chunk_transport::shared_memory ||
          (transport == chunk_transport::automatic && n >= kSharedMemoryMinElements))
        return shared(pool, std::move(v), chunk, comp);
    }
    return encoded(pool, std::move(v), chunk, comp);
  }

  template <std::ranges::input_range R, class Compare = std::less<>>
  static auto sort_multiprocessing(R&& range, int workers = kDefaultParts, Compare comp = {},
                                   chunk_transport transport = chunk_transport::automatic) {
    detail::check_at_least(workers, 1, "mergesort::sort_multiprocessing", "workers");
    auto v = detail::to_vector(std::forward<R>(range));
    if (v.size() <= 1) return v;
    BasicProcessPool<Os> pool(workers);
    auto out = sort_on_process_pool(pool, std::move(v), workers, comp, transport);
    pool.shutdown(/*wait=*/true);
    return out;
  }

 private:
  // Waits for every chunk's answer and merges it; on an error, settles the
  // futures (none still running) and rethrows, except in the twin.
  template <class Fut, class Merger, class OnAnswer>
  static void collect(std::vector<Fut>& futures, Merger& merger, OnAnswer on_answer) {
    if constexpr (Bug == process_sort_bug::merges_lost_chunk) {
      for (std::size_t i = 0; i < futures.size(); ++i) {
        try {
          on_answer(futures[i].get(), i);
        } catch (const BrokenProcessPool&) {
          // BROKEN: the chunk's worker died; its slice is merged as it is.
        }
        merger.finished(i);  // interleave:bug mergesort.processes.broken_merges_lost_chunk
      }
    } else {
      try {
        for (const auto& f : as_completed(futures)) merger.finished(on_answer(f.get(), 0));
      } catch (...) {
        detail::settle(futures);  // no worker may still write to the segment
        throw;
      }
    }
  }

  template <class T, class Compare, class Pool>
  static std::vector<T> shared(Pool& pool, std::vector<T> v, std::size_t chunk, Compare& comp) {
    const std::size_t n = v.size();
    (void)&detail::shared_chunk_task<Os, T, Compare>;
    detail::segment<Os, T> seg(n);
    std::memcpy(static_cast<void*>(seg.data()), v.data(), n * sizeof(T));
    const std::string handle = seg.handle();
    // v's storage becomes the merge's scratch buffer: its chunks are not
    // touched until the merger has the segment's chunks.
    detail::adjacent_merger<T, Compare> merger(seg.data(), v.data(), n, chunk, comp);
    using Answer = std::pair<std::uint64_t, std::uint64_t>;
    std::vector<Future<Answer, Sync>> futures;
    futures.reserve(merger.chunks());
    try {
      for (std::size_t i = 0; i < merger.chunks(); ++i)
        futures.push_back(pool.submit(&detail::sort_shared_chunk<Os, T, Compare>, handle,
                                      std::uint64_t{n}, std::uint64_t{merger.at(i)},
                                      std::uint64_t{merger.at(i + 1)}));
    } catch (...) {
      detail::settle(futures);
      throw;
    }
    struct on_answer {
      const detail::adjacent_merger<T, Compare>& m;
      std::size_t operator()(const Answer& a, std::size_t) const {
        const std::size_t i = static_cast<std::size_t>(a.first) / std::max<std::size_t>(1, m.at(1));
        if (i >= m.chunks() || a.first != m.at(i) || a.second != m.at(i + 1))
          throw std::logic_error("mergesort::sort_multiprocessing: a worker answered for [" +
                                 std::to_string(a.first) + ", " + std::to_string(a.second) +
                                 "), which is no chunk that was sent");
        return i;
      }
    };
    collect(futures, merger, on_answer{merger});
    std::memcpy(static_cast<void*>(v.data()), seg.data(), n * sizeof(T));
    return v;
  }

  template <class T, class Compare, class Pool>
  static std::vector<T> encoded(Pool& pool, std::vector<T> v, std::size_t chunk, Compare& comp) {
    const std::size_t n = v.size();
    (void)&detail::encoded_chunk_task<T, Compare>;
    std::vector<T> scratch(n);
    detail::adjacent_merger<T, Compare> merger(v.data(), scratch.data(), n, chunk, comp);
    using Answer = std::pair<std::uint64_t, std::vector<T>>;
    std::vector<Future<Answer, Sync>> futures;
    futures.reserve(merger.chunks());
    try {
      for (std::size_t i = 0; i < merger.chunks(); ++i)
        futures.push_back(
            pool.submit(&detail::sort_encoded_chunk<T, Compare>, std::uint64_t{i},
                        std::vector<T>(v.begin() + merger.at(i), v.begin() + merger.at(i + 1))));
    } catch (...) {
      detail::settle(futures);
      throw;
    }
    struct on_answer {
      const detail::adjacent_merger<T, Compare>& m;
      T* data;
      std::size_t operator()(const Answer& a, std::size_t) const {
        const auto i = static_cast<std::size_t>(a.first);
        if (i >= m.chunks() || a.second.size() != m.at(i + 1) - m.at(i))
          throw std::logic_error("mergesort::sort_multiprocessing: a worker answered chunk " +
                                 std::to_string(a.first) + " with " +
                                 std::to_string(a.second.size()) + " elements");
        std::copy(a.second.begin(), a.second.end(), data + m.at(i));
        return i;
      }
    };
    collect(futures, merger, on_answer{merger, v.data()});
    return v;
  }
};

template <OsBackend Os = posix_os>
using ProcessMergeSort = BasicProcessMergeSort<Os, process_sort_bug::none>;
template <OsBackend Os = posix_os>
using BrokenMergesLostChunkSort = BasicProcessMergeSort<Os, process_sort_bug::merges_lost_chunk>;

// The seed's sort_multiprocessing: `workers` chunks on a pool of `workers`
// processes started for this call.
template <std::ranges::input_range R, class Compare = std::less<>>
auto sort_multiprocessing(R&& range, int workers = kDefaultParts, Compare comp = {},
                          chunk_transport transport = chunk_transport::automatic) {
  return ProcessMergeSort<>::sort_multiprocessing(std::forward<R>(range), workers, std::move(comp),
                                                  transport);
}

template <OsBackend Os, process_pool_bug Flavor, std::ranges::input_range R,
          class Compare = std::less<>>
auto sort_on_process_pool(BasicProcessPool<Os, Flavor>& pool, R&& range, int chunks,
                          Compare comp = {},
                          chunk_transport transport = chunk_transport::automatic) {
  return ProcessMergeSort<Os>::sort_on_process_pool(pool, std::forward<R>(range), chunks,
                                                    std::move(comp), transport);
}

}  // namespace interleave::mergesort
