// ci/tools/matrix.cpp — assembles the verification matrix.
//
//   interleave_matrix --rows build/default/matrix_rows.tsv --out build/report DIR...
//
// --rows is the file configuring writes from ci/scenarios.cmake: one line per
// row, "<row>\t<scenario>\t<model>\t<property>\t<stress>", each layer
// "checked" or "n/a: <reason>". Reads every *.jsonl record the layers wrote
// into the DIRs (one JSON object a line: scenario (the row), layer, verdict,
// detail, passed, check; optionally token/replay, seed, executions,
// duration_s, reproduce). A record whose verdict is "started" marks a check
// that began; it is replaced by that check's later record, and stands as a
// failure ("started, never finished") when none follows.
//
// A checked cell passes when it has at least one record and every record in
// it passed. An n/a cell passes with no record and fails with one. A row
// fails unless at least two of its layers are checked. A model check that
// ran on several checkers (records carry `checker`) shows every checker's
// verdict side by side; checkers that reach different outcomes on the same
// model (name) fail the cell with both verdicts shown. A record for an
// undeclared row fails the matrix. Prints the matrix, writes matrix.md,
// matrix.json (per cell: its state, verdict, detail and every record's check,
// replay token, seed, executions, duration and reproducing command) and
// junit.xml (a failure message carries the cell's detail and the command that
// reproduces it) under --out, and exits 1 when anything falls short, 2 on bad
// input.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kLayers = {"model", "property", "stress"};

struct Record {
  std::string verdict, detail, check, token, reproduce, rerun, source;
  bool passed = false;
  bool started = false;  // a "started" marker with no later record
  json seed, executions, duration_s;
  json
      search;  // the checker and its search (model records): checker, search, mode, bound, expected
};

// The command that re-runs a record's check.
std::string reproduce_of(const Record& r, const std::string& layer, const std::string& row) {
  if (!r.reproduce.empty()) return r.reproduce;
  if (layer == "model") {
    if (!r.token.empty()) return "./ci/verify --replay '" + r.token + "'";
    return "./ci/verify --reproduce " + row;
  }
  return "";
}

// The checker a model record came from ("" for other layers).
std::string checker_of(const Record& r) {
  return r.search.is_object() && r.search.contains("checker")
             ? r.search["checker"].get<std::string>()
             : "";
}
std::string checker_title(const std::string& c) {
  if (c == "dpor") return "DPOR";
  if (c == "relacy") return "Relacy";
  return c;
}
// What a record says about its model, whatever the search: a model that
// holds may be proved, bounded or budget-stopped; anything else is itself.
std::string outcome_of(const Record& r) {
  if (r.passed &&
      (r.verdict == "proved" || r.verdict == "no violation" || r.verdict == "bounded by budget"))
    return "holds";
  return (r.passed ? "" : "FAILED ") + r.verdict;
}

struct Cell {
  bool checked = true;
  std::string reason;  // for n/a
  std::vector<Record> records;

