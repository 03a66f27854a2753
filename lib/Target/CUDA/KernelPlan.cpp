//===- KernelPlan.cpp - Shape of the CUDA attention kernels -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The CUDA target's one tile policy (the measured candidates, the default of
// an op attn-tile left alone, the decode kernel's keys per tile) and the
// sizes every kernel derives from its tiles. docs/CUDATarget.md ("Tile
// sizes") records the measurements behind the numbers.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CUDA/KernelPlan.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cassert>

using namespace mlir;
using namespace attune;
using namespace attune::cuda;

/// Whether the forward kernel of `op` at (tileQ, tileK) can issue its
/// products as wgmma.mma_async: 16-bit tiles (f32 inputs take the planes
/// path), whole warpgroups of rows, and keys a multiple of the k-step. Every
/// head size the kernels take (multiples of 8 up to 256) works: tiles are
/// stored in whole 64-column blocks, S takes ceil(D / 16) k-steps, and P.V
/// an N of Dv rounded up to 16.
bool attune::cuda::canUseWgmma(attn::AttentionOp op, int64_t tileQ,
                               int64_t tileK) {
  Type element = cast<ShapedType>(op.getQuery().getType()).getElementType();
  return !element.isF32() && tileQ % kWarpgroupRows == 0 &&
         tileQ <= 4 * kWarpgroupRows && tileK % 16 == 0 && tileK <= 256;
}

bool attune::cuda::selectsWgmma(attn::AttentionOp op, llvm::StringRef mma) {
  // wgmma measured faster than mma.sync for every head size it takes.
  return mma == "wgmma" || mma == "auto";
}

SmallVector<std::pair<int64_t, int64_t>>
attune::cuda::candidateTileSizes(attn::AttentionOp op, bool wgmma) {
  // Measured on an H100 (bench/RESULTS.md): 128 rows in 4 warps of 32 rows,
  // then smaller tiles for ops whose regions need more registers.
  int64_t d = std::max(op.getHeadSize(), op.getValueHeadSize());
  // wgmma: two warpgroups of 64 rows; the mma.sync sizes after them for
  // ops it cannot take.
  // Measured (bench/RESULTS.md): one warpgroup per CTA, whose small shared
  // memory lets 3 (D = 128) or more CTAs share an SM and overlap one's
  // softmax with another's products, beats two warpgroups per CTA.
  // Head sizes between the measured ones take the list of the next larger;
  // past D = 128, O's accumulators (Dv / 2 registers per thread) leave room
  // for fewer keys per tile.
  if (wgmma && canUseWgmma(op, 64, 48)) {
    SmallVector<std::pair<int64_t, int64_t>> sizes;
    if (d <= 64)
      sizes = {{64, 64}, {64, 48}, {64, 32}, {128, 128}};
    else if (d <= 128)
      sizes = {{64, 48}, {64, 64}, {64, 32}, {128, 128}};
    else if (op.getMaskBlock()) // measured at D = 160 (bench/RESULTS.md)
      sizes = {{64, 48}, {64, 32}, {64, 16}};
    else
      sizes = {{64, 32}, {64, 48}, {64, 16}};
    llvm::append_range(sizes, candidateTileSizes(op, false));
    return sizes;
  }
  // f32 inputs hold three bf16 planes of every tile (three times the shared
  // memory, six mma.sync per product): small tiles.
  if (cast<ShapedType>(op.getQuery().getType()).getElementType().isF32()) {
    if (d <= 128)
      return {{64, 32}, {64, 16}, {32, 32}, {32, 16}};
    return {{32, 16}, {16, 16}};
  }
  if (d <= 64)
    return {{128, 64}, {128, 32}, {64, 64}, {64, 32}};
  // Masked ops at D = 128 prefer 64-row tiles: less work on the diagonal
  // tiles of causal-like masks, and room for the mask's registers.
  if (d <= 128 && op.getMaskBlock())
    return {{64, 64}, {128, 32}, {64, 32}, {64, 16}};
  if (d <= 128)
    return {{128, 64}, {128, 32}, {64, 64}, {64, 32}, {64, 16}};
  return {{64, 16}, {32, 16}};
}

std::pair<int64_t, int64_t>
attune::cuda::defaultTileSizes(attn::AttentionOp op, llvm::StringRef mma) {
  return candidateTileSizes(op, selectsWgmma(op, mma)).front();
}

bool attune::cuda::isValidTileSize(int64_t tileQ, int64_t tileK) {
  return tileQ % 16 == 0 && tileQ <= 256 && (tileQ <= 128 || tileQ % 32 == 0) &&
         tileK % 16 == 0;
}

int64_t attune::cuda::sharedColumns(int64_t d) { return llvm::alignTo(d, 64); }

