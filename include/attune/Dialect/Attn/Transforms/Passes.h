//===- Passes.h - Attn dialect transformation passes ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_H
#define ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewriterBase;
} // namespace mlir

namespace attune::attn {

class AppendPagesOp;
class AttentionOp;
class GatherPagesOp;
class LshBucketsOp;
class MergeOp;
class NearestCentroidOp;
class PackOp;
class PermuteOp;
class RopeOp;
class SortIdsOp;
class TopkBlocksOp;
class LinearAttentionOp;
class UnpackOp;

#define GEN_PASS_DECL
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"

/// Rewrites every attn.attention under `root` whose mask compares bucket
/// ids into attention over rows sorted by id (see `attn-cluster`); returns
/// how many it rewrote.
unsigned clusterBucketedAttention(mlir::Operation *root);

/// Replaces `op` by its naive materialised linalg form (see the
/// `attn-lower-to-reference` pass).
mlir::LogicalResult lowerToReference(mlir::RewriterBase &rewriter,
                                     AttentionOp op);

/// Replaces `op` by its materialised linalg form (see `attn-lower-rope`).
mlir::LogicalResult lowerRope(mlir::RewriterBase &rewriter, RopeOp op);

/// Replaces `op` by its materialised linalg form (see `attn-lower-merge`).
mlir::LogicalResult lowerMerge(mlir::RewriterBase &rewriter, MergeOp op);

/// Replaces `op` by a contraction into f64 scores and an argmax (see
/// `attn-lower-hashing`).
mlir::LogicalResult lowerLshBuckets(mlir::RewriterBase &rewriter,
                                    LshBucketsOp op);

/// The same for attn.nearest_centroid.
mlir::LogicalResult lowerNearestCentroid(mlir::RewriterBase &rewriter,
                                         NearestCentroidOp op);

/// Replaces `op` by block sums, scores, top_k selection passes and the map,
/// linalg.generic ops all (see `attn-lower-block-selection`).
mlir::LogicalResult lowerTopkBlocks(mlir::RewriterBase &rewriter,
                                    TopkBlocksOp op);

/// Replaces `op` by feature maps and f32 contractions, chunked when causal
/// (see `attn-lower-linear-attention`).
mlir::LogicalResult lowerLinearAttention(mlir::RewriterBase &rewriter,
                                         LinearAttentionOp op);

/// Replaces `op` by a counting sort of each row, serial loops on tensors
/// (see `attn-lower-hashing`).
mlir::LogicalResult lowerSortIds(mlir::RewriterBase &rewriter, SortIdsOp op);

/// Replaces `op` by checks of its order (and, with `inverse`, the inverse
/// order built by a checked scatter) and a gather (see
/// `attn-lower-hashing`).
mlir::LogicalResult lowerPermute(mlir::RewriterBase &rewriter, PermuteOp op);

/// Replaces `op` by its materialised linalg form (see `attn-lower-pages`).
mlir::LogicalResult lowerGatherPages(mlir::RewriterBase &rewriter,
                                     GatherPagesOp op);

/// Replaces `op` by a loop that inserts the new rows into the cache (see
/// `attn-lower-pages`).
mlir::LogicalResult lowerAppendPages(mlir::RewriterBase &rewriter,
                                     AppendPagesOp op);

/// Emits the run-time checks of `op`'s operands (`cf.assert`): the batch
/// sizes, every length in [0, pages x page size], and the id of every page
/// that holds rows below a length in the cache. The targets call it where
/// they fuse the gather into attention's loads, which then read pages
/// without further checks.
void emitGatherPagesChecks(mlir::OpBuilder &b, GatherPagesOp op);

/// Replaces `op` by its materialised linalg form (see `attn-lower-varlen`).
mlir::LogicalResult lowerUnpack(mlir::RewriterBase &rewriter, UnpackOp op);

/// Replaces `op` by a zero fill and a loop that inserts each sequence's
/// rows (see `attn-lower-varlen`).
mlir::LogicalResult lowerPack(mlir::RewriterBase &rewriter, PackOp op);

/// Emits the run-time checks (`cf.assert`) of `offsets` (cu_seqlens) of the
/// varlen op `op`: at least one entry, from at least 0 to at most `total`
/// packed rows, non-decreasing, no sequence longer than `seq`.
void emitVarlenChecks(mlir::OpBuilder &b, mlir::Operation *op,
                      mlir::Value offsets, mlir::Value total, mlir::Value seq);

/// The checks of `op`'s offsets against its packed tensor and padded length;
/// the targets call it where they fuse the unpack into attention's loads.
void emitUnpackChecks(mlir::OpBuilder &b, UnpackOp op);

/// The checks of `op`'s offsets against its packed result (`total` rows),
/// the padded length `seq` and the batch size `batch` of its input; the
/// targets call it where they store attention's output rows packed.
void emitPackChecks(mlir::OpBuilder &b, PackOp op, mlir::Value total,
                    mlir::Value seq, mlir::Value batch);

/// The packed rows T of `op`'s result: static, or its `total`.
mlir::Value getPackedRows(mlir::OpBuilder &b, PackOp op);

/// The padded length S of `op`'s result: static, or its `max_len`.
mlir::Value getUnpackedLength(mlir::OpBuilder &b, UnpackOp op);

#define GEN_PASS_REGISTRATION
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"

} // namespace attune::attn

#endif // ATTUNE_DIALECT_ATTN_TRANSFORMS_PASSES_H
