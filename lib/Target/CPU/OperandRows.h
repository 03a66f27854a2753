//===- OperandRows.h - How the CPU kernel reaches its operands --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Target/CPU: the operand-loads seam of the CPU kernel. The
// kernel (ConvertAttnToCPU.cpp) reads Q, K and V and writes O and lse only
// through OperandRows, as "feature f of row r of (batch, head)" where r is
// a query or key position as the op sees it. Every path of the kernel (the
// Q^T packing, the score microkernel, the P.V blocks, the transposed tail,
// the epilogue) goes through the same four calls, so a producer that
// changes where a row lives or what it holds is written here once.
// docs/OperandLoads.md lists the producers this seam is meant to take and
// what each changes, on this target and on the CUDA one.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CPU_OPERANDROWS_H
#define ATTUNE_LIB_TARGET_CPU_OPERANDROWS_H

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include <functional>
#include <optional>
#include <utility>

namespace attune::cpu {

/// A read-only buffer view of `tensor` with unit stride in the innermost
/// dimension (any offset and outer strides: a slice of a larger tensor
/// lowers to a view, not a copy).
mlir::Value readOnlyBuffer(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value tensor);

/// Element `at` of the integer or index buffer `buffer` as an index: the
/// offsets, lengths and page ids the kernel reads.
mlir::Value loadIndex(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value buffer, mlir::ValueRange at);

/// The operands of attn.attention that producers fuse into.
enum class Operand { Query, Key, Value };

/// The value of operand `which` of `op`.
mlir::Value getOperand(attn::AttentionOp op, Operand which);

/// The attn.rope whose result is the query or key `which` of `op` and that
/// the kernel applies as it stages rows, or null: the rope must use `op`'s
/// layout (its sequence dimension is then the kernel's). Never the value,
/// even when the value is the key's tensor.
attn::RopeOp fusedRope(attn::AttentionOp op, Operand which);

/// The tensor.concat along the sequence that produces the key or value
/// `which` of `op` (for the key, also as the input of its fused rope) and
/// whose inputs the kernel stages rows from, or null.
mlir::tensor::ConcatOp fusedConcat(attn::AttentionOp op, Operand which);

/// The attn.gather_pages that produces the key or value `which` of `op`
/// (for the key, also as the input of its fused rope) and whose pages the
/// kernel stages rows from, or null: it must use `op`'s layout.
attn::GatherPagesOp fusedPages(attn::AttentionOp op, Operand which);

/// The attn.unpack that produces operand `which` of `op` (for Q and K, also
/// as the input of its fused rope) and whose packed rows the kernel stages,
/// or null: it must use `op`'s layout.
attn::UnpackOp fusedUnpack(attn::AttentionOp op, Operand which);

/// The attn.pack that is the only reader of `op`'s output (its lse, if
/// any, unread) and to whose packed rows the kernel stores O, or null: it
/// must use `op`'s layout.
attn::PackOp fusedPack(attn::AttentionOp op);

/// The attn.permute (not inverse) that produces operand `which` of `op` and
/// whose input the kernel reads in its order, or null: it must use `op`'s
/// layout and its order must be a row order of attn.sort_ids (a permutation
/// by construction, so that the loads need no check of it).
attn::PermuteOp fusedPermute(attn::AttentionOp op, Operand which);

/// The inverse attn.permute that is the only reader of `op`'s output and
/// the one of its lse (when it is read), both by the same order: the kernel
/// then stores rows where the permutes would put them. Null for either
/// when they are not fused (see fusedPermute for the order).
std::pair<attn::PermuteOp, attn::PermuteOp>
fusedUnpermute(attn::AttentionOp op);

/// The rows of one operand of attn.attention for the CPU kernel.
///
/// A dense buffer in either layout ([B, H, S, D] or [B, S, H, D]; lse is
/// [B, H, S], one feature per row). Loads widen to f32, stores narrow from
/// f32 to the buffer's element type, so the kernel's arithmetic never sees
/// the storage type.
///
/// An operand produced by attn.rope, a tensor.concat along the sequence or
/// attn.gather_pages is *staged*: before the kernel reads a tile of rows it
/// calls `stage`, which copies them into a per-thread f32 tile, each row
/// from the tensor or page it lives in and rotated by the rope on the way
/// (StagedRows.cpp); the loads then read that tile. The rotated,
/// concatenated or gathered operand never exists in memory as a whole.
class OperandRows {
public:
  /// The rows of a 4-D `buffer` laid out as `dims`; `rowCount` is its
  /// sequence length; `lanes` the f32 lanes of a vector.
  OperandRows(mlir::OpBuilder &b, mlir::Location loc, mlir::Value buffer,
              attn::LayoutDims dims, mlir::Value rowCount, int64_t lanes);
  /// The rows of a [B, H, S] buffer of one value per row (lse).
  OperandRows(mlir::OpBuilder &b, mlir::Location loc, mlir::Value buffer,
              mlir::Value rowCount, int64_t lanes);

