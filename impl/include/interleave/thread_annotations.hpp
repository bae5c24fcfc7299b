// interleave/thread_annotations.hpp — clang thread-safety annotations.
//
// Small project macros in the manner of Abseil's base/thread_annotations.h.
// Under clang they expand to the thread-safety attributes, so the clang
// builds (presets `tsan`, `asan`) run `-Wthread-safety` over every impl
// header; under other compilers they expand to nothing.
#pragma once

#if defined(__clang__)
#define INTERLEAVE_TSA(x) __attribute__((x))
#else
#define INTERLEAVE_TSA(x)
#endif

#define INTERLEAVE_CAPABILITY(x) INTERLEAVE_TSA(capability(x))
#define INTERLEAVE_SCOPED_CAPABILITY INTERLEAVE_TSA(scoped_lockable)
#define INTERLEAVE_GUARDED_BY(x) INTERLEAVE_TSA(guarded_by(x))
#define INTERLEAVE_PT_GUARDED_BY(x) INTERLEAVE_TSA(pt_guarded_by(x))
#define INTERLEAVE_REQUIRES(...) INTERLEAVE_TSA(requires_capability(__VA_ARGS__))
#define INTERLEAVE_ACQUIRE(...) INTERLEAVE_TSA(acquire_capability(__VA_ARGS__))
#define INTERLEAVE_RELEASE(...) INTERLEAVE_TSA(release_capability(__VA_ARGS__))
#define INTERLEAVE_TRY_ACQUIRE(...) INTERLEAVE_TSA(try_acquire_capability(__VA_ARGS__))
#define INTERLEAVE_EXCLUDES(...) INTERLEAVE_TSA(locks_excluded(__VA_ARGS__))
#define INTERLEAVE_RETURN_CAPABILITY(x) INTERLEAVE_TSA(lock_returned(x))
#define INTERLEAVE_NO_THREAD_SAFETY_ANALYSIS INTERLEAVE_TSA(no_thread_safety_analysis)
