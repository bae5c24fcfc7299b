// models/dpor/execution.cpp — the scheduler, the commit of events with their
// dependence clocks and race detection (Source-DPOR), the memory-model
// causality of each primitive, and the FastTrack check of var<T>.
#include "execution.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace interleave::dpor {

namespace {
thread_local Execution* g_current = nullptr;

// Thrown out of an await predicate the scheduler is evaluating (it may
// only read): caught by await_ready, which fails the execution with it.
struct PeekMisuse {
  std::string what;
};

std::string where(const std::source_location& l) {
  if (l.file_name() == nullptr || l.file_name()[0] == '\0') return "?";
  return std::string(l.file_name()) + ":" + std::to_string(l.line());
}

std::uint64_t fnv(std::uint64_t h, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ull;
  }
  return h;
}
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ull;
}  // namespace

const char* op_name(Op op) noexcept {
  switch (op) {
    case Op::start: return "start";
    case Op::yield: return "yield";
    case Op::join: return "join";
    case Op::lock: return "lock";
    case Op::try_lock: return "try_lock";
    case Op::unlock: return "unlock";
    case Op::cv_wait: return "wait";
    case Op::cv_resume: return "wake";
    case Op::await: return "await";
    case Op::notify_one: return "notify_one";
    case Op::notify_all: return "notify_all";
    case Op::load: return "load";
    case Op::store: return "store";
  }
  return "?";
}

const char* to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::holds: return "holds";
    case Verdict::assertion: return "assertion";
    case Verdict::data_race: return "data_race";
    case Verdict::deadlock: return "deadlock";
    case Verdict::lost_wakeup: return "lost_wakeup";
    case Verdict::livelock: return "livelock";
    case Verdict::uncaught_exception: return "uncaught_exception";
    case Verdict::nondeterminism: return "nondeterminism";
  }
  return "?";
}

std::string thread_name(unsigned tid) {
  return tid == 0 ? std::string("main") : "T" + std::to_string(tid - 1);
}

Execution* Execution::current() noexcept { return g_current; }

namespace {
EhGlobals* eh_globals() { return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals()); }
}  // namespace

void Execution::record_failure(Verdict v, std::string detail) {
  if (verdict_ != Verdict::holds || draining_) return;
  verdict_ = v;
  detail_ = std::move(detail);
}

Execution& Execution::require(const char* what) {
  if (g_current == nullptr)
    throw std::logic_error(std::string("dpor: ") + what + " used outside a model execution");
  return *g_current;
}

std::string Execution::obj_name(std::uint32_t id) const {
  if (id == kNone || id >= objs_.size()) return "";
  static const char* names[] = {"mutex", "cv", "atomic", "var"};
  return std::string(names[static_cast<int>(objs_[id].kind)]) + "#" + std::to_string(id);
}

void Execution::reset() {
  for (unsigned t = 0; t < nthreads_; ++t) {
    ThreadRec& th = threads_[t];
    th.fn = nullptr;
    th.eh = {};
    th.abandoned = false;
    th.unwind_ops = 0;
    th.pending = {};
    th.finished = false;
    th.last_was_yield = false;
    th.seq = 0;
    th.last_event = -1;
    th.po.clear();
    th.causality.clear();
    th.waiting_cv = -1;
    th.notified = false;
    th.may_timeout = false;
    th.spurious_cv = -1;
    th.spurious_at = 0;
    th.spin_obj = -1;
    th.spin_stores = 0;
    th.yielded_since_load = false;
    th.notify_causality.clear();
    th.held.clear();
    th.await_pred = nullptr;
    th.await_ctx = nullptr;
    th.await_key = 0;
    th.code_key = 0;
    th.cs_mutex = kNone;
    th.cs_node = -1;
    th.cs_clean = false;
  }
  nthreads_ = 0;
  objs_.clear();
  events_.clear();
  trace_.clear();
  race_.clear();
  blocked_report_.clear();
  check_ = {};
  check_step_ = -1;
  aborting_ = false;
  blocked_ = false;
  draining_ = false;
  peeking_ = false;
  skipped_ = false;
  await_cut_ = false;
  top_seen_ = 0;
  verdict_ = Verdict::holds;
  detail_.clear();
  pos_ = 0;
  sleep_ = 0;
  preemptions_ = 0;
  prev_ = -1;
  hash_ = kFnvBasis;
  no_initial_ = 0;
  decisions_.clear();
  replay_.clear();
  replay_pos_ = 0;
  replay_diverged_ = false;
}

std::uint32_t Execution::new_object(ObjKind k, std::source_location where) {
  ObjState s;
  s.kind = k;
  s.created = where;
  if (k == ObjKind::atomic && opt_.stale_reads && nthreads_ > 0) {
    // the initial value: a store by the creating thread, now
    s.history.push_back({running_, threads_[running_].causality.c[running_]});
    s.coherent[running_] = 0;
  }
  objs_.push_back(std::move(s));
  return static_cast<std::uint32_t>(objs_.size() - 1);
}

unsigned Execution::spawn(std::function<void()> fn, std::uint64_t code_key) {
  if (nthreads_ >= kMaxThreads)
    throw std::length_error("dpor: more than " + std::to_string(kMaxThreads) +
                            " model threads in one execution");
  if (threads_.size() < kMaxThreads) threads_.resize(kMaxThreads);
  const unsigned t = nthreads_++;
  ThreadRec& th = threads_[t];
  th.fn = std::move(fn);
  th.code_key = code_key;
  th.pending = Pending{Op::start, kNone, kNone, {}};
  if (t > 0) {  // everything the parent did happens-before the child
    const ThreadRec& parent = threads_[running_];
    th.po = parent.po;
    th.causality = parent.causality;
    ++threads_[running_].causality.c[running_];
  }
  th.causality.c[t] = std::max<std::uint32_t>(th.causality.c[t], 1);
  th.fiber = boost::context::fiber(
      std::allocator_arg, SlotStack{&pool_, t}, [this, t](boost::context::fiber&& sched) {
        ThreadRec& me = threads_[t];
        me.sched = std::move(sched);
        if (!aborting_) {
          try {
            // First resumed when scheduled: the start step.
            commit(Access::none, kNone);
            me.fn();
          } catch (const Abort&) {
          } catch (const std::exception& e) {
            record_failure(
                Verdict::uncaught_exception,
                "T" + std::to_string(t) + " ended with an uncaught exception: " + e.what());
          } catch (...) {
            record_failure(Verdict::uncaught_exception,
                           "T" + std::to_string(t) + " ended with an uncaught exception");
          }
        }
        me.finished = true;
        return std::move(me.sched);
      });
  return t;
}

