// models/dpor/execution.hpp — one execution of a model: its fibers, its
// objects, its events, and the scheduler that runs them.
//
// Execution (loom's `rt::Execution`): the body runs as thread 0 on a fiber;
// threads it starts are more fibers; all of them run on the calling OS
// thread, one at a time. A thread runs until its next visible operation,
// announces it (`announce`) and switches to the scheduler, which picks the
// next thread from the Path (replay) or extends the Path (a new decision).
// The chosen thread's operation takes effect when it resumes and is
// committed as an Event (`commit`): its dependence clock is computed, and,
// under DPOR, every reversible race it closes is turned into a backtrack
// point (Source-DPOR, Abdulla et al. POPL'14, Algorithm 1, lines "for all
// e ∈ dom(E) such that e ⋖ next(p) ... add some q' ∈ I_[E'](v) to
// backtrack(E')"), the race detection done per event as the execution grows.
//
// Aborting (a failure, a sleep-set-blocked run, a deadlock) sets `aborting`
// and resumes every unfinished fiber, newest first: its pending operation
// throws Abort, which unwinds its stack (destructors run; operations called
// while unwinding do nothing), so the stacks are free for the next run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <source_location>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "event.hpp"
#include "fiber.hpp"
#include "path.hpp"
#include "vector_clock.hpp"

namespace interleave::dpor {

// Thrown into a fiber to unwind it; never escapes the checker.
struct Abort {};

// Symmetry: a key of a callable's type and its bytes (what it captured), so
// that two threads started with equal keys run the same code from the same
// start state. Never 0. Padding bytes may differ between equal closures:
// that only makes two interchangeable threads look distinct (less
// reduction), never the reverse.
template <class T>
std::uint64_t code_key(const T& f) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull ^ typeid(T).hash_code();
  const auto* p = reinterpret_cast<const unsigned char*>(std::addressof(f));
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;
}

enum class Verdict {
  holds,
  assertion,
  data_race,
  deadlock,
  lost_wakeup,
  livelock,
  uncaught_exception,
  nondeterminism,
};
const char* to_string(Verdict v) noexcept;

enum class Mode {
  dpor,   // source-set DPOR with sleep sets
  naive,  // every interleaving of visible operations (optionally preemption-bounded)
};

enum class WaitKind { plain, spurious, timed };

// The report of a failing execution, for a person (the reporting side: the
// search never reads it). Threads are named as a model states them: "main"
// is thread 0 (the body: the model's construction, before() and after()),
// "T<k>" is thread k + 1 (model thread k, then the threads impl code starts).
struct ReportStep {
  unsigned tid = 0;
  std::string op;      // "lock mutex#0", "read var#3", "wake cv#1 (timeout/spurious)"
  std::string object;  // "mutex#0", "" for none
  char access = 0;     // 'r' a read or load, 'w' a write, store or RMW, 0 neither
  std::source_location loc{};
};
struct ReportAccess {
  unsigned tid = 0;
  std::string op;  // "write var#0"
  std::source_location loc{};
  int step = -1;  // index into Report::steps
};
struct ReportBlocked {
  unsigned tid = 0;
  std::string op;  // "wait cv#1 (mutex#0)", "lock mutex#1 (owned by T1)", "join T0"
  std::source_location loc{};
  std::vector<std::string> held;  // "mutex#0 (locked at impl/...:12)"
  std::string note;               // "cv#1 was notified at ... while no thread waited"
};
struct Report {
  std::vector<ReportStep> steps;       // every committed event and var<T> access, in order
  std::vector<ReportAccess> race;      // a data race: the earlier access, then the later one
  std::vector<ReportBlocked> blocked;  // a deadlock: every thread that cannot go on
  std::source_location check{};        // a failed INTERLEAVE_MODEL_CHECK
  int check_step = -1;                 // steps before the check failed
  unsigned check_tid = 0;              // the thread that ran it
};
// "main" for thread 0, "T<k-1>" for thread k.
std::string thread_name(unsigned tid);
enum class ObjKind : std::uint8_t { mutex, cv, atomic, var };

