// models/runner.cpp — the command-line runner linked into every model
// executable, for every checker. Checker-neutral: it sees models only through
// the registry (registry.hpp) and each model's driver, which the checker's
// adapter supplies. `--help` lists the flags.
//
// What it does with a model: runs its search (or, for an expected failure,
// context bounds 0..k, smallest first), judges the checker's Verdict against
// the model's Expect, prints the verdict with its search mode, bound and
// executions, prints a failure's interleaving with raw addresses named by
// first use (so a history is byte-identical run to run), and makes a replay
// token that names the checker:
//   CHECKER:MODEL:MODE:BOUND:STATE:CHECKSUM
// (STATE is the checker's own; CHECKSUM is FNV-1a of everything before it, so
// a mistyped or hand-made token is refused instead of handed to the checker).
//
// Limits, settable by flag or environment (a flag wins):
//   --bound K / INTERLEAVE_MODEL_BOUND=K        context bound of every model run
//   --budget S / INTERLEAVE_MODEL_BUDGET_S=S    seconds per model; a model that
//       reaches it stops and says "bounded by budget, N executions": never
//       "proved". An expected failure not found within it is NOT FOUND.
//   --budget-executions N / INTERLEAVE_MODEL_BUDGET_EXECUTIONS=N   executions
//       per model (a checker with an execution budget only; the others refuse
//       the flag and say they ignore the variable): the same verdict on every
//       machine, "bounded by budget, N executions" when reached.
// Scale-out: --shard I/N searches part I (1..N) of each model that must
// hold (a checker that can split its search only; expected failures are
// left to the unsharded run); --merge FILE... reads the --report records of
// the N shards and prints one verdict per model with the summed executions
// ("proved" only when all N shards proved their part).
// Progress: a long search prints a line to stderr at most every 5 s (model,
// executions so far, rate).
//
// JSON records (--report FILE, one object a line): when a model starts, a
// record with verdict "started" and passed=false; when it ends, that line is
// removed and the final record appended. A run that crashes or is killed thus
// leaves "started" in its matrix cell, not a missing cell.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "registry.hpp"

namespace interleave::models {

std::vector<ModelEntry>& registry() {
  static std::vector<ModelEntry> models;
  return models;
}

const char* expect_name(Expect e) {
  switch (e) {
    case Expect::holds: return "holds";
    case Expect::data_race: return "data_race";
    case Expect::deadlock: return "deadlock";
    case Expect::assertion: return "assertion";
    case Expect::livelock: return "livelock";
  }
  return "?";
}

const char* found_name(Found f) {
  switch (f) {
    case Found::nothing: return "nothing";
    case Found::data_race: return "data race";
    case Found::deadlock: return "deadlock";
    case Found::assertion: return "assertion failure";
    case Found::livelock: return "livelock";
    case Found::other: return "other failure";
  }
  return "?";
}

Found expected_found(Expect e) {
  switch (e) {
    case Expect::holds: return Found::nothing;
    case Expect::data_race: return Found::data_race;
    case Expect::deadlock: return Found::deadlock;
    case Expect::assertion: return Found::assertion;
    case Expect::livelock: return Found::livelock;
  }
  return Found::other;
}

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::full: return "full";
    case Mode::bound: return "bound";
    case Mode::random: return "random";
  }
  return "?";
}

Mode parse_mode(const std::string& s) {
  if (s == "full") return Mode::full;
  if (s == "bound") return Mode::bound;
  if (s == "random") return Mode::random;
  throw std::invalid_argument("mode must be full, bound or random, not '" + s + "'");
}

namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t) {
  return std::chrono::duration<double>(clock::now() - t).count();
}

std::string thousands(unsigned long long n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string fixed1(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

// Checkers print raw object addresses, which move with ASLR. Name each
// address by its order of first appearance so a history is identical run to
// run.
std::string normalise(const std::string& text) {
  static const std::regex addr("0x[0-9a-fA-F]+");
  std::map<std::string, int> names;
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), addr);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out.append(text, last, static_cast<size_t>(it->position()) - last);
    auto [pos, fresh] = names.emplace(it->str(), static_cast<int>(names.size()) + 1);
    out += "obj" + std::to_string(pos->second);
    last = static_cast<size_t>(it->position() + it->length());
  }
  out.append(text, last, std::string::npos);
  return out;
}

// The same for a counterexample's steps (a value may be an address): one
// naming across all of them.
Counterexample normalise(Counterexample c) {
  static const std::regex addr("0x[0-9a-fA-F]+");
  std::map<std::string, int> names;
  auto fix = [&](std::string& text) {
    std::string out;
    size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), addr);
         it != std::sregex_iterator(); ++it) {
      out.append(text, last, static_cast<size_t>(it->position()) - last);
      auto [pos, fresh] = names.emplace(it->str(), static_cast<int>(names.size()) + 1);
      out += "obj" + std::to_string(pos->second);
      last = static_cast<size_t>(it->position() + it->length());
    }
    out.append(text, last, std::string::npos);
    text = out;
  };
  for (Step& s : c.steps) fix(s.op);
  for (AccessRef& a : c.race) fix(a.op);
  for (BlockedThread& b : c.blocked) fix(b.op);
  return c;
}

