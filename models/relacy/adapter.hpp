// models/relacy/adapter.hpp — runs a checker-neutral model (models/model.hpp)
// under Relacy Race Detector.
//
// Contract: for a model template M (see model.hpp), `relacy_checker::entry<M>`
// makes the registry entry whose driver runs M<relacy_sync> (or
// M<relacy_sc_sync> for a model with `memory = Memory::seq_cst`) as an
// rl::test_suite with M::threads static threads and M::dynamic_threads
// dynamic ones, under one Search mode and bound, a replay state, and a time
// budget, and returns a Verdict. Everything Relacy-specific about a model
// lives here, chosen by the model's traits, never in the model file:
// - `heap_under_test = false` → the execution's allocations are untracked
//   (Relacy's own disable_alloc_ switch): plain malloc/free, no branching on
//   the reuse of every freed block and no leak check;
// - `memory = Memory::seq_cst` → every atomic access sequentially consistent;
// - `dynamic_threads` → the suite's dynamic_thread_count;
// - INTERLEAVE_MODEL_CHECK → a Relacy assertion failure (relacy_sync::model_check).
// Budget and progress: each execution starts with a look at the clock; past
// the budget the search stops (rl_until) and the verdict says so; every 5 s
// a progress line goes to stderr (model, executions, rate).
//
// Include order: this header is included first by model.hpp when the
// executable is built for Relacy (INTERLEAVE_CHECKER_RELACY): relacy_sync.hpp
// does the standard-headers / Relacy / #undef dance.
#pragma once

#include "../relacy_sync.hpp"
//
#include "../hang_board.hpp"
#include "../registry.hpp"

namespace interleave::models {

namespace relacy_checker {

template <class T>
constexpr unsigned dynamic_threads_of() {
  if constexpr (requires { T::dynamic_threads; })
    return T::dynamic_threads;
  else
    return 0;
}
template <class T>
constexpr bool heap_under_test() {
  if constexpr (requires { T::heap_under_test; })
    return T::heap_under_test;
  else
    return true;
}
template <template <class> class M>
constexpr bool seq_cst() {
  if constexpr (requires { M<relacy_sync>::memory; })
    return M<relacy_sync>::memory == Memory::seq_cst;
  else
    return false;
}
// The backend M runs on.
template <template <class> class M>
using sync_for = std::conditional_t<seq_cst<M>(), relacy_sc_sync, relacy_sync>;

// Relacy explores, at every free() of model memory, whether to defer the
// block's reuse: a binary choice per deallocation. A model whose heap blocks
// are bookkeeping (futures' shared states, tasks, containers) would multiply
// its search by 2^dozens; for such a model the suite raises Relacy's
// disable_alloc_ for the whole execution (reached through a derived class):
// plain malloc/free, no deferred-reuse branching and no leak check.
struct UntrackedAlloc {
  struct access : rl::context {
    static int& counter(rl::context& c) { return c.*(&access::disable_alloc_); }
  };
  UntrackedAlloc() { ++access::counter(rl::ctx()); }
  ~UntrackedAlloc() { --access::counter(rl::ctx()); }
  UntrackedAlloc(const UntrackedAlloc&) = delete;
  UntrackedAlloc& operator=(const UntrackedAlloc&) = delete;
};
struct TrackedAlloc {};

// The clock of the current search: counts executions, prints progress, and
// stops the search once the budget is spent. One search runs at a time.
class Watch {
 public:
  static Watch& current() {
    static Watch w;
    return w;
  }
  void arm(const std::string& label, double budget_s) {
    label_ = label;
    budget_s_ = budget_s;
    start_ = last_ = std::chrono::steady_clock::now();
    executions_ = 0;
    hit_ = false;
    armed_ = true;
  }
  // The replay of a failing execution is never cut short.
  void disarm() { armed_ = false; }
  bool hit() const { return hit_; }