struct ObjState {
  ObjKind kind = ObjKind::mutex;
  std::source_location created{};
  std::vector<std::uint32_t> events;  // committed events touching it
  // mutex
  int owner = -1;
  std::source_location locked_at{};
  // mutex (last unlock) and atomic (release sequence): the causality to acquire
  VectorClock rel;
  // cv: a notify that found no waiter
  bool lost_notify = false;
  std::uint32_t notifies = 0;  // notify calls so far
  std::uint32_t stores = 0;    // atomic: stores and RMWs so far
  // atomic, stale reads (RunOptions::stale_reads): every store in
  // modification order (the initial value first) with its thread and that
  // thread's causality clock then, and per thread the oldest store it may
  // still read (coherence: the last one it read or wrote)
  struct StoreRec {
    std::uint32_t tid;
    std::uint32_t clock;
  };
  std::vector<StoreRec> history;
  std::uint32_t coherent[kMaxThreads] = {};
  std::source_location lost_notify_at{};
  // var, FastTrack: last write epoch and read epochs
  int w_tid = -1;
  std::uint32_t w_clock = 0;
  std::source_location w_loc{};
  std::uint32_t r_clock[kMaxThreads] = {};
  std::source_location r_loc[kMaxThreads] = {};
  // reporting: the trace step of the last write and of each thread's last read
  int w_step = -1;
  int r_step[kMaxThreads] = {};
};

// The C++ runtime's per-OS-thread exception state (Itanium C++ ABI
// __cxa_eh_globals), kept per fiber: a fiber may switch inside a catch block
// or while unwinding, and another fiber must not see its exceptions.
struct EhGlobals {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

struct ThreadRec {
  boost::context::fiber fiber;  // resumed by the scheduler
  EhGlobals eh;                 // its exception state while switched out
  bool abandoned = false;       // stuck while unwinding: never resumed again
  unsigned unwind_ops = 0;      // operations attempted while unwinding
  boost::context::fiber sched;  // resumed by the fiber to yield
  std::function<void()> fn;
  // Symmetry: the code and start state (the callable's type and captured
  // bytes) it was started with; 0: never interchangeable
  std::uint64_t code_key = 0;
  Pending pending;
  bool finished = false;
  bool last_was_yield = false;
  std::uint32_t seq = 0;
  int last_event = -1;
  VectorClock po;         // dependence clock of its last event (or of its start)
  VectorClock causality;  // memory-model clock
  // condition variable wait
  int waiting_cv = -1;
  bool notified = false;
  bool may_timeout = false;
  // spin reduction: the atomic this thread last loaded, its store count
  // then, and whether the thread has yielded since
  int spin_obj = -1;
  std::uint32_t spin_stores = 0;
  std::source_location spin_loc{};
  bool yielded_since_load = false;
  int spurious_cv = -1;           // the cv of this thread's last spurious wake-up
  std::uint32_t spurious_at = 0;  // that cv's notify count then
  VectorClock notify_causality;
  std::vector<std::uint32_t> held;  // mutexes held, in locking order
  // await mode: the predicate of the wait this thread blocks in
  bool (*await_pred)(void*) = nullptr;
  void* await_ctx = nullptr;
  std::uint64_t await_key = 0;  // the predicate's type and captured bytes (symmetry)
  // await mode: the critical section this thread is in (the mutex, the path
  // node that scheduled its acquisition), and whether it has only read since
  std::uint32_t cs_mutex = kNone;
  int cs_node = -1;
  bool cs_clean = false;
};

struct RunOptions {
  Mode mode = Mode::dpor;
  int preemption_bound = -1;  // naive mode only; -1: none
  unsigned step_cap = 20000;
  bool spurious_wakeups = true;  // a bare wait(lk) may wake once without a notify
  // A relaxed load may return an older store than the latest: any store not
  // older than one that happens-before the load, nor than the last one its
  // thread read or wrote (coherence). A data choice, the latest first.
  bool stale_reads = false;
  bool spin_reduction = false;  // a yielded re-load at the same line waits for a store
  bool prefer_highest = false;  // new nodes try the highest-numbered thread first
  // wait(lk, pred) blocks until pred holds (no notify, no spurious wake-up
  // explored for it); bare waits keep exact semantics
  bool await_mode = false;
  // Sharding: the subtrees below the first shard_depth branching nodes
  // (leaves, numbered in depth-first order by *leaf_counter) are dealt
  // round-robin; this run explores leaf L only if L % shard_count ==
  // shard_index. 0: no sharding.
  unsigned shard_count = 0;
  unsigned shard_index = 0;
  unsigned shard_depth = 8;
  std::uint64_t* leaf_counter = nullptr;
  const std::string* replay = nullptr;
  // Symmetry reduction (DPOR only; a model declares its threads
  // interchangeable): among enabled threads started with the same code and
  // captured values, blocked in the same await-mode wait for the same
  // predicate, only the lowest-numbered is explored.
  bool symmetry = false;
};

class Execution {
 public:
  explicit Execution(StackPool& pool, Path& path) : pool_(pool), path_(path) {}

