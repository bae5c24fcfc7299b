// models/runner.hpp — registry and command-line runner of Relacy models.
//
// A model file defines rl::test_suite types that instantiate impl templates
// with `relacy_sync`, and registers each with INTERLEAVE_MODEL. The runner
// (runner.cpp, linked into every model executable) runs them, prints each
// verdict with its search mode, bound and number of executions explored,
// prints the interleaving of every failure with object addresses normalised
// (so a history is byte-identical from run to run), and emits a replay token.
//
// Expected failures: a model whose suite type names a failing result
// (`rl::test_suite<S, N, rl::test_result_data_race>`) passes only when Relacy
// finds that result. Such models are searched by iterative context bounding
// (bound 0, 1, 2, ...), so the verdict states the fewest preemptions that
// expose the bug.
#pragma once

#include "relacy_sync.hpp"

namespace interleave::models {

enum class Mode { full, bound, random };

// How a model is searched.
struct Search {
  Mode mode = Mode::full;
  unsigned bound = 0;                // context bound (Mode::bound); the maximum
                                     // bound for an expected failure
  unsigned long iterations = 0;      // Mode::random only
  unsigned depth_limit = 2000;       // scheduling points per execution

  static Search full() { return {Mode::full, 0, 0}; }
  static Search bounded(unsigned k) { return {Mode::bound, k, 0}; }
  static Search random(unsigned long n) { return {Mode::random, 0, n}; }
  // For expected failures: try context bounds 0..k, smallest first.
  static Search deepen(unsigned k) { return {Mode::bound, k, 0}; }
};

struct Model {
  std::string name;    // unique, e.g. "counter.locked.2x3.full"
  std::string row;     // verification-matrix row, e.g. "counter.locked"
  std::string claim;   // the invariant proved, or the bug that must be found
  Search search;
  rl::test_result_e expected = rl::test_result_success;
  bool (*simulate)(rl::test_params&) = nullptr;
  // Optional: a figure the last search measured (e.g. how many distinct
  // outcomes it saw), appended to the verdict's detail.
  std::string (*note)() = nullptr;
};

std::vector<Model>& registry();

template <class Suite>
bool simulate_suite(rl::test_params& p) {
  return rl::simulate<Suite>(p);
}

struct Registrar {
  Registrar(Model m) { registry().push_back(std::move(m)); }  // NOLINT
};

template <class Suite>
Model model(std::string name, std::string row, std::string claim, Search search) {
  return Model{std::move(name), std::move(row), std::move(claim), search,
               Suite::params::expected_result, &simulate_suite<Suite>};
}

int run_main(int argc, char** argv);

// Lets INTERLEAVE_MODEL take a parenthesised type that contains commas.
template <class>
struct paren_type;
template <class T>
struct paren_type<void(T)> {
  using type = T;
};

}  // namespace interleave::models

#define INTERLEAVE_MODEL_CAT2(a, b) a##b
#define INTERLEAVE_MODEL_CAT(a, b) INTERLEAVE_MODEL_CAT2(a, b)
// INTERLEAVE_MODEL((Suite), name, row, claim, search) — the suite type in
// parentheses.
#define INTERLEAVE_MODEL(Suite, ...)                                                        \
  static const ::interleave::models::Registrar INTERLEAVE_MODEL_CAT(interleave_model_, \
                                                                    __LINE__){          \
      ::interleave::models::model<                         \
          typename ::interleave::models::paren_type<void Suite>::type>(__VA_ARGS__)}
