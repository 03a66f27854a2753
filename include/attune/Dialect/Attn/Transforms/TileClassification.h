//===- TileClassification.h - Which kv tiles a q tile visits ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The interface between mask analysis and the tiled loop nests of every
// target. For a tile of query rows, the classification is a range of key
// tiles to visit and, inside it, a range of tiles known to be *full* (every
// (i, j) unmasked): tiles outside [begin, end) are empty and skipped, tiles
// in [fullBegin, fullEnd) skip the mask, the rest evaluate it. Targets
// consume the ranges as index values, so a classification can be computed
// at compile time (constants) or at run time (from captured data) alike.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_TRANSFORMS_TILECLASSIFICATION_H
#define ATTUNE_DIALECT_ATTN_TRANSFORMS_TILECLASSIFICATION_H

#include "mlir/IR/Builders.h"

namespace attune::attn {

class AttentionOp;

/// Key-tile ranges for one query tile; all values are `index`.
struct KeyTileRanges {
  /// Tiles [begin, end) may hold unmasked elements.
  mlir::Value begin, end;
  /// Tiles [fullBegin, fullEnd) have no masked element (ignoring the
  /// sequence bound: the caller masks columns past Sk in the last tile).
  mlir::Value fullBegin, fullEnd;
};

/// Emits the key-tile ranges of the query rows [rowBegin, rowBegin + rows)
/// of head `head` in batch `batch`, for key tiles of `tileK` keys over
/// `seqK` keys. Sound for every mask: a tile is only called empty or full
/// when that holds for all its elements. Recognises no mask and the causal
/// family (`j <= i`, `j < i`); for every other mask the range is all tiles
/// and none is full: the targets then classify each visited tile with
/// `emitTileClass` below, the `tiles` region that `attn-sparsify` derives
/// from the mask analysis (lib/Analysis/MaskAnalysis.cpp).
KeyTileRanges emitKeyTileRanges(mlir::OpBuilder &b, mlir::Location loc,
                                AttentionOp op, mlir::Value rowBegin,
                                mlir::Value rows, mlir::Value seqK,
                                int64_t tileK);

/// The class of one tile as the targets use it: i1 values, never both true.
struct TileClassValues {
  mlir::Value empty, full;
};

/// Emits, at the insertion point of `b`, the tile classifier of `op` on the
/// box `box` = (b, h, i0, i1, j0, j1) (index values, inclusive bounds):
/// a copy of the op's `tiles` region with `captures` (the op's capture
/// operands as seen at the insertion point) for its capture arguments, or,
/// without one, constants (full without a mask, else partial).
TileClassValues emitTileClass(mlir::OpBuilder &b, mlir::Location loc,
                              AttentionOp op, mlir::ValueRange box,
                              mlir::ValueRange captures);

} // namespace attune::attn

#endif // ATTUNE_DIALECT_ATTN_TRANSFORMS_TILECLASSIFICATION_H
