//===- Utils.h - Helpers shared by attn lowerings ---------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H
#define ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallVector.h"

namespace attune::attn {

class AttentionOp;
class RopeOp;

/// Emits run-time checks (`cf.assert`) that the dynamic sizes the verifier
/// could not compare agree: the batch size of Q, K and V, and the sequence
/// length of K and V. A mismatch aborts with a message instead of reading
/// out of bounds.
void emitShapeChecks(mlir::OpBuilder &b, AttentionOp op);

/// The same for attn.rope: `positions` against the input's B and S, and
/// `freq_scales` against R / 2.
void emitRopeShapeChecks(mlir::OpBuilder &b, RopeOp op);

/// Lowers every op of type `OpTy` under `root` with `lower` (`lowerRope`,
/// ...), in walk order. The ops are collected before the first is lowered,
/// since lowering replaces them. Fails at the first failure.
template <typename OpTy>
mlir::LogicalResult
lowerAll(mlir::Operation *root,
         mlir::LogicalResult (*lower)(mlir::RewriterBase &, OpTy)) {
  llvm::SmallVector<OpTy> ops;
  root->walk([&](OpTy op) { ops.push_back(op); });
  mlir::IRRewriter rewriter(root->getContext());
  for (OpTy op : ops)
    if (mlir::failed(lower(rewriter, op)))
      return mlir::failure();
  return mlir::success();
}

} // namespace attune::attn

#endif // ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H