void Execution::set_failure(Verdict v, std::string detail) {
  if (verdict_ == Verdict::holds) {
    verdict_ = v;
    detail_ = std::move(detail);
  }
  aborting_ = true;
}

void Execution::fail(Verdict v, std::string detail) {
  set_failure(v, std::move(detail));
  throw Abort{};
}

bool Execution::announce(Op op, std::uint32_t obj, std::uint32_t obj2, std::source_location where) {
  if (peeking_)
    throw PeekMisuse{std::string("dpor await mode: a wait predicate performs ") + op_name(op) +
                     " at " + ::interleave::dpor::where(where) +
                     "; a predicate may only read state"};
  ThreadRec& th = threads_[running_];
  if (aborting_) {
    if (std::uncaught_exceptions() == 0) throw Abort{};
    // Unwinding: operations do nothing. A destructor that loops on them
    // (a join waiting for a thread that was unwound) would spin forever:
    // give the fiber up instead, its stack slot retired with it.
    if (++th.unwind_ops > 10000) {
      th.abandoned = true;
      const unsigned me = running_;
      threads_[me].sched = std::move(threads_[me].sched).resume();
      std::terminate();  // never resumed
    }
    return false;
  }
  th.pending = Pending{op, obj, obj2, where};
  const unsigned me = running_;
  threads_[me].sched = std::move(threads_[me].sched).resume();
  if (aborting_) {
    if (std::uncaught_exceptions() > 0) return false;
    throw Abort{};
  }
  return true;
}

bool Execution::enabled(unsigned t) {
  const ThreadRec& th = threads_[t];
  if (th.finished) return false;
  switch (th.pending.op) {
    case Op::lock: return objs_[th.pending.obj].owner < 0 && (!opt_.spin_reduction || !spinning(t));
    case Op::join: return threads_[th.pending.obj].finished;
    case Op::cv_resume: return (th.notified || th.may_timeout) && objs_[th.pending.obj2].owner < 0;
    // The predicate is read only while its mutex is free: the state it
    // guards is then between critical sections.
    case Op::await: return objs_[th.pending.obj2].owner < 0 && await_ready(t);
    case Op::load: return !opt_.spin_reduction || !spinning(t);
    default: return true;
  }
}

// Spin reduction (loom's "seen before yield", GenMC's spin-assume): a
// thread that loaded an atomic, wrote no var<T> and stored to no atomic,
// yielded, and would load it again with no store since would read the same
// value and spin on; it is disabled until a
// store to that atomic, so a yielding spin loop has finitely many traces.
// The same for a polling critical section (lock, read, unlock, yield, lock
// again at the same line, having written no var<T> and stored to no atomic
// in it): with no other lock of that mutex since, the state it guards is
// unchanged, and the thread is disabled until another thread locks it.
// Blind to a poll that reads state the mutex does not guard, and to a
// critical section that writes only plain members (not var<T>).
bool Execution::spinning(unsigned t) const {
  const ThreadRec& th = threads_[t];
  return th.yielded_since_load && th.spin_obj >= 0 &&
         (th.pending.op == Op::load || th.pending.op == Op::lock) &&
         th.pending.obj == static_cast<std::uint32_t>(th.spin_obj) &&
         objs_[th.pending.obj].stores == th.spin_stores &&
         th.pending.loc.line() == th.spin_loc.line() &&
         th.pending.loc.column() == th.spin_loc.column() &&
         std::string_view(th.pending.loc.file_name()) == th.spin_loc.file_name();
}

void Execution::resume(unsigned t) {
  running_ = t;
  EhGlobals* g = eh_globals();
  const EhGlobals mine = *g;
  *g = threads_[t].eh;
  threads_[t].fiber = std::move(threads_[t].fiber).resume();
  threads_[t].eh = *g;
  *g = mine;
}

// The first thread tried at a new node: the one that ran last (no
// preemption), unless it just yielded: then another, so yielded threads run
// last (loom's rule). prefer_highest (a self-test hook) tries the highest
// thread instead: a complete DPOR reaches the same traces in either order.
unsigned Execution::preferred(std::uint64_t cand) const {
  if (opt_.prefer_highest) return 63u - static_cast<unsigned>(std::countl_zero(cand));
  if (prev_ < 0) return lowest(cand);
  const auto p = static_cast<unsigned>(prev_);
  if (threads_[p].last_was_yield) {
    const std::uint64_t others = cand & ~bit(p);
    return lowest(others != 0 ? others : cand);
  }
  return (cand & bit(p)) != 0 ? p : lowest(cand);
}

