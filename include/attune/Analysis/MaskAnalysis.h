//===- MaskAnalysis.h - Empty / full / partial mask tiles -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Classifies a box of (b, h, i, j) indices of an `attn.attention` op as
// empty (every element masked), full (no element masked) or partial, by
// abstract interpretation of the mask region over intervals: every integer
// value of the region becomes a closed interval, every i1 a tri-state, and
// the cost is O(#ops) per box, never per element. The analysis is sound: a
// box is only called empty or full when that holds for all its elements.
//
// The interpreter is written once (MaskInterpreter.h) and instantiated twice:
//  - statically, on int64 intervals (`classifyMaskTile`, `computeTileMap`);
//  - as IR (`emitMaskTileClass`): arith ops that compute the same abstract
//    interpretation at run time, from runtime box bounds and captures.
// See docs/MaskAnalysis.md.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_ANALYSIS_MASKANALYSIS_H
#define ATTUNE_ANALYSIS_MASKANALYSIS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace attune::attn {

class AttentionOp;
class MaskProgram;

//===----------------------------------------------------------------------===//
// Static classification
//===----------------------------------------------------------------------===//

/// A closed interval [lo, hi] of signed 64-bit integers (lo <= hi).
struct Interval {
  int64_t lo = 0, hi = 0;

  Interval() = default;
  /// The point interval [v, v].
  Interval(int64_t v) : lo(v), hi(v) {}
  Interval(int64_t lo, int64_t hi) : lo(lo), hi(hi) {}

  /// Every int64 value.
  static Interval full() {
    return {std::numeric_limits<int64_t>::min(),
            std::numeric_limits<int64_t>::max()};
  }
  bool isPoint() const { return lo == hi; }
  bool contains(int64_t v) const { return lo <= v && v <= hi; }
  bool operator==(const Interval &o) const { return lo == o.lo && hi == o.hi; }
  bool operator!=(const Interval &o) const { return !(*this == o); }
};

/// A box of mask indices: every (b, h, i, j) with each coordinate in its
/// interval.
struct IndexBox {
  Interval b, h, i, j;
};

/// What a box of the mask holds.
enum class TileClass : uint8_t {
  /// Every element is masked: the tile can be skipped.
  Empty,
  /// No element is masked: the tile needs no mask evaluation.
  Full,
  /// Anything else, or the analysis could not tell.
  Partial
};

/// The character of a tile class in the text tile maps: '.', '#', '+'.
char getTileClassChar(TileClass cls);

/// Gives, for a `tensor.extract` from tensor capture `capture` at indices
/// that lie in `indices` (one interval per tensor dimension, not clipped to
/// the tensor's bounds), an interval that holds every element read, or
/// nullopt when unknown. This is how data-dependent masks become precise:
/// e.g. a block-map kernel passes the min/max of the document ids of a tile.
using ExtractRangeFn = llvm::function_ref<std::optional<Interval>(
    unsigned capture, llvm::ArrayRef<Interval> indices)>;

/// The mask region of an op, compiled once into a form that can be
/// classified for many boxes cheaply (O(#ops) each).
class MaskClassifier {
public:
  explicit MaskClassifier(AttentionOp op);
  ~MaskClassifier();
  MaskClassifier(MaskClassifier &&);
  MaskClassifier &operator=(MaskClassifier &&);

  /// Whether the op has a mask region (without one every tile is full).
  bool hasMask() const { return program != nullptr; }

  /// Classifies `box`. `captureValues[k]` is what is known of capture `k`:
  /// for an integer or index scalar, an interval that holds its value; for
  /// an i1 scalar, an interval over {0, 1} (nonzero is true); for a tensor,
  /// an interval that holds every element the region may read. Missing or
  /// nullopt entries mean "any value of the type". `extractRange`, when
  /// given, is asked first for every `tensor.extract` of a capture.
  TileClass classify(const IndexBox &box,
                     llvm::ArrayRef<std::optional<Interval>> captureValues = {},
                     ExtractRangeFn extractRange = nullptr) const;

  /// Like `classify`, but a Partial box is bisected (along its longest
  /// coordinate) and its pieces classified, up to `budget` more
  /// classifications: the box is Full (Empty) if every piece is. This
  /// recovers correlations the interval domain loses between the operands
  /// of `and` / `or` (e.g. a tile that straddles a segment boundary whose
  /// halves are each decided). It stops early, Partial, once it has seen
  /// both a full and an empty piece. Sound for every budget; 0 is
  /// `classify`.
  TileClass
  classifyRefined(const IndexBox &box, unsigned budget,
                  llvm::ArrayRef<std::optional<Interval>> captureValues = {},
                  ExtractRangeFn extractRange = nullptr) const;

