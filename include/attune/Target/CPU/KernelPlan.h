//===- KernelPlan.h - The CPU kernel's tile policy --------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The one place the CPU target decides sizes: the default tiles (the
// pipeline's and the conversion's options), the vector width an op's
// tiles admit, the register blocks, and the limits that refuse a plan.
// `attn-tile` writes an op's tile sizes; convert-attn-to-cpu reads them
// back through KernelPlan::get and never re-decides them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CPU_KERNELPLAN_H
#define ATTUNE_TARGET_CPU_KERNELPLAN_H

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Support/LogicalResult.h"

#include <cstdint>

namespace attune::cpu {

/// Query rows and keys per tile of ops that `attn-tile` did not tile (the
/// default of `attn-cpu-pipeline`'s and `convert-attn-to-cpu`'s tile-q and
/// tile-k): measured best on both AVX2 and AVX-512 machines.
constexpr int64_t kDefaultTileQ = 64;
constexpr int64_t kDefaultTileK = 64;

/// Vectors per row of a register block of the score and value
/// microkernels.
constexpr int64_t kBlockVectors = 2;

/// The per-thread tiles live on the stack (memref.alloca): at most this
/// many bytes, below the 4 MiB libomp gives a worker thread by default. The
/// default tiles at the largest head size (4096) take 2.1 MiB.
constexpr int64_t kMaxTileStackBytes = 3 << 20;

/// Sizes of one op's CPU kernel.
struct KernelPlan {
  /// Query rows and keys per tile.
  int64_t tileQ, tileK;
  /// f32 lanes per vector (8: AVX2, 16: AVX-512).
  int64_t lanes;
  /// Whether producers of Q, K and V (rope, concat, pages, unpack) are
  /// fused into the loads (staged); if their staged tiles do not fit the
  /// stack, they are materialised by their own lowerings instead.
  bool fuseProducers = true;

  /// Rows of a register block: 4 x 2 accumulators + 2 loads + 1 broadcast
  /// fit AVX2's 16 registers; AVX-512 has 32, room for 8 x 2.
  int64_t blockRows() const { return lanes >= 16 ? 8 : 4; }

  /// The plan of `op`: its tile sizes (`attn-tile`), else `defaultTileQ` x
  /// `defaultTileK`, at `vectorWidth` lanes, or 8 where the tiles are too
  /// small for 16 (any head size runs at either width, so the wider one
  /// always wins when it fits). Emits an error on `op` and fails when the
  /// tiles fit no microkernel or the per-thread tiles exceed
  /// kMaxTileStackBytes even without the producers' staged rows (with
  /// them only, the plan does not fuse producers).
  static mlir::FailureOr<KernelPlan> get(attn::AttentionOp op,
                                         int64_t defaultTileQ,
                                         int64_t defaultTileK,
                                         int64_t vectorWidth);

  /// Bytes of the per-thread tiles: Q^T, S^T, O (its vectors and its
  /// transposed tail: Dv features per query), three row vectors, GQA's row
  /// map and the staged rows of fused producers (OperandRows.h). In
  /// double, so that absurd tile sizes cannot overflow.
  static double stackBytes(attn::AttentionOp op, int64_t tileQ,
                           int64_t tileK, bool fuseProducers = true);
  /// Whether `tileQ` x `tileK` tiles fit the `lanes`-wide microkernels.
  static bool fits(int64_t tileQ, int64_t tileK, int64_t lanes);
};

} // namespace attune::cpu

#endif // ATTUNE_TARGET_CPU_KERNELPLAN_H
