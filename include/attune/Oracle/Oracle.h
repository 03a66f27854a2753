//===- Oracle.h - Independent float64 reference evaluator -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The oracle evaluates a spec (a func.func around `attn.attention`) by
// interpreting it directly in float64: the score and mask regions are
// translated once into a flat instruction list and run element by element,
// and the softmax is computed per row exactly as docs/Semantics.md states it;
// the tensor and linalg ops around attention are evaluated with the
// oracle's own loops (lib/Oracle/TensorOps.cpp).
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
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

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

/// Interprets `func` (a func.func whose body holds attn.attention ops and
/// the scalar, tensor and linalg ops around them: docs/Semantics.md,
/// "Functions around attention") on `args` (one Array per function argument, in
/// order) in float64, and returns one Array per function result. Errors (an
/// unsupported op, which it names; an out-of-bounds tensor.extract; a shape
/// mismatch between args and the function type) are reported through
/// mlir::emitError at the offending op's location and give failure().
mlir::FailureOr<std::vector<Array>> evaluate(mlir::func::FuncOp func,
                                             llvm::ArrayRef<Array> args);

/// Concrete shapes of the tensor values of a function body.
using ShapeMap = llvm::DenseMap<mlir::Value, llvm::SmallVector<int64_t>>;

/// Propagates concrete shapes from `argShapes` (one per argument of `func`,
/// empty for scalars) through the top level of its body, op by op, and
/// returns the shape of every ranked tensor value there (arguments
/// included). Integer scalars that sizes depend on (arith ops on constants,
/// tensor.dim) are folded; a size that depends on the value of an argument
/// or on tensor contents is an error. The rules, by op:
///   - attn.attention: output [B, Hq, Sq, Dv] and lse [B, Hq, Sq] in its
///     layout;
///   - linalg (and any destination-style) ops: result k has the shape of
///     init k;
///   - tensor.empty (its dynamic sizes), tensor.cast, tensor.concat,
///     tensor.extract_slice, tensor.insert_slice, tensor.pad,
///     tensor.collapse_shape, tensor.expand_shape: their semantics;
///   - any other op: a fully static result type gives the shape; otherwise
///     (the default rule, which covers shape-preserving ops such as
///     elementwise ones) result 0 has the shape of operand 0 when both are
///     ranked tensors of the same rank whose static sizes agree.
/// An op no rule covers is an error naming it at its location. Add a rule
/// to lib/Oracle/ShapeInference.cpp for an op the default does not fit.
mlir::FailureOr<ShapeMap>
inferShapes(mlir::func::FuncOp func,
            llvm::ArrayRef<llvm::SmallVector<int64_t>> argShapes);

/// The operand of `result`'s op whose shape `result` always has under the
/// rules of `inferShapes` (the source of tensor.cast, an input of a
/// linalg op indexed like the init, else the init, operand 0 under the
/// default rule), or null. attune-run follows these chains from the
/// attention operands back to the function arguments to name their sizes.
mlir::Value getSameShapeOperand(mlir::OpResult result);

} // namespace attune::oracle

#endif // ATTUNE_ORACLE_ORACLE_H
