// models/dpor/mutex.hpp — the model mutex: lock, try_lock and unlock are
// scheduling points; a lock of a held mutex disables the thread (it is not
// spun on); unlock -> the next lock is a happens-before edge for var<T>.
#pragma once

#include <source_location>

#include "execution.hpp"
#include "interleave/sync.hpp"
#include "interleave/thread_annotations.hpp"

namespace interleave::dpor {

class INTERLEAVE_CAPABILITY("mutex") mutex {
 public:
  static constexpr bool interleave_backend_mutex = true;
  using loc = std::source_location;
  explicit mutex(loc where = loc::current())
      : id_(Execution::require("mutex").new_object(ObjKind::mutex, where)) {}
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock(loc where = loc::current()) INTERLEAVE_ACQUIRE() {
    Execution::require("mutex").mutex_lock(id_, where);
  }
  bool try_lock(loc where = loc::current()) INTERLEAVE_TRY_ACQUIRE(true) {
    return Execution::require("mutex").mutex_try_lock(id_, where);
  }
  void unlock(loc where = loc::current()) INTERLEAVE_RELEASE() {
    Execution::require("mutex").mutex_unlock(id_, where);
  }
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }

 private:
  std::uint32_t id_;
};

}  // namespace interleave::dpor