// The next thread to run: the path's decision when replaying, a new node
// otherwise. -1 when the run must stop (sleep-set blocked, replay diverged).
int Execution::schedule(std::uint64_t en) {
  const bool prev_enabled = prev_ >= 0 && (en & bit(static_cast<unsigned>(prev_))) != 0;
  const bool free_switch = !prev_enabled || threads_[static_cast<unsigned>(prev_)].last_was_yield;
  unsigned chosen = 0;
  if (draining_) {
    prev_ = static_cast<int>(preferred(en));
    return prev_;
  }
  if (opt_.replay != nullptr) {
    if (std::popcount(en) > 1 && replay_pos_ < replay_.size()) {
      const Decision& d = replay_[replay_pos_];
      if (d.kind != 't' || d.value >= kMaxThreads || (en & bit(d.value)) == 0 ||
          d.check != static_cast<std::uint16_t>(hash_)) {
        set_failure(
            Verdict::nondeterminism,
            "replay diverged at decision " + std::to_string(replay_pos_) + " (event " +
                std::to_string(events_.size()) + "): " +
                (d.kind != 't' ? std::string("a thread choice is here, the token has a data choice")
                 : (d.value >= kMaxThreads || (en & bit(d.value)) == 0)
                     ? "thread T" + std::to_string(d.value) + " is not enabled"
                     : std::string("the events before it differ (hash mismatch)")));
        return -1;
      }
      chosen = d.value;
      ++replay_pos_;
    } else {
      chosen = preferred(en);
    }
  } else if (pos_ < path_.nodes.size()) {
    Node& n = path_.nodes[pos_];
    if (n.choice || n.enabled != en) {
      set_failure(Verdict::nondeterminism,
                  "the model is not deterministic: replaying the search prefix, event " +
                      std::to_string(events_.size()) + " found a different set of enabled threads");
      return -1;
    }
    chosen = n.chosen;
    if (n.top) shard_leaf(n);
  } else {
    Node n;
    n.enabled = en;
    n.preemptions = preemptions_;
    n.sleep = opt_.mode == Mode::dpor ? sleep_ : 0;
    std::uint64_t allowed = en;
    if (opt_.preemption_bound >= 0 && !free_switch &&
        preemptions_ >= static_cast<std::uint32_t>(opt_.preemption_bound))
      allowed = bit(static_cast<unsigned>(prev_));
    if (opt_.symmetry && opt_.mode == Mode::dpor) symmetric_threads(n);
    const bool top = opt_.shard_count > 0 && top_seen_ < opt_.shard_depth &&
                     std::popcount(allowed & ~n.sleep & ~n.redundant) > 1;
    if (opt_.mode == Mode::dpor) {
      const std::uint64_t cand = allowed & ~n.sleep & ~n.redundant;
      if (cand == 0) {
        // Every enabled thread sleeps: this run repeats an explored trace.
        // It runs to its end without recording (so its fibers finish
        // normally instead of being unwound) and is counted as blocked.
        blocked_ = true;
        draining_ = true;
        return static_cast<int>(preferred(en));
      }
      chosen = preferred(cand);
      n.backtrack = top ? cand : bit(chosen);
    } else {
      chosen = preferred(allowed);
      n.backtrack = allowed;
    }
    n.chosen = static_cast<std::uint8_t>(chosen);
    n.top = top;
    path_.nodes.push_back(n);
    if (top) shard_leaf(path_.nodes.back());
  }
  if (!free_switch && static_cast<int>(chosen) != prev_) ++preemptions_;
  if (std::popcount(en) > 1) decisions_.push_back({'t', chosen, static_cast<std::uint16_t>(hash_)});
  if (opt_.mode == Mode::dpor && opt_.replay == nullptr) {
    // Sleep' = {q ∈ Sleep ∪ done | next(q) independent of next(p)}
    const Node& n = path_.nodes[pos_];
    std::uint64_t s = (n.sleep | n.done) & ~bit(chosen);
    sleep_ = 0;
    for (; s != 0; s &= s - 1) {
      const unsigned r = lowest(s);
      if (!pending_dependent(threads_[r].pending, threads_[chosen].pending)) sleep_ |= bit(r);
    }
  }
  event_node_ = static_cast<std::uint32_t>(opt_.replay != nullptr ? 0 : pos_);
  if (opt_.replay == nullptr) ++pos_;
  return static_cast<int>(chosen);
}

// Sharding: a top node passed; at the last one, the leaf (this node's
// current choice) is numbered when first reached and dealt to a shard. A
// leaf of another shard is run to its end without recording (as a
// sleep-set-blocked run is) and counted nowhere.
void Execution::shard_leaf(Node& n) {
  if (++top_seen_ != opt_.shard_depth) return;
  if (!n.leaf_seen) {
    n.leaf_seen = true;
    n.owned = (*opt_.leaf_counter)++ % opt_.shard_count == opt_.shard_index;
  }
  if (!n.owned) {
    skipped_ = true;
    draining_ = true;
  }
}

// Symmetry (opt-in, DPOR): two enabled threads are interchangeable at a
// node when they were started with the same code and captured values
// (ThreadRec::code_key) and are both blocked in the same await-mode wait
// (same condition variable, mutex, line and predicate, with its captured
// values) holding no mutex. What the checker
// cannot see, their stacks, the model vouches for by declaring its threads
// symmetric: such a thread holds nothing of its own there, and the program
// uses a thread's identity only to tell threads apart. Then running the
// higher-numbered one first is the lower one's run with the two renamed,
// which has the same outcomes: only the lowest of each group is explored.
bool Execution::same_local_state(unsigned a, unsigned b) const {
  const ThreadRec& x = threads_[a];
  const ThreadRec& y = threads_[b];
  if (x.code_key == 0 || x.code_key != y.code_key || x.pending.op != y.pending.op) return false;
  // (Not at a thread's first step: a start depends on nothing, so DPOR
  // never orders two starts anyway.)
  if (x.pending.op != Op::await) return false;
  const std::source_location& l = x.pending.loc;
  const std::source_location& m = y.pending.loc;
  return x.pending.obj == y.pending.obj && x.pending.obj2 == y.pending.obj2 &&
         l.line() == m.line() && l.column() == m.column() &&
         std::string_view(l.file_name()) == m.file_name() && x.await_pred == y.await_pred &&
         x.await_key != 0 && x.await_key == y.await_key && x.held.empty() && y.held.empty() &&
         x.waiting_cv < 0 && y.waiting_cv < 0;
}

void Execution::symmetric_threads(Node& n) const {
  n.redundant = 0;
  for (std::uint64_t s = n.enabled; s != 0; s &= s - 1) {
    const unsigned t = lowest(s);
    if (threads_[t].code_key == 0) continue;
    for (std::uint64_t r = n.enabled & (bit(t) - 1) & ~n.redundant; r != 0; r &= r - 1) {
      const unsigned u = lowest(r);
      if (same_local_state(u, t)) {
        n.redundant |= bit(t);
        n.rep[t] = static_cast<std::uint8_t>(u);
        break;
      }
    }
  }
}

unsigned Execution::choose(unsigned n) {
  if (n <= 1 || draining_) return 0;
  unsigned c = 0;
  if (opt_.replay != nullptr) {
    if (replay_pos_ < replay_.size()) {
      const Decision& d = replay_[replay_pos_];
      if (d.kind != 'c' || d.value >= n) {
        fail(Verdict::nondeterminism, "replay diverged at decision " + std::to_string(replay_pos_) +
                                          ": expected a choice among " + std::to_string(n));
      }
      c = d.value;
      ++replay_pos_;
    }
  } else if (pos_ < path_.nodes.size()) {
    const Node& nd = path_.nodes[pos_];
    if (!nd.choice || nd.alternatives != n)
      fail(Verdict::nondeterminism, "the model is not deterministic: a data choice moved");
    c = nd.chosen;
    ++pos_;
  } else {
    Node nd;
    nd.choice = true;
    nd.alternatives = static_cast<std::uint8_t>(n);
    nd.chosen = 0;
    nd.preemptions = preemptions_;
    path_.nodes.push_back(nd);
    ++pos_;
  }
  decisions_.push_back({'c', c, static_cast<std::uint16_t>(hash_)});
  return c;
}