  // Model checks run on several checkers: the records of one check (model
  // name) grouped, in order of first appearance.
  std::vector<std::vector<const Record*>> by_check() const {
    std::vector<std::vector<const Record*>> groups;
    for (const auto& r : records) {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return g.front()->check == r.check; });
      if (it == groups.end())
        groups.push_back({&r});
      else
        it->push_back(&r);
    }
    // the project's own checker first
    for (auto& g : groups)
      std::stable_sort(g.begin(), g.end(), [](const Record* a, const Record* b) {
        return checker_of(*a) == "dpor" && checker_of(*b) != "dpor";
      });
    return groups;
  }
  // Checks whose checkers reached different outcomes.
  std::vector<std::string> disagreements() const {
    std::vector<std::string> out;
    for (const auto& g : by_check()) {
      bool differ = false;
      for (const Record* r : g)
        differ = differ || (checker_of(*r) != checker_of(*g.front()) &&
                            outcome_of(*r) != outcome_of(*g.front()));
      if (differ) out.push_back(g.front()->check);
    }
    return out;
  }
  bool multi_checker() const {
    return std::any_of(records.begin(), records.end(), [&](const Record& r) {
      return checker_of(r) != checker_of(records.front());
    });
  }

  bool passed() const {
    if (!checked) return records.empty();
    return !records.empty() && disagreements().empty() &&
           std::all_of(records.begin(), records.end(), [](const Record& r) { return r.passed; });
  }
  std::string verdict() const {
    if (!checked) return records.empty() ? "n/a" : "FAILED";
    if (records.empty()) return "missing";
    if (!disagreements().empty()) return "FAILED: checkers disagree";
    if (!passed()) return "FAILED";
    std::vector<std::string> seen;
    for (const auto& r : records)
      if (std::find(seen.begin(), seen.end(), r.verdict) == seen.end()) seen.push_back(r.verdict);
    std::string v;
    for (const auto& s : seen) v += (v.empty() ? "" : " + ") + s;
    return v;
  }
  std::string detail() const {
    if (!checked && records.empty()) return reason;
    if (!checked) {
      std::string d = "declared n/a (" + reason + ") but " + std::to_string(records.size()) +
                      " record(s) arrived:";
      for (const auto& r : records) d += " " + r.check + " from " + r.source + ";";
      return d;
    }
    if (records.empty()) return "no check reported for this cell";
    std::string d;
    if (multi_checker()) {
      // One entry per model: "verdict: DPOR <detail> | Relacy <detail> [check]",
      // disagreements and failures first.
      const auto groups = by_check();
      const auto disagree = disagreements();
      for (int pass = 0; pass < 3; ++pass)
        for (const auto& g : groups) {
          const bool dis =
              std::find(disagree.begin(), disagree.end(), g.front()->check) != disagree.end();
          const bool bad =
              std::any_of(g.begin(), g.end(), [](const Record* r) { return !r->passed; });
          if ((pass == 0) != dis || (pass == 1) != (!dis && bad)) continue;
          const bool same = std::all_of(g.begin(), g.end(), [&](const Record* r) {
            return r->verdict == g.front()->verdict;
          });
          if (!d.empty()) d += "; ";
          if (dis) d += "checkers disagree: ";
          if (same) d += g.front()->verdict + ": ";
          for (size_t i = 0; i < g.size(); ++i) {
            if (i) d += " | ";
            d += checker_title(checker_of(*g[i])) + " ";
            if (!same) d += g[i]->verdict + ", ";
            d += g[i]->detail;
          }
          d += " [" + g.front()->check + "]";
        }
      return d;
    }
    const bool mixed = std::any_of(records.begin(), records.end(), [&](const Record& r) {
      return r.verdict != records.front().verdict;
    });
    // failures first: they are what a reader of a failing cell needs
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& r : records) {
        if ((pass == 0) == r.passed) continue;
        if (!d.empty()) d += "; ";
        if (mixed || !r.passed) d += r.verdict + ": ";
        d += r.detail;
        if (!r.check.empty()) d += " [" + r.check + "]";
      }
    return d;
  }
};

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\n': o += "&#10;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else if (c == '\n')
      o += "<br>";
    else
      o += c;
  }
  return o;
}

int usage(const std::string& why) {
  std::cerr << "interleave_matrix: " << why
            << "\nusage: interleave_matrix --rows MATRIX_ROWS_TSV --out DIR RECORDS_DIR...\n";
  return 2;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == '\t') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool is_started(const json& j) {
  return j.value("verdict", "") == "started" || j.value("started", false) ||
         j.value("status", "") == "started" || j.value("event", "") == "started";
}

}  // namespace

