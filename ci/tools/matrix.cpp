// ci/tools/matrix.cpp — assembles the verification matrix.
//
//   interleave_matrix --rows ci/rows.txt --out build/report DIR...
//
// Reads every *.jsonl record that the three layers wrote into the DIRs (one
// JSON object a line: scenario, layer, verdict, detail, passed, check), and
// builds one row per scenario variant with one cell per layer. A cell passes
// when it has at least one record and every record in it passed; a row named
// in the rows file, or seen in any record, must fill all three cells. Prints
// the matrix, writes matrix.md, matrix.json and junit.xml under --out, and
// exits 1 when any cell falls short.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::vector<std::string> kLayers = {"model", "property", "stress"};

struct Record {
  std::string verdict, detail, check;
  bool passed = false;
};

struct Cell {
  std::vector<Record> records;
  bool passed() const {
    return !records.empty() &&
           std::all_of(records.begin(), records.end(), [](const Record& r) { return r.passed; });
  }
  std::string verdict() const {
    if (records.empty()) return "missing";
    if (!passed()) return "FAILED";
    std::vector<std::string> seen;
    for (const auto& r : records)
      if (std::find(seen.begin(), seen.end(), r.verdict) == seen.end()) seen.push_back(r.verdict);
    std::string v;
    for (const auto& s : seen) v += (v.empty() ? "" : " + ") + s;
    return v;
  }
  std::string detail() const {
    if (records.empty()) return "no check reported for this cell";
    std::string d;
    const bool mixed = std::any_of(records.begin(), records.end(),
                                   [&](const Record& r) { return r.verdict != records.front().verdict; });
    for (const auto& r : records) {
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
      default: o += c;
    }
  }
  return o;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char c : s) o += (c == '|') ? std::string("\\|") : std::string(1, c);
  return o;
}

int usage(const std::string& why) {
  std::cerr << "interleave_matrix: " << why
            << "\nusage: interleave_matrix --rows FILE --out DIR RECORDS_DIR...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string rows_file, out_dir;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) rows_file = argv[++i];
    else if (a == "--out" && i + 1 < argc) out_dir = argv[++i];
    else if (!a.empty() && a[0] == '-') return usage("unknown option " + a);
    else dirs.push_back(a);
  }
  if (rows_file.empty() || out_dir.empty() || dirs.empty()) return usage("missing arguments");

  std::vector<std::string> order;  // rows in the rows file's order, then new ones
  std::map<std::string, std::map<std::string, Cell>> matrix;
  {
    std::ifstream in(rows_file);
    if (!in) return usage("cannot read rows file " + rows_file);
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find('#'));
      line.erase(0, line.find_first_not_of(" \t"));
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (line.empty() || matrix.count(line)) continue;
      order.push_back(line);
      matrix[line];
    }
  }

  int files = 0, records = 0;
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
          if (!matrix.count(row)) order.push_back(row);
          matrix[row][layer].records.push_back(Record{j.at("verdict"), j.at("detail"),
                                                      j.value("check", ""), j.at("passed")});
          ++records;
        } catch (const std::exception& e) {
          std::cerr << "interleave_matrix: " << p << ":" << lineno << ": bad record: " << e.what() << "\n";
          return 2;
        }
      }
    }
  }

  fs::create_directories(out_dir);
  json out = json::array();
  int failed = 0, cells = 0;
  std::ostringstream md, junit_cases;
  md << "# Verification matrix\n\n| scenario | " ;
  for (const auto& l : kLayers) md << l << " | ";
  md << "\n|---|";
  for (size_t i = 0; i < kLayers.size(); ++i) md << "---|";
  md << "\n";

  std::cout << "\nVerification matrix (" << records << " records from " << files << " files)\n";
  std::cout << std::string(78, '=') << "\n";
  for (const auto& row : order) {
    std::cout << row << "\n";
    md << "| `" << row << "` | ";
    for (const auto& layer : kLayers) {
      const Cell& c = matrix[row][layer];
      const bool ok = c.passed();
      ++cells;
      if (!ok) ++failed;
      std::cout << "  " << (ok ? "PASS " : "FAIL ") << layer << std::string(9 - layer.size(), ' ')
                << c.verdict() << " — " << c.detail() << "\n";
      md << (ok ? "✅ " : "❌ ") << "**" << md_escape(c.verdict()) << "** — " << md_escape(c.detail()) << " | ";
      out.push_back({{"scenario", row}, {"layer", layer}, {"verdict", c.verdict()},
                     {"detail", c.detail()}, {"passed", ok}});
      junit_cases << "  <testcase classname=\"" << xml_escape(layer) << "\" name=\"" << xml_escape(row)
                  << "\">";
      if (!ok)
        junit_cases << "<failure message=\"" << xml_escape(c.verdict()) << "\">" << xml_escape(c.detail())
                    << "</failure>";
      else
        junit_cases << "<system-out>" << xml_escape(c.verdict() + " — " + c.detail()) << "</system-out>";
      junit_cases << "</testcase>\n";
    }
    md << "\n";
  }
  std::cout << std::string(78, '=') << "\n";
  std::cout << order.size() << " rows x " << kLayers.size() << " layers\n";
  std::cout << "matrix: " << (cells - failed) << " passed, " << failed << " failed\n";

  std::ofstream(fs::path(out_dir) / "matrix.md") << md.str();
  std::ofstream(fs::path(out_dir) / "matrix.json") << out.dump(2) << "\n";
  std::ofstream(fs::path(out_dir) / "junit.xml")
      << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"interleave.matrix\" tests=\""
      << cells << "\" failures=\"" << failed << "\">\n"
      << junit_cases.str() << "</testsuite>\n";
  std::cout << "written: " << (fs::path(out_dir) / "matrix.md").string() << ", matrix.json, junit.xml\n";
  return failed == 0 ? 0 : 1;
}