  // At the start of every execution (in the suite's before()).
  void tick() {
    if (!armed_) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (budget_s_ > 0 && elapsed >= budget_s_) {
      hit_ = true;
      rl::ctx().rl_until("search budget reached", RL_INFO);
      return;
    }
    ++executions_;
    if (std::chrono::duration<double>(now - last_).count() >= 5.0) {
      last_ = now;
      // fprintf into fixed buffers: nothing here may allocate from the model's heap.
      char n[32], rate[32];
      std::fprintf(stderr, "  ... %s: %s executions in %.0f s (%s/s)\n", label_.c_str(),
                   grouped(n, executions_), elapsed,
                   grouped(rate, static_cast<unsigned long long>(static_cast<double>(executions_) /
                                                                 elapsed)));
      std::fflush(stderr);
    }
  }

 private:
  // n with thousands separators, into buf (32 bytes).
  static const char* grouped(char* buf, unsigned long long n) {
    char digits[24];
    const int len = std::snprintf(digits, sizeof digits, "%llu", n);
    int o = 0;
    for (int i = 0; i < len; ++i) {
      if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
      buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
  }
  std::string label_;
  double budget_s_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  unsigned long long executions_ = 0;
  bool hit_ = false;
  bool armed_ = false;
};

// The rl::test_suite that runs one model: the model object is constructed
// per execution (after the allocation base, so its allocations follow it).
template <template <class> class M, class Sync>
struct Suite : std::conditional_t<heap_under_test<M<Sync>>(), TrackedAlloc, UntrackedAlloc>,
               rl::test_suite<Suite<M, Sync>, M<Sync>::threads> {
  static const rl::thread_id_t dynamic_thread_count = dynamic_threads_of<M<Sync>>();
  M<Sync> model;

  void before() {
    Watch::current().tick();
    if constexpr (requires { model.before(); }) model.before();
  }
  void thread(unsigned i) { model.thread(i); }
  void after() {
    if constexpr (requires { model.after(); }) model.after();
  }
};

// Relacy replaces the global operator new/delete and, during a simulation,
// accounts every allocation to the model: a std::ostringstream that grows
// while Relacy writes into it would free memory Relacy did not hand out.
// This stream buffer grows with the C allocator, which Relacy leaves alone.
class CaptureBuf : public std::streambuf {
 public:
  CaptureBuf() = default;
  CaptureBuf(const CaptureBuf&) = delete;
  CaptureBuf& operator=(const CaptureBuf&) = delete;
  ~CaptureBuf() override { std::free(data_); }
  std::string str() const { return std::string(data_ ? data_ : "", size_); }

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = static_cast<char>(c);
    append(&ch, 1);
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    append(s, static_cast<size_t>(n));
    return n;
  }

