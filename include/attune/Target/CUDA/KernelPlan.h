//===- KernelPlan.h - Shape of the CUDA attention kernels -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The CUDA target's tile policy and kernel plan: which tile sizes to try for
// an op, which tensor-core instructions a kernel issues, and, from those and
// the op, every size the emitter and the launch rules derive (warps, shared
// memory and its layout, the split-KV decode kernel's split and packed
// heads). Computed here once; the kernel conversion emits what a plan says,
// and the artifact writer's tile search tries plans in order.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CUDA_KERNELPLAN_H
#define ATTUNE_TARGET_CUDA_KERNELPLAN_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MathExtras.h"

#include <cstdint>
#include <utility>

namespace attune::attn {
class AttentionOp;
} // namespace attune::attn

namespace attune::cuda {

/// Bytes per element of Q, K, V in shared memory.
constexpr int64_t kElementBytes = 2;
constexpr int64_t kWarpSize = 32;
/// Split-KV decode: for Sq up to this many rows (one m-tile, one warp) ...
constexpr int64_t kDecodeRows = 16;
/// ... the keys are split across up to this many CTAs per (head, batch):
/// the launch's count is the manifest's `decode_splits`, chosen from the
/// batch and the device (docs/CUDATarget.md, "Short queries: split-KV").
constexpr int64_t kDecodeMaxSplits = 64;
/// k-tiles classified up front (the rest, past 2048 * Tk keys, on the fly).
constexpr int64_t kClassTableTiles = 2048;
/// f32 inputs: bf16 planes per value (x = hi + mid + lo to f32's 24
/// significant bits), and the rows per CTA and threads of the kernels that
/// write them.
constexpr int64_t kPlanes = 3;
constexpr int64_t kPlaneRows = 16;
constexpr int64_t kPlaneThreads = 128;
/// wgmma (sm_90a): rows per warpgroup (the instruction's M), and the
/// alignment of the Q, K and V tiles its descriptors address with the
/// 128-byte swizzle (8 rows of 128 bytes: the swizzle's repeat).
constexpr int64_t kWarpgroupRows = 64;
constexpr int64_t kSwizzleAtomBytes = 1024;
/// Tile sizes `attn-cuda-pipeline` gives attn-tile when only one of tile-q
/// and tile-k is set.
constexpr int64_t kFallbackTileQ = 128;
constexpr int64_t kFallbackTileK = 32;

/// Whether the forward kernel of `op` at (tileQ, tileK) can issue its
/// products as wgmma.mma_async (sm_90a).
bool canUseWgmma(attn::AttentionOp op, int64_t tileQ, int64_t tileK);

/// Whether `mma` (sync, wgmma or auto) selects wgmma.mma_async for `op`:
/// auto does where it measured faster than mma.sync (bench/RESULTS.md: so
/// far every op the wgmma kernel takes).
bool selectsWgmma(attn::AttentionOp op, llvm::StringRef mma);

/// Tile sizes (Tq, Tk) to try for `op`, best first (`wgmma`: for kernels
/// that may use wgmma.mma_async).
llvm::SmallVector<std::pair<int64_t, int64_t>>
candidateTileSizes(attn::AttentionOp op, bool wgmma = false);

/// The tile sizes of an op that attn-tile left alone: the first candidate
/// (the artifact writer tries the others when it spills).
std::pair<int64_t, int64_t> defaultTileSizes(attn::AttentionOp op,
                                             llvm::StringRef mma);

/// Whether the forward kernel takes (tileQ, tileK): at most 8 warps of 16
/// rows, or of 32 rows from 128 rows on, and keys a multiple of the
/// k-step.
bool isValidTileSize(int64_t tileQ, int64_t tileK);

/// Shared-memory columns of a tile whose rows hold `d` values: whole
/// 64-column (128-byte) blocks, the width over which the XOR swizzle of
/// the 16-byte chunks permutes (row r's chunk c is stored at c ^ (r % 8)):
/// with fewer, a chunk of a row past a multiple of 8 chunks would be
/// permuted into the next row.
int64_t sharedColumns(int64_t d);

/// Everything about one attention kernel (forward or split-KV decode) that
/// follows from the op, its tile sizes and the instruction family, before
/// any IR is emitted.
struct KernelPlan {
  /// Queries per CTA and keys per k-tile.
  int64_t tileQ = 0, tileK = 0;
  /// wgmma.mma_async instead of mma.sync (sm_90a): warpgroups of 64 rows,
  /// Q, K and V in the 128-byte swizzle layout, read by descriptor.
  bool useWgmma = false;
  int64_t headDim = 0, valueDim = 0;
  /// Columns of the Q/K and V tiles in shared memory (sharedColumns), the
  /// k-steps of S = Q K^T (16 features each; with D a multiple of 8 only,
  /// the last step's upper half reads zeros: zeroFeaturePadding), and O's
  /// 8-column fragment tiles (Dv rounded up to 16, the P.V k-step's B
  /// width; the columns past Dv are computed and never stored).
  int64_t qkCols = 0, vCols = 0, headSteps = 0, valueTiles = 0;
  /// m-tiles of 16 rows per warp, warps and threads per CTA.
  int64_t mTiles = 1, warps = 0, threads = 0;
  /// 1, or kPlanes for f32 inputs (bf16 planes per tile).
  int64_t planes = 1;
  /// Shared-memory bytes of the Q tile and of each K and V buffer, and of
  /// one plane of them.
  int64_t qBytes = 0, kBytes = 0, vBytes = 0, qPlane = 0, kPlane = 0,
          vPlane = 0;
  /// Whether Q's fragments stay in registers for the whole k-loop.
  bool qInRegisters = false;
  /// Masked ops classify their k-tiles cooperatively, once, into a table in
  /// shared memory (one byte per tile, then the i32 first and last non-empty
  /// index): a data-dependent classifier (a scan of ids) then costs each
  /// thread a few tiles instead of every tile, and the k-loop runs only from
  /// the first to the last non-empty tile (a window's or document's band).
  bool hasClassTable = false;
  /// Split-KV (FlashDecoding): the most CTAs the keys are split over (0:
  /// the forward kernel, one CTA per q-tile). A launch's count is dimension
  /// 0 of the partial-results workspace.
  int64_t maxSplits = 0;
  /// With split-KV and GQA: the query heads per K/V head packed into rows.
  int64_t packedHeads = 0;
  /// Split-KV: warps per CTA, each a split of the keys of its own, with its
  /// own `threads` lanes and sharedBytes() of shared memory (the launch
  /// has splitWarps times both). With more than one, a launch of one CTA
  /// per row group merges the warps' partial results in the CTA: no
  /// combine kernel, as cuDNN's decode kernel runs (bench/RESULTS.md,
  /// "where paged decode's last 4-6% goes").
  int64_t splitWarps = 1;
  /// K and V buffers in shared memory: the k-loop computes one tile while
  /// the next stages - 1 are in flight (ForwardKernel.cpp). Every kernel
  /// uses 2.
  int64_t stages = 2;

