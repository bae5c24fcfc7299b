// models/model.hpp — the shape of a model, written once for every checker.
//
// A model is a class template over the sync backend, whose template
// parameter is named `Sync`. It instantiates impl templates with `Sync`
// (`Queue<int, Sync>`), and a checker explores the interleavings of its
// threads. The same model file is compiled into one executable per checker
// (`model_<scenario>` for Relacy, `model_<scenario>_dpor` for the project's
// own DPOR checker); this header pulls in the adapter of the
// checker the executable is built for (INTERLEAVE_CHECKER_RELACY, ...).
//
// Requires of a model M<Sync>:
//   static constexpr unsigned threads = N;   // model threads, bodies thread(0..N-1)
//   void thread(unsigned i);                 // body of model thread i
// Optional members (a checker uses each when present):
//   static constexpr unsigned dynamic_threads = K;  // threads impl code starts
//                        // itself through Sync::thread / Sync::jthread (a
//                        // pool's workers): the most alive at once. Default 0.
//   void before();       // runs before the threads, each execution
//   void after();        // the final check, after every thread has finished
//   static constexpr bool heap_under_test = false;  // the execution's heap
//                        // blocks are bookkeeping, not state under test: a
//                        // checker need not explore their reuse nor check
//                        // leaks (Relacy: untracked allocation). Default true.
//   static constexpr Memory memory = Memory::seq_cst;  // every atomic access
//                        // sequentially consistent. Default Memory::as_written.
//   static void before_search();  // once before each search (reset statics)
//   static bool after_search();   // a claim about the whole search, checked
//                        // after a search that found nothing: false fails the
//                        // model as an assertion
//   static std::string note();    // a figure the last search measured, for
//                        // the verdict
// Guarantees: the model object is constructed afresh for every execution, so
// its members are the state of one execution; before(), the threads and
// after() run in that order within one execution. The model file includes
// only this header and impl headers: never a checker's header, never rl::.
//
// Checks: INTERLEAVE_MODEL_CHECK(cond) (or INTERLEAVE_MODEL_CHECK_MSG(cond,
// "text")) anywhere in a model's members: a false condition
// fails the execution as an assertion, named by its text and source line.
// It calls `Sync::model_check(bool, const char*, std::source_location)`,
// which every model backend provides.
//
// Registration, one line per model in the model file, checker-neutral:
//   INTERLEAVE_MODEL(Locked2x3, "counter.locked.2x3.full", "counter.locked",
//                    "2 threads x 3 increments under the mutex end at exactly 6",
//                    Expect::holds, Search::full());
// The model argument is a template of one parameter (the backend): a
// configuration of a larger template is an alias template,
//   template <class Sync> using Locked2x3 = Count<Sync, LockedCounter, 2, 3>;
// `Expect` says what the model must end in (holds, or the bug a broken twin
// must show: data_race, deadlock, assertion, livelock); `Search` how it is
// searched (full, bounded(k), deepen(k) for expected failures: bounds 0..k,
// smallest first, random(n)). Names are unique; the row is the verification
// matrix row the verdict fills. An optional last argument, `DporSearch`
// (registry.hpp), states how the project's own DPOR checker searches the
// model where it differs from its default (exhaustive for a model that must
// hold, preemption bounds 0..k for an expected failure): a search of its
// own, spurious wake-ups off, spin reduction, a budget. Other checkers
// ignore it.
//
// Writing a new model: add models/<scenario>_model.cpp that includes
// "model.hpp" and the impl headers, write each model as above, register it,
// and declare `interleave_model(<scenario>)` in models/CMakeLists.txt. Every
// fixed primitive keeps a broken twin registered with the bug it must show.
// `model_<scenario> --list` lists the models; `--help` the flags.
//
// What a model cannot see is said next to it: each checker has its limits
// (Relacy: real time — a timed wait may time out at any scheduling point —,
// processes, plain memory that is not Sync::var).
#pragma once

#if defined(INTERLEAVE_CHECKER_RELACY)
#include "relacy/adapter.hpp"
#elif defined(INTERLEAVE_CHECKER_DPOR)
#include "dpor/adapter.hpp"
#else
#error \
    "models/model.hpp: build a model for one checker (define INTERLEAVE_CHECKER_RELACY or INTERLEAVE_CHECKER_DPOR)"
#endif

#include <source_location>

#include "registry.hpp"

#define INTERLEAVE_MODEL_CHECK(cond) \
  Sync::model_check(static_cast<bool>(cond), #cond, ::std::source_location::current())
#define INTERLEAVE_MODEL_CHECK_MSG(cond, text) \
  Sync::model_check(static_cast<bool>(cond), text, ::std::source_location::current())

#define INTERLEAVE_MODEL_CAT2(a, b) a##b
#define INTERLEAVE_MODEL_CAT(a, b) INTERLEAVE_MODEL_CAT2(a, b)
// INTERLEAVE_MODEL(ModelTemplate, name, row, claim, expect, search)
#define INTERLEAVE_MODEL(M, ...)                                                                   \
  static const ::interleave::models::Registrar INTERLEAVE_MODEL_CAT(interleave_model_, __LINE__) { \
    ::interleave::models::named(::interleave::models::checker::entry<M>(__VA_ARGS__), #M)          \
  }
// INTERLEAVE_MODEL_REPLAY(ModelTemplate, name, row, claim, expect, token): a
// regression test of one interleaving. Instead of searching, the model
// re-runs exactly the execution `token` names (a replay token, as printed by
// `--reproduce`) and passes when that execution ends in `expect`. A token is
// one checker's schedule: the registration exists only in that checker's
// executable. A token is tied to the sequence of sync operations the impl
// performs: when the impl changes that sequence, the replay reports that it
// diverged, and `--reproduce` prints the registration afresh.
#define INTERLEAVE_MODEL_REPLAY(M, name, row, claim, expect, token)                                \
  static const ::interleave::models::Registrar INTERLEAVE_MODEL_CAT(interleave_model_, __LINE__) { \
    ::interleave::models::replay_entry(                                                            \
        ::interleave::models::named(                                                               \
            ::interleave::models::checker::entry<M>(name, row, claim, expect,                      \
                                                    ::interleave::models::Search::deepen(0)),      \
            #M),                                                                                   \
        token)                                                                                     \
  }
