//===- RegionLowering.h - Lowering the score and mask regions ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// What every target does with the score and mask regions of attn.attention,
// written once: find which ops vary per element and which are invariant
// (per CTA, per row, per vector of queries), hoist the invariant ones out of
// the element loop, inline a region into a target's loop body given values
// for its arguments, and read captured tensors from the target's buffers.
// A target keeps only what differs: the values it gives i and j (a vector
// of query lanes on the CPU, fragment positions on CUDA) and how it emits
// an op in its own form (vector ops, contracted float arithmetic).
//
// Capture reads are plain loads (`tensor.extract` -> `memref.load`,
// `tensor.dim` -> `memref.dim`), with no bounds check of their own. The
// contract, which every target keeps: a region is only evaluated at
// positions (b, h, i, j) inside Q and K (the targets clamp or guard the
// positions of padding elements before inlining), and at such positions
// the op's semantics require every read the region makes to be in bounds.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_UTILS_REGIONLOWERING_H
#define ATTUNE_DIALECT_ATTN_UTILS_REGIONLOWERING_H

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <utility>

namespace attune::attn {

//===----------------------------------------------------------------------===//
// Which values vary per element
//===----------------------------------------------------------------------===//

/// The values of a score or mask region that depend on the arguments a
/// lowering evaluates the region for many elements of at once (the seeds:
/// s and i for a vector of queries; s, i and j, and h when heads share a
/// tile, per fragment element): every result of an op with a varying
/// operand varies. Everything else is the same for all those elements and
/// may be computed once.
class RegionVariance {
public:
  /// With `opaqueOpsVary`, ops with regions or with other than one result
  /// also vary, whatever their operands: hoistInvariants clones single
  /// results only.
  RegionVariance(mlir::Block *block, llvm::ArrayRef<mlir::Value> seeds,
                 bool opaqueOpsVary = false);

  /// Whether `value` (of the region) varies between elements.
  bool isVarying(mlir::Value value) const { return varying.contains(value); }
  /// Whether an operand of `op` varies.
  bool hasVaryingOperand(mlir::Operation &op) const;
  /// Whether `op` is computed once by hoistInvariants: its operands do not
  /// vary, it has one result and no region.
  bool isHoistable(mlir::Operation &op) const {
    return op.getNumRegions() == 0 && op.getNumResults() == 1 &&
           !hasVaryingOperand(op);
  }

private:
  llvm::DenseSet<mlir::Value> varying;
};

/// Integer-to-f32 conversions (`arith.sitofp`) of a region whose operand is
/// affine in the positions, x = ci i + cj j + (an invariant), mapped to
/// (ci, cj). For elements at (i0 + di, j0 + dj), sitofp(x) is
/// sitofp(x(i0, j0)) + (ci di + cj dj): exact while |x| < 2^24, one more f32
/// rounding beyond. Only casts whose results feed float or i1 arithmetic
/// (never an index) and that depend on i or j are listed; `isInvariant`
/// says which integer values count as invariants. Forms are built from
/// adds, subtracts, multiplies by constants of at most 16 bits and
/// value-keeping casts, assuming nothing wraps (positions are below 2^31).
using AffineCasts =
    llvm::DenseMap<mlir::Operation *, std::pair<int64_t, int64_t>>;
AffineCasts findAffineCasts(mlir::Block *block,
                            llvm::function_ref<bool(mlir::Value)> isInvariant);

//===----------------------------------------------------------------------===//
// Inlining into a target's loop body
//===----------------------------------------------------------------------===//

/// Maps the arguments of the score or mask block `block`: s to `score`
/// (score regions; may be null), b, h, i, j to `indices` (4 values; null
/// ones stay unmapped) and the capture arguments to `captures`.
void mapRegionArguments(mlir::Block *block, mlir::Value score,
                        llvm::ArrayRef<mlir::Value> indices,
                        mlir::ValueRange captures, mlir::IRMapping &mapping);

/// Emits, at `b`'s insertion point, `read`: a `tensor.extract` (operands:
/// source, indices) or `tensor.dim` (source, index) as a `memref.load` or
/// `memref.dim` of `buffer`, with `operands` for the rest of its operands.
mlir::Value emitBufferRead(mlir::OpBuilder &b, mlir::Operation *read,
                           mlir::Value buffer, mlir::ValueRange operands);

/// If `nested`, an op of a region's block, reads a captured tensor
/// (`tensor.extract`, `tensor.dim` of a capture argument) whose buffer in
/// `captureBuffers` (one per capture, null for none) is a memref, emits the
/// read from the buffer (emitBufferRead) with `mapping`'s operands, maps
/// its result and returns true.
bool readCapture(mlir::OpBuilder &b, mlir::Operation &nested,
                 mlir::IRMapping &mapping,
                 llvm::ArrayRef<mlir::Value> captureBuffers);

/// Replaces every `tensor.extract` and `tensor.dim` under `root` whose
/// source is already a memref (a captured tensor cloned with its buffer for
/// operand) by the memref read (emitBufferRead).
void rewriteBufferReads(mlir::Operation *root);

/// A target's own way of emitting an op of a region: emits `nested` with
/// `mapping`, maps its results and returns true, or returns false to have
/// it cloned.
using RegionOpEmitter =
    llvm::function_ref<bool(mlir::Operation &nested, mlir::IRMapping &)>;

/// Emits the ops of `block` at `b`'s insertion point with `mapping`, which
/// maps its arguments (mapRegionArguments), and returns the value it yields.
/// Each op is emitted by `emitOp` when given and it accepts; else, a
/// capture read, by readCapture; else cloned, and `onClone` (when given)
/// sees the clone.
mlir::Value
inlineRegion(mlir::OpBuilder &b, mlir::Block *block, mlir::IRMapping &mapping,
             llvm::ArrayRef<mlir::Value> captureBuffers,
             RegionOpEmitter emitOp = nullptr,
             llvm::function_ref<void(mlir::Operation *)> onClone = nullptr);

/// Emits, at `b`'s insertion point, once, the ops of `block` that
/// `variance` finds hoistable, with `mapping` for the arguments they use,
/// and records each one's value in `hoisted`. inlineRegion's `emitOp` then
/// reuses them (lookupHoisted).
void hoistInvariants(mlir::OpBuilder &b, mlir::Block *block,
                     const RegionVariance &variance, mlir::IRMapping &mapping,
                     llvm::ArrayRef<mlir::Value> captureBuffers,
                     mlir::IRMapping &hoisted);

/// If `nested` was hoisted (its result is in `hoisted`), maps its result to
/// the hoisted value and returns true.
bool lookupHoisted(mlir::Operation &nested, const mlir::IRMapping &hoisted,
                   mlir::IRMapping &mapping);

/// Clones, at `b`'s insertion point, the ops of `block` that `value`
/// depends on, each once, with `mapping`; values in `hoisted` are taken as
/// they are. Returns `value`'s copy.
mlir::Value cloneDependencies(mlir::OpBuilder &b, mlir::Block *block,
                              mlir::Value value, mlir::IRMapping &mapping,
                              const mlir::IRMapping &hoisted);

} // namespace attune::attn

#endif // ATTUNE_DIALECT_ATTN_UTILS_REGIONLOWERING_H
