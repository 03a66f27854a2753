//===- Runner.h - Run a spec on the CPU, check and time it ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The logic of `attune-run`: load a spec, make its inputs (seeded random or
// from .npy files) at the sizes the user asks for, compile and run its entry
// function on the CPU, optionally check the results against the float64
// oracle and time them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_RUNNER_RUNNER_H
#define ATTUNE_RUNNER_RUNNER_H

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attune::runner {

/// What `attune-run` was asked to do.
struct RunnerOptions {
  /// The spec file ("-" for stdin).
  std::string specPath;
  /// The entry function; empty selects the only public function.
  std::string entry;
  /// The CPU lowering of attn.attention: "fused" or "reference" (see
  /// `attn-cpu-pipeline`).
  std::string pipeline = "fused";
  /// f32 lanes of the fused kernel's vectors: 8, 16, or 0 to choose from
  /// this CPU (see `attn-cpu-pipeline`'s `vector-width`).
  int64_t vectorWidth = 0;
  /// Whether the fused pipeline sorts bucketed attention by bucket
  /// (`attn-cpu-pipeline`'s `cluster`).
  bool cluster = true;
  /// Sizes of the symbolic dimensions: B, Sq, Sk. Missing ones default to
  /// B = 1, Sq = 128, Sk = Sq.
  llvm::StringMap<int64_t> sizes;
  /// Seed of the random inputs.
  uint64_t seed = 0;
  /// Inputs read from .npy files, by argument position.
  std::vector<std::pair<unsigned, std::string>> inputFiles;
  /// Where to write the results as result<N>.npy; empty for nowhere.
  std::string outputDir;
  /// Compare with the oracle; failing the tolerance makes the run fail.
  bool check = false;
  /// Time the compiled function.
  bool bench = false;
  /// Timed repetitions (after one warm-up run).
  unsigned repeats = 5;
  /// Print machine-readable JSON instead of text.
  bool json = false;
  /// Skip the check that integer arguments with an `attn.range` hold values
  /// in it (out-of-range values may make the compiled code read out of
  /// bounds; the check costs a pass over the captures).
  bool uncheckedCaptures = false;
};

/// Runs the spec as `options` say, writing the report to `os` and
/// diagnostics to stderr. Returns the process exit code: 0 on success, 1 on
/// any error or a failed check.
int runSpec(const RunnerOptions &options, llvm::raw_ostream &os);

/// Parses "B=2,Sq=17,Sk=113" into `sizes`; returns an error message or "".
std::string parseSizes(llvm::StringRef text, llvm::StringMap<int64_t> &sizes);

} // namespace attune::runner

#endif // ATTUNE_RUNNER_RUNNER_H