  // The execution running on this OS thread (inside a model), or nullptr.
  static Execution* current() noexcept;
  static Execution& require(const char* what);

  // Runs the body once as thread 0, following and extending the path.
  void run(const std::function<void()>& body, const RunOptions& opt);

  // --- results of the last run
  [[nodiscard]] Verdict verdict() const noexcept { return verdict_; }
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
  [[nodiscard]] bool blocked() const noexcept { return blocked_; }
  // Sharding: the run's leaf belongs to another shard (it was not explored
  // past its top nodes and counts nowhere).
  [[nodiscard]] bool skipped() const noexcept { return skipped_; }
  // Sharding: the run passed shard_depth branching nodes (its leaf was
  // assigned there); otherwise the whole run is one leaf.
  [[nodiscard]] bool reached_leaf() const noexcept { return top_seen_ >= opt_.shard_depth; }
  [[nodiscard]] std::uint32_t preemptions() const noexcept { return preemptions_; }
  [[nodiscard]] std::uint64_t hash() const noexcept { return hash_; }
  [[nodiscard]] std::uint64_t races_without_initial() const noexcept { return no_initial_; }
  [[nodiscard]] const std::vector<Event>& events() const noexcept { return events_; }
  std::string listing() const;
  std::string token() const;
  // The failing execution for a person: its steps (events and var<T>
  // accesses) and the structure of its failure (reporting only).
  Report report() const;
  // A failed check at `where`: kept in the report when it is the
  // execution's failure (dpor_sync::model_check).
  void note_check(std::source_location where);
  // The Mazurkiewicz trace of the last run, as text: every event (thread,
  // index, operation, access) with its dependence clock, sorted. Two runs
  // have the same signature exactly when they are equivalent.
  std::string trace_signature() const;

  // --- called by the objects, from inside a fiber
  [[nodiscard]] unsigned tid() const noexcept { return running_; }
  [[nodiscard]] bool aborting() const noexcept { return aborting_; }
  std::uint32_t new_object(ObjKind k, std::source_location where);
  // Announce the next operation and wait to be scheduled. False: the
  // execution is being unwound and the operation must do nothing.
  bool announce(Op op, std::uint32_t obj, std::uint32_t obj2, std::source_location where);
  std::uint32_t commit(Access a0, std::uint32_t o0, Access a1 = Access::none,
                       std::uint32_t o1 = kNone, const std::uint32_t* loads = nullptr);
  unsigned choose(unsigned n);
  [[noreturn]] void fail(Verdict v, std::string detail);
  // A failure that does not cut the execution (a failed check, a race): the
  // run continues, so its later events still take part in race detection.
  void record_failure(Verdict v, std::string detail);
  [[nodiscard]] std::uint64_t abandoned() const noexcept { return abandoned_; }

  // code_key: the callable's type and captured bytes (symmetry; 0: none)
  unsigned spawn(std::function<void()> fn, std::uint64_t code_key = 0);
  void join(unsigned target, std::source_location where);
  void yield(std::source_location where);

  void mutex_lock(std::uint32_t m, std::source_location where);
  bool mutex_try_lock(std::uint32_t m, std::source_location where);
  void mutex_unlock(std::uint32_t m, std::source_location where);

  std::cv_status cv_wait(std::uint32_t cv, std::uint32_t m, WaitKind kind,
                         std::source_location where);
  void cv_notify(std::uint32_t cv, bool all, std::source_location where);
  // Await mode: release m and block until the mutex is free and pred(ctx)
  // holds, then relock m (one event that also reads the atomics pred read).
  void cv_await(std::uint32_t cv, std::uint32_t m, bool (*pred)(void*), void* ctx,
                std::source_location where, std::uint64_t pred_key = 0);
  [[nodiscard]] bool await_mode() const noexcept { return opt_.await_mode; }
  // While the scheduler evaluates an await predicate: loads return their
  // value without a scheduling point (peek_load records the atomic), and
  // any other operation is refused.
  [[nodiscard]] bool peeking() const noexcept { return peeking_; }
  // Await mode: the running thread found its predicate false at the first
  // check of wait(lk, pred) on mutex m. If its critical section so far only
  // read, every run through its acquisition fails this check: the other
  // threads that could run there are added to that node's backtrack set,
  // the subtree below it is dropped, and the run is cut (not counted).
  void await_failed_check(std::uint32_t m);
  [[nodiscard]] bool await_cut() const noexcept { return await_cut_; }
  void peek_load(std::uint32_t atomic);

