//===- Oracle.h - Independent float64 reference evaluator -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The oracle evaluates a spec (a func.func around `attn.attention`) by
// interpreting it directly in float64: the score and mask regions are
// translated once into a flat instruction list and run element by element,
// and the softmax is computed per row exactly as docs/Semantics.md states it.
// It shares no code with any lowering (no linalg, no pass pipeline, nothing
// from lib/Dialect/Attn/Transforms, lib/Analysis or lib/Target), so it is the
// ground truth every compiled path is checked against.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_ORACLE_ORACLE_H
#define ATTUNE_ORACLE_ORACLE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace attune::oracle {

/// A dense row-major array of values held as doubles; integer and index
/// elements are stored exactly (|v| < 2^53). Rank 0 = scalar.
struct Array {
  std::vector<int64_t> shape;
  std::vector<double> data;

  /// The product of `shape` (1 for a scalar).
  int64_t numElements() const;
};

/// Interprets `func` (a func.func whose body holds attn.attention and the
/// scalar/shape ops around it) on `args` (one Array per function argument, in
/// order) in float64, and returns one Array per function result. Errors (an
/// unsupported op, which it names; an out-of-bounds tensor.extract; a shape
/// mismatch between args and the function type) are reported through
/// mlir::emitError at the offending op's location and give failure().
mlir::FailureOr<std::vector<Array>> evaluate(mlir::func::FuncOp func,
                                             llvm::ArrayRef<Array> args);

} // namespace attune::oracle

#endif // ATTUNE_ORACLE_ORACLE_H