std::uint32_t Execution::commit(Access a0, std::uint32_t o0, Access a1, std::uint32_t o1,
                                const std::uint32_t* loads) {
  ThreadRec& th = threads_[running_];
  const auto idx = static_cast<std::uint32_t>(events_.size());
  Event e;
  e.tid = running_;
  e.seq = ++th.seq;
  e.node = event_node_;
  e.op = th.pending.op;
  e.acc[0] = a0;
  e.acc[1] = a1;
  e.obj[0] = o0;
  e.obj[1] = o1;
  if (loads != nullptr) {
    for (unsigned k = 0; k < kAwaitAtoms && loads[k] != kNone; ++k) {
      e.acc[2 + k] = Access::a_load;
      e.obj[2 + k] = loads[k];
    }
  }
  e.loc = th.pending.loc;
  VectorClock vc = th.po;
  if (th.pending.op == Op::join) {
    const ThreadRec& target = threads_[th.pending.obj];
    if (target.last_event >= 0) vc.join(events_[static_cast<std::size_t>(target.last_event)].vc);
    vc.join(target.po);
  }
  std::vector<std::uint32_t>& cands = cands_;
  cands.clear();
  for (unsigned k = 0; k < kSlots; ++k) {
    if (e.acc[k] == Access::none) continue;
    ObjState& o = objs_[e.obj[k]];
    for (auto it = o.events.rbegin(); it != o.events.rend(); ++it) {
      const Event& ek = events_[*it];
      Access ak = Access::none;
      for (unsigned q = 0; q < kSlots; ++q)
        if (ek.obj[q] == e.obj[k] && ek.acc[q] != Access::none) ak = ek.acc[q];
      const int d = depends(ak, e.acc[k]);
      if (d == 0) continue;
      vc.join(ek.vc);
      if (d == 2 && ek.tid != running_ && !th.po.covers(ek.tid, ek.seq)) cands.push_back(*it);
    }
    o.events.push_back(idx);
  }
  vc.c[running_] = e.seq;
  e.vc = vc;
  th.po = vc;
  th.last_event = static_cast<int>(idx);
  th.last_was_yield = th.pending.op == Op::yield;
  // await mode: a critical section begins at an acquisition and stays
  // clean while the thread only loads
  if (a0 == Access::m_lock || a0 == Access::m_trylock_ok || a1 == Access::m_lock) {
    th.cs_mutex = a0 == Access::m_lock || a0 == Access::m_trylock_ok ? o0 : o1;
    th.cs_node = opt_.replay == nullptr ? static_cast<int>(event_node_) : -1;
    th.cs_clean = true;
  } else if (!(th.pending.op == Op::load && a0 == Access::a_load)) {
    th.cs_clean = false;
  }
  if (th.pending.op == Op::yield) {
    th.yielded_since_load = true;
  } else if ((th.pending.op == Op::load && a0 == Access::a_load) ||
             (th.pending.op == Op::lock && a0 == Access::m_lock)) {
    if (a0 == Access::m_lock) ++objs_[o0].stores;  // a lock may change what the mutex guards
    th.spin_obj = static_cast<int>(o0);
    th.spin_stores = objs_[o0].stores;
    th.spin_loc = th.pending.loc;
    th.yielded_since_load = false;
  } else if (th.pending.op == Op::unlock && a0 == Access::m_unlock &&
             th.spin_obj == static_cast<int>(o0)) {
    // the end of the polling critical section: the poll stays recorded
  } else if (th.pending.op != Op::start) {
    th.spin_obj = -1;
    th.yielded_since_load = false;
  }
  if (a0 == Access::a_store) ++objs_[o0].stores;
  if (a1 == Access::m_lock || a0 == Access::m_trylock_ok)
    ++objs_[a1 == Access::m_lock ? o1 : o0].stores;
  events_.push_back(e);
  if (!draining_) trace_.push_back({idx, running_, kNone, false, e.loc});
  hash_ = fnv(fnv(fnv(hash_, running_), static_cast<std::uint64_t>(e.op)), o0);
  prev_ = static_cast<int>(running_);
  if (opt_.mode == Mode::dpor && opt_.replay == nullptr && !draining_) {
    // Every candidate is tried, also one that happens-before another
    // candidate (not an immediate race): the later race may be one this
    // prefix cannot reverse (a waiter whose timeout needs the mutex the
    // notifier holds), and then the earlier one (the notifier's lock) is the
    // reversal that matters. Extra races cost sleep-set-blocked runs only.
    for (std::size_t a = 0; a < cands.size(); ++a) add_race(cands[a], idx);
  }
  return idx;
}

// Race j ⋖ i: E' = pre(E, j), v = notdep(j, E).i; if I_[E'](v) ∩
// backtrack(E') = ∅, add some q ∈ I_[E'](v) to backtrack(E').
void Execution::add_race(std::uint32_t j, std::uint32_t i) {
  const Event& ej = events_[j];
  Node& n = path_.nodes[ej.node];
  std::uint64_t initials = 0, seen = 0;
  std::vector<std::uint32_t>& vlist = vlist_;
  vlist.clear();
  for (std::uint32_t k = j + 1; k <= i; ++k) {
    const Event& ek = events_[k];
    if (k != i && ek.vc.covers(ej.tid, ej.seq)) continue;  // happens after j: not in v
    if ((seen & bit(ek.tid)) == 0) {
      bool initial = true;
      for (std::size_t m = 0; m < vlist.size() && initial; ++m) {
        const Event& em = events_[vlist[m]];
        if (ek.vc.covers(em.tid, em.seq)) initial = false;
      }
      if (initial) initials |= bit(ek.tid);
      seen |= bit(ek.tid);
    }
    vlist.push_back(k);
  }
  // Symmetry: a thread interchangeable with a lower one there is stood for
  // by that one (the reversal with the two renamed).
  for (std::uint64_t r = initials & n.redundant; r != 0; r &= r - 1)
    initials = (initials & ~bit(lowest(r))) | bit(n.rep[lowest(r)]);
  if ((initials & n.backtrack) != 0) return;
  const std::uint64_t runnable = initials & n.enabled;
  if (runnable == 0) {  // v cannot start at E' (a disabled waiter): not a reversible race here
    ++no_initial_;
    return;
  }
  const std::uint64_t awake = runnable & ~n.sleep;
  n.backtrack |= bit(lowest(awake != 0 ? awake : runnable));
}

void Execution::yield(std::source_location where) {
  if (!announce(Op::yield, kNone, kNone, where)) return;
  commit(Access::none, kNone);
  tick();
}

void Execution::join(unsigned target, std::source_location where) {
  if (target >= nthreads_)
    throw std::invalid_argument("dpor: join of unknown thread T" + std::to_string(target));
  if (target == running_)
    fail(Verdict::deadlock,
         "T" + std::to_string(running_) + " joins itself at " + ::interleave::dpor::where(where));
  if (!announce(Op::join, target, kNone, where)) return;
  threads_[running_].causality.join(threads_[target].causality);
  commit(Access::none, target);
  tick();
}