  /// The forward kernel of `op` at (tileQ, tileK) with the instructions
  /// `mma` (sync, wgmma or auto) selects there: wgmma where selectsWgmma
  /// and canUseWgmma both hold, else mma.sync.
  static KernelPlan forward(attn::AttentionOp op, int64_t tileQ, int64_t tileK,
                            llvm::StringRef mma);
  /// The split-KV decode kernel that goes with a forward kernel of
  /// `forwardTileK` keys per tile; `maxTileK` > 0 caps its keys per tile
  /// (the decode-tile-k option).
  static KernelPlan decode(attn::AttentionOp op, int64_t forwardTileK,
                           int64_t maxTileK);

  /// Shared-memory layout: Q, the K buffers, the V buffers, the class
  /// table. Byte offsets of K buffer `buffer`, of V buffer `buffer`, and of
  /// the table.
  int64_t keyOffset(int64_t buffer) const { return qBytes + buffer * kBytes; }
  int64_t valueOffset(int64_t buffer) const {
    return qBytes + stages * kBytes + buffer * vBytes;
  }
  int64_t tableOffset() const { return qBytes + stages * (kBytes + vBytes); }
  /// Dynamic shared memory the kernel needs (per split warp).
  int64_t sharedBytes() const;
  /// With split warps, each warp's share of the shared memory: sharedBytes()
  /// rounded up so that every share starts at a multiple of 128 bytes.
  int64_t splitWarpBytes() const { return llvm::alignTo(sharedBytes(), 128); }
  /// The launch's threads and dynamic shared memory.
  int64_t launchThreads() const { return splitWarps * threads; }
  int64_t launchSharedBytes() const {
    return splitWarps == 1 ? sharedBytes() : splitWarps * splitWarpBytes();
  }
  /// Split-KV: query heads per CTA (grid y = Hq / this) and the longest Sq
  /// the CTA's rows hold.
  int64_t headsPerCTA() const { return packedHeads ? packedHeads : 1; }
  int64_t maxSplitQueries() const { return tileQ / headsPerCTA(); }
};

} // namespace attune::cuda

#endif // ATTUNE_TARGET_CUDA_KERNELPLAN_H