  // After announce: the causality effect of an atomic access, then commit.
  // read_index: a stale load's store (stale_index), -1: the latest.
  void atomic_access(std::uint32_t a, bool store, bool rmw, bool acquire, bool release,
                     int read_index = -1);
  // Stale reads: the store (index in modification order) a relaxed load
  // reads, chosen among those coherence allows. Called after announce.
  std::uint32_t stale_index(std::uint32_t a);
  [[nodiscard]] bool stale_reads() const noexcept { return opt_.stale_reads; }

  void var_read(std::uint32_t v, std::source_location where);
  void var_write(std::uint32_t v, std::source_location where);

  [[nodiscard]] bool spurious_wakeups() const noexcept { return opt_.spurious_wakeups; }

 private:
  void reset();
  bool enabled(unsigned t);
  bool await_ready(unsigned t);
  bool spinning(unsigned t) const;
  unsigned preferred(std::uint64_t cand) const;
  int schedule(std::uint64_t enabled);
  void shard_leaf(Node& n);
  void symmetric_threads(Node& n) const;
  [[nodiscard]] bool same_local_state(unsigned a, unsigned b) const;
  void resume(unsigned t);
  void unwind_all();
  void add_race(std::uint32_t j, std::uint32_t i);
  void deadlock();
  void set_failure(Verdict v, std::string detail);
  void tick() {
    ThreadRec& th = threads_[running_];
    ++th.causality.c[running_];
  }
  std::string describe_pending(unsigned t) const;
  std::string pending_op(unsigned t) const;
  std::string obj_name(std::uint32_t id) const;
  void race(const ObjState& v, std::uint32_t id, const char* first, int ftid,
            std::source_location floc, int fstep, const char* second, std::source_location sloc);

  StackPool& pool_;
  Path& path_;
  RunOptions opt_;
  std::vector<ThreadRec> threads_;
  unsigned nthreads_ = 0;
  std::vector<ObjState> objs_;
  std::vector<Event> events_;
  // Reporting: every committed event (its index in events_) and every
  // var<T> access (event = kNone), in order; the failure's structure.
  struct TraceStep {
    std::uint32_t event;
    std::uint32_t tid;
    std::uint32_t obj;
    bool write;
    std::source_location loc;
  };
  std::vector<TraceStep> trace_;
  std::vector<ReportAccess> race_;
  std::vector<ReportBlocked> blocked_report_;
  std::source_location check_{};
  int check_step_ = -1;
  unsigned check_tid_ = 0;
  unsigned running_ = 0;
  bool aborting_ = false;
  bool blocked_ = false;
  bool draining_ = false;   // sleep-set blocked: run to the end, record nothing
  bool peeking_ = false;    // evaluating an await predicate from the scheduler
  bool skipped_ = false;    // sharding: this run's leaf is another shard's
  bool await_cut_ = false;  // await mode: cut at a read-only failed predicate check
  unsigned top_seen_ = 0;   // sharding: top nodes passed in this run
  std::uint64_t abandoned_ = 0;
  Verdict verdict_ = Verdict::holds;
  std::string detail_;
  std::size_t pos_ = 0;           // next path node
  std::uint32_t event_node_ = 0;  // path node of the event being committed
  std::uint64_t sleep_ = 0;       // Sleep for the next new node
  std::uint32_t preemptions_ = 0;
  int prev_ = -1;  // thread of the last event
  std::uint64_t hash_ = 0;
  std::vector<std::uint32_t> cands_;  // scratch of commit(): race candidates
  std::vector<std::uint32_t> vlist_;  // scratch of add_race(): the events of v
  std::uint64_t no_initial_ = 0;
  // replay token: the decisions taken (value, hash at that point)
  struct Decision {
    char kind;  // 't' thread, 'c' choice
    unsigned value;
    std::uint16_t check;
  };
  std::vector<Decision> decisions_;
  std::vector<Decision> replay_;
  std::size_t replay_pos_ = 0;
  bool replay_diverged_ = false;
};

}  // namespace interleave::dpor
