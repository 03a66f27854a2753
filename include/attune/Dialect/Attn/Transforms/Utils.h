//===- Utils.h - Helpers shared by attn lowerings ---------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H
#define ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallVector.h"

namespace attune::attn {

class AttentionOp;
class MergeOp;
class PermuteOp;
struct LayoutDims;
class RopeOp;

/// Emits a run-time check (`cf.assert`) that size `xDim` of tensor `x`
/// equals size `yDim` of tensor `y`, failing with "<op name>: <what> do not
/// match" at `op`. Emits nothing when both sizes are static: the verifier
/// compared those.
void emitSizeCheck(mlir::OpBuilder &b, mlir::Operation *op, mlir::Value x,
                   unsigned xDim, mlir::Value y, unsigned yDim,
                   llvm::StringRef what);

/// The same against the size `expected` (a value or an index attribute);
/// nothing when `x`'s size is static and `expected` a constant.
void emitSizeCheck(mlir::OpBuilder &b, mlir::Operation *op, mlir::Value x,
                   unsigned xDim, mlir::OpFoldResult expected,
                   llvm::StringRef what);

/// Element `at` of the integer or index tensor `tensor` as an index
/// (sign-extended): offsets, lengths and page ids read by the lowerings.
mlir::Value extractIndex(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value tensor, mlir::ValueRange at);

/// `x` (f32, f16 or bf16) as f64, exactly (through f32): the bucket-id and
/// block-selection lowerings sum in f64.
mlir::Value extendToF64(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// A tensor of `sizes` filled with the constant `value` (linalg.fill).
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<mlir::OpFoldResult> sizes,
                         mlir::TypedAttr value);

/// Emits run-time checks (`cf.assert`) that the dynamic sizes the verifier
/// could not compare agree: the batch size of Q, K and V, and the sequence
/// length of K and V. A mismatch aborts with a message instead of reading
/// out of bounds.
void emitShapeChecks(mlir::OpBuilder &b, AttentionOp op);

/// The same for attn.rope: `positions` against the input's B and S, and
/// `freq_scales` against R / 2.
void emitRopeShapeChecks(mlir::OpBuilder &b, RopeOp op);

/// The same for attn.merge: every partial's sizes against the first's, and
/// lse's [B, H, S] against O's.
void emitMergeShapeChecks(mlir::OpBuilder &b, MergeOp op);

/// The same for attn.permute: its order's [B, H, S] against `input`'s
/// (laid out as `dims`): the permute's input, or for a permute fused into
/// the store of a result that does not exist yet, a tensor of its sizes.
void emitPermuteShapeChecks(mlir::OpBuilder &b, PermuteOp op, mlir::Value input,
                            const LayoutDims &dims);

/// Whether `order` is a row order of attn.sort_ids: its order result, or a
/// slice of it with whole rows. Each (b, h) row of either is a permutation
/// of [0, S) by construction, so a kernel that reads or writes rows through
/// it needs no check of its entries (the CPU loads, the CUDA permutes).
bool isSortOrder(mlir::Value order);

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
