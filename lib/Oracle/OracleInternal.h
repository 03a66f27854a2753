//===- OracleInternal.h - Seams between the oracle's files ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Oracle.cpp evaluates the function body and owns the scalar interpreter;
// TensorOps.cpp evaluates the tensor and linalg ops around attention. This
// header is what they share: the evaluator's view of the values of the body
// (`Environment`), a scalar block compiled by Oracle.cpp's ProgramBuilder for
// repeated runs (`ScalarBlock`, used for linalg bodies), and the dispatch
// hook Oracle.cpp calls for every op it does not evaluate itself. It also
// declares the shape helpers (formatting for diagnostics, agreement with a
// type) that ShapeInference.cpp shares, and the element offset of the
// attention's layouts that the varlen and bucket-id ops share.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_ORACLE_ORACLEINTERNAL_H
#define ATTUNE_LIB_ORACLE_ORACLEINTERNAL_H

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Oracle/Oracle.h"

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace attune::oracle::detail {

/// Formats `values` as `[a, b, c]` (defined in TensorOps.cpp).
std::string formatList(llvm::ArrayRef<int64_t> values);
/// Formats a (possibly dynamic) shape as `[2, ?, 4]` (defined in
/// TensorOps.cpp).
std::string formatShape(llvm::ArrayRef<int64_t> shape);
/// Whether `type` is a ranked tensor whose static sizes agree with `shape`
/// (defined in TensorOps.cpp).
bool shapeFitsType(llvm::ArrayRef<int64_t> shape, mlir::Type type);

/// The offset of element (b, h, s, f) in a row-major 4-D array of `shape`
/// whose batch, head, sequence and feature dimensions are at `dims` (the
/// attention's layouts).
inline int64_t layoutOffset(llvm::ArrayRef<int64_t> shape,
                            attn::LayoutDims dims, int64_t b, int64_t h,
                            int64_t s, int64_t f) {
  int64_t at[4];
  at[dims.batch] = b;
  at[dims.head] = h;
  at[dims.seq] = s;
  at[dims.feature] = f;
  return ((at[0] * shape[1] + at[1]) * shape[2] + at[2]) * shape[3] + at[3];
}

/// A scalar of the function body: a float of any width as a double, an
/// integer of any width (and index) as int64 sign-extended from its width.
union Cell {
  double f;
  int64_t i;
};

/// The element `v` of an Array of element type `type` as a Cell.
Cell cellFromDouble(double v, mlir::Type type);
/// The Cell `c` of type `type` as an Array element (i1 as 0 or 1).
double doubleFromCell(Cell c, mlir::Type type);
/// Whether the oracle holds values of `type` (floats, integers of 1 to 64
/// bits, index).
bool isSupportedScalarType(mlir::Type type);

/// The evaluator's values, as the tensor-op evaluation sees them.
class Environment {
public:
  virtual ~Environment() = default;
  /// The array of tensor `value`, or nullptr if it has none.
  virtual const Array *lookupArray(mlir::Value value) = 0;
  /// The scalar `value`; nullopt if it has none.
  virtual std::optional<Cell> lookupScalar(mlir::Value value) = 0;
  /// Binds tensor `value` to `array`.
  virtual void bindArray(mlir::Value value, Array array) = 0;
};

/// A block of scalar ops translated once and run many times: the values in
/// `arguments` (block arguments, linalg.index results) are written before
/// each run, values defined outside the block are read from the environment
/// once, and the operands of the terminator are the results.
class ScalarBlock {
public:
  ScalarBlock();
  ~ScalarBlock();
  ScalarBlock(ScalarBlock &&);
  ScalarBlock &operator=(ScalarBlock &&);

  /// Translates `block`; ops whose results are all in `arguments` are not
  /// translated (the caller writes those results).
  static mlir::FailureOr<ScalarBlock>
  compile(mlir::Block &block, llvm::ArrayRef<mlir::Value> arguments,
          Environment &env);

  /// Writes argument `k` (in the order given to `compile`).
  void setArgument(unsigned k, Cell value);
  /// Runs the block; on an undefined operation (division by zero, ...)
  /// reports it at the failing op, followed by `context()` (e.g. " at
  /// loop indices [0, 3]"), and fails.
  mlir::LogicalResult run(llvm::function_ref<std::string()> context);
  /// Yielded value `k` of the last run.
  Cell getResult(unsigned k) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Evaluates `op` if it is one of the tensor or linalg ops TensorOps.cpp
/// handles (tensor.empty, tensor.concat, slices, reshapes, tensor.cast and
/// every linalg op on tensors with a scalar body) and binds its results in
/// `env`. Returns nullopt for any other op.
std::optional<mlir::LogicalResult> evaluateTensorOp(mlir::Operation *op,
                                                    Environment &env);

/// Evaluates `op` if it is attn.gather_pages or attn.append_pages
/// (PagedOps.cpp) and binds its result in `env`. Returns nullopt for any
/// other op.
std::optional<mlir::LogicalResult> evaluatePagedOp(mlir::Operation *op,
                                                   Environment &env);

/// The same for attn.unpack and attn.pack (VarlenOps.cpp).
std::optional<mlir::LogicalResult> evaluateVarlenOp(mlir::Operation *op,
                                                    Environment &env);

/// The same for attn.lsh_buckets and attn.nearest_centroid (HashOps.cpp).
std::optional<mlir::LogicalResult> evaluateHashOp(mlir::Operation *op,
                                                  Environment &env);

/// The same for attn.topk_blocks (BlockSelectionOps.cpp).
std::optional<mlir::LogicalResult>
evaluateBlockSelectionOp(mlir::Operation *op, Environment &env);

/// The same for attn.linear_attention (LinearAttentionOps.cpp).
std::optional<mlir::LogicalResult>
evaluateLinearAttentionOp(mlir::Operation *op, Environment &env);

} // namespace attune::oracle::detail

#endif // ATTUNE_LIB_ORACLE_ORACLEINTERNAL_H