// FNV-1a, to reject a mistyped or hand-made token.
std::string checksum(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

std::string make_token(const ModelEntry& m, Mode mode, unsigned bound, const std::string& state) {
  if (state.empty() || state.find_first_not_of(
                           "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,._-") !=
                           std::string::npos)
    throw std::logic_error("checker " + std::string(m.checker) + " returned a replay state '" +
                           state + "' that cannot go into a token");
  const std::string body = std::string(m.checker) + ":" + m.name + ":" + mode_name(mode) + ":" +
                           std::to_string(bound) + ":" + state;
  return body + ":" + checksum(body);
}

struct Token {
  std::string checker, model;
  Mode mode = Mode::full;
  unsigned bound = 0;
  std::string state;
};

Token parse_token(const std::string& token) {
  const std::string want =
      "want CHECKER:MODEL:MODE:BOUND:STATE:CHECKSUM, e.g. as printed after "
      "\"--replay\" by --reproduce";
  if (std::count(token.begin(), token.end(), ':') < 5)
    throw std::invalid_argument("--replay: '" + token + "' is not a replay token (" + want + ")");
  const size_t last = token.rfind(':');
  const std::string body = token.substr(0, last);
  if (token.substr(last + 1) != checksum(body))
    throw std::invalid_argument("--replay: token is damaged (checksum mismatch): " + token);
  Token t;
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t colon = body.find(':', start);
    parts.push_back(body.substr(start, colon - start));
    start = colon + 1;
  }
  t.checker = parts[0];
  t.model = parts[1];
  if (t.checker.empty() ||
      t.checker.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos)
    throw std::invalid_argument("--replay: token names no checker (first field '" + t.checker +
                                "'; " + want + ")");
  try {
    t.mode = parse_mode(parts[2]);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--replay: token's ") + e.what());
  }
  if (parts[3].empty() || parts[3].find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("--replay: token's bound '" + parts[3] + "' is not a number");
  t.bound = static_cast<unsigned>(std::stoul(parts[3]));
  t.state = body.substr(start);
  if (t.state.empty()) throw std::invalid_argument("--replay: token has an empty state: " + token);
  return t;
}

// What the runner concluded about one model.
struct Outcome {
  bool passed = false;
  Found found = Found::nothing;
  std::string how;  // "0 preemptions (context-bound search, bounds 0..0)"
  Counterexample cex;
  std::string verdict;  // "proved", "race found", "bounded by budget", "FAILED", ...
  std::string detail;   // mode, bound, executions
  unsigned long long executions = 0;
  unsigned bound_used = 0;
  bool budget_hit = false;
  std::string history;  // normalised, empty when nothing was found
  std::string token;    // empty when nothing was found
  double duration_s = 0;
};

bool expects_failure(const ModelEntry& m) { return m.expect != Expect::holds; }

std::string how_searched(const Search& s, unsigned bound) {
  switch (s.mode) {
    case Mode::full: return "full search";
    case Mode::bound: return "context bound " + std::to_string(bound);
    case Mode::random: return "random scheduler, seeds 0.." + std::to_string(s.iterations - 1);
  }
  return "?";
}

// Set once from the command line: applied to every search request.
struct Limits {
  unsigned long long budget_executions = 0;
  unsigned shard_index = 0, shard_count = 0;  // 0-based; 0 = unsharded
};
Limits& limits() {
  static Limits l;
  return l;
}

Run request(const ModelEntry& m, const Search& s, unsigned bound, double budget_s) {
  Run r;
  r.budget_executions = limits().budget_executions;
  r.shard_index = limits().shard_index;
  r.shard_count = limits().shard_count;
  r.mode = s.mode;
  r.bound = bound;
  r.iterations = s.iterations;
  r.depth_limit = s.depth_limit;
  r.budget_s = budget_s;
  r.label = m.name;
  return r;
}

Outcome replay_model(const ModelEntry& m);

Outcome run_model(const ModelEntry& m, const Search& s, double budget_s) {
  if (!m.replay_token.empty()) return replay_model(m);
  const auto t0 = clock::now();
  Outcome o;
  char budget_buf[32];
  std::snprintf(budget_buf, sizeof budget_buf, "%g s budget", budget_s);
  const std::string budget_text = budget_buf;
  if (!expects_failure(m)) {
    const unsigned bound = s.mode == Mode::bound ? s.bound : 0;
    const Verdict v = m.drive(request(m, s, bound, budget_s));
    o.executions = v.executions;
    o.bound_used = bound;
    o.budget_hit = v.budget_hit;
    const std::string how = how_searched(s, bound);
    if (v.found == Found::nothing && v.budget_hit) {
      o.passed = true;
      o.verdict = "bounded by budget";
      std::string used = budget_text;
      if (!v.budget_text.empty()) {
        used = v.budget_text;
      } else if (budget_s <= 0 && v.budget_s > 0) {
        std::snprintf(budget_buf, sizeof budget_buf, "%g s", v.budget_s);
        used = m.checker + std::string(" checker's own ") + budget_buf + " budget";
      }
      o.detail = thousands(v.executions) + " executions, no violation in them (" + how +
                 " stopped at the " + used + ": not exhaustive)";
    } else if (v.found == Found::nothing) {
      o.passed = true;
      o.verdict = s.mode == Mode::full && v.exhaustive ? "proved" : "no violation";
      o.detail = how + ", " + thousands(v.executions) + " executions";
    } else {
      o.verdict = "FAILED";
      o.detail = v.detail + " under " + how + " at execution " + thousands(v.executions);
      o.found = v.found;
      o.how = how;
      o.cex = normalise(v.cex);
      o.history = normalise(v.history);
      if (!v.replay_state.empty()) o.token = make_token(m, s.mode, bound, v.replay_state);
    }
    o.duration_s = seconds_since(t0);
    return o;
  }
  // Expected failure: the smallest context bound that exposes it.
  const bool iterative = s.mode == Mode::bound;
  const unsigned max_bound = iterative ? s.bound : 0;
  unsigned long long total = 0;
  unsigned reached = 0;  // the last bound searched (in part, if the budget cut it)
  for (unsigned b = 0; b <= max_bound; ++b) {
    reached = b;
    double left = 0;
    if (budget_s > 0) {
      left = budget_s - seconds_since(t0);
      if (left <= 0) {
        o.budget_hit = true;
        break;
      }
    }
    const Verdict v = m.drive(request(m, s, b, left));
    total += v.executions;
    o.executions = total;
    if (v.budget_hit) {
      o.budget_hit = true;
      break;
    }
    if (v.found == expected_found(m.expect)) {
      o.passed = true;
      o.bound_used = b;
      o.verdict = m.expect == Expect::data_race  ? "race found"
                  : m.expect == Expect::deadlock ? "deadlock found"
                  : m.expect == Expect::livelock ? "livelock found"
                                                 : "bug found";
      const std::string how =
          iterative ? std::to_string(b) + (b == 1 ? " preemption" : " preemptions") +
                          " (context-bound search, bounds 0.." + std::to_string(b) + ")"
                    : (s.mode == Mode::full ? "full search" : "random scheduler");
      o.detail =
          v.detail + ", " + how + ", " + thousands(total) + " executions, history replayable";
      o.found = v.found;
      o.how = how + ", " + thousands(total) + (total == 1 ? " execution" : " executions");
      o.cex = normalise(v.cex);
      o.history = normalise(v.history);
      if (!v.replay_state.empty()) o.token = make_token(m, s.mode, b, v.replay_state);
      o.duration_s = seconds_since(t0);
      return o;
    }
    if (v.found != Found::nothing) {
      o.verdict = "FAILED";
      o.detail = std::string("expected ") + expect_name(m.expect) + ", " + m.checker + " found " +
                 v.detail;
      o.found = v.found;
      o.how = "context bound " + std::to_string(b);
      o.cex = normalise(v.cex);
      o.history = normalise(v.history);
      if (!v.replay_state.empty()) o.token = make_token(m, s.mode, b, v.replay_state);
      o.duration_s = seconds_since(t0);
      return o;
    }
    if (!iterative) break;
  }
  o.verdict = "NOT FOUND";
  o.detail =
      std::string("expected ") + expect_name(m.expect) + ", none in " +
      (iterative ? "context bounds 0.." + std::to_string(o.budget_hit ? reached : max_bound)
                 : std::string(mode_name(s.mode)) + " search") +
      ", " + thousands(total) + " executions" +
      (o.budget_hit
           ? " (bounded by budget: stopped at the " + budget_text +
                 (iterative ? " during bound " + std::to_string(reached) : std::string()) + ")"
           : "");
  o.duration_s = seconds_since(t0);
  return o;
}

// A replay registration (INTERLEAVE_MODEL_REPLAY): one execution, the
// token's; it passes when that execution ends in the expected outcome.
Outcome replay_model(const ModelEntry& m) {
  const auto t0 = clock::now();
  const Token tok = parse_token(m.replay_token);
  Run r;
  r.mode = tok.mode;
  r.bound = tok.bound;
  r.depth_limit = m.search.depth_limit;
  r.replay_state = tok.state;
  r.label = m.name;
  const Verdict v = m.drive(r);
  Outcome o;
  o.executions = v.executions;
  o.bound_used = tok.bound;
  o.found = v.found;
  o.how = "replay of one token";
  o.cex = normalise(v.cex);
  o.history = normalise(v.history);
  o.token = m.replay_token;
  const bool same = v.found != Found::nothing && v.executions == 1;
  o.passed = same && v.found == expected_found(m.expect);
  o.verdict = o.passed ? "replayed" : "FAILED";
  o.detail =
      !same ? "the token's execution did not fail as recorded (replay diverged: the impl's sync "
              "operations changed; --reproduce prints a fresh registration): " +
                  v.detail
      : o.passed
          ? std::string(found_name(v.found)) + " replayed from its token, 1 execution: " + v.detail
          : std::string("expected ") + expect_name(m.expect) + ", the replay found " + v.detail;
  o.duration_s = seconds_since(t0);
  return o;
}

// ---- a counterexample for a person -----------------------------------------
// Printed once, in this order: a summary of the failure (a data race: its two
// accesses and how many steps lie between them; a deadlock: each blocked
// thread's operation, line and the locks it holds; a failed check: the check
// and the reads and writes of the shared objects involved; a livelock: the
// loop and a hint), the interleaving as a table (step, thread, operation,
// line; checker-internal steps and function names only with --verbose), the
// command that replays it and a model registration that keeps it as a
// regression test. Both checkers hand the runner the same structure
// (Counterexample, registry.hpp), so both print the same shape.

struct Show {
  bool verbose = false;
  std::string exe;         // this executable's path (argv[0])
  bool regression = true;  // print the replay command and the registration
};

constexpr size_t kTableRows =
    32;  // rows of the default table (the default output stays within 60 lines)
constexpr size_t kRunKeep = 2;  // a long run of one thread keeps its first and last kRunKeep steps

// A path as the table shows it: impl lines relative to the impl's include directory.
std::string short_where(const std::string& w) {
  const std::string impl = "impl/include/interleave/";
  return w.rfind(impl, 0) == 0 ? w.substr(impl.size()) : w;
}

std::string pad(std::string s, size_t n) {
  if (s.size() < n) s.append(n - s.size(), ' ');
  return s;
}

// The line range of a run of steps: "thread_pool.hpp:401-434" or a list of files.
std::string line_range(const std::vector<Step>& steps, const std::vector<size_t>& idx) {
  std::string file;
  long lo = -1, hi = -1;
  bool one_file = true;
  for (size_t k : idx) {
    const std::string w = short_where(steps[k].where);
    const size_t colon = w.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string f = w.substr(0, colon);
    const long l = std::atol(w.c_str() + colon + 1);
    if (file.empty()) file = f;
    if (f != file) one_file = false;
    lo = lo < 0 ? l : std::min(lo, l);
    hi = std::max(hi, l);
  }
  if (file.empty()) return "";
  if (!one_file) return file + " and others";
  return file + ":" + std::to_string(lo) + (hi != lo ? "-" + std::to_string(hi) : "");
}

// The base name of this executable's model file: model_counter_dpor -> counter.
std::string model_file_of(const std::string& exe, const std::string& checker) {
  std::string b =
      exe.substr(exe.find_last_of('/') == std::string::npos ? 0 : exe.find_last_of('/') + 1);
  if (b.rfind("model_", 0) == 0) b = b.substr(6);
  const std::string suffix = "_" + checker;
  if (b.size() > suffix.size() && b.compare(b.size() - suffix.size(), suffix.size(), suffix) == 0)
    b.resize(b.size() - suffix.size());
  return "models/" + b + "_model.cpp";
}

std::string cpp_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* expect_enum(Expect e) {
  switch (e) {
    case Expect::holds: return "Expect::holds";
    case Expect::data_race: return "Expect::data_race";
    case Expect::deadlock: return "Expect::deadlock";
    case Expect::assertion: return "Expect::assertion";
    case Expect::livelock: return "Expect::livelock";
  }
  return "?";
}

// The summary lines of a failure.
std::vector<std::string> summary_of(const Outcome& o, const std::string& detail) {
  std::vector<std::string> out;
  const Counterexample& c = o.cex;
  const auto step_no = [](int k) {
    return k >= 0 ? "step " + std::to_string(k + 1) : std::string("not in the table");
  };
  switch (o.found) {
    case Found::data_race: {
      if (c.race.size() == 2) {
        out.push_back("data race: two accesses to " +
                      c.race[1].op.substr(c.race[1].op.find(' ') + 1) +
                      " with no happens-before between them");
        const char* side[] = {"earlier", "racing "};
        for (size_t k = 0; k < 2; ++k) {
          const AccessRef& a = c.race[k];
          out.push_back("  " + std::string(side[k]) + "  " + pad(a.thread, 5) + " " +
                        pad(a.op.substr(0, a.op.find(' ')), 6) + " " +
                        (a.where.empty() ? "?" : a.where) + "  (" + step_no(a.step) + ")");
        }
        if (c.race[0].step >= 0 && c.race[1].step >= 0) {
          size_t between = 0;
          for (int k = c.race[0].step + 1; k < c.race[1].step; ++k)
            if (!c.steps[static_cast<size_t>(k)].internal) ++between;
          out.push_back("  between them: " + std::to_string(between) +
                        (between == 1 ? " step" : " steps") +
                        (between ? " (steps " + std::to_string(c.race[0].step + 2) + "-" +
                                       std::to_string(c.race[1].step) + " below)"
                                 : ": the racing access follows the earlier one directly"));
        } else if (c.race[0].step < 0) {
          out.push_back("  (the checker's history does not show the earlier access)");
        }
      } else {
        out.push_back("data race: " + detail);
      }
      break;
    }
    case Found::deadlock: {
      const bool lost = std::any_of(c.blocked.begin(), c.blocked.end(), [](const BlockedThread& b) {
        return b.note.find("lost wake-up") != std::string::npos;
      });
      out.push_back(std::string(lost ? "deadlock (a lost wake-up)" : "deadlock") +
                    ": no thread can go on; " + std::to_string(c.blocked.size()) +
                    (c.blocked.size() == 1 ? " thread is" : " threads are") + " blocked for ever");
      for (const BlockedThread& b : c.blocked) {
        std::string held;
        for (const std::string& h : b.holds) held += (held.empty() ? "" : ", ") + h;
        out.push_back("  " + pad(b.thread, 5) + " blocked in " + b.op + " at " +
                      (b.where.empty() ? "?" : b.where) + ", holding " +
                      (held.empty() ? "nothing" : held));
        if (!b.note.empty()) out.push_back("        " + b.note);
      }
      if (c.blocked.empty()) out.push_back("  " + detail);
      break;
    }
    case Found::assertion: {
      out.push_back(c.check.empty() ? "check failed: " + detail
                                    : "check failed: " + c.check + " at " +
                                          (c.check_where.empty() ? "?" : c.check_where));
      // The reads and writes involved: the objects the check read (the
      // checking thread's reads since its last sync step, an unlock aside),
      // and every access of the
      // threads to them up to the check (main's construction aside). Without
      // those, the objects two or more model threads touch, one writing.
      const size_t end = c.check_step >= 0
                             ? std::min(c.steps.size(), static_cast<size_t>(c.check_step))
                             : c.steps.size();
      std::set<std::string> checked;
      for (size_t k = end; k-- > 0 && checked.size() < 3;) {  // back to the thread's last sync step
        const Step& st = c.steps[k];
        if (st.thread != c.check_thread || st.internal || st.op.rfind("unlock ", 0) == 0) continue;
        if (st.access == 0 || st.object.empty()) break;
        if (st.access == 'r') checked.insert(st.object);
      }
      size_t first_thread_step = 0;
      while (first_thread_step < end && c.steps[first_thread_step].thread == "main")
        ++first_thread_step;
      std::map<std::string, std::pair<std::set<std::string>, bool>> use;
      for (size_t k = 0; k < end; ++k) {
        const Step& st = c.steps[k];
        if (st.access != 0 && st.thread != "main" && !st.object.empty()) {
          auto& u = use[st.object];
          u.first.insert(st.thread);
          u.second = u.second || st.access == 'w';
        }
      }
      std::vector<size_t> involved;
      for (size_t k = checked.empty() ? 0 : first_thread_step; k < end; ++k) {
        const Step& st = c.steps[k];
        if (st.access == 0 || st.object.empty()) continue;
        const auto& u = use[st.object];
        if (checked.empty() ? st.thread != "main" && u.first.size() >= 2 && u.second
                            : checked.count(st.object) != 0)
          involved.push_back(k);
      }
      constexpr size_t kMax = 8;
      if (!involved.empty()) {
        out.push_back(
            std::string("  the reads and writes involved (") +
            (checked.empty() ? "shared objects that threads write" : "the objects the check read") +
            "):" +
            (involved.size() > kMax
                 ? " the last " + std::to_string(kMax) + " of " + std::to_string(involved.size())
                 : std::string()));
        for (size_t k = involved.size() > kMax ? involved.size() - kMax : 0; k < involved.size();
             ++k) {
          const Step& st = c.steps[involved[k]];
          out.push_back("    step " + pad(std::to_string(involved[k] + 1), 4) + " " +
                        pad(st.thread, 5) + " " + pad(st.op, 26) + "  " + short_where(st.where));
        }
      }
      break;
    }
    case Found::livelock: {
      out.push_back("livelock: " + detail);
      std::map<std::string, std::set<std::string>> loop;
      size_t seen = 0;
      for (size_t k = c.steps.size(); k-- > 0 && seen < 40;) {
        if (c.steps[k].internal) continue;
        ++seen;
        loop[c.steps[k].thread].insert(short_where(c.steps[k].where));
      }
      for (const auto& [t, lines] : loop) {
        std::string l;
        for (const std::string& w : lines) l += (l.empty() ? "" : ", ") + w;
        out.push_back("  the loop: " + t + " repeats " + l + " (the last " + std::to_string(seen) +
                      " steps)");
      }
      out.push_back(
          "  hint: a spin loop must call Sync::yield() in each iteration; a yielding re-read with "
          "no");
      out.push_back(
          "  store since is then not explored again (DporSearch::spin()), and the loop's traces "
          "are finite");
      break;
    }
    default: out.push_back(std::string(found_name(o.found)) + ": " + detail);
  }
  return out;
}

// The rows of the default table: the steps that are not the checker's own,
// a window on the failure when there are more than kTableRows, and long runs
// of one thread folded to their ends. -1 in a row: a fold; its text is the
// matching entry of `folds`.
struct Table {
  std::vector<long> rows;  // step index, or -(1 + fold index)
  std::vector<std::string> folds;
  size_t hidden_before = 0;
  size_t hidden_after = 0;  // steps after a race's racing access or a failed check
};

Table table_of(const Counterexample& c, bool verbose) {
  Table t;
  std::vector<size_t> shown;
  // A data race ends at its racing access: what a checker ran after it
  // (the DPOR checker runs the execution to its end) is not shown.
  // A failed check ends there too.
  size_t end = c.steps.size();
  if (!verbose && c.race.size() == 2 && c.race[1].step >= 0)
    end = static_cast<size_t>(c.race[1].step) + 1;
  if (!verbose && c.check_step >= 0) end = std::min(end, static_cast<size_t>(c.check_step));
  t.hidden_after = c.steps.size() - end;
  for (size_t k = 0; k < end; ++k)
    if (verbose || !c.steps[k].internal) shown.push_back(k);
  if (verbose || shown.size() <= kTableRows) {
    for (size_t k : shown) t.rows.push_back(static_cast<long>(k));
    return t;
  }
  // The window: from a little before the race's earlier access, or the tail.
  size_t from = 0;
  const bool race = c.race.size() == 2 && c.race[0].step >= 0;
  if (race) {
    const auto first = static_cast<size_t>(c.race[0].step);
    size_t pos = std::lower_bound(shown.begin(), shown.end(), first) - shown.begin();
    from = pos > 2 ? pos - 2 : 0;
  }
  // Fold the runs of one thread, then keep the rows that fit.
  auto fold = [&](size_t start) {
    Table f;
    f.hidden_before = start;
    f.hidden_after = t.hidden_after;
    size_t i = start;
    while (i < shown.size()) {
      size_t j = i;
      while (j < shown.size() && c.steps[shown[j]].thread == c.steps[shown[i]].thread) ++j;
      const size_t n = j - i;
      bool keeps_access = false;
      for (size_t k = i + kRunKeep; k + kRunKeep < j; ++k)
        for (const AccessRef& a : c.race)
          keeps_access = keeps_access || a.step == static_cast<int>(shown[k]);
      if (n > 2 * kRunKeep + 1 && !keeps_access) {
        for (size_t k = i; k < i + kRunKeep; ++k) f.rows.push_back(static_cast<long>(shown[k]));
        std::vector<size_t> mid(shown.begin() + static_cast<long>(i + kRunKeep),
                                shown.begin() + static_cast<long>(j - kRunKeep));
        f.folds.push_back(c.steps[shown[i]].thread + " " + std::to_string(mid.size()) +
                          " more steps (" + line_range(c.steps, mid) + ")");
        f.rows.push_back(-static_cast<long>(f.folds.size()));
        for (size_t k = j - kRunKeep; k < j; ++k) f.rows.push_back(static_cast<long>(shown[k]));
      } else {
        for (size_t k = i; k < j; ++k) f.rows.push_back(static_cast<long>(shown[k]));
      }
      i = j;
    }
    return f;
  };
  if (!race) {
    // the tail: start late enough that the folded rows fit
    size_t lo = 0, hi = shown.size() - 1;
    while (lo < hi) {  // the earliest start whose folded table fits
      const size_t mid = (lo + hi) / 2;
      if (fold(mid).rows.size() <= kTableRows)
        hi = mid;
      else
        lo = mid + 1;
    }
    from = lo;
  }
  t = fold(from);
  if (t.rows.size() > kTableRows) {  // a race window too long even folded: its ends
    const size_t head = 4, tail = kTableRows - head - 1;
    std::vector<long> rows(t.rows.begin(), t.rows.begin() + head);
    t.folds.push_back(std::to_string(t.rows.size() - head - tail) +
                      " more rows (--verbose shows them)");
    rows.push_back(-static_cast<long>(t.folds.size()));
    rows.insert(rows.end(), t.rows.end() - static_cast<long>(tail), t.rows.end());
    t.rows = rows;
  }
  return t;
}

void print_counterexample(std::ostream& os, const ModelEntry& m, const Outcome& o,
                          const Show& show) {
  if (o.history.empty() && o.cex.empty()) return;
  const Counterexample& c = o.cex;
  if (c.empty()) {  // a checker that gave no structure: its text
    os << "  --- interleaving (" << m.checker << " history, addresses named by first use) ---\n";
    std::istringstream in(o.history);
    for (std::string line; std::getline(in, line);) os << "  | " << line << "\n";
  } else {
    for (const std::string& l : summary_of(o, o.detail)) os << "  " << l << "\n";
    const Table t = table_of(c, show.verbose);
    size_t hidden = 0;
    for (const Step& st : c.steps) hidden += st.internal ? 1 : 0;
    os << "  interleaving (" << m.checker << ", " << c.steps.size() - hidden << " steps";
    if (show.verbose)
      os << " and " << hidden << " of the checker's own";
    else
      os << (hidden ? ", " + std::to_string(hidden) + " of the checker's own hidden"
                    : std::string())
         << "; --verbose shows all";
    os << "):\n";
    if (t.hidden_before) os << "    (" << t.hidden_before << " earlier steps not shown)\n";
    size_t w_op = 9, w_where = 4;
    for (long r : t.rows)
      if (r >= 0) {
        w_op = std::max(w_op, std::min<size_t>(c.steps[static_cast<size_t>(r)].op.size(), 34));
        w_where = std::max(w_where, short_where(c.steps[static_cast<size_t>(r)].where).size());
      }
    os << "    step  " << pad("thread", 6) << " " << pad("operation", w_op) << "  line"
       << (show.verbose ? pad("", w_where - 2) + "function" : "") << "\n";
    for (long r : t.rows) {
      if (r < 0) {
        os << "       ~  " << t.folds[static_cast<size_t>(-r - 1)] << "\n";
        continue;
      }
      const auto k = static_cast<size_t>(r);
      const Step& st = c.steps[k];
      char num[32];
      std::snprintf(num, sizeof num, "%6zu", k + 1);
      std::string mark;
      if (c.race.size() == 2 && c.race[0].step == static_cast<int>(k)) mark = "  <- earlier access";
      if (c.race.size() == 2 && c.race[1].step == static_cast<int>(k)) mark = "  <- racing access";
      std::string line = std::string(num) + "  " + pad(st.thread, 6) + " " + pad(st.op, w_op) +
                         "  " +
                         (show.verbose ? pad(short_where(st.where), w_where) + "  " + st.function
                                       : short_where(st.where)) +
                         mark;
      while (!line.empty() && line.back() == ' ') line.pop_back();
      os << "  " << line << "\n";
    }
    if (t.hidden_after)
      os << "    (" << t.hidden_after << " later steps, after the "
         << (c.race.empty() ? "failed check" : "racing access") << ", not shown)\n";
  }
  if (o.token.empty()) return;
  os << "  replay: ci/verify --replay '" << o.token << "'\n";
  os << "          (or " << show.exe << " --replay with the same token)\n";
  if (!show.regression || !m.replay_token.empty()) return;  // a replay registration is one already
  if (m.model_template.empty()) return;
  os << "  regression test, for " << model_file_of(show.exe, m.checker) << ":\n";
  os << "    INTERLEAVE_MODEL_REPLAY(" << m.model_template << ", "
     << cpp_string(m.name + ".replay_" + m.checker) << ", " << cpp_string(m.row) << ",\n";
  os << "        "
     << cpp_string("replays the " + std::string(found_name(o.found)) + " that --reproduce found")
     << ", " << expect_enum(m.expect) << ",\n";
  os << "        " << cpp_string(o.token) << ");\n";
}

const ModelEntry* find_model(const std::string& key, bool prefer_failure) {
  for (const ModelEntry& m : registry())
    if (m.name == key) return &m;
  for (const ModelEntry& m : registry())
    if (m.row == key && (!prefer_failure || expects_failure(m))) return &m;
  for (const ModelEntry& m : registry())
    if (m.row == key) return &m;
  return nullptr;
}

std::string checker_of_this_executable() {
  return registry().empty() ? std::string("?") : std::string(registry().front().checker);
}

std::string search_text(const Search& s, unsigned bound) {
  switch (s.mode) {
    case Mode::full: return "full";
    case Mode::bound: return "bound " + std::to_string(bound);
    case Mode::random: return "random " + std::to_string(s.iterations);
  }
  return "?";
}

// A number from the environment, or `fallback` when unset; a malformed value
// is an error naming the variable.
double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double x = std::strtod(v, &end);
  if (end == v || *end != '\0' || x < 0)
    throw std::invalid_argument(std::string(name) + "='" + v + "' is not a non-negative number");
  return x;
}