  /// The compiled program (null without a mask region).
  const MaskProgram *getProgram() const { return program.get(); }

private:
  std::unique_ptr<MaskProgram> program;
};

/// Classifies one box of the mask of `op` (see MaskClassifier::classify).
/// Without a mask region the result is Full.
TileClass
classifyMaskTile(AttentionOp op, const IndexBox &box,
                 llvm::ArrayRef<std::optional<Interval>> captureValues = {},
                 ExtractRangeFn extractRange = nullptr);

/// The classes of all (q-tile, kv-tile) pairs for given sizes.
struct TileMap {
  int64_t seqQ = 0, seqK = 0, tileQ = 1, tileK = 1;
  int64_t numRows = 0, numCols = 0;
  /// Row-major, numRows x numCols.
  std::vector<TileClass> tiles;

  TileClass at(int64_t row, int64_t col) const {
    return tiles[row * numCols + col];
  }
  /// Number of tiles of class `cls`.
  int64_t count(TileClass cls) const;
  /// (full + partial) / all tiles; 0 for an empty map.
  double nonEmptyFraction() const;
  /// One line per q tile ('.' empty, '#' full, '+' partial, between '|'),
  /// then a summary line with the counts and the non-empty fraction.
  void print(llvm::raw_ostream &os, llvm::StringRef indent = "") const;
  /// The map as an SVG picture (one cell per tile), titled `title`.
  void printSVG(llvm::raw_ostream &os, llvm::StringRef title) const;
};

/// Classifies every tile of sizes `seqQ` x `seqK` in tiles of `tileQ` x
/// `tileK`, for batch indices in `batch` and head indices in `head` (both
/// points for one (b, h), or ranges for a map that holds for all of them).
/// The last tiles are clipped: a box's hi is min(edge, S) - 1.
/// `refineBudget` > 0 classifies with MaskClassifier::classifyRefined.
TileMap
computeTileMap(AttentionOp op, Interval batch, Interval head, int64_t seqQ,
               int64_t seqK, int64_t tileQ, int64_t tileK,
               llvm::ArrayRef<std::optional<Interval>> captureValues = {},
               ExtractRangeFn extractRange = nullptr,
               unsigned refineBudget = 0);

//===----------------------------------------------------------------------===//
// Runtime classification, emitted as IR
//===----------------------------------------------------------------------===//

/// The class of a box as i1 values: `empty` and `full` are never both true
/// (for a non-empty box); both false means partial.
struct EmittedTileClass {
  mlir::Value empty, full;
};

/// A runtime interval: `lo` and `hi` are i64 values.
struct ValueInterval {
  mlir::Value lo, hi;
};

/// The runtime counterpart of ExtractRangeFn: returns i64 bounds of the
/// elements of tensor capture `capture` read at indices within `indices`,
/// emitting whatever it needs at the builder's insertion point, or nullopt.
using EmitExtractRangeFn = llvm::function_ref<std::optional<ValueInterval>(
    mlir::OpBuilder &b, mlir::Location loc, unsigned capture,
    llvm::ArrayRef<ValueInterval> indices)>;

/// Emits, at the insertion point of `b`, arith ops that classify the box
/// [boxLo, boxHi] (four `index` values each: b, h, i, j; inclusive) of the
/// mask of `op` with the same abstract interpretation as classifyMaskTile.
/// `captures` are the op's capture operands as available at the insertion
/// point (or empty, or with null entries for unknown ones): integer, index
/// and i1 scalars become point intervals; a `tensor.extract` of a tensor
/// capture at indices that are the same SSA value at both ends of the box
/// (e.g. `b` when boxLo[0] == boxHi[0]) reads the element, otherwise it asks
/// `extractRange`, otherwise it is unknown. Without a mask region the box is
/// full (constants). All emitted ops are total: no division by zero or
/// poison, whatever the inputs.
EmittedTileClass emitMaskTileClass(mlir::OpBuilder &b, mlir::Location loc,
                                   AttentionOp op, mlir::ValueRange boxLo,
                                   mlir::ValueRange boxHi,
                                   mlir::ValueRange captures,
                                   EmitExtractRangeFn extractRange = nullptr);

} // namespace attune::attn

#endif // ATTUNE_ANALYSIS_MASKANALYSIS_H
