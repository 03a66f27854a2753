//===- SpecMutator.h - Structured inputs for the spec fuzzers ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// What the parser and pipeline fuzzers share: a context per input, the size
// bounds a spec must respect before it is compiled, and a structured
// mutator. Most byte-level mutants of an attn spec no longer parse, so the
// pipelines would see few inputs; the mutator instead rewrites a spec's
// shapes, element types, region bodies, captures and attributes
// consistently, or writes a fresh spec from a random recipe, so that most
// of its outputs verify.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_FUZZ_SPECMUTATOR_H
#define ATTUNE_FUZZ_SPECMUTATOR_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace attune::fuzz {

/// Largest head dimension (D of Q, K, V) a fuzzer compiles. The tools refuse
/// D > 4096; the fuzzers stay far lower so that one input compiles in well
/// under a second.
constexpr int64_t kMaxFuzzHeadSize = 256;
/// Largest static dimension other than D, and most attn ops per input.
constexpr int64_t kMaxFuzzDim = 4096;
constexpr int kMaxFuzzOps = 4;

/// A context with every dialect Attune registers, single-threaded, whose
/// diagnostics are counted (and printed when ATTUNE_FUZZ_VERBOSE is set)
/// instead of going to stderr.
struct FuzzContext {
  FuzzContext();
  ~FuzzContext();
  mlir::MLIRContext context;
  /// Error diagnostics seen so far.
  int errors = 0;
};

/// Parses and verifies `data` as a module; null if it does not.
mlir::OwningOpRef<mlir::ModuleOp> parseSpec(FuzzContext &ctx,
                                            const uint8_t *data, size_t size);

/// Whether every attn.attention in `module` stays within the bounds above
/// (and there are not too many of them).
bool withinFuzzBounds(mlir::ModuleOp module);

/// A stable hash of the input, to derive options (chip, pipeline mode) from.
uint64_t hashInput(const uint8_t *data, size_t size);

/// Stops the process (a finding) with `what` on stderr.
[[noreturn]] void fuzzFailure(const char *what);

/// The body of LLVMFuzzerCustomMutator for spec inputs: a structured
/// rewrite of the spec text, a fresh random spec or (`rawPercent` percent
/// of the time) libFuzzer's own byte mutation.
size_t mutateSpec(uint8_t *data, size_t size, size_t maxSize, unsigned seed,
                  unsigned rawPercent);

/// A fresh random spec (exposed for the unit checks of the generator).
std::string generateSpec(uint64_t seed);

} // namespace attune::fuzz

#endif // ATTUNE_FUZZ_SPECMUTATOR_H