void Execution::mutex_lock(std::uint32_t m, std::source_location where) {
  if (!announce(Op::lock, m, kNone, where)) return;
  ObjState& o = objs_[m];
  o.owner = static_cast<int>(running_);
  o.locked_at = where;
  ThreadRec& th = threads_[running_];
  th.held.push_back(m);
  th.causality.join(o.rel);
  commit(Access::m_lock, m);
  tick();
}

bool Execution::mutex_try_lock(std::uint32_t m, std::source_location where) {
  if (!announce(Op::try_lock, m, kNone, where)) return false;
  ObjState& o = objs_[m];
  ThreadRec& th = threads_[running_];
  if (o.owner >= 0) {
    commit(Access::m_trylock_fail, m);
    tick();
    return false;
  }
  o.owner = static_cast<int>(running_);
  o.locked_at = where;
  th.held.push_back(m);
  th.causality.join(o.rel);
  commit(Access::m_trylock_ok, m);
  tick();
  return true;
}

void Execution::mutex_unlock(std::uint32_t m, std::source_location where) {
  if (!announce(Op::unlock, m, kNone, where)) return;
  ObjState& o = objs_[m];
  ThreadRec& th = threads_[running_];
  if (o.owner != static_cast<int>(running_))
    fail(Verdict::assertion, "T" + std::to_string(running_) + " unlocks " + obj_name(m) + " at " +
                                 ::interleave::dpor::where(where) + " without holding it");
  o.owner = -1;
  o.rel = th.causality;
  th.held.erase(std::find(th.held.begin(), th.held.end(), m));
  commit(Access::m_unlock, m);
  tick();
}

std::cv_status Execution::cv_wait(std::uint32_t cv, std::uint32_t m, WaitKind kind,
                                  std::source_location where) {
  if (!announce(Op::cv_wait, cv, m, where)) return std::cv_status::no_timeout;
  {
    ObjState& mo = objs_[m];
    ThreadRec& th = threads_[running_];
    if (mo.owner != static_cast<int>(running_))
      fail(Verdict::assertion, "T" + std::to_string(running_) + " waits on " + obj_name(cv) +
                                   " at " + ::interleave::dpor::where(where) + " without holding " +
                                   obj_name(m));
    mo.owner = -1;
    mo.rel = th.causality;
    th.held.erase(std::find(th.held.begin(), th.held.end(), m));
    th.waiting_cv = static_cast<int>(cv);
    th.notified = false;
    // A spurious wake-up: at most one per thread and cv between two notifies
    // of that cv, so a bare wait in a loop cannot spin the search forever.
    const bool spurious_ok =
        kind == WaitKind::spurious && opt_.spurious_wakeups &&
        !(th.spurious_cv == static_cast<int>(cv) && th.spurious_at == objs_[cv].notifies);
    th.may_timeout = kind == WaitKind::timed || spurious_ok;
    commit(Access::cv_register, cv, Access::m_unlock, m);
    tick();
  }
  if (!announce(Op::cv_resume, cv, m, where)) return std::cv_status::no_timeout;
  ThreadRec& th = threads_[running_];
  ObjState& mo = objs_[m];
  const bool woken = th.notified;
  th.waiting_cv = -1;
  th.notified = false;
  th.may_timeout = false;
  mo.owner = static_cast<int>(running_);
  mo.locked_at = where;
  th.held.push_back(m);
  th.causality.join(mo.rel);
  if (woken) th.causality.join(th.notify_causality);
  if (!woken && kind == WaitKind::spurious) {
    th.spurious_cv = static_cast<int>(cv);
    th.spurious_at = objs_[cv].notifies;
  }
  commit(woken ? Access::cv_wake : Access::cv_timeout, cv, Access::m_lock, m);
  tick();
  // A spurious wake-up reports no_timeout, as std's does.
  return woken || kind != WaitKind::timed ? std::cv_status::no_timeout : std::cv_status::timeout;
}

// Await mode (opt-in, RunOptions::await_mode): wait(lk, pred) as "block
// until pred holds". Two events: the wait releases the mutex (it registers
// on no cv: notifies and spurious wake-ups are not explored for it); the
// wake-up relocks the mutex, enabled only while the mutex is free and pred
// holds, evaluated by the scheduler (await_ready). The wake-up is a lock of
// the mutex and a load of every atomic pred read, so it depends on each
// critical section that may change pred. Sound when pred reads only state
// its mutex guards (or atomics); blind to lost wake-ups by construction:
// a waiter whose predicate holds always wakes.
void Execution::cv_await(std::uint32_t cv, std::uint32_t m, bool (*pred)(void*), void* ctx,
                         std::source_location where, std::uint64_t pred_key) {
  if (!announce(Op::cv_wait, cv, m, where)) return;
  {
    ObjState& mo = objs_[m];
    ThreadRec& th = threads_[running_];
    if (mo.owner != static_cast<int>(running_))
      fail(Verdict::assertion, "T" + std::to_string(running_) + " waits on " + obj_name(cv) +
                                   " at " + ::interleave::dpor::where(where) + " without holding " +
                                   obj_name(m));
    mo.owner = -1;
    mo.rel = th.causality;
    th.held.erase(std::find(th.held.begin(), th.held.end(), m));
    th.await_pred = pred;
    th.await_ctx = ctx;
    th.await_key = pred_key;
    commit(Access::none, cv, Access::m_unlock, m);
    tick();
  }
  if (!announce(Op::await, cv, m, where)) return;
  ThreadRec& th = threads_[running_];
  ObjState& mo = objs_[m];
  th.await_pred = nullptr;
  th.await_ctx = nullptr;
  th.await_key = 0;
  mo.owner = static_cast<int>(running_);
  mo.locked_at = where;
  th.held.push_back(m);
  th.causality.join(mo.rel);
  // The atomics pred read were last written under the mutex (or are read
  // again by pred on this thread's stack after the wake-up): acquire them.
  std::uint32_t loads[kAwaitAtoms];
  for (unsigned k = 0; k < kAwaitAtoms; ++k) loads[k] = th.pending.atoms[k];
  commit(Access::none, cv, Access::m_lock, m, loads);
  tick();
}