  /// The rows that exist for `batch` (reads of rows at or past it are the
  /// caller's error: the kernel clamps or masks them).
  mlir::Value rowCount(mlir::Value batch) const {
    (void)batch; // Dense operands: every batch has the same length.
    return count;
  }

  /// `count` consecutive features of row `row` from `feature` (a whole
  /// vector by default) as a vector<lanes x f32>; lanes past `count` are 0
  /// and not read.
  mlir::Value loadVector(mlir::Value batch, mlir::Value head, mlir::Value row,
                         mlir::Value feature, int64_t count = 0) const;
  /// Feature `feature` of row `row` as an f32.
  mlir::Value loadScalar(mlir::Value batch, mlir::Value head, mlir::Value row,
                         mlir::Value feature) const;
  /// Stores the vector<lanes x f32> `value` as features [feature, feature +
  /// lanes) of row `row`.
  void storeVector(mlir::Value value, mlir::Value batch, mlir::Value head,
                   mlir::Value row, mlir::Value feature) const;
  /// Stores the f32 `value` as feature `feature` of row `row` (null for a
  /// row of one value, as lse's).
  void storeScalar(mlir::Value value, mlir::Value batch, mlir::Value head,
                   mlir::Value row, mlir::Value feature = {}) const;

  /// Makes the rows those of `rope` applied to the buffer: `positions`
  /// (a buffer), `offset` and `scales` (a buffer) are the rope's operands
  /// as the kernel sees them, null when absent.
  void setRotary(attn::RopeOp rope, mlir::Value positions, mlir::Value offset,
                 mlir::Value scales);
  /// Makes row r live in `buffers[i]` at row r - `firstRows[i]` for r in
  /// [firstRows[i], firstRows[i + 1]) (firstRows[0] = 0; the last range
  /// ends at the row count): the inputs of a concatenation.
  void setSources(llvm::ArrayRef<mlir::Value> buffers,
                  llvm::ArrayRef<mlir::Value> firstRows);
  /// Makes row r of batch b row r mod P of page `table`[b, r / P] of the
  /// buffer (a cache laid out as `cacheDims`: pages as the batch, the rows
  /// of a page as the sequence) for r < `lengths`[b], and 0 past it: a
  /// paged KV cache (attn.gather_pages). `table` and `lengths` are buffers
  /// whose values the caller has checked.
  void setPages(mlir::Value table, mlir::Value lengths,
                attn::LayoutDims cacheDims, int64_t pageSize);
  /// Makes row r of batch b row `offsets`[b] + r of the buffer (packed
  /// sequences, [T, H, D]) for r < `offsets`[b + 1] - `offsets`[b], and 0
  /// past it: a varlen batch (attn.unpack; loads are staged). For the
  /// output (attn.pack), stores go to that row; rows past the length must
  /// not be stored. `offsets` is a buffer whose values the caller has
  /// checked.
  void setPacked(mlir::Value offsets);
  /// Makes row r of (batch, head) row `order`[batch, head, r] of the buffer,
  /// for loads and stores: a permuted operand or an un-permuted output
  /// (attn.permute). `order` is a [B, H, S] buffer of permutations.
  void setRowOrder(mlir::Value order) { rowOrder = order; }
  /// Whether the rows are read through a staged tile (`stage`).
  bool isStaged() const {
    return static_cast<bool>(rope) || sourceBuffers.size() > 1 ||
           static_cast<bool>(pageTable) || static_cast<bool>(packedOffsets);
  }
  /// Per thread, before any `stage`: allocates, with `scratch`, the staged
  /// tile of `rows` rows and the rope's angle table.
  void prepareStaging(
      const std::function<mlir::Value(llvm::ArrayRef<int64_t>, mlir::Type)>
          &scratch,
      int64_t rows);
  /// Fills the staged tile with rows [rowBegin, rowBegin + rows) of (batch,
  /// head), rows past the last one reading the last one; until the next
  /// `stage`, loads of those rows read the tile.
  void stage(mlir::Value batch, mlir::Value head, mlir::Value rowBegin);