/// The plan of a kernel of `tileQ` rows and `tileK` keys per tile.
static KernelPlan makePlan(attn::AttentionOp op, int64_t tileQ, int64_t tileK,
                           bool wgmma) {
  assert((!wgmma || canUseWgmma(op, tileQ, tileK)) &&
         "wgmma needs canUseWgmma");
  KernelPlan plan;
  plan.tileQ = tileQ;
  plan.tileK = tileK;
  plan.useWgmma = wgmma;
  plan.headDim = op.getHeadSize();
  plan.valueDim = op.getValueHeadSize();
  plan.qkCols = sharedColumns(plan.headDim);
  plan.vCols = sharedColumns(plan.valueDim);
  plan.headSteps = llvm::divideCeil(plan.headDim, 16);
  plan.valueTiles = 2 * llvm::divideCeil(plan.valueDim, 16);
  // A warp owns 16 * mTiles rows: with two m-tiles every K and V fragment
  // read from shared memory feeds two mma.sync, which halves the
  // shared-memory traffic per FLOP (FlashAttention-2 does the same); it
  // needs tiles of at least 4 warps x 32 rows. With wgmma, warp w owns
  // rows [16w, 16w + 16): the rows of its quarter of its warpgroup's m64.
  plan.mTiles = !wgmma && tileQ % 32 == 0 && tileQ >= 128 ? 2 : 1;
  plan.warps = tileQ / (16 * plan.mTiles);
  plan.threads = plan.warps * kWarpSize;
  // f32 Q/K/V: each tile is held as kPlanes bf16 planes, hi first.
  Type element = cast<ShapedType>(op.getQuery().getType()).getElementType();
  plan.planes = element.isF32() ? kPlanes : 1;
  plan.qPlane = tileQ * plan.qkCols * kElementBytes;
  plan.kPlane = tileK * plan.qkCols * kElementBytes;
  plan.vPlane = tileK * plan.vCols * kElementBytes;
  plan.qBytes = plan.planes * plan.qPlane;
  plan.kBytes = plan.planes * plan.kPlane;
  plan.vBytes = plan.planes * plan.vPlane;
  // Q fragments stay in registers for the whole loop up to D = 128 (32
  // registers per thread); beyond, they are re-read from shared memory.
  // wgmma reads Q from shared memory by descriptor, like K.
  plan.qInRegisters =
      plan.planes == 1 && plan.mTiles * plan.headSteps * 16 <= 128 && !wgmma;
  plan.hasClassTable = op.getTilesBlock() != nullptr;
  return plan;
}

KernelPlan KernelPlan::forward(attn::AttentionOp op, int64_t tileQ,
                               int64_t tileK, llvm::StringRef mma) {
  return makePlan(op, tileQ, tileK,
                  selectsWgmma(op, mma) && canUseWgmma(op, tileQ, tileK));
}

KernelPlan KernelPlan::decode(attn::AttentionOp op, int64_t forwardTileK,
                              int64_t maxTileK) {
  // At most the forward kernel's keys per tile (candidates that fit its
  // registers fit these), and 32 beyond D = 64: the decode warp does the
  // mask and score work of 16 rows alone.
  // f32 inputs (three planes per fragment): 16. At most the
  // decode-tile-k option.
  bool f32 = cast<ShapedType>(op.getQuery().getType()).getElementType().isF32();
  int64_t tileK = std::min<int64_t>(
      forwardTileK, f32 ? 16
                    : std::max(op.getHeadSize(), op.getValueHeadSize()) <= 64
                        ? 64
                        : 32);
  if (maxTileK > 0)
    tileK = std::min<int64_t>(tileK, maxTileK);
  KernelPlan plan = makePlan(op, kDecodeRows, tileK, /*wgmma=*/false);
  // Split-KV (FlashDecoding): block x is a split of the keys, not a q-tile;
  // the CTA's one q-tile covers every query.
  plan.maxSplits = kDecodeMaxSplits;
  // One m-tile of Q is cheap to re-read; its registers are not.
  plan.qInRegisters = false;
  // Grouped-query attention: the g query heads of one K/V head share the
  // CTA's rows (row r = head r / Sq of the group, query r % Sq), so each
  // K/V tile is read once for all of them.
  int64_t group = op.getGroupSize();
  plan.packedHeads = group > 1 && group <= plan.tileQ ? group : 0;
  // Two warps per CTA up to D = 128 where two of them keep to 96 KB of
  // shared memory (two CTAs per SM even on sm_80's 164 KB): at a batch
  // that fills the device with one CTA per row group, the CTA then merges
  // its two splits itself instead of a combine kernel's launch (2-3% at B =
  // 32 and 128, bench/RESULTS.md). Wider heads keep one warp: the merge and
  // the second warp's addressing made the D = 192 decode kernels spill.
  constexpr int64_t kSplitWarpsBytes = 96 * 1024;
  if (std::max(plan.headDim, plan.valueDim) <= 128 &&
      2 * plan.sharedBytes() <= kSplitWarpsBytes)
    plan.splitWarps = 2;
  return plan;
}

int64_t KernelPlan::sharedBytes() const {
  // wgmma: slack to align the tiles to the swizzle's repeat (the driver
  // aligns dynamic shared memory to less).
  return tableOffset() + (hasClassTable ? kClassTableTiles + 8 : 0) +
         (useWgmma ? kSwizzleAtomBytes : 0);
}