void Execution::await_failed_check(std::uint32_t m) {
  if (!opt_.await_mode || opt_.mode != Mode::dpor || opt_.replay != nullptr || draining_ ||
      aborting_)
    return;
  ThreadRec& th = threads_[running_];
  if (th.cs_mutex != m || !th.cs_clean || th.cs_node < 0) return;
  const auto k = static_cast<std::size_t>(th.cs_node);
  Node& n = path_.nodes[k];
  if (n.choice || n.chosen != running_) return;
  // Another thread enabled there runs first in the run that takes this
  // acquisition only once the predicate holds: explored from that node
  // (a sleeping one already was, elsewhere: the sleep set's guarantee).
  const std::uint64_t alt = n.enabled & ~bit(running_) & ~n.redundant;
  if (alt == 0) return;  // nothing else could run there: this wait is real
  n.backtrack |= alt & ~n.sleep;
  for (std::size_t d = k + 1; d < path_.nodes.size(); ++d) {
    Node& below = path_.nodes[d];
    // A sharded search's top nodes keep every alternative: the shards
    // number the same leaves (those below are cut again when reached).
    if (below.top) continue;
    if (below.choice)
      below.alternatives = static_cast<std::uint8_t>(below.chosen + 1);
    else
      below.backtrack &= below.done | bit(below.chosen);
  }
  // Nothing below is needed: the run stops here, every fiber unwound.
  await_cut_ = true;
  aborting_ = true;
  throw Abort{};
}

bool Execution::await_ready(unsigned t) {
  ThreadRec& th = threads_[t];
  if (th.await_pred == nullptr) return true;
  for (std::uint32_t& a : th.pending.atoms) a = kNone;
  const unsigned saved = running_;
  running_ = t;
  peeking_ = true;
  bool ok = false;
  std::string misuse;
  try {
    ok = th.await_pred(th.await_ctx);
  } catch (const PeekMisuse& e) {
    misuse = e.what;
  } catch (const std::exception& e) {
    misuse = std::string("dpor await mode: a wait predicate threw: ") + e.what();
  } catch (...) {
    misuse = "dpor await mode: a wait predicate threw";
  }
  peeking_ = false;
  running_ = saved;
  if (!misuse.empty()) {
    set_failure(Verdict::uncaught_exception,
                "T" + std::to_string(t) + " waiting at " + where(th.pending.loc) + ": " + misuse);
    return false;
  }
  return ok;
}

void Execution::peek_load(std::uint32_t a) {
  std::uint32_t* atoms = threads_[running_].pending.atoms;
  for (unsigned k = 0; k < kAwaitAtoms; ++k) {
    if (atoms[k] == a) return;
    if (atoms[k] == kNone) {
      atoms[k] = a;
      return;
    }
  }
  throw PeekMisuse{"dpor await mode: a wait predicate at " + where(threads_[running_].pending.loc) +
                   " reads more than " + std::to_string(kAwaitAtoms) + " atomics"};
}

void Execution::cv_notify(std::uint32_t cv, bool all, std::source_location where) {
  if (!announce(all ? Op::notify_all : Op::notify_one, cv, kNone, where)) return;
  unsigned waiters[kMaxThreads];
  unsigned n = 0;
  for (unsigned t = 0; t < nthreads_; ++t)
    if (threads_[t].waiting_cv == static_cast<int>(cv) && !threads_[t].notified) waiters[n++] = t;
  ThreadRec& me = threads_[running_];
  ++objs_[cv].notifies;
  if (n == 0) {
    ObjState& o = objs_[cv];
    o.lost_notify = true;
    o.lost_notify_at = where;
  } else if (all) {
    for (unsigned k = 0; k < n; ++k) {
      threads_[waiters[k]].notified = true;
      threads_[waiters[k]].notify_causality = me.causality;
    }
  } else {
    // C++ lets notify_one wake any waiter: explored as a choice, not FIFO.
    const unsigned pick = waiters[choose(n)];
    threads_[pick].notified = true;
    threads_[pick].notify_causality = threads_[running_].causality;
  }
  commit(Access::cv_notify, cv);
  tick();
}

std::uint32_t Execution::stale_index(std::uint32_t a) {
  ObjState& o = objs_[a];
  const ThreadRec& th = threads_[running_];
  if (o.history.empty()) return 0;
  const auto last = static_cast<std::uint32_t>(o.history.size() - 1);
  std::uint32_t lo = o.coherent[running_];
  for (std::uint32_t j = last; j > lo; --j) {
    const ObjState::StoreRec& s = o.history[j];
    if (th.causality.c[s.tid] >= s.clock) {  // happens-before the load: nothing older
      lo = j;
      break;
    }
  }
  if (lo >= last) return last;
  const std::uint32_t idx = last - choose(last - lo + 1);  // 0: the latest
  return idx;
}

void Execution::atomic_access(std::uint32_t a, bool store, bool rmw, bool acquire, bool release,
                              int read_index) {
  ObjState& o = objs_[a];
  ThreadRec& th = threads_[running_];
  if (opt_.stale_reads && !o.history.empty()) {
    if (store) o.history.push_back({running_, th.causality.c[running_]});
    o.coherent[running_] = read_index >= 0 ? static_cast<std::uint32_t>(read_index)
                                           : static_cast<std::uint32_t>(o.history.size() - 1);
  }
  if (!store || rmw) {
    if (acquire) th.causality.join(o.rel);
  }
  if (store) {
    if (rmw) {
      if (release) o.rel.join(th.causality);  // the release sequence continues through RMWs
    } else {
      o.rel = release ? th.causality : VectorClock{};
    }
  }
  const std::uint32_t idx = commit(store ? Access::a_store : Access::a_load, a);
  if (read_index >= 0 && !o.history.empty())  // o: commit creates no object
    events_[idx].stale =
        static_cast<std::uint32_t>(o.history.size() - 1 - static_cast<std::size_t>(read_index));
  tick();
}

// A data race is recorded, not thrown: the execution runs to its end, so its
// later sync events still take part in race detection (an execution cut at
// the race would hide the traces that reverse them).
void Execution::race(const ObjState&, std::uint32_t id, const char* first, int ftid,
                     std::source_location floc, int fstep, const char* second,
                     std::source_location sloc) {
  if (verdict_ == Verdict::holds && !draining_) {
    const std::string name = obj_name(id);
    const auto op = [&name](const char* verb) {
      return std::string(verb[0] == 'r' ? "read " : "write ") + name;
    };
    race_ = {{static_cast<unsigned>(ftid), op(first), floc, fstep},
             {running_, op(second), sloc, static_cast<int>(trace_.size()) - 1}};
  }
  record_failure(Verdict::data_race, "data race on " + obj_name(id) + ": T" + std::to_string(ftid) +
                                         " " + first + " at " + ::interleave::dpor::where(floc) +
                                         ", T" + std::to_string(running_) + " " + second + " at " +
                                         ::interleave::dpor::where(sloc) +
                                         " with no happens-before between them");
}