int main(int argc, char** argv) {
  std::string rows_file, out_dir;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc)
      rows_file = argv[++i];
    else if (a == "--out" && i + 1 < argc)
      out_dir = argv[++i];
    else if (!a.empty() && a[0] == '-')
      return usage("unknown option " + a);
    else
      dirs.push_back(a);
  }
  if (rows_file.empty())
    return usage("missing --rows (build/<preset>/matrix_rows.tsv, written by configuring)");
  if (out_dir.empty()) return usage("missing --out");
  if (dirs.empty()) return usage("missing RECORDS_DIR");

  std::vector<std::string> order;
  std::map<std::string, std::string> scenario_of;
  std::map<std::string, std::map<std::string, Cell>> matrix;
  {
    std::ifstream in(rows_file);
    if (!in)
      return usage("cannot read rows file " + rows_file +
                   " (configure with cmake --preset default)");
    int lineno = 0;
    for (std::string line; std::getline(in, line);) {
      ++lineno;
      if (line.empty()) continue;
      const auto f = split_tabs(line);
      if (f.size() != 2 + kLayers.size())
        return usage(rows_file + ":" + std::to_string(lineno) + ": expected row, scenario and " +
                     std::to_string(kLayers.size()) + " layer fields, got " +
                     std::to_string(f.size()));
      const std::string& row = f[0];
      if (matrix.count(row))
        return usage(rows_file + ":" + std::to_string(lineno) + ": row " + row + " declared twice");
      order.push_back(row);
      scenario_of[row] = f[1];
      for (size_t i = 0; i < kLayers.size(); ++i) {
        Cell& c = matrix[row][kLayers[i]];
        const std::string& st = f[2 + i];
        if (st == "checked") continue;
        if (st.rfind("n/a: ", 0) != 0 || st.size() <= 5)
          return usage(rows_file + ":" + std::to_string(lineno) + ": layer " + kLayers[i] + " of " +
                       row + " is '" + st + "', not 'checked' or 'n/a: <reason>'");
        c.checked = false;
        c.reason = st.substr(5);
      }
    }
  }
  if (order.empty()) return usage("rows file " + rows_file + " declares no row");

  // Records, by (row, layer); "started" markers wait for their check's result.
  int files = 0, records = 0;
  std::vector<std::string> undeclared;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Record> pending_start;
  for (const auto& d : dirs) {
    if (!fs::is_directory(d)) {
      std::cerr << "interleave_matrix: no records directory " << d << " (was that layer run?)\n";
      continue;
    }
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".jsonl") paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      ++files;
      std::ifstream in(p);
      int lineno = 0;
      for (std::string line; std::getline(in, line);) {
        ++lineno;
        if (line.empty()) continue;
        try {
          const json j = json::parse(line);
          const std::string row = j.at("scenario"), layer = j.at("layer");
          if (std::find(kLayers.begin(), kLayers.end(), layer) == kLayers.end())
            throw std::runtime_error("layer '" + layer + "' is not model, property or stress");
          Record r;
          r.check = j.value("check", "");
          r.source = p.filename().string();
          const auto key = std::make_tuple(row, layer, r.check, r.source);
          if (is_started(j)) {
            r.verdict = "FAILED";
            r.detail =
                "started, never finished: the check crashed or was killed before it recorded a "
                "result";
            r.started = true;
            r.reproduce = j.value("reproduce", "");
            r.token = j.value("token", j.value("replay", ""));
            pending_start[key] = r;
            continue;
          }
          pending_start.erase(key);
          r.verdict = j.at("verdict");
          r.detail = j.at("detail");
          r.passed = j.at("passed");
          r.token = j.value("token", j.value("replay", ""));
          r.reproduce = j.value("reproduce", "");
          r.rerun = j.value("rerun", "");
          for (const char* k : {"checker", "search", "mode", "bound", "expected"})
            if (j.contains(k)) r.search[k] = j[k];
          if (j.contains("seed")) r.seed = j["seed"];
          if (j.contains("executions")) r.executions = j["executions"];
          if (j.contains("duration_s")) r.duration_s = j["duration_s"];
          if (!matrix.count(row)) {
            undeclared.push_back(row + " (" + layer + ", " + r.check + ", " + r.source + ")");
            continue;
          }
          matrix[row][layer].records.push_back(std::move(r));
          ++records;
        } catch (const std::exception& e) {
          std::cerr << "interleave_matrix: " << p << ":" << lineno << ": bad record: " << e.what()
                    << "\n";
          return 2;
        }
      }
    }
  }
  for (auto& [key, r] : pending_start) {
    const auto& [row, layer, check, source] = key;
    if (!matrix.count(row)) {
      undeclared.push_back(row + " (" + layer + ", " + check + ", " + source + ")");
      continue;
    }
    matrix[row][layer].records.push_back(r);
    ++records;
  }

  fs::create_directories(out_dir);
  json out = json::array();
  int failed = 0, cells = 0, na_cells = 0, rows_failed = 0;
  std::ostringstream md, junit_cases;
  md << "# Verification matrix\n\n| scenario | ";
  for (const auto& l : kLayers) md << l << " | ";
  md << "\n|---|";
  for (size_t i = 0; i < kLayers.size(); ++i) md << "---|";
  md << "\n";

  std::cout << "\nVerification matrix (" << records << " records from " << files << " files)\n";
  std::cout << std::string(78, '=') << "\n";
  for (const auto& row : order) {
    int checked_layers = 0;
    for (const auto& layer : kLayers) checked_layers += matrix[row][layer].checked ? 1 : 0;
    const bool row_ok = checked_layers >= 2;
    std::cout << row << (row_ok ? "" : "   FAIL: fewer than two layers check this row") << "\n";
    if (!row_ok) ++rows_failed;
    md << "| `" << row << "`" << (row_ok ? "" : " ❌ fewer than two checked layers") << " | ";
    for (const auto& layer : kLayers) {
      const Cell& c = matrix[row][layer];
      const bool ok = c.passed();
      ++cells;
      if (!c.checked) ++na_cells;
      if (!ok) ++failed;
      const std::string mark = !ok ? "FAIL " : (c.checked ? "PASS " : "n/a  ");
      std::string shown = c.detail();  // continuation lines indented under the cell
      for (size_t at = shown.find('\n'); at != std::string::npos; at = shown.find('\n', at + 1))
        shown.insert(at + 1, "         ");
      std::cout << "  " << mark << layer << std::string(9 - layer.size(), ' ') << c.verdict()
                << " — " << shown << "\n";
      std::vector<std::string> repro;  // "reproduce: <command>" / "re-run the check: <command>"
      for (const auto& r : c.records)
        if (!r.passed) {
          for (const std::string& line :
               {std::string(reproduce_of(r, layer, row).empty() ? "" : "reproduce: ") +
                    reproduce_of(r, layer, row),
                r.rerun.empty() ? std::string() : "re-run the check: " + r.rerun})
            if (!line.empty() && std::find(repro.begin(), repro.end(), line) == repro.end())
              repro.push_back(line);
        }
      for (const auto& line : repro) std::cout << "         " << line << "\n";
      md << (!ok ? "❌ " : (c.checked ? "✅ " : "➖ ")) << "**" << md_escape(c.verdict()) << "** — "
         << md_escape(c.detail()) << " | ";

      json cell = {{"scenario", row},
                   {"file_scenario", scenario_of[row]},
                   {"layer", layer},
                   {"state", c.checked ? "checked" : "n/a"},
                   {"verdict", c.verdict()},
                   {"detail", c.detail()},
                   {"passed", ok}};
      if (!c.checked) cell["reason"] = c.reason;
      json recs = json::array();
      double seconds = 0;
      for (const auto& r : c.records) {
        json jr = {{"check", r.check},
                   {"verdict", r.verdict},
                   {"passed", r.passed},
                   {"detail", r.detail},
                   {"source", r.source}};
        if (!r.token.empty()) jr["token"] = r.token;
        if (!r.seed.is_null()) jr["seed"] = r.seed;
        if (!r.executions.is_null()) jr["executions"] = r.executions;
        if (!r.duration_s.is_null()) {
          jr["duration_s"] = r.duration_s;
          if (r.duration_s.is_number()) seconds += r.duration_s.get<double>();
        }
        if (const std::string cmd = reproduce_of(r, layer, row); !cmd.empty())
          jr["reproduce"] = cmd;
        if (!r.rerun.empty()) jr["rerun"] = r.rerun;
        if (!r.search.is_null()) jr.update(r.search);
        recs.push_back(jr);
      }
      cell["records"] = recs;
      cell["duration_s"] = seconds;
      out.push_back(cell);

      std::ostringstream secs;
      secs << std::fixed << std::setprecision(3) << seconds;
      junit_cases << "  <testcase classname=\"" << xml_escape(layer) << "\" name=\""
                  << xml_escape(row) << "\" time=\"" << secs.str() << "\">";
      if (!ok) {
        std::string body = c.detail();
        for (const auto& line : repro) body += "\n" + line;
        std::string message = c.detail();
        if (message.rfind(c.verdict(), 0) != 0) message = c.verdict() + ": " + message;
        if (!repro.empty()) message += " | " + repro.front();
        junit_cases << "<failure message=\"" << xml_escape(message) << "\">" << xml_escape(body)
                    << "</failure>";
      } else if (!c.checked) {
        junit_cases << "<skipped message=\"" << xml_escape("n/a — " + c.reason) << "\"/>";
      } else {
        junit_cases << "<system-out>" << xml_escape(c.verdict() + " — " + c.detail())
                    << "</system-out>";
      }
      junit_cases << "</testcase>\n";
    }
    md << "\n";
  }
  for (const auto& u : undeclared) {
    ++failed;
    std::cout << "FAIL record for undeclared row " << u << " (declare it in ci/scenarios.cmake)\n";
    junit_cases << "  <testcase classname=\"matrix\" name=\"" << xml_escape(u)
                << "\"><failure message=\""
                << xml_escape("record for a row not declared in ci/scenarios.cmake: " + u)
                << "\"/></testcase>\n";
  }
  failed += rows_failed;
  std::cout << std::string(78, '=') << "\n";
  std::cout << order.size() << " rows x " << kLayers.size() << " layers = " << cells << " cells ("
            << (cells - na_cells) << " checked, " << na_cells << " n/a)\n";
  const int cell_failures = failed - rows_failed - static_cast<int>(undeclared.size());
  std::cout << "matrix: " << (cells - cell_failures) << " cells passed, " << cell_failures
            << " failed";
  if (rows_failed) std::cout << ", " << rows_failed << " row(s) with fewer than two checked layers";
  if (!undeclared.empty())
    std::cout << ", " << undeclared.size() << " record(s) for undeclared rows";
  std::cout << "\n";

  std::ofstream(fs::path(out_dir) / "matrix.md") << md.str();
  std::ofstream(fs::path(out_dir) / "matrix.json") << out.dump(2) << "\n";
  std::ofstream(fs::path(out_dir) / "junit.xml")
      << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"interleave.matrix\" "
         "tests=\""
      << cells + static_cast<int>(undeclared.size()) << "\" failures=\"" << failed
      << "\" skipped=\"" << na_cells << "\">\n"
      << junit_cases.str() << "</testsuite>\n";
  std::cout << "written: " << (fs::path(out_dir) / "matrix.md").string()
            << ", matrix.json, junit.xml\n";
  return failed == 0 ? 0 : 1;
}