// The report file: a "started" line per model, replaced by its final record.
class Report {
 public:
  explicit Report(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    std::ofstream f(path_, std::ios::app);
    if (!f) throw std::runtime_error("--report: cannot open " + path_);
  }
  void started(const nlohmann::json& j) {
    if (path_.empty()) return;
    started_ = j.dump();
    append(started_);
  }
  void finished(const nlohmann::json& j) {
    if (path_.empty()) return;
    std::vector<std::string> lines;
    {
      std::ifstream in(path_);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    const auto it = std::find(lines.rbegin(), lines.rend(), started_);
    if (it != lines.rend()) {
      lines.erase(std::next(it).base());
      std::ofstream out(path_, std::ios::trunc);
      for (const std::string& l : lines) out << l << "\n";
      if (!out) throw std::runtime_error("--report: cannot rewrite " + path_);
    }
    append(j.dump());
  }

 private:
  void append(const std::string& line) {
    std::ofstream f(path_, std::ios::app);
    f << line << "\n";
    if (!f) throw std::runtime_error("--report: cannot write " + path_);
  }
  std::string path_, started_;
};

nlohmann::json record(const ModelEntry& m, const Search& s, unsigned bound) {
  return {{"scenario", m.row},
          {"layer", "model"},
          {"check", m.name},
          {"checker", m.checker},
          {"claim", m.claim},
          {"expected", expect_name(m.expect)},
          {"search", search_text(s, bound)},
          {"mode", mode_name(s.mode)},
          {"bound", bound}};
}

// --merge: one verdict per model from the records of N shards (each record
// carries "shard": "I/N"). A model passes when every shard's record passed;
// it is "proved" only when all N shards are present and each proved its
// part; a shard stopped by its budget makes it "bounded by budget".
int merge_shards(const std::vector<std::string>& files, const std::string& report_path) {
  struct Parts {
    nlohmann::json first;
    std::map<unsigned, nlohmann::json> shards;
    unsigned count = 0;
  };
  std::map<std::string, Parts> models;  // by model name, in name order
  for (const std::string& path : files) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("--merge: cannot read '" + path + "'");
    unsigned line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.empty()) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument("--merge: " + path + ":" + std::to_string(line_no) +
                                    " is not JSON: " + e.what());
      }
      if (!j.contains("shard"))
        throw std::invalid_argument(
            "--merge: " + path + ":" + std::to_string(line_no) +
            " is a record of no shard (run the shards with --shard I/N --report FILE)");
      const std::string sh = j.at("shard").get<std::string>();
      unsigned i = 0, n = 0;
      if (std::sscanf(sh.c_str(), "%u/%u", &i, &n) != 2 || i < 1 || i > n)
        throw std::invalid_argument("--merge: " + path + ":" + std::to_string(line_no) +
                                    " has shard '" + sh + "', want I/N with 1 <= I <= N");
      Parts& p = models[j.at("check").get<std::string>()];
      if (p.count != 0 && p.count != n)
        throw std::invalid_argument("--merge: model " + j.at("check").get<std::string>() +
                                    " has shards of " + std::to_string(p.count) + " and of " +
                                    std::to_string(n));
      if (p.shards.count(i) != 0)
        throw std::invalid_argument("--merge: model " + j.at("check").get<std::string>() +
                                    ": shard " + sh + " appears twice");
      p.count = n;
      if (p.shards.empty()) p.first = j;
      p.shards[i] = j;
    }
  }
  if (models.empty()) throw std::invalid_argument("--merge: no shard records in the files given");
  Report rep(report_path);
  int failures = 0;
  for (auto& [name, p] : models) {
    unsigned long long executions = 0;
    double duration = 0;
    bool passed = true, all_proved = true, budget = false;
    std::string failed_detail;
    for (auto& [i, j] : p.shards) {
      executions += j.value("executions", 0ull);
      duration = std::max(duration, j.value("duration_s", 0.0));
      const bool ok = j.value("passed", false);
      passed = passed && ok;
      budget = budget || j.value("budget_hit", false);
      all_proved = all_proved && j.value("verdict", std::string()).rfind("part proved", 0) == 0;
      if (!ok && failed_detail.empty())
        failed_detail = "shard " + std::to_string(i) + "/" + std::to_string(p.count) + ": " +
                        j.value("verdict", std::string()) + " — " +
                        j.value("detail", std::string());
    }
    const bool complete = p.shards.size() == p.count;
    std::string verdict, detail;
    if (!passed) {
      verdict = "FAILED";
      detail = failed_detail;
    } else if (!complete) {
      passed = false;
      verdict = "FAILED";
      detail = "only " + std::to_string(p.shards.size()) + " of " + std::to_string(p.count) +
               " shards reported";
    } else if (budget) {
      verdict = "bounded by budget";
      detail = thousands(executions) + " executions over " + std::to_string(p.count) +
               " shards, no violation in them (a shard stopped at its budget: not exhaustive)";
    } else {
      verdict = all_proved ? "proved" : "no violation";
      detail = std::string(all_proved ? "full search" : "search") + " over " +
               std::to_string(p.count) + " shards, " + thousands(executions) +
               " executions (summed)";
    }
    if (!passed) ++failures;
    std::cout << (passed ? "PASS " : "FAIL ") << name << " ["
              << p.first.value("scenario", std::string()) << "]: " << verdict << " — " << detail
              << " (" << fixed1(duration) << " s, the slowest shard)\n";
    nlohmann::json j = p.first;
    j.erase("shard");
    j["shards"] = p.count;
    j["verdict"] = verdict;
    j["detail"] = detail;
    j["passed"] = passed;
    j["executions"] = executions;
    j["budget_hit"] = budget;
    j["replay"] = "";
    j["duration_s"] = duration;
    rep.started(j);
    rep.finished(j);
  }
  std::cout << (models.size() - static_cast<std::size_t>(failures)) << " passed, " << failures
            << " failed (merged shards)\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace

ModelEntry replay_entry(ModelEntry m, std::string token) {
  Token tok;
  try {
    tok = parse_token(token);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("INTERLEAVE_MODEL_REPLAY(" + m.name + "): " + e.what());
  }
  if (m.expect == Expect::holds)
    throw std::invalid_argument(
        "INTERLEAVE_MODEL_REPLAY(" + m.name +
        "): expect must name the failure the token shows, not Expect::holds");
  if (tok.checker != m.checker) return ModelEntry{};  // another checker's schedule: not here
  m.replay_token = std::move(token);
  m.search = Search::bounded(tok.bound);
  m.search.mode = tok.mode;
  return m;
}

int run_main(int argc, char** argv) {
  const std::string checker = checker_of_this_executable();
  CLI::App app{"interleave models under the " + checker +
               " checker: exhaustive and context-bounded interleaving search"};
  bool list = false;
  std::string filter, only, mode_s, reproduce, replay, report;
  int bound = -1;
  double budget = -1;
  unsigned long iterations = 0;
  bool no_history = false;
  long long budget_executions = -1;
  std::string shard;
  std::vector<std::string> merge;
  bool verbose = false;
  app.add_flag("--list", list, "list models: name<TAB>row<TAB>expected<TAB>mode/bound<TAB>checker");
  app.add_option("--filter", filter, "run only models whose name or row contains this");
  app.add_option("--model", only, "run only this model (its name)");
  app.add_option("--mode", mode_s, "override the search mode: full, bound or random");
  app.add_option("--bound", bound,
                 "override the context bound (mode bound; env INTERLEAVE_MODEL_BOUND)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--iterations", iterations, "executions for --mode random (seeds 0..N-1)");
  app.add_option("--budget", budget,
                 "seconds per model; past it the search stops and says 'bounded by budget' "
                 "(env INTERLEAVE_MODEL_BUDGET_S; default none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--budget-executions", budget_executions,
                 "executions per model (complete + sleep-set-blocked runs): a deterministic "
                 "budget; past it "
                 "the search says 'bounded by budget, N executions' (env "
                 "INTERLEAVE_MODEL_BUDGET_EXECUTIONS; "
                 "checkers with an execution budget only)")
      ->check(CLI::NonNegativeNumber);
  app.add_option(
      "--shard", shard,
      "I/N: search only part I (1..N) of every model that must hold, deterministically; "
      "merge the N --report files with --merge (checkers that can split their search only)");
  app.add_option(
         "--merge", merge,
         "merge the --report files of N shards into one verdict per model (summed executions)")
      ->expected(1, -1);
  app.add_option("--reproduce", reproduce,
                 "print the failing interleaving of a model (name or row) and its replay token");
  app.add_option("--replay", replay, "re-run exactly the execution a replay token names");
  app.add_option("--report", report,
                 "append one JSON line per model (a 'started' line, replaced by the verdict)");
  app.add_flag("--no-history", no_history, "do not print the interleavings of found failures");
  app.add_flag("--verbose", verbose,
               "print the whole interleaving of a failure: every step, the checker's own too, with "
               "the function (and its template arguments) of each");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (bound < 0) {
      const double b = env_number("INTERLEAVE_MODEL_BOUND", -1);
      if (b >= 0) {
        if (b != static_cast<double>(static_cast<unsigned>(b)))
          throw std::invalid_argument("INTERLEAVE_MODEL_BOUND must be a whole number");
        bound = static_cast<int>(b);
      }
    }
    if (budget < 0) budget = env_number("INTERLEAVE_MODEL_BUDGET_S", 0);
    if (budget_executions < 0) {
      const double e = env_number("INTERLEAVE_MODEL_BUDGET_EXECUTIONS", 0);
      if (e != static_cast<double>(static_cast<unsigned long long>(e)))
        throw std::invalid_argument("INTERLEAVE_MODEL_BUDGET_EXECUTIONS must be a whole number");
      budget_executions = static_cast<long long>(e);
    }
    limits().budget_executions = static_cast<unsigned long long>(budget_executions);
    if (!shard.empty()) {
      unsigned i = 0, n = 0;
      char extra = 0;
      if (std::sscanf(shard.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i < 1 || i > n)
        throw std::invalid_argument("--shard: '" + shard +
                                    "' must be I/N with 1 <= I <= N (e.g. 2/4)");
      limits().shard_index = i - 1;
      limits().shard_count = n;
    }
    for (const ModelEntry& m : registry()) {
      if (limits().shard_count > 0 && !m.can_shard)
        throw std::invalid_argument("--shard: the " + std::string(m.checker) +
                                    " checker cannot split its search");
      if (limits().budget_executions > 0 && !m.execution_budget) {
        if (app.count("--budget-executions") != 0)
          throw std::invalid_argument("--budget-executions: the " + std::string(m.checker) +
                                      " checker has no execution budget (use --budget seconds)");
        // From the environment (set for a whole run of several checkers): not applied here.
        std::cerr << "note: INTERLEAVE_MODEL_BUDGET_EXECUTIONS is not applied: the " << m.checker
                  << " checker has no execution budget\n";
        limits().budget_executions = 0;
        break;
      }
    }
    if (!merge.empty()) return merge_shards(merge, report);

    if (list) {
      for (const ModelEntry& m : registry())
        std::cout << m.name << "\t" << m.row << "\t" << expect_name(m.expect) << "\t"
                  << mode_name(m.search.mode) << "/" << m.search.bound << "\t" << m.checker << "\n";
      return 0;
    }

    if (app.count("--replay") != 0 && replay.empty())
      throw std::invalid_argument(
          "--replay: needs a token (as printed after \"--replay\" by --reproduce)");
    if (app.count("--reproduce") != 0 && reproduce.empty())
      throw std::invalid_argument("--reproduce: needs a model name or row");
    if (!replay.empty()) {
      const Token tok = parse_token(replay);
      if (tok.checker != checker)
        throw std::invalid_argument("--replay: the token is for the '" + tok.checker +
                                    "' checker; this executable runs models under '" + checker +
                                    "' (use the " + tok.checker + " build of the model)");
      const ModelEntry* m = find_model(tok.model, false);
      if (!m || m->name != tok.model)
        throw std::invalid_argument("--replay: no model named '" + tok.model + "' here");
      Run r;
      r.mode = tok.mode;
      r.bound = tok.bound;
      r.depth_limit = m->search.depth_limit;
      r.replay_state = tok.state;
      r.label = m->name;
      Verdict v;
      try {
        v = m->drive(r);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("--replay: ") + e.what());
      }
      const bool same = v.found != Found::nothing && v.executions == 1;
      std::cout << "replay of " << m->name << " (checker " << checker << ", mode "
                << mode_name(tok.mode) << ", bound " << tok.bound << "): " << v.detail << "\n";
      Outcome o;
      o.found = v.found;
      o.cex = normalise(v.cex);
      o.detail = v.detail;
      o.history = normalise(v.history);
      print_counterexample(std::cout, *m, o, {verbose, argv[0], false});
      if (!same) {
        std::cerr << "replay diverged: the token's execution did not fail as recorded\n";
        return 1;
      }
      return 0;
    }

    if (!reproduce.empty()) {
      const ModelEntry* m = find_model(reproduce, true);
      if (!m)
        throw std::invalid_argument("--reproduce: no model or row named '" + reproduce + "' here");
      Outcome o = run_model(*m, m->search, budget);
      if (o.history.empty() && o.cex.empty()) {
        std::cout << m->name << " [" << m->row << "]: " << o.verdict << " — " << o.detail << "\n";
        std::cout << "  (no failing interleaving to show: the model holds)\n";
        return 1;
      }
      std::cout << m->name << " [" << m->row << "]: " << o.verdict << " by " << checker << ", "
                << o.how << "\n";
      print_counterexample(std::cout, *m, o, {verbose, argv[0], true});
      return 0;
    }

    std::optional<Mode> mode_override;
    if (!mode_s.empty()) {
      try {
        mode_override = parse_mode(mode_s);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("--mode: ") + e.what());
      }
    }
    Report rep(report);
    const auto t0 = clock::now();
    int failures = 0, ran = 0;
    for (const ModelEntry& m : registry()) {
      if (!only.empty() && m.name != only) continue;
      if (!filter.empty() && m.name.find(filter) == std::string::npos &&
          m.row.find(filter) == std::string::npos)
        continue;
      if (limits().shard_count > 0 && expects_failure(m)) {
        std::cout << "SKIP " << m.name << " [" << m.row
                  << "]: an expected failure is searched unsharded\n";
        continue;
      }
      Search s = m.search;
      if (mode_override) s.mode = *mode_override;
      if (bound >= 0) s.bound = static_cast<unsigned>(bound);
      if (iterations) s.iterations = iterations;
      if (s.mode == Mode::random && s.iterations == 0) s.iterations = 100000;
      ++ran;
      nlohmann::json start = record(m, s, s.mode == Mode::bound ? s.bound : 0);
      start["verdict"] = "started";
      start["detail"] = "no verdict written: the model run crashed, hung or was killed";
      start["passed"] = false;
      rep.started(start);

      Outcome o = run_model(m, s, budget);
      if (limits().shard_count > 0 && o.verdict == "proved")  // its part only: --merge says proved
        o.verdict = "part proved";
      if (m.note) o.detail += ", " + m.note();
      std::cout << (o.passed ? "PASS " : "FAIL ") << m.name << " [" << m.row << "]: " << o.verdict
                << " — " << o.detail << " (" << fixed1(o.duration_s)
                << " s)\n    claim: " << m.claim << "\n";
      if (!no_history || !o.passed) print_counterexample(std::cout, m, o, {verbose, argv[0], true});
      std::cout.flush();
      if (!o.passed) ++failures;
      nlohmann::json j = record(m, s, o.bound_used);
      j["search"] = search_text(s, s.mode == Mode::bound ? s.bound : 0);
      j["verdict"] = o.verdict;
      j["detail"] = o.detail;
      j["passed"] = o.passed;
      j["executions"] = o.executions;
      j["budget_hit"] = o.budget_hit;
      j["replay"] = o.token;
      j["duration_s"] = o.duration_s;
      if (limits().shard_count > 0)
        j["shard"] =
            std::to_string(limits().shard_index + 1) + "/" + std::to_string(limits().shard_count);
      rep.finished(j);
    }
    if (ran == 0) throw std::invalid_argument("no model matched --model/--filter");
    std::cout << (ran - failures) << " passed, " << failures << " failed (" << checker << ", "
              << fixed1(seconds_since(t0)) << " s)\n";
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace interleave::models

int main(int argc, char** argv) { return interleave::models::run_main(argc, argv); }