void Execution::var_read(std::uint32_t v, std::source_location where) {
  if (aborting_ || peeking_) return;  // a peek is re-read on the thread after its wake-up
  if (!draining_) trace_.push_back({kNone, running_, v, false, where});
  ObjState& o = objs_[v];
  const ThreadRec& th = threads_[running_];
  if (o.w_tid >= 0 && o.w_tid != static_cast<int>(running_) &&
      o.w_clock > th.causality.c[static_cast<unsigned>(o.w_tid)])
    race(o, v, "writes", o.w_tid, o.w_loc, o.w_step, "reads", where);
  o.r_clock[running_] = th.causality.c[running_];
  o.r_loc[running_] = where;
  o.r_step[running_] = static_cast<int>(trace_.size()) - 1;
}

void Execution::var_write(std::uint32_t v, std::source_location where) {
  if (!peeking_ && !aborting_) threads_[running_].cs_clean = false;
  if (peeking_)
    throw PeekMisuse{"dpor await mode: a wait predicate writes " + obj_name(v) + " at " +
                     ::interleave::dpor::where(where) + "; a predicate may only read state"};
  if (aborting_) return;
  if (!draining_) trace_.push_back({kNone, running_, v, true, where});
  ObjState& o = objs_[v];
  ThreadRec& th = threads_[running_];
  // A loop that writes between its reads is no spin: its repetition is new
  // work (a worker that checks a stop flag, produces, and sleeps).
  th.spin_obj = -1;
  if (o.w_tid >= 0 && o.w_tid != static_cast<int>(running_) &&
      o.w_clock > th.causality.c[static_cast<unsigned>(o.w_tid)])
    race(o, v, "writes", o.w_tid, o.w_loc, o.w_step, "writes", where);
  for (unsigned u = 0; u < nthreads_; ++u)
    if (u != running_ && o.r_clock[u] != 0 && o.r_clock[u] > th.causality.c[u])
      race(o, v, "reads", static_cast<int>(u), o.r_loc[u], o.r_step[u], "writes", where);
  o.w_tid = static_cast<int>(running_);
  o.w_clock = th.causality.c[running_];
  o.w_loc = where;
  o.w_step = static_cast<int>(trace_.size()) - 1;
}

// The operation thread t waits to perform, for the report.
std::string Execution::pending_op(unsigned t) const {
  const ThreadRec& th = threads_[t];
  std::string s = op_name(th.pending.op);
  if (th.pending.op == Op::join)
    s += " " + thread_name(th.pending.obj);
  else if (th.pending.op == Op::cv_resume)
    s = "wait " + obj_name(th.pending.obj) + " (" + obj_name(th.pending.obj2) + ")";
  else if (th.pending.obj != kNone)
    s += " " + obj_name(th.pending.obj);
  if (th.pending.op == Op::lock && objs_[th.pending.obj].owner >= 0)
    s += " (owned by " + thread_name(static_cast<unsigned>(objs_[th.pending.obj].owner)) + ")";
  return s;
}

void Execution::note_check(std::source_location where) {
  if (verdict_ != Verdict::assertion || check_step_ >= 0) return;
  check_ = where;
  check_step_ = static_cast<int>(trace_.size());
  check_tid_ = running_;
}

Report Execution::report() const {
  Report r;
  r.steps.reserve(trace_.size());
  for (const TraceStep& t : trace_) {
    ReportStep s;
    s.tid = t.tid;
    s.loc = t.loc;
    if (t.event == kNone) {
      s.object = obj_name(t.obj);
      s.access = t.write ? 'w' : 'r';
      s.op = (t.write ? "write " : "read ") + s.object;
    } else {
      const Event& e = events_[t.event];
      if (e.op == Op::start) continue;  // thread starts are not operations of the thread
      s.op = op_name(e.op);
      if (e.op == Op::join) {
        s.op += " " + thread_name(e.obj[0]);
      } else if (e.obj[0] != kNone) {
        s.object = obj_name(e.obj[0]);
        s.op += " " + s.object;
      }
      if (e.acc[0] == Access::m_trylock_fail) s.op += " (failed)";
      if (e.acc[0] == Access::cv_timeout) s.op += " (timeout/spurious)";
      if (e.stale > 0) s.op += " (stale: " + std::to_string(e.stale) + " store(s) older)";
      if (e.acc[0] == Access::a_load) s.access = 'r';
      if (e.acc[0] == Access::a_store) s.access = 'w';
    }
    r.steps.push_back(std::move(s));
  }
  // Step indices were counted over trace_, which holds the skipped starts
  // too: map them onto r.steps.
  std::vector<int> index(trace_.size() + 1, 0);
  int kept = 0;
  for (std::size_t k = 0; k < trace_.size(); ++k) {
    index[k] = kept;
    const TraceStep& t = trace_[k];
    if (t.event == kNone || events_[t.event].op != Op::start) ++kept;
  }
  index[trace_.size()] = kept;
  const auto map = [&](int k) {
    return k < 0 || static_cast<std::size_t>(k) > trace_.size()
               ? -1
               : index[static_cast<std::size_t>(k)];
  };
  r.race = race_;
  for (ReportAccess& a : r.race) a.step = map(a.step);
  r.blocked = blocked_report_;
  r.check = check_;
  r.check_step = map(check_step_);
  r.check_tid = check_tid_;
  return r;
}

std::string Execution::describe_pending(unsigned t) const {
  const ThreadRec& th = threads_[t];
  std::ostringstream s;
  s << "T" << t << " blocked in " << op_name(th.pending.op);
  if (th.pending.op == Op::join)
    s << " of T" << th.pending.obj;
  else if (th.pending.op == Op::cv_resume)
    s << " on " << obj_name(th.pending.obj) << " (mutex " << obj_name(th.pending.obj2) << ")";
  else if (th.pending.op == Op::await)
    s << " on " << obj_name(th.pending.obj) << " (mutex " << obj_name(th.pending.obj2)
      << ", its predicate false)";
  else
    s << " " << obj_name(th.pending.obj);
  s << " at " << where(th.pending.loc);
  if (th.pending.op == Op::lock && objs_[th.pending.obj].owner >= 0)
    s << " (owned by T" << objs_[th.pending.obj].owner << ")";
  s << ", holding ";
  if (th.held.empty()) s << "nothing";
  for (std::size_t k = 0; k < th.held.size(); ++k)
    s << (k ? ", " : "") << obj_name(th.held[k]) << " (locked at "
      << where(objs_[th.held[k]].locked_at) << ")";
  return s.str();
}

