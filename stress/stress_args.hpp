// stress/stress_args.hpp — command-line arguments of the stress binaries.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace interleave::stress {

// An integer argument in [lo, hi]; anything else throws, naming the argument.
inline long parse(const char* s, const char* what, long lo, long hi) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!end || end == s || *end || v < lo || v > hi)
    throw std::invalid_argument(std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], not '" + s + "'");
  return v;
}

}  // namespace interleave::stress