  /// Bytes of the per-thread staging of `rows` rows of operand `which` of
  /// `op`, 0 if it is not staged (KernelPlan counts them).
  static double stagingBytes(attn::AttentionOp op, Operand which,
                             int64_t rows);

private:
  /// Copies the row of buffer `from` whose feature f is at `at(f)` into
  /// row `r` of the staged tile, rotated by the rope (at the f64
  /// `position`) if any.
  void stageRow(mlir::Value from,
                llvm::function_ref<llvm::SmallVector<mlir::Value, 4>(
                    mlir::Value)>
                    at,
                mlir::Value position, mlir::Value r) const;
  /// Stages row `row` of `batch` from its page or packed row, or zeros
  /// past the sequence's length.
  void stageIndirectRow(mlir::Value batch, mlir::Value head, mlir::Value row,
                        mlir::Value position, mlir::Value r) const;
  /// Stores the rope's first R features of row `r` of the staged tile,
  /// read with `load(f, count)`, rotated at `position` (or, with the angle
  /// tables, at the tile's first position + r) with `store(value, f,
  /// count)`; returns R.
  int64_t rotateFeatures(
      llvm::function_ref<mlir::Value(mlir::Value, int64_t)> load,
      llvm::function_ref<void(mlir::Value, mlir::Value, int64_t)> store,
      mlir::Value position, mlir::Value r) const;
  /// cos and sin (f32 vectors) of the angles p * theta_e of the rope's
  /// table entries [e, e + count), for the f64 `scaled` = p / scaling: the
  /// angle reduced to [-pi, pi] in f64, then f32 polynomials.
  std::pair<mlir::Value, mlir::Value> cosSin(mlir::Value scaled,
                                             mlir::Value e,
                                             int64_t count) const;
  /// `position` / the rope's scaling, in f64.
  mlir::Value scaledPosition(mlir::Value position) const;
  /// Whether the rope's positions are the rows' (plus an offset), so that
  /// its angles come from the angle tables: cos and sin at the tile's first
  /// position (per `stage`) and at r = 0 .. rows - 1 (per thread), combined
  /// by the angle-addition formulas, instead of a range reduction and two
  /// polynomials per row.
  bool usesAngleTables() const {
    return static_cast<bool>(rope) && !positions;
  }
  /// The f64 position of source row `row` of `batch`.
  mlir::Value positionOf(mlir::Value batch, mlir::Value row) const;

  /// The buffer indices of feature `feature` of row `row` of (batch, head).
  llvm::SmallVector<mlir::Value, 4> indices(mlir::Value batch,
                                            mlir::Value head, mlir::Value row,
                                            mlir::Value feature) const;

  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Value buffer, count;
  unsigned batchDim, headDim, seqDim;
  /// The feature dimension; none for a row of one value.
  std::optional<unsigned> featureDim;
  int64_t lanes;
  /// The buffer's element type.
  mlir::Type element;

  // Staging: the sources of a concatenation (empty: `buffer` alone) and
  // their first rows; the block table and lengths of a paged `buffer`, its
  // dimensions and page size; the offsets of a packed `buffer`; the rope and its operands as the kernel sees
  // them; per thread the staged tile [rows, D] (f32), the rope's angle
  // table (f64) and the first row of the tile; with usesAngleTables, per
  // thread cos and sin of r * theta [rows, entries] and, per stage, of the
  // first row's angles [entries] (f32).
  llvm::SmallVector<mlir::Value, 2> sourceBuffers, sourceStarts;
  /// The row order of a permuted operand or output, or null.
  mlir::Value rowOrder;
  mlir::Value pageTable, pageLengths, packedOffsets;
  attn::LayoutDims cacheDims{};
  int64_t pageSize = 0;
  attn::RopeOp rope;
  mlir::Value positions, offset, scales;
  mlir::Value stagedTile, thetaTable, stagedBegin;
  mlir::Value stepCos, stepSin, baseCos, baseSin;
  int64_t stagedRows = 0;
};

} // namespace attune::cpu

#endif // ATTUNE_LIB_TARGET_CPU_OPERANDROWS_H