void Execution::deadlock() {
  if (draining_) {  // a blocked run is not reported
    aborting_ = true;
    return;
  }
  std::string text;
  Verdict v = Verdict::deadlock;
  for (unsigned t = 0; t < nthreads_; ++t) {
    const ThreadRec& th = threads_[t];
    if (th.finished) continue;
    if (opt_.spin_reduction && spinning(t)) {
      v = Verdict::livelock;
      text += (text.empty() ? "" : "; ") + std::string("T") + std::to_string(t) + " spins on " +
              obj_name(th.pending.obj) + " at " + where(th.pending.loc) +
              ": it yielded and would read it again, and no thread can store to it any more";
      continue;
    }
    text += (text.empty() ? "" : "; ") + describe_pending(t);
    ReportBlocked b{t, pending_op(t), th.pending.loc, {}, {}};
    for (const std::uint32_t m : th.held)
      b.held.push_back(obj_name(m) + " (locked at " + where(objs_[m].locked_at) + ")");
    if (th.pending.op == Op::cv_resume && objs_[th.pending.obj].lost_notify) {
      v = Verdict::lost_wakeup;
      text += " [" + obj_name(th.pending.obj) + " was notified at " +
              where(objs_[th.pending.obj].lost_notify_at) + " while no thread waited]";
      b.note = obj_name(th.pending.obj) + " was notified at " +
               where(objs_[th.pending.obj].lost_notify_at) +
               " while no thread waited: a lost wake-up";
    }
    if (verdict_ == Verdict::holds) blocked_report_.push_back(std::move(b));
  }
  set_failure(v, text);
}

void Execution::unwind_all() {
  aborting_ = true;
  for (unsigned t = nthreads_; t-- > 0;) {
    while (!threads_[t].finished && threads_[t].fiber) {
      resume(t);
      if (threads_[t].abandoned) {
        // Leak the suspended fiber (destroying it would unwind it again) and
        // give the slot a fresh stack.
        new boost::context::fiber(std::move(threads_[t].fiber));  // NOLINT: deliberately leaked
        pool_.retire(t);
        threads_[t].finished = true;
        ++abandoned_;
      }
    }
  }
}

void Execution::run(const std::function<void()>& body, const RunOptions& opt) {
  opt_ = opt;
  reset();
  if (opt.replay != nullptr) {
    // "dpor1:" decisions ":" hash; each decision <t|c><value>.<hex check>
    const std::string& tok = *opt.replay;
    const std::string head = "dpor1:";
    if (tok.compare(0, head.size(), head) != 0)
      throw std::invalid_argument("dpor replay token must start with 'dpor1:', got '" + tok + "'");
    std::size_t p = head.size();
    const std::size_t end = tok.rfind(':');
    while (p < end) {
      const std::size_t q = std::min(tok.find('-', p), end);
      const std::string item = tok.substr(p, q - p);
      const std::size_t dot = item.find('.');
      if (item.size() < 4 || (item[0] != 't' && item[0] != 'c') || dot == std::string::npos)
        throw std::invalid_argument("dpor replay token: bad decision '" + item + "'");
      replay_.push_back(
          {item[0], static_cast<unsigned>(std::stoul(item.substr(1, dot - 1))),
           static_cast<std::uint16_t>(std::stoul(item.substr(dot + 1), nullptr, 16))});
      p = q + 1;
    }
  }
  Execution* outer = g_current;
  g_current = this;
  spawn([&body] { body(); });
  for (;;) {
    if (aborting_) break;
    std::uint64_t en = 0;
    bool all_done = true;
    for (unsigned t = 0; t < nthreads_; ++t) {
      if (threads_[t].finished) continue;
      all_done = false;
      if (enabled(t)) en |= bit(t);
    }
    if (aborting_) break;  // an await predicate misbehaved
    if (all_done) break;
    if (en == 0) {
      deadlock();
      break;
    }
    if (events_.size() >= opt_.step_cap) {
      if (draining_) {
        aborting_ = true;
        break;
      }
      set_failure(Verdict::livelock, "possible livelock: " + std::to_string(events_.size()) +
                                         " steps in one execution (cap " +
                                         std::to_string(opt_.step_cap) +
                                         "); a spin loop should call yield() in each iteration: "
                                         "then a re-read with no store since is not explored");
      break;
    }
    const int t = schedule(en);
    if (t < 0) break;
    resume(static_cast<unsigned>(t));
  }
  if (opt.replay != nullptr && verdict_ != Verdict::nondeterminism && !blocked_) {
    const std::size_t colon = opt.replay->rfind(':');
    const std::uint64_t want = std::stoull(opt.replay->substr(colon + 1), nullptr, 16);
    if (replay_pos_ != replay_.size() || want != hash_) {
      verdict_ = Verdict::holds;  // the replayed verdict does not count: the run is not the token's
      set_failure(Verdict::nondeterminism,
                  "replay diverged after decision " + std::to_string(replay_pos_) +
                      ": the event sequence differs from the token's (hash)");
    }
  }
  unwind_all();
  g_current = outer;
}

std::string Execution::listing() const {
  std::ostringstream s;
  for (const Event& e : events_) {
    if (e.op == Op::start) continue;
    std::string what = op_name(e.op);
    if (e.op == Op::join)
      what += " T" + std::to_string(e.obj[0]);
    else if (e.obj[0] != kNone)
      what += " " + obj_name(e.obj[0]);
    if (e.acc[0] == Access::m_trylock_fail) what += " (failed)";
    if (e.acc[0] == Access::cv_timeout) what += " (timeout/spurious)";
    if (e.stale > 0) what += " (stale: " + std::to_string(e.stale) + " store(s) older)";
    if (e.op == Op::await) what += " (predicate holds)";
    char line[64];
    std::snprintf(line, sizeof line, "  T%-2u | ", e.tid);
    s << line << what;
    for (std::size_t k = what.size(); k < 24; ++k) s << ' ';
    s << " " << where(e.loc) << "\n";
  }
  return s.str();
}

std::string Execution::trace_signature() const {
  std::vector<std::string> items;
  items.reserve(events_.size());
  for (const Event& e : events_) {
    std::string s = std::to_string(e.tid) + "." + std::to_string(e.seq) + ":" + op_name(e.op);
    for (unsigned k = 0; k < kSlots; ++k) s += "/" + std::to_string(static_cast<int>(e.acc[k]));
    s += "[";
    for (unsigned t = 0; t < nthreads_; ++t) s += std::to_string(e.vc.c[t]) + ",";
    items.push_back(s + "]");
  }
  std::sort(items.begin(), items.end());
  std::string out;
  for (const std::string& i : items) out += i + ";";
  return out;
}

std::string Execution::token() const {
  std::ostringstream s;
  s << "dpor1:";
  for (std::size_t k = 0; k < decisions_.size(); ++k) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%c%u.%x", k ? "-" : "", decisions_[k].kind,
                  decisions_[k].value, decisions_[k].check);
    s << buf;
  }
  char h[24];
  std::snprintf(h, sizeof h, ":%llx", static_cast<unsigned long long>(hash_));
  s << h;
  return s.str();
}

}  // namespace interleave::dpor
