//===- attune-run.cpp - Run, check and time an attention spec ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
//   attune-run SPEC [--sizes B=2,Sq=17,Sk=113] [--check] [--bench] [--json]
//
// Compiles the entry function of SPEC for this CPU, runs it on seeded
// random inputs (or .npy files) and optionally checks the results against
// the float64 oracle and times them. Exit code 1 on any error or failed
// check.
//
//===----------------------------------------------------------------------===//

#include "attune/Runner/Runner.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<std::string> specPath(cl::Positional, cl::desc("<spec.mlir>"),
                                     cl::init("-"));
static cl::opt<std::string> entry("entry",
                                  cl::desc("Entry function (default: the "
                                           "only public function)"));
static cl::opt<std::string>
    sizes("sizes", cl::desc("Sizes of dynamic dimensions: B=..,Sq=..,Sk=.. "
                            "(defaults B=1, Sq=128, Sk=Sq)"));
static cl::opt<std::string>
    pipeline("pipeline", cl::desc("CPU lowering: fused (default) or reference"),
             cl::init("fused"));
static cl::opt<int64_t> vectorWidth(
    "vector-width",
    cl::desc("f32 lanes of the fused kernel: 8 (AVX2), 16 (AVX-512), or 0 "
             "(default) for this CPU's widest; 16 runs on AVX2 too, each "
             "vector split in two"),
    cl::init(0));
static cl::opt<bool>
    cluster("cluster",
            cl::desc("Sort bucketed attention by bucket (attn-cluster, "
                     "default on; --cluster=false times the masked form)"),
            cl::init(true));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of random inputs"),
                              cl::init(0));
static cl::list<std::string>
    inputs("input", cl::desc("N=FILE.npy: read argument N from a .npy file"));
static cl::opt<std::string>
    outputDir("output-dir", cl::desc("Write results as result<N>.npy here"));
static cl::opt<bool> check("check",
                           cl::desc("Compare with the float64 oracle"));
static cl::opt<bool> bench("bench", cl::desc("Time the compiled function"));
static cl::opt<unsigned> repeats("repeats", cl::desc("Timed runs for --bench"),
                                 cl::init(5));
static cl::opt<bool> json("json", cl::desc("Print the report as JSON"));
static cl::opt<bool> uncheckedCaptures(
    "unchecked-captures",
    cl::desc("Do not check that integer arguments with an attn.range hold "
             "values in it (for timing; out-of-range values are undefined "
             "behaviour)"));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "attune-run: run, check and time an attention "
                              "spec on the CPU\n");
  attune::runner::RunnerOptions options;
  options.specPath = specPath;
  options.entry = entry;
  options.pipeline = pipeline;
  if (vectorWidth != 0 && vectorWidth != 8 && vectorWidth != 16) {
    errs() << "attune-run: error: bad --vector-width " << vectorWidth
           << ": expected 8, 16 or 0 (this CPU's widest)\n";
    return 1;
  }
  options.vectorWidth = vectorWidth;
  options.cluster = cluster;
  options.seed = seed;
  options.check = check;
  options.bench = bench;
  options.repeats = repeats;
  options.json = json;
  options.outputDir = outputDir;
  options.uncheckedCaptures = uncheckedCaptures;
  std::string error = attune::runner::parseSizes(sizes, options.sizes);
  if (!error.empty()) {
    errs() << "attune-run: error: " << error << "\n";
    return 1;
  }
  for (StringRef item : inputs) {
    auto [index, path] = item.split('=');
    unsigned position;
    if (index.getAsInteger(10, position) || path.empty()) {
      errs() << "attune-run: error: bad --input '" << item
             << "': expected N=FILE.npy\n";
      return 1;
    }
    options.inputFiles.emplace_back(position, path.str());
  }
  return attune::runner::runSpec(options, outs());
}
