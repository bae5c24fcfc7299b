// models/runner.cpp — the command-line runner linked into every model
// executable. See runner.hpp for what a model is; `--help` for the flags.
#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
// (before Relacy: see relacy_sync.hpp)
#include "runner.hpp"

namespace interleave::models {

std::vector<Model>& registry() {
  static std::vector<Model> models;
  return models;
}

namespace {

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
  throw std::invalid_argument("--mode must be full, bound or random, not '" + s + "'");
}

rl::scheduler_type_e scheduler(Mode m) {
  switch (m) {
    case Mode::full: return rl::sched_full;
    case Mode::bound: return rl::sched_bound;
    case Mode::random: return rl::sched_random;
  }
  return rl::sched_full;
}

std::string thousands(unsigned long long n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// Relacy prints raw object addresses, which move with ASLR. Name each address
// by its order of first appearance so a history is identical run to run.
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

// FNV-1a, to reject a mistyped or hand-made token instead of handing Relacy a
// scheduler state it would crash on.
std::string checksum(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

// A replay token: model, mode, bound and Relacy's final state, one word,
// followed by a checksum of all four.
std::string make_token(const Model& m, Mode mode, unsigned bound, const std::string& state) {
  std::string s = state;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  std::replace(s.begin(), s.end(), ' ', ',');
  std::string body = m.name + ":" + mode_name(mode) + ":" + std::to_string(bound) + ":" + s;
  return body + ":" + checksum(body);
}

struct Token {
  std::string model;
  Mode mode;
  unsigned bound;
  std::string state;  // with spaces, as Relacy reads it
  unsigned long iteration;
};

Token parse_token(const std::string& token) {
  const size_t last = token.rfind(':');
  if (last == std::string::npos || token.substr(last + 1) != checksum(token.substr(0, last)))
    throw std::invalid_argument("--replay: token is damaged (checksum mismatch): " + token);
  const std::string t = token.substr(0, last);
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const size_t colon = t.find(':', start);
    if (colon == std::string::npos)
      throw std::invalid_argument("--replay: malformed token (want MODEL:MODE:BOUND:STATE): " + t);
    parts.push_back(t.substr(start, colon - start));
    start = colon + 1;
  }
  std::string state = t.substr(start);
  if (state.empty() || state.find_first_not_of("0123456789,") != std::string::npos)
    throw std::invalid_argument("--replay: malformed state in token: " + t);
  std::replace(state.begin(), state.end(), ',', ' ');
  Token tok{parts[0], parse_mode(parts[1]), static_cast<unsigned>(std::stoul(parts[2])), state, 0};
  tok.iteration = std::stoul(state.substr(0, state.find(' ')));
  return tok;
}

struct Outcome {
  bool passed = false;
  std::string verdict;          // "proved", "race found", ...
  std::string detail;           // mode, bound, executions
  rl::test_result_e result = rl::test_result_success;
  unsigned long long executions = 0;
  unsigned bound_used = 0;
  std::string history;          // normalised, empty on success
  std::string token;            // empty on success
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

// One Relacy search. Relacy writes its own report (and, on failure, the
// re-executed history) to `out`.
struct Run {
  rl::test_result_e result;
  unsigned long long executions;
  std::string output;
  std::string final_state;
};

Run search_once(const Model& m, Mode mode, unsigned bound, unsigned long iterations,
                const std::string& initial_state = "", bool collect = false) {
  CaptureBuf out_buf, progress_buf;
  std::ostream out(&out_buf), progress(&progress_buf);
  rl::test_params p;
  p.search_type = scheduler(mode);
  p.context_bound = bound;
  p.iteration_count = iterations ? iterations : 1000;
  p.execution_depth_limit = m.search.depth_limit;
  p.output_stream = &out;
  p.progress_stream = &progress;
  p.initial_state.assign(initial_state.begin(), initial_state.end());
  p.collect_history = collect;
  m.simulate(p);
  // Iterations are numbered from 0 (or from the replayed one): stop_iteration
  // is the last one run, so this many executions were explored.
  std::string text = out_buf.str();
  const std::string name_line(p.test_name.begin(), p.test_name.end());
  if (text.compare(0, name_line.size(), name_line) == 0)
    text = "model " + m.name + text.substr(name_line.size());
  unsigned long long start = 0;
  if (!initial_state.empty()) start = std::stoull(initial_state.substr(0, initial_state.find(' ')));
  return Run{p.test_result, p.stop_iteration - start + 1, text,
             std::string(p.final_state.begin(), p.final_state.end())};
}

bool expects_failure(const Model& m) { return m.expected != rl::test_result_success; }

Outcome run_model(const Model& m, const Search& s) {
  Outcome o;
  if (!expects_failure(m)) {
    const unsigned bound = s.mode == Mode::bound ? s.bound : 0;
    Run r = search_once(m, s.mode, bound, s.iterations);
    o.result = r.result;
    o.executions = r.executions;
    o.bound_used = bound;
    std::string how = s.mode == Mode::full    ? "full search"
                      : s.mode == Mode::bound ? "context bound " + std::to_string(bound)
                                              : "random scheduler, seeds 0.." +
                                                    std::to_string(s.iterations - 1);
    if (r.result == rl::test_result_success) {
      o.passed = true;
      o.verdict = s.mode == Mode::full ? "proved" : "no violation";
      o.detail = how + ", " + thousands(r.executions) + " executions";
    } else {
      o.verdict = "FAILED";
      o.detail = std::string(rl::test_result_str(r.result)) + " under " + how + " at execution " +
                 thousands(r.executions);
      o.history = normalise(r.output);
      o.token = make_token(m, s.mode, bound, r.final_state);
    }
    return o;
  }
  // Expected failure: the smallest context bound that exposes it.
  const unsigned max_bound = s.mode == Mode::bound ? s.bound : 0;
  const bool iterative = s.mode == Mode::bound;
  unsigned long long total = 0;
  for (unsigned b = 0; b <= max_bound; ++b) {
    Run r = search_once(m, s.mode, b, s.iterations);
    total += r.executions;
    o.result = r.result;
    if (r.result == m.expected) {
      o.passed = true;
      o.bound_used = b;
      o.executions = total;
      o.verdict = m.expected == rl::test_result_data_race ? "race found"
                  : m.expected == rl::test_result_deadlock ? "deadlock found"
                                                           : "bug found";
      std::string how =
          iterative ? std::to_string(b) + (b == 1 ? " preemption" : " preemptions") +
                          " (context-bound search, bounds 0.." + std::to_string(b) + ")"
                    : (s.mode == Mode::full ? "full search" : "random scheduler");
      o.detail = std::string(rl::test_result_str(r.result)) + ", " + how + ", " +
                 thousands(total) + " executions, history replayable";
      o.history = normalise(r.output);
      o.token = make_token(m, s.mode, b, r.final_state);
      return o;
    }
    if (r.result != rl::test_result_success) {
      o.verdict = "FAILED";
      o.detail = std::string("expected ") + rl::test_result_str(m.expected) + ", Relacy found " +
                 rl::test_result_str(r.result);
      o.history = normalise(r.output);
      o.token = make_token(m, s.mode, b, r.final_state);
      o.executions = total;
      return o;
    }
    if (!iterative) break;
  }
  o.executions = total;
  o.verdict = "NOT FOUND";
  o.detail = std::string("expected ") + rl::test_result_str(m.expected) + ", none in " +
             (iterative ? "context bounds 0.." + std::to_string(max_bound)
                        : std::string(mode_name(s.mode)) + " search") +
             ", " + thousands(total) + " executions";
  return o;
}

void print_history(std::ostream& os, const Outcome& o) {
  if (o.history.empty()) return;
  os << "  --- interleaving (Relacy history, addresses named by first use) ---\n";
  std::istringstream in(o.history);
  for (std::string line; std::getline(in, line);) os << "  | " << line << "\n";
  os << "  replay token: " << o.token << "\n";
}

const Model* find_model(const std::string& key, bool prefer_failure) {
  for (const Model& m : registry())
    if (m.name == key) return &m;
  for (const Model& m : registry())
    if (m.row == key && (!prefer_failure || expects_failure(m))) return &m;
  for (const Model& m : registry())
    if (m.row == key) return &m;
  return nullptr;
}

}  // namespace

int run_main(int argc, char** argv) {
  CLI::App app{"interleave Relacy models: exhaustive and context-bounded interleaving search"};
  bool list = false;
  std::string filter, only, mode_s, reproduce, replay, report;
  int bound = -1;
  unsigned long iterations = 0;
  bool no_history = false;
  app.add_flag("--list", list, "list models: name, row, expected result, default search");
  app.add_option("--filter", filter, "run only models whose name or row contains this");
  app.add_option("--model", only, "run only this model (its name)");
  app.add_option("--mode", mode_s, "override the search mode: full, bound or random");
  app.add_option("--bound", bound, "override the context bound (mode bound)")->check(CLI::NonNegativeNumber);
  app.add_option("--iterations", iterations, "executions for --mode random (seeds 0..N-1)");
  app.add_option("--reproduce", reproduce,
                 "print the failing interleaving of a model (name or row) and its replay token");
  app.add_option("--replay", replay, "re-run exactly the execution a replay token names");
  app.add_option("--report", report, "append one JSON line per model verdict to this file");
  app.add_flag("--no-history", no_history, "do not print the interleavings of found failures");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (list) {
      for (const Model& m : registry())
        std::cout << m.name << "\t" << m.row << "\t" << rl::test_result_str(m.expected) << "\t"
                  << mode_name(m.search.mode) << "/" << m.search.bound << "\n";
      return 0;
    }

    if (!replay.empty()) {
      const Token tok = parse_token(replay);
      const Model* m = find_model(tok.model, false);
      if (!m) throw std::invalid_argument("--replay: no model named '" + tok.model + "' here");
      Run r = search_once(*m, tok.mode, tok.bound, 0, tok.state, /*collect=*/true);
      const bool same = r.result != rl::test_result_success && r.executions == 1;
      std::cout << "replay of " << m->name << " (" << mode_name(tok.mode) << ", bound "
                << tok.bound << ", execution " << tok.iteration << "): "
                << rl::test_result_str(r.result) << "\n"
                << normalise(r.output);
      if (!same) {
        std::cerr << "replay diverged: the token's execution did not fail as recorded\n";
        return 1;
      }
      return 0;
    }

    if (!reproduce.empty()) {
      const Model* m = find_model(reproduce, true);
      if (!m) throw std::invalid_argument("--reproduce: no model or row named '" + reproduce + "' here");
      Outcome o = run_model(*m, m->search);
      std::cout << m->name << " [" << m->row << "]: " << o.verdict << " — " << o.detail << "\n";
      if (o.history.empty()) {
        std::cout << "  (no failing interleaving to show: the model holds)\n";
        return 1;
      }
      print_history(std::cout, o);
      return 0;
    }

    std::ofstream report_file;
    if (!report.empty()) {
      report_file.open(report, std::ios::app);
      if (!report_file) throw std::runtime_error("--report: cannot open " + report);
    }
    int failures = 0, ran = 0;
    for (const Model& m : registry()) {
      if (!only.empty() && m.name != only) continue;
      if (!filter.empty() && m.name.find(filter) == std::string::npos &&
          m.row.find(filter) == std::string::npos)
        continue;
      Search s = m.search;
      if (!mode_s.empty()) s.mode = parse_mode(mode_s);
      if (bound >= 0) s.bound = static_cast<unsigned>(bound);
      if (iterations) s.iterations = iterations;
      if (s.mode == Mode::random && s.iterations == 0) s.iterations = 100000;
      ++ran;
      Outcome o = run_model(m, s);
      if (m.note) o.detail += ", " + m.note();
      std::cout << (o.passed ? "PASS " : "FAIL ") << m.name << " [" << m.row << "]: " << o.verdict
                << " — " << o.detail << "\n    claim: " << m.claim << "\n";
      if (!no_history || !o.passed) print_history(std::cout, o);
      std::cout.flush();
      if (!o.passed) ++failures;
      if (report_file) {
        nlohmann::json j = {{"scenario", m.row},      {"layer", "model"},
                            {"verdict", o.verdict},   {"detail", o.detail},
                            {"passed", o.passed},     {"check", m.name},
                            {"claim", m.claim},       {"mode", mode_name(s.mode)},
                            {"bound", o.bound_used},  {"executions", o.executions},
                            {"expected", rl::test_result_str(m.expected)},
                            {"replay", o.token}};
        report_file << j.dump() << "\n";
      }
    }
    if (ran == 0) throw std::invalid_argument("no model matched --model/--filter");
    std::cout << (ran - failures) << " passed, " << failures << " failed\n";
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace interleave::models

int main(int argc, char** argv) { return interleave::models::run_main(argc, argv); }
