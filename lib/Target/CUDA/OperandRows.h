//===- OperandRows.h - Where a kernel's operand rows live -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Target/CUDA: the seam between the kernels and the tensors
// they read and write. A kernel never computes a global address of Q, K, V,
// O or lse itself: it asks the operand's OperandRows where row r, feature c
// of this CTA's (batch, head) lies. docs/CUDATarget.md ("Operand rows");
// docs/OperandLoads.md describes the seam across targets.
//
// One OperandRows serves every kernel variant (mma.sync, wgmma, f32 planes,
// split-KV decode): the copies into shared memory (copyTileAsync) and the
// stores of O and lse take it as their source or destination. So a new
// source of rows is written once, in OperandRows.cpp: a function that fills
// an OperandRows, chosen for its operands by KernelEmitter::emitOperandRows
// (and, for Q, queryPlaneRows):
//
//   page table      done (pagedRows): K/V; `start` reads the page of row
//                   r / page size and gives page * page stride + (r % page
//                   size) * row stride; no `rowStride` (pages are not evenly
//                   spaced), but `pages` lets a copy read one table entry per
//                   page.
//   varlen offsets  done (varlenRows): every operand and O; `count` is the
//                   sequence's own length and the rows start cu_seqlens[b]
//                   rows in; still evenly spaced, so `rowStride` stays and
//                   the copies keep their pointer advance.
//   permutation     `start` reads perm[r] and gives perm[r] * row stride.
//   memory concat   done (concatRows): K/V from the parts of a concat;
//                   `start` selects the part (base and row) holding r
//                   (RowStart's own base is what makes this possible).
//   RoPE on load    not an address: a value transform (rotating feature
//                   pairs by a position-dependent angle) that cp.async
//                   cannot apply, since it copies global to shared memory
//                   without passing through registers. It needs a register
//                   path in copyTileAsync (ld.global, rotate, st.shared)
//                   selected by a transform field here, while the rows
//                   themselves still come from one of the sources above.
//
// emitCombine (the split-KV combine kernel) writes the final O and lse with
// memref.store outside the emitter and does not use this yet: an output
// producer (a permutation; varlen batches are forward-kernel only) touches
// it in one more place.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_OPERANDROWS_H
#define ATTUNE_LIB_TARGET_CUDA_OPERANDROWS_H

#include "mlir/IR/Value.h"

#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <optional>

namespace attune::cuda {

/// Where one row of an operand starts: `offset` elements past `base`. The
/// address of feature c is one GEP, base + (offset + c).
struct RowStart {
  mlir::Value base, offset;
};

/// The rows of one operand (Q, K, V, O or lse; one plane of f32 inputs) of
/// this CTA's (batch, head) in global memory.
struct OperandRows {
  /// How many rows exist (Sq, Sk; Sq * g for packed heads): copies zero-fill
  /// the rows at or past it and stores skip them.
  mlir::Value count;
  /// The element type of the rows in memory.
  mlir::Type element;
  /// Evenly spaced rows (the dense strided tensors, BHSD and BSHD): row r
  /// starts at `base` + r * `rowStride` elements. The copies then advance
  /// one pointer pass by pass instead of computing every chunk's address.
  mlir::Value base, rowStride;
  /// Any other source (null for evenly spaced rows): where row r starts.
  /// It must give an address inside the tensor for every r, also at or past
  /// `count` (a zero-filled copy still names its source), so it clamps r;
  /// evenly spaced rows are instead pointed at the tile's first row by the
  /// copy.
  std::function<RowStart(mlir::Value row)> start;
  /// Rows evenly spaced within each of several segments (the parts of a
  /// concatenation): segment i holds rows [first, next segment's first) and
  /// row r of it starts at `base` + (r - first) * `rowStride`. Set together
  /// with `start`; the copies that can use it advance one pointer per
  /// segment pass by pass and pick between them, instead of computing every
  /// chunk's address through `start`.
  struct Segment {
    mlir::Value first, base, rowStride;
  };
  llvm::SmallVector<Segment, 2> segments;
  /// Rows on pages of `size` rows (a paged KV cache): row r is row r % size
  /// of page r / size, whose row 0 `pageStart` gives (it reads the block
  /// table), and a page's rows are `slotStride` apart. Set together with
  /// `start`; the copies whose passes each stay on one page read one table
  /// entry per page of the tile instead of one per chunk.
  struct Pages {
    int64_t size = 0;
    mlir::Value slotStride;
    std::function<RowStart(mlir::Value page)> pageStart;
  };
  std::optional<Pages> pages;
};

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_OPERANDROWS_H
