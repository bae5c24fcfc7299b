// interleave/future.hpp — futures, promises, and waiting on many futures.
//
// One include for both halves, each in its own header:
//   interleave/promise.hpp       Future<T>, Promise<T>: one result, its
//                                producer and its waiters
//   interleave/as_completed.hpp  as_completed() and wait(): many futures
#pragma once

#include "interleave/as_completed.hpp"
#include "interleave/promise.hpp"
