// models/dpor/var.hpp — plain shared data under the race detector. Accesses
// are not scheduling points (happens-before depends only on the order of
// sync operations, which the search enumerates); each is checked against the
// causality clocks (FastTrack: last write epoch, read epochs), and two
// accesses with no happens-before, one a write, end the execution with a
// data race naming both lines and threads.
#pragma once

#include <source_location>
#include <utility>

#include "execution.hpp"

namespace interleave::dpor {

template <class T>
class var {
 public:
  using loc = std::source_location;
  var() : var(T{}) {}
  explicit var(T v, loc where = loc::current())
      : id_(Execution::require("var").new_object(ObjKind::var, where)), v_(std::move(v)) {
    Execution::require("var").var_write(id_, where);  // initialisation is a write
  }
  T load(loc where = loc::current()) const {
    Execution::require("var").var_read(id_, where);
    return v_;
  }
  void store(T v, loc where = loc::current()) {
    Execution::require("var").var_write(id_, where);
    v_ = std::move(v);
  }

 private:
  std::uint32_t id_;
  T v_;
};

}  // namespace interleave::dpor