 private:
  void append(const char* s, size_t n) {
    if (size_ + n > cap_) {
      size_t cap = std::max<size_t>(cap_ * 2, size_ + n + 256);
      char* grown = static_cast<char*>(std::realloc(data_, cap));
      if (!grown) throw std::bad_alloc();
      data_ = grown;
      cap_ = cap;
    }
    std::memcpy(data_ + size_, s, n);
    size_ += n;
  }
  char* data_ = nullptr;
  size_t size_ = 0, cap_ = 0;
};

inline rl::scheduler_type_e scheduler(Mode m) {
  switch (m) {
    case Mode::full: return rl::sched_full;
    case Mode::bound: return rl::sched_bound;
    case Mode::random: return rl::sched_random;
  }
  return rl::sched_full;
}

inline Found found_of(rl::test_result_e r) {
  switch (r) {
    case rl::test_result_success: return Found::nothing;
    case rl::test_result_data_race: return Found::data_race;
    case rl::test_result_deadlock: return Found::deadlock;
    case rl::test_result_user_assert_failed:
    case rl::test_result_user_invariant_failed: return Found::assertion;
    case rl::test_result_livelock: return Found::livelock;
    default: return Found::other;
  }
}

// A Relacy scheduler state ("iteration s s s ...") as one token word and back.
inline std::string encode_state(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  std::replace(s.begin(), s.end(), ' ', ',');
  return s;
}
inline std::string decode_state(std::string s) {
  if (s.empty() || s.find_first_not_of("0123456789,") != std::string::npos || s.front() == ',')
    throw std::invalid_argument("replay state '" + s +
                                "' is not a Relacy scheduler state (digits and commas)");
  std::replace(s.begin(), s.end(), ',', ' ');
  return s;
}

// ---- Relacy's history, read back into the runner's shape ---------------------
// A history line is "[i] t: TEXT, in FUNCTION, FILE(LINE)". Relacy prints the
// history once in order and again per thread; only the first is read.
// Threads: the construction of the suite, before() and after() run on
// Relacy's thread 0 between its [CTOR|BEFORE|AFTER BEGIN] and END markers:
// "main"; otherwise Relacy's thread t is model thread t ("T<t>"; dynamic
// threads follow the static ones, as in the model's own numbering). Objects
// are named by kind and first appearance ("mutex#0", "var#1"). What Relacy
// does not record is not invented: a data race names the racing access and,
// as the earlier one, the latest conflicting access of another thread to the
// same object that the history shows.
struct HistoryLine {
  unsigned tid = 0;
  std::string text, function, where;
};

inline bool parse_history_line(const std::string& line, HistoryLine& out) {
  if (line.size() < 4 || line[0] != '[') return false;
  const std::size_t close = line.find("] ");
  if (close == std::string::npos) return false;
  const std::size_t colon = line.find(": ", close);
  if (colon == std::string::npos) return false;
  const std::string t = line.substr(close + 2, colon - close - 2);
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) return false;
  out.tid = static_cast<unsigned>(std::stoul(t));
  std::string rest = line.substr(colon + 2);
  // FILE(LINE) at the end
  out.where.clear();
  if (!rest.empty() && rest.back() == ')') {
    const std::size_t open = rest.rfind('(');
    const std::size_t comma = rest.rfind(", ", open);
    if (open != std::string::npos && comma != std::string::npos) {
      const std::string num = rest.substr(open + 1, rest.size() - open - 2);
      if (!num.empty() && num.find_first_not_of("0123456789") == std::string::npos) {
        out.where = rest.substr(comma + 2, open - comma - 2) + ":" + num;
        rest.resize(comma);
      }
    }
  }
  const std::size_t in = rest.find(", in ");
  if (in != std::string::npos) {
    out.function = rest.substr(in + 5);
    rest.resize(in);
  } else {
    out.function.clear();
  }
  out.text = rest;
  return true;
}

// "key=VALUE" out of a Relacy event text, up to the next ',' or ' '.
inline std::string field(const std::string& text, const std::string& key) {
  const std::size_t p = text.find(key + "=");
  if (p == std::string::npos) return "";
  const std::size_t b = p + key.size() + 1;
  const std::size_t e = text.find_first_of(", ]", b);
  return text.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

inline Counterexample counterexample(const std::string& history) {
  Counterexample c;
  std::istringstream in(history);
  std::string line;
  bool started = false;
  std::map<std::string, std::string> names;  // address -> "kind#n"
  std::map<std::string, int> per_kind;
  bool main_phase = false;
  std::map<unsigned, std::string> last_text;  // per Relacy thread: its last record's text
  std::map<unsigned, int>
      blocking_step;  // per Relacy thread: its "blocking" record, as a step index
  std::map<std::string, std::vector<std::pair<std::string, std::string>>>
      held;              // thread -> (mutex, where)
  std::string terminal;  // "DATA RACE", "DEADLOCK", ... and its thread
  std::string terminal_thread, terminal_where;
  int race_step = -1;
  while (std::getline(in, line)) {
    if (!started) {
      started = line.rfind("execution history", 0) == 0;
      continue;
    }
    HistoryLine h;
    if (!parse_history_line(line, h)) break;  // the blank line before the per-thread part
    const std::string& t = h.text;
    if (t == "[CTOR BEGIN]" || t == "[BEFORE BEGIN]" || t == "[AFTER BEGIN]" || t == "[DTOR BEGIN]")
      main_phase = true;
    const std::string thread = main_phase ? "main" : "T" + std::to_string(h.tid);
    if (t == "[CTOR END]" || t == "[BEFORE END]" || t == "[AFTER END]" || t == "[DTOR END]")
      main_phase = false;
    // the verdict's own record
    for (const char* kind :
         {"DATA RACE", "DEADLOCK", "USER ASSERT FAILED", "LIVELOCK", "USER INVARIANT FAILED"}) {
      if (t.rfind(kind, 0) == 0) {
        terminal = kind;
        terminal_thread = thread;
        terminal_where = h.where;
        if (terminal == "USER ASSERT FAILED" || terminal == "USER INVARIANT FAILED") {
          const std::size_t a = t.find("(assertion: ");
          c.check = a != std::string::npos ? t.substr(a + 12, t.size() - a - 13) : t;
          c.check_where = h.where;
          c.check_thread = thread;
          c.check_step = static_cast<int>(c.steps.size());
        }
      }
    }
    if (!terminal.empty() && terminal_thread == thread && t.rfind(terminal, 0) == 0) {
      if (terminal == "DATA RACE") {
        // the racing access is this thread's record just before
        for (int k = static_cast<int>(c.steps.size()) - 1; k >= 0; --k)
          if (c.steps[static_cast<std::size_t>(k)].thread == thread) {
            race_step = k;
            break;
          }
      }
      continue;
    }
    last_text[h.tid] = t;
    Step st;
    st.thread = thread;
    st.where = h.where;
    st.function = h.function;
    st.internal = h.where.rfind("/usr/include/relacy/", 0) == 0 || t.front() == '[' ||
                  t == "blocking current thread" || t.rfind("unblocking thread", 0) == 0;
    std::string body = t;
    if (t.size() > 3 && t[0] == '<') {
      const std::size_t gt = t.find("> ");
      if (gt != std::string::npos) {
        const std::string addr = t.substr(1, gt - 1);
        body = t.substr(gt + 2);
        const char* kind = body.rfind("mutex:", 0) == 0      ? "mutex"
                           : body.rfind("cond_var:", 0) == 0 ? "cv"
                           : body.rfind("load, value", 0) == 0 || body.rfind("store, value", 0) == 0
                               ? "var"
                               : "atomic";
        auto [it, fresh] = names.emplace(addr, "");
        if (fresh) it->second = std::string(kind) + "#" + std::to_string(per_kind[kind]++);
        st.object = it->second;
      }
    }
    const std::string& o = st.object;
    const std::string order = field(body, "order");
    const std::string ord = order.empty() ? "" : " (" + order + ")";
    if (body == "mutex: exclusive lock")
      st.op = "lock " + o;
    else if (body == "mutex: exclusive unlock")
      st.op = "unlock " + o;
    else if (body.rfind("mutex: ", 0) == 0)
      st.op = body.substr(7) + " " + o;
    else if (body == "cond_var: wait enter")
      st.op = "wait " + o;
    else if (body.rfind("cond_var: wait exit due to notified", 0) == 0)
      st.op = "wake " + o;
    else if (body.rfind("cond_var: wait exit", 0) == 0)
      st.op = "wake " + o + " (timeout/spurious)";
    else if (body.rfind("cond_var: notify one", 0) == 0)
      st.op = "notify_one " + o;
    else if (body.rfind("cond_var: notify all", 0) == 0)
      st.op = "notify_all " + o;
    else if (body.rfind("load, value=", 0) == 0) {
      st.op = "read " + o + " = " + field(body, "value");
      st.access = 'r';
    } else if (body.rfind("store, value=", 0) == 0) {
      st.op = "write " + o + " = " + field(body, "value");
      st.access = 'w';
    } else if (body.rfind("atomic load", 0) == 0) {
      st.op = "load " + o + " = " + field(body, "value") +
              (body.find("NOT CURRENT") != std::string::npos ? " (stale)" : "") + ord;
      st.access = 'r';
    } else if (body.rfind("atomic store", 0) == 0) {
      st.op = "store " + o + " = " + field(body, "value") + ord;
      st.access = 'w';
    } else if (!o.empty()) {  // an RMW: fetch_add, exchange, compare_exchange
      const std::string op = body.substr(0, body.find_first_of(" ,"));
      const std::string prev = field(body, "prev"), now = field(body, "new");
      st.op = op + " " + o + (prev.empty() ? "" : " " + prev + " -> " + now) + ord;
      st.access = body.find("fail") != std::string::npos ? 'r' : 'w';
    } else if (t.rfind("yield", 0) == 0)
      st.op = "yield";
    else if (t == "blocking current thread")
      st.op = "blocks";
    else
      st.op = t;
    if (st.op.rfind("lock ", 0) == 0) held[thread].push_back({o, h.where});
    if (st.op.rfind("unlock ", 0) == 0 || (st.op.rfind("wait ", 0) == 0 && false)) {
      auto& v = held[thread];
      for (auto it = v.begin(); it != v.end(); ++it)
        if (it->first == o) {
          v.erase(it);
          break;
        }
    }
    if (t == "blocking current thread") blocking_step[h.tid] = static_cast<int>(c.steps.size());
    c.steps.push_back(std::move(st));
  }
  if (terminal == "DATA RACE" && race_step >= 0) {
    Step& second = c.steps[static_cast<std::size_t>(race_step)];
    // the racing access's value is not the one it would have seen: drop it
    const std::size_t eq = second.op.find(" = ");
    if (eq != std::string::npos) second.op.resize(eq);
    int first = -1;
    for (int k = race_step - 1; k >= 0 && first < 0; --k) {
      const Step& e = c.steps[static_cast<std::size_t>(k)];
      if (e.object == second.object && e.thread != second.thread && e.access != 0 &&
          (e.access == 'w' || second.access == 'w'))
        first = k;
    }
    if (first >= 0) {
      const Step& e = c.steps[static_cast<std::size_t>(first)];
      c.race.push_back({e.thread, e.op.substr(0, e.op.find(" = ")), e.where, first});
    } else {
      c.race.push_back(
          {"?", "an access of another thread that Relacy's history does not show", "", -1});
    }
    c.race.push_back({second.thread, second.op, second.where, race_step});
  }
  if (terminal == "DEADLOCK") {
    for (const auto& [tid, text] : last_text) {
      if (text != "blocking current thread") continue;
      const int b = blocking_step[tid];
      const Step& blk = c.steps[static_cast<std::size_t>(b)];
      BlockedThread bt;
      bt.thread = blk.thread;
      if (blk.function == "join") {
        // Relacy's join records its own line only: name the thread's last step
        bt.op = "join";
        for (int k = b - 1; k >= 0; --k) {
          const Step& e = c.steps[static_cast<std::size_t>(k)];
          if (e.thread != blk.thread || e.internal) continue;
          bt.where = e.where;
          bt.note = "Relacy records no line for its join: the line is " + blk.thread +
                    "'s last step (" + e.op + ")";
          break;
        }
      } else {
        // the operation that blocked: the thread's last step before, past
        // the unlock a wait performs
        std::string mutex;
        for (int k = b - 1; k >= 0; --k) {
          const Step& e = c.steps[static_cast<std::size_t>(k)];
          if (e.thread != blk.thread || e.internal) continue;
          if (e.op.rfind("unlock ", 0) == 0 && mutex.empty()) {
            mutex = e.object;
            continue;
          }
          bt.op = e.op + (e.op.rfind("wait ", 0) == 0 && !mutex.empty() ? " (" + mutex + ")" : "");
          bt.where = e.where;
          break;
        }
      }
      if (!blk.internal || bt.where.empty()) bt.where = blk.where;
      for (const auto& [m, w] : held[blk.thread]) bt.holds.push_back(m + " (locked at " + w + ")");
      c.blocked.push_back(std::move(bt));
    }
  }
  return c;
}

template <class S, class Sched>
rl::test_result_e run_with(rl::test_params& p, std::ostream& state_out, bool second) {
  return rl::run_test<S, Sched>(p, state_out, second);
}

template <class S>
rl::test_result_e run_suite(rl::test_params& p, std::ostream& state_out, bool second) {
  constexpr rl::thread_id_t n = S::params::thread_count;
  switch (p.search_type) {
    case rl::sched_random: return run_with<S, rl::random_scheduler<n>>(p, state_out, second);
    case rl::sched_bound: return run_with<S, rl::context_bound_scheduler<n>>(p, state_out, second);
    default: return run_with<S, rl::full_search_scheduler<n>>(p, state_out, second);
  }
}

// One Relacy search of M. rl::simulate's own sequence (search, then re-run
// the failing execution from its final state to collect its history), with
// the budget watch armed for the search and disarmed for the re-run.
template <template <class> class M>
Verdict drive(const Run& run) {
  using Sync = sync_for<M>;
  using S = Suite<M, Sync>;
  if constexpr (requires { M<Sync>::before_search(); }) M<Sync>::before_search();
  hang::reset();

  CaptureBuf out_buf, progress_buf;
  std::ostream out(&out_buf), progress(&progress_buf);
  rl::test_params p;
  p.search_type = scheduler(run.mode);
  p.context_bound = run.bound;
  p.iteration_count = run.iterations ? run.iterations : 1000;
  p.execution_depth_limit = run.depth_limit;
  p.output_stream = &out;
  p.progress_stream = &progress;
  const bool replay = !run.replay_state.empty();
  std::string initial;
  if (replay) initial = decode_state(run.replay_state);
  p.initial_state.assign(initial.begin(), initial.end());
  p.collect_history = replay;
  out << "model " << run.label << "\n";

  Watch& watch = Watch::current();
  watch.arm(run.label, replay ? 0.0 : run.budget_s);
  rl::ostringstream state;
  rl::test_result_e res = run_suite<S>(p, state, false);
  watch.disarm();
  const bool budget_hit = res == rl::test_result_until_condition_hit && watch.hit();
  if (res != rl::test_result_success && !budget_hit && !replay) {
    // Re-run the failing execution with its history collected.
    rl::ostringstream again;
    p.initial_state = state.str();
    p.final_state = state.str();
    p.collect_history = true;
    run_suite<S>(p, again, true);
  }
  if (replay && res != rl::test_result_success) p.final_state = p.initial_state;

  // Iterations are numbered from 0 (or from the replayed one): stop_iteration
  // is the last one run, so this many executions were explored. A search cut
  // by the budget stopped before running its last numbered execution.
  unsigned long long start = 0;
  if (replay) start = std::stoull(initial.substr(0, initial.find(' ')));
  Verdict v;
  v.preemptions = run.bound;
  v.budget_hit = budget_hit;
  v.executions = p.stop_iteration - start + (budget_hit ? 0 : 1);
  if (budget_hit) {
    v.found = Found::nothing;
    v.exhaustive = false;
    v.detail = "search stopped by the budget";
    return v;
  }
  v.found = found_of(res);
  v.exhaustive = v.found == Found::nothing && run.mode != Mode::random;
  v.detail = rl::test_result_str(res);
  if (v.found == Found::deadlock && !hang::describe().empty())
    v.detail += ": in OS calls: " + hang::describe();
  if (v.found != Found::nothing) {
    v.history = out_buf.str();
    v.cex = counterexample(v.history);
    v.replay_state = encode_state(std::string(p.final_state.begin(), p.final_state.end()));
    return v;
  }
  if constexpr (requires { M<Sync>::after_search(); }) {
    if (!M<Sync>::after_search()) {
      v.found = Found::assertion;
      v.detail = "search-level check failed after the search";
    }
  }
  return v;
}

template <template <class> class M>
ModelEntry entry(std::string name, std::string row, std::string claim, Expect expect, Search search,
                 DporSearch = {}) {  // the DPOR checker's search: not Relacy's
  ModelEntry e{std::move(name),
               std::move(row),
               std::move(claim),
               expect,
               search,
               "relacy",
               &drive<M>,
               {},
               {},
               {}};
  using Sync = sync_for<M>;
  if constexpr (requires { M<Sync>::note(); }) e.note = [] { return M<Sync>::note(); };
  return e;
}

}  // namespace relacy_checker

// The checker this executable is built for.
namespace checker = relacy_checker;

}  // namespace interleave::models
