//===- ConvertAttnToNVGPU.cpp - attn.attention to a CUDA kernel -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// FlashAttention-2 on tensor cores (sm_80+), stage 1 of the CUDA target.
//
// One CTA computes Tq query rows of one (batch, head); warp w owns the 16m
// rows [16mw, 16m(w + 1)) as m m-tiles of 16 (m = 2 from 128-row tiles).
// Per k-tile of Tk keys:
//
//   S  = Q K^T   Tq x Tk, mma.sync m16n8k16, A = Q fragments (ldmatrix),
//                B = K rows as stored (ldmatrix, no transpose)
//   S' = mask/score regions per fragment element (partial tiles only)
//   online softmax per row on the accumulator fragments (quad shuffles)
//   O += P V     A = P repacked in registers, B = V via ldmatrix.trans
//
// The fragment layout of mma.m16n8k16 (PTX ISA, "Matrix Fragments for
// mma.m16n8k16"), which every index computation below follows: lane l holds
//   C/D (16x8 f32): c0,c1 at row l/4,     cols 2(l%4), 2(l%4)+1
//                   c2,c3 at row l/4 + 8, same cols
//   A (16x16 b16):  a0 rows 0-7 / k 0-7, a1 rows 8-15 / k 0-7,
//                   a2 rows 0-7 / k 8-15, a3 rows 8-15 / k 8-15,
//                   each 2 halves: row l/4, k 2(l%4), 2(l%4)+1
//   B (16x8 b16):   b0 k 0-7, b1 k 8-15; each: k 2(l%4), +1 at col l/4
// so two adjacent C tiles of S (keys 16kk..16kk+15) are exactly the A
// operand of P.V for k-step kk once converted to 16-bit pairs.
//
// Shared memory holds Q (Tq x D) and two buffers each of K (Tk x D) and V
// (Tk x Dv), 16-bit, row-major with the 16-byte chunks of row r XOR-permuted
// by r % 8: the 8 rows one ldmatrix phase reads then hit 8 different bank
// groups; then, for masked ops, the k-tile class table.
//
// Short queries get two more kernels: split-KV (the keys split over CTAs,
// GQA heads packed into the rows) and a combine step. f32 inputs get three
// kernels that split Q, K and V into bf16 planes (hi, mid, lo), and the
// attention kernels then hold three planes per tile and issue six mma.sync
// per product. docs/CUDATarget.md describes the whole design.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/TileClassification.h"
#include "attune/Dialect/Attn/Utils/RegionLowering.h"
#include "attune/Support/PassOptions.h"
#include "attune/Target/CUDA/CUDAPipeline.h"
#include "attune/Target/CUDA/Passes.h"

#include "mlir/Analysis/DataFlow/DeadCodeAnalysis.h"
#include "mlir/Analysis/DataFlow/IntegerRangeAnalysis.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <tuple>

namespace attune::cuda {
#define GEN_PASS_DEF_CONVERTATTNTONVGPU
#include "attune/Target/CUDA/Passes.h.inc"
} // namespace attune::cuda

using namespace mlir;
using namespace attune;
using namespace attune::attn;

/// 2^x with the hardware's approximate exp2 (ex2.approx.ftz.f32):
/// ex2(-inf) = +0, which the online softmax relies on.
static Value emitExp2(OpBuilder &b, Location loc, Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, b.getF32Type(),
             b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{x})
      .getResult(0);
}

/// log2(x) with the hardware's approximation (lg2.approx.ftz.f32).
static Value emitLog2(OpBuilder &b, Location loc, Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, loc, b.getF32Type(),
             b.getStringAttr("llvm.nvvm.lg2.approx.ftz.f"), ValueRange{x})
      .getResult(0);
}

/// Lets LLVM fuse `op`'s float multiply and add into an FMA (one rounding
/// instead of two), as nvcc does by default (-fmad=true): a score region's
/// `s + bias` after the kernel's `s * scale`, ALiBi's `slope * (j - i)`.
static void allowContraction(Operation *op) {
  auto fastMath = dyn_cast<arith::ArithFastMathInterface>(op);
  if (!fastMath)
    return;
  arith::FastMathFlags flags = arith::FastMathFlags::contract;
  if (arith::FastMathFlagsAttr old = fastMath.getFastMathFlagsAttr())
    flags = flags | old.getValue();
  op->setAttr(fastMath.getFastMathAttrName(),
              arith::FastMathFlagsAttr::get(op->getContext(), flags));
}

namespace {

/// Bytes per element of Q, K, V in shared memory.
constexpr int64_t kElementBytes = 2;
constexpr int64_t kWarpSize = 32;
/// Split-KV decode: for Sq up to this many rows (one m-tile, one warp) ...
constexpr int64_t kDecodeRows = 16;
/// ... the keys are split across this many CTAs per (head, batch).
constexpr int64_t kDecodeSplits = 16;
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

} // namespace

/// Whether the forward kernel of `op` at (tileQ, tileK) can issue its
/// products as wgmma.mma_async: 16-bit tiles (f32 inputs take the planes
/// path), whole warpgroups of rows, and keys a multiple of the k-step. Every
/// head size the kernels take (multiples of 8 up to 256) works: tiles are
/// stored in whole 64-column blocks, S takes ceil(D / 16) k-steps, and P.V
/// an N of Dv rounded up to 16.
bool attune::cuda::canUseWgmma(AttentionOp op, int64_t tileQ, int64_t tileK) {
  Type element = cast<ShapedType>(op.getQuery().getType()).getElementType();
  return !element.isF32() && tileQ % kWarpgroupRows == 0 &&
         tileQ <= 4 * kWarpgroupRows && tileK % 16 == 0 && tileK <= 256;
}

/// Shared-memory columns of a tile whose rows hold `d` values: whole
/// 64-column (128-byte) blocks, the width over which the XOR swizzle of
/// the 16-byte chunks permutes (row r's chunk c is stored at c ^ (r % 8)):
/// with fewer, a chunk of a row past a multiple of 8 chunks would be
/// permuted into the next row.
static int64_t sharedColumns(int64_t d) { return llvm::alignTo(d, 64); }

namespace {

/// Builds the body of one attention kernel.
class KernelEmitter {
public:
  /// `wgmma`: issue the products as wgmma.mma_async (canUseWgmma must hold).
  KernelEmitter(OpBuilder &b, AttentionOp op, int64_t tileQ, int64_t tileK,
                bool wgmma = false)
      : b(b), op(op), loc(op.getLoc()), tileQ(tileQ), tileK(tileK),
        headDim(op.getHeadSize()), valueDim(op.getValueHeadSize()),
        qkCols(sharedColumns(headDim)), vCols(sharedColumns(valueDim)),
        headSteps(llvm::divideCeil(headDim, 16)),
        valueTiles(2 * llvm::divideCeil(valueDim, 16)),
        dims(op.getLayoutDims()), useWgmma(wgmma) {
    assert((!wgmma || cuda::canUseWgmma(op, tileQ, tileK)) &&
           "wgmma needs canUseWgmma");
    // A warp owns 16 * mTiles rows: with two m-tiles every K and V fragment
    // read from shared memory feeds two mma.sync, which halves the
    // shared-memory traffic per FLOP (FlashAttention-2 does the same); it
    // needs tiles of at least 4 warps x 32 rows. With wgmma, warp w owns
    // rows [16w, 16w + 16): the rows of its quarter of its warpgroup's m64.
    mTiles = !wgmma && tileQ % 32 == 0 && tileQ >= 128 ? 2 : 1;
    warps = tileQ / (16 * mTiles);
    threads = warps * kWarpSize;
    elementType = cast<ShapedType>(op.getQuery().getType()).getElementType();
    outputType = cast<ShapedType>(op.getOutput().getType()).getElementType();
    // f32 Q/K/V: each tile is held as kPlanes bf16 planes, hi first.
    planes = elementType.isF32() ? kPlanes : 1;
    if (planes > 1)
      elementType = BFloat16Type::get(b.getContext());
    qPlane = tileQ * qkCols * kElementBytes;
    kPlane = tileK * qkCols * kElementBytes;
    vPlane = tileK * vCols * kElementBytes;
    qBytes = planes * qPlane;
    kBytes = planes * kPlane;
    vBytes = planes * vPlane;
    // Q fragments stay in registers for the whole loop up to D = 128 (32
    // registers per thread); beyond, they are re-read from shared memory.
    qInRegisters = planes == 1 && mTiles * headSteps * 16 <= 128;
    // wgmma reads Q from shared memory by descriptor, like K.
    if (useWgmma)
      qInRegisters = false;
    hasClassTable = op.getTilesBlock() != nullptr;
  }

  /// Split-KV: query heads per CTA (grid y = Hq / this) and the longest Sq
  /// the CTA's rows hold.
  int64_t headsPerCTA() const { return packedHeads ? packedHeads : 1; }
  int64_t maxSplitQueries() const { return tileQ / headsPerCTA(); }

  /// f32 Q/K/V: the kernel reads each of them as kPlanes bf16 tensors
  /// x = hi + mid + lo (written by emitPlaneKernel; every plane holds the
  /// next 8 significant bits) and computes every product a * b as the sum of
  /// the plane products a_p b_q with p + q < kPlanes: six mma.sync whose
  /// dropped terms are below 2^-24 relative, so O is as accurate as an f32
  /// computation. `planeMemrefs` lists Q's planes, then K's, then V's.
  int64_t numPlanes() const { return planes; }
  void setPlanes(ValueRange planeMemrefs) {
    assert(planeMemrefs.size() == 3 * static_cast<size_t>(planes));
    planeInputs.assign(planeMemrefs.begin(), planeMemrefs.end());
  }

  /// Dynamic shared memory the kernel needs.
  int64_t sharedBytes() const {
    // wgmma: slack to align the tiles to the swizzle's repeat (the driver
    // aligns dynamic shared memory to less).
    return tableOffset() + (hasClassTable ? kClassTableTiles + 8 : 0) +
           (useWgmma ? kSwizzleAtomBytes : 0);
  }
  int64_t numThreads() const { return threads; }

  /// Emits the kernel body at the builder's insertion point. `args` maps the
  /// op's operands (Q, K, V, captures) to kernel arguments; `outputs` are
  /// O and, if the op has it, lse.
  void emit(IRMapping &args, ValueRange outputs, Value smem);

  /// Split-KV (FlashDecoding): block x is a split of the keys, not a q-tile;
  /// the CTA's one q-tile covers every query, and the partial results (O / l
  /// in f32 and lse per split) go to `oPart` [B, Hq, splits, Sq, Dv] and
  /// `lsePart` [B, Hq, splits, Sq] for emitCombine.
  void setSplitKV(int64_t splits, Value partialOutput, Value partialLse) {
    numSplits = splits;
    oPart = partialOutput;
    lsePart = partialLse;
    // One m-tile of Q is cheap to re-read; its registers are not.
    qInRegisters = false;
    // Grouped-query attention: the g query heads of one K/V head share the
    // CTA's rows (row r = head r / Sq of the group, query r % Sq), so each
    // K/V tile is read once for all of them.
    int64_t group = op.getGroupSize();
    packedHeads = group > 1 && group <= tileQ ? group : 0;
  }

private:
  // Constants and small helpers.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value divu(Value x, int64_t y) {
    return arith::DivUIOp::create(b, loc, x, idx(y));
  }
  Value remu(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, idx(y));
  }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value fmax(Value x, Value y) {
    return arith::MaximumFOp::create(b, loc, x, y);
  }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }

  Value exp2(Value x) { return emitExp2(b, loc, x); }
  Value log2(Value x) { return emitLog2(b, loc, x); }

  /// The device address of a memref's first element, as a global pointer.
  Value globalPointer(Value memref) {
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), 1), asInt);
  }
  /// `base` advanced by `offset` (index) elements of `element`.
  Value gep(Value base, Value offset, Type element) {
    Value offset64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), offset);
    return LLVM::GEPOp::create(b, loc, base.getType(), element, base,
                               ValueRange{offset64});
  }
  /// Address of element (row, col) of the swizzled 16-bit shared tile that
  /// starts `byteOffset` bytes into shared memory and has `cols` columns.
  /// `col` must be a multiple of 8 (one 16-byte chunk). With `blockRows`
  /// (the tile's rows), the tile is stored as column blocks of 64 (128-byte
  /// rows, block after block), the 128-byte swizzle layout of wgmma's
  /// descriptors; otherwise rows are whole.
  Value sharedAddress(Value byteOffset, Value row, Value col, int64_t cols,
                      int64_t blockRows = 0) {
    Value element;
    if (blockRows && cols > 64) {
      Value chunk =
          arith::XOrIOp::create(b, loc, divu(remu(col, 64), 8), remu(row, 8));
      element = add(mul(divu(col, 64), idx(blockRows * 64)),
                    add(mul(row, idx(64)), mul(chunk, idx(8))));
    } else {
      Value chunk = arith::XOrIOp::create(b, loc, divu(col, 8), remu(row, 8));
      element = add(mul(row, idx(cols)), mul(chunk, idx(8)));
    }
    Value bytes = add(byteOffset, mul(element, idx(kElementBytes)));
    return gep(smem, bytes, b.getI8Type());
  }

  /// A thread's ldmatrix row addresses into a swizzled tile: the thread
  /// reads row `rowConst + rowLane`, column `colConst + colLane` (rowConst
  /// a multiple of 8, colConst of 16, colLane 0 or 8). Then the swizzled
  /// chunk is (colConst / 8) ^ t with t = colLane / 8 ^ rowLane % 8 < 8,
  /// which is 8 (colConst / 64) + ((colConst / 8) % 8 ^ t): four per-thread
  /// 32-bit shared addresses, one per (colConst / 16) % 4, and the rest a
  /// compile-time offset (loadFragment).
  SmallVector<Value, 4> fragmentOffsets(Value rowLane, Value colLane,
                                        int64_t cols) {
    Value t = arith::XOrIOp::create(b, loc, divu(colLane, 8), remu(rowLane, 8));
    Value rowBytes = mul(rowLane, idx(cols * kElementBytes));
    SmallVector<Value, 4> offsets;
    for (int64_t k = 0; k < 4; ++k) {
      Value bytes = add(
          rowBytes,
          mul(arith::XOrIOp::create(b, loc, idx(2 * k), t), idx(16)));
      offsets.push_back(arith::AddIOp::create(
          b, loc, sharedBase,
          arith::IndexCastOp::create(b, loc, b.getI32Type(), bytes)));
    }
    return offsets;
  }
  /// ldmatrix .x4 of the fragment rows (rowConst, colConst) of the tile at
  /// `dynamicOffset` (index bytes, may be null) + `staticOffset` given its
  /// fragmentOffsets. Inline PTX with the constant part as the address's
  /// immediate: as an LLVM address it was hoisted out of the k-loop, one
  /// 64-bit register pair per (k-step, matrix), the kernels' largest
  /// register cost.
  SmallVector<Value, 4> loadFragment(ArrayRef<Value> offsets,
                                     Value dynamicOffset, int64_t staticOffset,
                                     int64_t rowConst, int64_t colConst,
                                     int64_t cols, bool transpose);
  /// fragmentOffsets of the Q (A operand), K (B) and V (B, transposed)
  /// fragments, and the 32-bit shared address of the dynamic shared memory;
  /// set by emit().
  SmallVector<Value, 4> qFragments, kFragments, vFragments;
  Value sharedBase;

  /// Issues the cp.async copies of rows [rowBegin, rowBegin + rows) of a
  /// (rowStride, cols) 16-bit matrix at `base` into the shared tile at
  /// `byteOffset`, which has `sharedCols` columns; rows at or past
  /// `rowLimit` are zero-filled. `blocked`: in wgmma's layout
  /// (sharedAddress).
  void copyTileAsync(Value base, Value rowStride, Value rowBegin,
                     Value rowLimit, Value byteOffset, int64_t rows,
                     int64_t cols, int64_t sharedCols, bool blocked = false);
  /// With a head size D that is not a multiple of 16, the last k-step of
  /// S = Q K^T reads the 8 columns [D, D + 8) of the Q and K tiles, which no
  /// copy writes: zeroes them, once, before the first copy.
  void zeroFeaturePadding();

  /// Inline PTX `text` with `constraints`; side effects keep it in program
  /// order with the other inline PTX and the barriers.
  SmallVector<Value> inlinePTX(StringRef text, StringRef constraints,
                               ValueRange operands, TypeRange results = {});
  /// Inline PTX `text` that takes `values` (f32 or i32) and gives them back:
  /// code that reads the results runs after it, code that computes
  /// `values` before it (wgmma.fence and wgmma.wait_group).
  SmallVector<Value> tiedPTX(StringRef text, ValueRange values);
  /// The wgmma descriptor of the 128-byte-swizzled tile at `byteOffset`
  /// (index) with leading and stride byte offsets `lbo` and `sbo`.
  Value wgmmaDescriptor(Value byteOffset, int64_t lbo, int64_t sbo);
  /// `descriptor` advanced by `bytes` (a multiple of 16).
  Value advanceDescriptor(Value descriptor, int64_t bytes);
  /// wgmma reads shared memory through the async proxy: once this thread's
  /// cp.async copies have landed, order them before those reads.
  void fenceForWgmma() {
    if (useWgmma)
      inlinePTX("fence.proxy.async.shared::cta;", "", {});
  }
  /// One wgmma.mma_async m64nNk16 of this warpgroup, N = 2 acc.size():
  /// acc (+)= A B with A either this warp's 16 rows as 4 registers
  /// (mma.sync's A fragment layout) or the warpgroup's 64 rows by one
  /// K-major descriptor, and B from shared memory by `descriptor`, K-major
  /// or, `transposeB`, N-major. Without `accumulate`, acc's inputs are
  /// ignored.
  void wgmma(ValueRange a, Value descriptor, MutableArrayRef<Value> acc,
             bool accumulate, bool transposeB);

  /// Packed heads: loads row r of the Q tile from query head
  /// head + r / Sq, position r % Sq (zero past the group's rows).
  void copyPackedQueryAsync(Value query, int64_t byteOffset);

  /// One mma.sync m16n8k16: `acc` (4 f32) += A (4 x i32) * B (2 x i32).
  void mma(ArrayRef<Value> a, Value b0, Value b1, MutableArrayRef<Value> acc);
  /// Packs two f32 into the 16-bit pair register (x in the low half).
  Value pack(Value x, Value y);
  /// The pair registers of (x, y), one per plane.
  SmallVector<Value, kPlanes> packPlanes(Value x, Value y);
  /// One ldmatrix .x4 B fragment per plane: loadFragment at plane p's
  /// `dynamicOffset + p * planeBytes`.
  SmallVector<SmallVector<Value, 4>, kPlanes>
  loadFragmentPlanes(ArrayRef<Value> offsets, Value dynamicOffset,
                     int64_t planeBytes, int64_t rowConst, int64_t colConst,
                     int64_t cols, bool transpose);
  /// acc[first, first + 8) += A B for the two 8-column halves of the B
  /// fragments, from their planes a[p] (4 registers) and b[p] (4: two per
  /// half): the product of the first planes into `acc`, the others into
  /// `small` (empty with one plane). Tensor cores round their f32
  /// accumulation toward zero, so a long chain of mma.sync into one
  /// accumulator drifts by up to an ulp of it per step; the small terms kept
  /// apart drift only by ulps of their own, 2^-8 smaller, magnitude.
  void mmaPlanes(ArrayRef<SmallVector<Value, 4>> a,
                 ArrayRef<SmallVector<Value, 4>> b, MutableArrayRef<Value> acc,
                 MutableArrayRef<Value> small, int64_t first);
  /// Butterfly shuffle across the lanes of a quad.
  Value shuffleXor(Value x, int64_t offset);

  /// Where an element lies in the thread's part of the tile: (i0, j0), the
  /// position of its first element, plus (di, dj).
  struct ElementOffset {
    Value i0, j0;
    int64_t di, dj;
  };
  /// Clones a region's ops with `mapping` and returns its yielded value;
  /// ops hoisted by hoistInvariants are reused, not cloned. With `at`, the
  /// region's affine casts (findAffineCasts) become sitofp(x(i0, j0)),
  /// computed once per castBases, plus a constant.
  Value inlineRegion(Block *block, IRMapping &mapping,
                     const ElementOffset *at = nullptr);
  /// Integer-to-float conversions in a region of values affine in the
  /// positions, x = ci i + cj j + (a CTA invariant), whose results only
  /// feed float arithmetic (not indices): per element, sitofp(x) is
  /// sitofp(x(i0, j0)) + (ci di + cj dj), which is exact while |x| < 2^24
  /// (beyond, one more f32 rounding) and turns a conversion, which runs at
  /// a sixteenth of the FMA rate, into an add: ALiBi's j - i.
  void findAffineCasts(Block *block, unsigned firstIndexArg);
  llvm::DenseMap<Operation *, std::pair<int64_t, int64_t>> affineCasts;
  /// The region of each block (score: 1, mask: 0; see mapRegionArguments).
  llvm::DenseMap<Block *, unsigned> firstIndexArgs;
  /// sitofp(x(i0, j0)) per affine cast, for the tile being emitted (cleared
  /// before each).
  llvm::DenseMap<Operation *, Value> castBases;
  /// Clones the ops of `block` that `value` depends on with `mapping`.
  Value cloneDependencies(Block *block, Value value, IRMapping &mapping);
  /// Maps the b, h (and, when given, i, j) and capture arguments of a score
  /// (`firstIndexArg` 1) or mask (0) region.
  void mapRegionArguments(Block *block, unsigned firstIndexArg, Value h,
                          Value i, Value j, IRMapping &mapping) {
    // The region's own accessors place the arguments; firstIndexArg only
    // names the region.
    assert(firstIndexArg + AttentionOp::kNumIndexArgs ==
               AttentionOp::getNumLeadingArgs(block) &&
           "score: 1, mask: 0");
    (void)firstIndexArg;
    SmallVector<Value> captures =
        llvm::map_to_vector(op.getCaptures(), [&](Value capture) {
          return operands->lookup(capture);
        });
    attn::mapRegionArguments(block, Value(), {batch, h, i, j}, captures,
                             mapping);
  }
  /// Emits, at the insertion point, the ops of a score (`firstIndexArg` 1)
  /// or mask (0) region that do not depend on the element, once.
  void hoistInvariants(Block *block, unsigned firstIndexArg);
  /// Per region: its ops hoisted out of the per-element copies.
  llvm::DenseMap<Block *, IRMapping> hoisted;
  /// Loads the Q fragments of this warp's m-tile `mt` for k-step `kk`.
  SmallVector<Value, 4> loadQueryFragment(int64_t mt, int64_t kk,
                                          int64_t plane = 0);
  /// The first row of this thread's fragments of m-tile `mt` (lane / 4 of
  /// its 16 rows; the thread also holds that row + 8).
  Value fragmentRow(int64_t mt) {
    return add(rowBegin, add(mul(warp, idx(16 * mTiles)),
                             add(idx(16 * mt), divu(lane, 4))));
  }

  /// Which score paths a k-tile body contains: the fast one (a full tile
  /// inside Sk without a score region), the element-wise one, or both
  /// behind a branch on the tile.
  enum class ScorePath { Fast, Elementwise, Either };
  /// The body of one visited k-tile: returns the updated (O, m, l).
  SmallVector<Value> emitKeyTile(Value kt, Value buffer, Value tileClass,
                                 ValueRange state, ScorePath path);

  OpBuilder &b;
  AttentionOp op;
  Location loc;
  int64_t tileQ, tileK, headDim, valueDim, mTiles, warps, threads;
  /// Columns of the Q/K and V tiles in shared memory (sharedColumns), the
  /// k-steps of S = Q K^T (16 features each; with D a multiple of 8 only,
  /// the last step's upper half reads zeros: zeroFeaturePadding), and O's
  /// 8-column fragment tiles (Dv rounded up to 16, the P.V k-step's B
  /// width; the columns past Dv are computed and never stored).
  int64_t qkCols, vCols, headSteps, valueTiles;
  LayoutDims dims;
  /// wgmma.mma_async instead of mma.sync (sm_90a): warpgroups of 64 rows,
  /// Q, K and V in the 128-byte swizzle layout, read by descriptor.
  bool useWgmma;
  /// The 16-bit type of the tiles in shared memory and of the mma.sync
  /// operands (bf16 for f32 inputs), and O's element type.
  Type elementType, outputType;
  /// Shared-memory bytes of the Q tile and of each K and V buffer, and of
  /// one plane of them.
  int64_t qBytes, kBytes, vBytes, qPlane, kPlane, vPlane;
  bool qInRegisters;
  /// 1, or kPlanes for f32 inputs (setPlanes).
  int64_t planes = 1;
  SmallVector<Value, 3 * kPlanes> planeInputs;
  /// Base pointers of the planes after the first of this (batch, head).
  SmallVector<Value, kPlanes> qPlaneBases, kPlaneBases, vPlaneBases;

  // Values of the kernel, set by emit().
  IRMapping *operands = nullptr;
  Value smem, tid, lane, warp;
  Value batch, head, kvHead, rowBegin, seqQ, seqK;
  Value qBase, kBase, vBase, qRowStride, kRowStride, vRowStride;
  int64_t numSplits = 0;
  Value oPart, lsePart;
  /// With split-KV and GQA: the query heads per K/V head packed into rows.
  int64_t packedHeads = 0;
  /// (query head, query index) of CTA row `row`, clamped into the rows that
  /// exist so that region reads stay in bounds.
  std::pair<Value, Value> rowPosition(Value row) {
    if (!packedHeads)
      return {head, row};
    Value seq = arith::MaxUIOp::create(b, loc, seqQ, idx(1));
    Value last = arith::SubIOp::create(b, loc, mul(seq, idx(packedHeads)),
                                       idx(1));
    Value r = arith::MinUIOp::create(b, loc, row, last);
    return {add(head, arith::DivUIOp::create(b, loc, r, seq)),
            arith::RemUIOp::create(b, loc, r, seq)};
  }
  /// Rows of the CTA that hold queries.
  Value validRows() {
    return packedHeads ? mul(seqQ, idx(packedHeads)) : seqQ;
  }
  /// Masked ops classify their k-tiles cooperatively, once, into a table in
  /// shared memory (one byte per tile, then the i32 first and last non-empty
  /// index): a data-dependent classifier (a scan of ids) then costs each
  /// thread a few tiles instead of every tile, and the k-loop runs only from
  /// the first to the last non-empty tile (a window's or document's band).
  bool hasClassTable = false;
  int64_t tableOffset() const { return qBytes + 2 * kBytes + 2 * vBytes; }
  /// Per m-tile and k-step, when Q stays in registers.
  SmallVector<SmallVector<SmallVector<Value, 4>>> queryFragments;
};

} // namespace

void KernelEmitter::copyTileAsync(Value base, Value rowStride, Value rowBegin,
                                  Value rowLimit, Value byteOffset,
                                  int64_t rows, int64_t cols,
                                  int64_t sharedCols, bool blocked) {
  int64_t blockRows = blocked ? rows : 0;
  int64_t chunksPerRow = cols / 8;
  int64_t chunks = rows * chunksPerRow;
  Type element = elementType;
  if (threads % chunksPerRow == 0) {
    // Each pass of the CTA copies rowsPerPass whole rows; a thread's chunks
    // lie in one column, rowsPerPass rows apart. Its source pointer is
    // advanced pass by pass from the tile's base, so the only per-thread
    // values live across the k-loop are its column and first row (with
    // offsets per pass from the thread's base LLVM hoisted one 64-bit
    // product per chunk out of the loop).
    int64_t rowsPerPass = threads / chunksPerRow;
    Value threadRow = divu(tid, chunksPerRow);
    Value col = mul(remu(tid, chunksPerRow), idx(8));
    Value tileBase = gep(base, mul(rowBegin, rowStride), element);
    Value firstRow = gep(tileBase, col, element);
    Value src = gep(firstRow, mul(threadRow, rowStride), element);
    Value passStride = mul(idx(rowsPerPass), rowStride);
    for (int64_t pass = 0; pass * rowsPerPass < rows; ++pass) {
      if (pass > 0)
        src = gep(src, passStride, element);
      Value row = add(threadRow, idx(pass * rowsPerPass));
      auto body = [&]() {
        Value valid = ult(add(rowBegin, row), rowLimit);
        // Zero-filled rows read nothing; point them at the tile's first row.
        NVVM::CpAsyncOp::create(
            b, loc, sharedAddress(byteOffset, row, col, sharedCols, blockRows),
            select(valid, src, firstRow), 16, NVVM::LoadCacheModifierKind::CG,
            select(valid, i32(16), i32(0)));
      };
      if ((pass + 1) * rowsPerPass <= rows) {
        body();
        continue;
      }
      scf::IfOp::create(b, loc, ult(row, idx(rows)),
                        [&](OpBuilder &, Location) {
                          body();
                          scf::YieldOp::create(b, loc);
                        });
    }
    return;
  }
  for (int64_t first = 0; first < chunks; first += threads) {
    Value chunkId = add(tid, idx(first));
    auto body = [&]() {
      Value row = divu(chunkId, chunksPerRow);
      Value col = mul(remu(chunkId, chunksPerRow), idx(8));
      Value srcRow = add(rowBegin, row);
      Value valid = ult(srcRow, rowLimit);
      // Zero-filled rows read nothing; point them at the tile's first row.
      Value offset =
          add(mul(select(valid, srcRow, rowBegin), rowStride), col);
      Value src = gep(base, offset, element);
      Value dst = sharedAddress(byteOffset, row, col, sharedCols, blockRows);
      Value srcBytes = select(valid, i32(16), i32(0));
      NVVM::CpAsyncOp::create(b, loc, dst, src, 16,
                              NVVM::LoadCacheModifierKind::CG, srcBytes);
    };
    if (first + threads <= chunks) {
      body();
      continue;
    }
    scf::IfOp::create(b, loc, ult(chunkId, idx(chunks)),
                      [&](OpBuilder &, Location) {
                        body();
                        scf::YieldOp::create(b, loc);
                      });
  }
}

void KernelEmitter::copyPackedQueryAsync(Value query, int64_t byteOffset) {
  int64_t chunksPerRow = headDim / 8;
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, query);
  ValueRange strides = meta.getStrides();
  Value base = gep(globalPointer(query),
                   add(meta.getOffset(), mul(batch, strides[dims.batch])),
                   elementType);
  for (int64_t first = 0; first < tileQ * chunksPerRow; first += threads) {
    Value chunkId = add(tid, idx(first));
    Value row = divu(chunkId, chunksPerRow);
    Value col = mul(remu(chunkId, chunksPerRow), idx(8));
    Value valid = ult(row, validRows());
    auto [rowHead, position] = rowPosition(row);
    Value offset = add(add(mul(rowHead, strides[dims.head]),
                           mul(position, strides[dims.seq])),
                       col);
    NVVM::CpAsyncOp::create(
        b, loc, sharedAddress(idx(byteOffset), row, col, qkCols),
        gep(base, offset, elementType), 16, NVVM::LoadCacheModifierKind::CG,
        select(valid, i32(16), i32(0)));
  }
}

void KernelEmitter::zeroFeaturePadding() {
  if (headDim % 16 == 0)
    return;
  // One 16-byte chunk per row of Q (each plane) and of both K buffers.
  SmallVector<std::pair<int64_t, int64_t>> tiles; // (byte offset, rows)
  for (int64_t p = 0; p < planes; ++p)
    tiles.push_back({p * qPlane, tileQ});
  for (int64_t buffer = 0; buffer < 2; ++buffer)
    for (int64_t p = 0; p < planes; ++p)
      tiles.push_back({qBytes + buffer * kBytes + p * kPlane, tileK});
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(VectorType::get({4}, b.getI32Type()),
                                     b.getI32IntegerAttr(0).getValue()));
  for (auto [byteOffset, rows] : tiles)
    for (int64_t first = 0; first < rows; first += threads) {
      Value row = add(tid, idx(first));
      auto store = [&]() {
        LLVM::StoreOp::create(b, loc, zero,
                              sharedAddress(idx(byteOffset), row, idx(headDim),
                                            qkCols, useWgmma ? rows : 0),
                              /*alignment=*/16);
      };
      if (first + threads <= rows) {
        store();
        continue;
      }
      scf::IfOp::create(b, loc, ult(row, idx(rows)),
                        [&](OpBuilder &, Location) {
                          store();
                          scf::YieldOp::create(b, loc);
                        });
    }
}

SmallVector<Value, 4>
KernelEmitter::loadFragment(ArrayRef<Value> offsets, Value dynamicOffset,
                            int64_t staticOffset, int64_t rowConst,
                            int64_t colConst, int64_t cols, bool transpose) {
  assert(rowConst % 8 == 0 && colConst % 16 == 0);
  Type i32Type = b.getI32Type();
  Value base = offsets[(colConst / 16) % 4];
  if (dynamicOffset)
    base = arith::AddIOp::create(
        b, loc, base,
        arith::IndexCastOp::create(b, loc, i32Type, dynamicOffset));
  int64_t immediate =
      staticOffset + rowConst * cols * kElementBytes + (colConst / 64) * 128;
  // Side effects: it reads shared memory that cp.async and barriers order.
  std::string text = llvm::formatv(
      "ldmatrix.sync.aligned.m8n8.x4{0}.shared.b16 {{$0, $1, $2, $3}, "
      "[$4+{1}];",
      transpose ? ".trans" : "", immediate);
  SmallVector<Type, 4> types(4, i32Type);
  return SmallVector<Value, 4>(
      inlinePTX(text, "=r,=r,=r,=r,r", ValueRange{base}, types));
}

SmallVector<Value> KernelEmitter::inlinePTX(StringRef text,
                                            StringRef constraints,
                                            ValueRange operands,
                                            TypeRange results) {
  MLIRContext *ctx = b.getContext();
  Type resultType;
  if (results.size() == 1)
    resultType = results[0];
  else if (results.size() > 1)
    resultType =
        LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(results));
  else
    resultType = LLVM::LLVMVoidType::get(ctx);
  auto asmOp = LLVM::InlineAsmOp::create(
      b, loc, resultType, operands, b.getStringAttr(text),
      b.getStringAttr(constraints), /*has_side_effects=*/UnitAttr::get(ctx),
      UnitAttr(),
      LLVM::TailCallKindAttr::get(ctx, LLVM::tailcallkind::TailCallKind::None),
      LLVM::AsmDialectAttr(), ArrayAttr());
  SmallVector<Value> values;
  if (results.size() == 1)
    values.push_back(asmOp.getResult(0));
  else
    for (int64_t k = 0, e = results.size(); k < e; ++k)
      values.push_back(
          LLVM::ExtractValueOp::create(b, loc, asmOp.getResult(0), k));
  return values;
}

SmallVector<Value> KernelEmitter::tiedPTX(StringRef text, ValueRange values) {
  std::string constraints;
  for (Value value : values)
    constraints += value.getType().isF32() ? "=f," : "=r,";
  for (int64_t k = 0, e = values.size(); k < e; ++k)
    constraints += std::to_string(k) + (k + 1 < e ? "," : "");
  return inlinePTX(text, constraints, values, values.getTypes());
}

Value KernelEmitter::wgmmaDescriptor(Value byteOffset, int64_t lbo,
                                     int64_t sbo) {
  // PTX ISA, "Matrix Descriptor Format": bits 0-13 the start address, 16-29
  // the leading and 32-45 the stride byte offset (all in 16 bytes), 62-63
  // the swizzle (1: 128 bytes). Shared addresses are below 2^18, so the
  // start field never carries into the next one (advanceDescriptor).
  Type i64 = b.getI64Type();
  Value address = arith::AddIOp::create(
      b, loc, sharedBase,
      arith::IndexCastOp::create(b, loc, b.getI32Type(), byteOffset));
  Value start = arith::ExtUIOp::create(
      b, loc, i64, arith::ShRUIOp::create(b, loc, address, i32(4)));
  uint64_t fields = (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32) |
                    (uint64_t(1) << 62);
  return arith::OrIOp::create(
      b, loc, start,
      arith::ConstantIntOp::create(b, loc, i64, static_cast<int64_t>(fields)));
}

Value KernelEmitter::advanceDescriptor(Value descriptor, int64_t bytes) {
  assert(bytes % 16 == 0);
  if (bytes == 0)
    return descriptor;
  return arith::AddIOp::create(
      b, loc, descriptor,
      arith::ConstantIntOp::create(b, loc, b.getI64Type(), bytes / 16));
}

void KernelEmitter::wgmma(ValueRange a, Value descriptor,
                          MutableArrayRef<Value> acc, bool accumulate,
                          bool transposeB) {
  int64_t n = 2 * acc.size();
  std::string type = elementType.isBF16() ? "bf16" : "f16";
  std::string text, constraints;
  llvm::raw_string_ostream os(text);
  os << "{\n.reg .pred p;\nsetp.ne.b32 p, " << (accumulate ? 1 : 0)
     << ", 0;\nwgmma.mma_async.sync.aligned.m64n" << n << "k16.f32." << type
     << "." << type << " {";
  for (int64_t k = 0; k < n / 2; ++k) {
    os << (k ? ", $" : "$") << k;
    constraints += "=f,";
  }
  int64_t next = n / 2;
  if (a.size() == 4) {
    os << "}, {$" << next << ", $" << next + 1 << ", $" << next + 2 << ", $"
       << next + 3 << "}, $" << next + 4 << ", p, 1, 1, ";
    constraints += "r,r,r,r,l";
  } else {
    // A by descriptor, K-major (imm-trans-a 0).
    os << "}, $" << next << ", $" << next + 1 << ", p, 1, 1, 0, ";
    constraints += "l,l";
  }
  os << (transposeB ? 1 : 0) << ";\n}";
  SmallVector<Value> operands(a);
  operands.push_back(descriptor);
  // The accumulators are read and written in place (tied operands).
  Value poison = LLVM::PoisonOp::create(b, loc, b.getF32Type());
  for (int64_t k = 0; k < n / 2; ++k) {
    constraints += "," + std::to_string(k);
    operands.push_back(accumulate ? acc[k] : poison);
  }
  SmallVector<Type> types(n / 2, b.getF32Type());
  SmallVector<Value> result = inlinePTX(text, constraints, operands, types);
  llvm::copy(result, acc.begin());
}

void KernelEmitter::mma(ArrayRef<Value> a, Value b0, Value b1,
                        MutableArrayRef<Value> acc) {
  Type f32Type = b.getF32Type();
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), {f32Type, f32Type, f32Type, f32Type});
  NVVM::MMATypes type = elementType.isBF16() ? NVVM::MMATypes::bf16
                                             : NVVM::MMATypes::f16;
  // NVVM types f16 operands as <2 x half>, bf16 ones as i32.
  SmallVector<Value, 4> aOperands(a), bOperands{b0, b1};
  if (elementType.isF16()) {
    auto pairType = VectorType::get({2}, elementType);
    for (Value &operand : aOperands)
      operand = LLVM::BitcastOp::create(b, loc, pairType, operand);
    for (Value &operand : bOperands)
      operand = LLVM::BitcastOp::create(b, loc, pairType, operand);
  }
  Value result = NVVM::MmaOp::create(
      b, loc, structType, aOperands, bOperands, acc, {16, 8, 16},
      std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  for (int64_t k = 0; k < 4; ++k)
    acc[k] = LLVM::ExtractValueOp::create(b, loc, result, k);
}

Value KernelEmitter::pack(Value x, Value y) {
  auto pairType = VectorType::get({2}, b.getF32Type());
  Value pair = vector::FromElementsOp::create(b, loc, pairType,
                                              ValueRange{x, y});
  Value narrow = arith::TruncFOp::create(
      b, loc, VectorType::get({2}, elementType), pair);
  Value asInt = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), narrow);
  return vector::ExtractOp::create(b, loc, asInt, ArrayRef<int64_t>{0});
}

SmallVector<Value, kPlanes> KernelEmitter::packPlanes(Value x, Value y) {
  if (planes == 1)
    return {pack(x, y)};
  auto pairType = VectorType::get({2}, b.getF32Type());
  auto narrowType = VectorType::get({2}, elementType);
  Value rest =
      vector::FromElementsOp::create(b, loc, pairType, ValueRange{x, y});
  SmallVector<Value, kPlanes> result;
  for (int64_t p = 0; p < planes; ++p) {
    Value narrow = arith::TruncFOp::create(b, loc, narrowType, rest);
    if (p + 1 < planes)
      rest = arith::SubFOp::create(
          b, loc, rest, arith::ExtFOp::create(b, loc, pairType, narrow));
    Value word = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), narrow);
    result.push_back(
        vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0}));
  }
  return result;
}

SmallVector<SmallVector<Value, 4>, kPlanes>
KernelEmitter::loadFragmentPlanes(ArrayRef<Value> offsets, Value dynamicOffset,
                                  int64_t planeBytes, int64_t rowConst,
                                  int64_t colConst, int64_t cols,
                                  bool transpose) {
  SmallVector<SmallVector<Value, 4>, kPlanes> fragments;
  for (int64_t p = 0; p < planes; ++p)
    fragments.push_back(loadFragment(offsets, dynamicOffset, p * planeBytes,
                                     rowConst, colConst, cols, transpose));
  return fragments;
}

void KernelEmitter::mmaPlanes(ArrayRef<SmallVector<Value, 4>> a,
                              ArrayRef<SmallVector<Value, 4>> bPlanes,
                              MutableArrayRef<Value> acc,
                              MutableArrayRef<Value> small, int64_t first) {
  for (int64_t half = 0; half < 2; ++half) {
    int64_t at = first + 4 * half, b0 = 2 * half, b1 = 2 * half + 1;
    // The smallest terms first.
    for (int64_t order = planes - 1; order > 0; --order)
      for (int64_t p = 0; p <= order; ++p)
        mma(a[p], bPlanes[order - p][b0], bPlanes[order - p][b1],
            small.slice(at, 4));
    mma(a[0], bPlanes[0][b0], bPlanes[0][b1], acc.slice(at, 4));
  }
}

Value KernelEmitter::shuffleXor(Value x, int64_t offset) {
  return NVVM::ShflOp::create(b, loc, b.getF32Type(), i32(-1), x,
                              i32(offset), i32(31), NVVM::ShflKind::bfly,
                              UnitAttr())
      .getResult();
}

Value KernelEmitter::inlineRegion(Block *block, IRMapping &mapping,
                                  const ElementOffset *at) {
  IRMapping &invariant = hoisted[block];
  // Hoisted ops are reused and affine casts rebuilt from their base; the
  // rest is cloned (captures read from the kernel's buffers) and may
  // contract into FMAs.
  auto emitOp = [&](Operation &nested, IRMapping &mapping) {
    if (lookupHoisted(nested, invariant, mapping))
      return true;
    auto affine = at ? affineCasts.find(&nested) : affineCasts.end();
    if (affine == affineCasts.end())
      return false;
    Value &base = castBases[&nested];
    if (!base) {
      IRMapping baseMapping;
      mapRegionArguments(block, firstIndexArgs.lookup(block), head, at->i0,
                         at->j0, baseMapping);
      base = cloneDependencies(block, nested.getResult(0), baseMapping);
    }
    auto [ci, cj] = affine->second;
    int64_t offset = ci * at->di + cj * at->dj;
    mapping.map(nested.getResult(0),
                offset ? fadd(base, f32(static_cast<double>(offset))) : base);
    return true;
  };
  SmallVector<Value> buffers =
      llvm::map_to_vector(op.getCaptures(), [&](Value capture) {
        return operands->lookup(capture);
      });
  return attn::inlineRegion(b, block, mapping, buffers, emitOp,
                            allowContraction);
}

Value KernelEmitter::cloneDependencies(Block *block, Value value,
                                       IRMapping &mapping) {
  return attn::cloneDependencies(b, block, value, mapping, hoisted[block]);
}

void KernelEmitter::findAffineCasts(Block *block, unsigned firstIndexArg) {
  firstIndexArgs[block] = firstIndexArg;
  // Hoisted integers are the invariants of the affine forms.
  IRMapping &invariant = hoisted[block];
  for (auto [cast, form] : attn::findAffineCasts(
           block, [&](Value v) { return invariant.contains(v); }))
    affineCasts[cast] = form;
}

void KernelEmitter::hoistInvariants(Block *block, unsigned firstIndexArg) {
  // Values that vary per element: s (score), i and j, and h when heads are
  // packed into rows; everything computed from the rest (b, h, captures,
  // constants: e.g. an ALiBi slope read) is the same for the whole CTA.
  SmallVector<Value, 4> seeds;
  if (AttentionOp::isScoreBlock(block))
    seeds.push_back(AttentionOp::getScoreArg(block));
  seeds.push_back(AttentionOp::getIndexArg(block, RegionDim::I));
  seeds.push_back(AttentionOp::getIndexArg(block, RegionDim::J));
  if (packedHeads)
    seeds.push_back(AttentionOp::getIndexArg(block, RegionDim::H));
  RegionVariance variance(block, seeds, /*opaqueOpsVary=*/true);
  IRMapping mapping;
  mapRegionArguments(block, firstIndexArg, head, Value(), Value(), mapping);
  SmallVector<Value> buffers =
      llvm::map_to_vector(op.getCaptures(), [&](Value capture) {
        return operands->lookup(capture);
      });
  attn::hoistInvariants(b, block, variance, mapping, buffers, hoisted[block]);
}

SmallVector<Value, 4> KernelEmitter::loadQueryFragment(int64_t mt, int64_t kk,
                                                       int64_t plane) {
  // Matrix m of the .x4 load: rows 8(m%2).., k-columns 8(m/2)..: lanes
  // 8m..8m+7 give its row addresses (qFragments: row 32w + lane % 16,
  // column 8 (lane / 16)).
  return loadFragment(qFragments, Value(), plane * qPlane, 16 * mt, kk * 16,
                      qkCols, false);
}

SmallVector<Value> KernelEmitter::emitKeyTile(Value kt, Value buffer,
                                              Value tileClass,
                                              ValueRange state,
                                              ScorePath path) {
  int64_t scoreTiles = tileK / 8;
  int64_t perTile = scoreTiles * 4, rowsPerThread = 2 * mTiles;
  Value colBegin = mul(kt, idx(tileK));
  Value kOffset = add(idx(qBytes), mul(buffer, idx(kBytes)));
  Value vOffset =
      add(idx(qBytes + 2 * kBytes), mul(buffer, idx(vBytes)));

  // S = Q K^T for this warp's rows: per m-tile, scoreTiles accumulators of 4
  // (element mt * perTile + 4 nt + e).
  // f32 inputs: the products of the planes after the first apart in `sSmall`
  // (mmaPlanes), added at the end.
  SmallVector<Value> s(mTiles * perTile, f32(0.0)), sSmall;
  if (planes > 1)
    sSmall.assign(s.size(), f32(0.0));
  if (useWgmma) {
    // A (Q, this warpgroup's 64 rows) and B (K) both K-major: k-step kk
    // reads d 16kk.. of every row, 32 bytes into its 128-byte row of column
    // block kk / 4; 8-row groups 1024 bytes apart.
    Value qDescriptor = wgmmaDescriptor(
        mul(divu(warp, 4), idx(kWarpgroupRows * 128)), 16, kSwizzleAtomBytes);
    Value kDescriptor = wgmmaDescriptor(kOffset, 16, kSwizzleAtomBytes);
    // The previous tile's scores were read by this thread: order them
    // before the new products are written.
    inlinePTX("wgmma.fence.sync.aligned;", "", {});
    for (int64_t kk = 0; kk < headSteps; ++kk) {
      int64_t step = (kk % 4) * 32;
      wgmma(advanceDescriptor(qDescriptor, (kk / 4) * tileQ * 128 + step),
            advanceDescriptor(kDescriptor, (kk / 4) * tileK * 128 + step), s,
            /*accumulate=*/kk > 0, /*transposeB=*/false);
    }
    inlinePTX("wgmma.commit_group.sync.aligned;", "", {});
    s = tiedPTX("wgmma.wait_group.sync.aligned 0;", s);
  }
  for (int64_t kk = 0; !useWgmma && kk < headSteps; ++kk) {
    // a[mt][plane]: the Q fragments.
    SmallVector<SmallVector<SmallVector<Value, 4>, kPlanes>> a(mTiles);
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t p = 0; p < planes; ++p)
        a[mt].push_back(qInRegisters ? queryFragments[mt][kk]
                                     : loadQueryFragment(mt, kk, p));
    for (int64_t np = 0; np < tileK / 16; ++np) {
      // Matrices: keys 16np + 8(m/2).., d 16kk + 8(m%2)..: the B
      // operands of key columns 16np.. and 16np + 8..
      auto kf = loadFragmentPlanes(kFragments, kOffset, kPlane, np * 16,
                                   kk * 16, qkCols, false);
      for (int64_t mt = 0; mt < mTiles; ++mt)
        mmaPlanes(a[mt], kf, s, sSmall, mt * perTile + 8 * np);
    }
  }
  for (auto [x, small] : llvm::zip(s, sSmall))
    x = fadd(small, x);

  // Scores in log2 units are x * factor. Without a score region x = Q.K
  // (-inf where masked or past Sk) and factor = scale * log2(e), which the
  // exponent's FMA applies; with one, x is the scaled, score-modified,
  // masked value (natural-log units) and factor = log2(e), which the FMA
  // applies as well (rounded once, not once more per element). Fast path: a
  // full tile inside Sk without a
  // score region uses the products as they are. (Keeping raw products on
  // the other tiles too saves a multiply per element and, on a dense
  // D = 128 kernel at 128 x 64, the registers that made it spill.)
  double log2e = 1.0 / std::log(2.0);
  double scale = op.getScaleValue();
  auto vecType = VectorType::get({mTiles * perTile}, b.getF32Type());
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                       add(colBegin, idx(tileK)), seqK);
  Value isFull = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq, tileClass,
      arith::ConstantIntOp::create(b, loc, b.getI8Type(),
                                   AttentionOp::kTileFull));
  Value packed = vector::FromElementsOp::create(b, loc, vecType, s);
  // The element-wise path: (scores, factor).
  auto elementwise = [&]() -> std::pair<Value, Value> {
        // Element by element; `bounded`: the tile may be partial or cross
        // Sk, so keys past Sk are clamped for reads and masked, and the mask
        // region runs unless the tile is full.
        auto elements = [&](bool bounded) -> Value {
          Value needMask = arith::XOrIOp::create(
              b, loc, isFull, arith::ConstantIntOp::create(b, loc, 1, 1));
          // Positions are below 2^31 (the op's contract): with regions, whose
          // arithmetic on them was narrowed to 32 bits (narrowElementRegions),
          // they are computed in i32 per element. Without, they only bound
          // the keys and stay `index`: ptxas schedules the dense D = 128
          // kernel 6% slower with 32-bit bounds (bench/RESULTS.md).
          bool use32 = op.getScoreBlock() || op.getMaskBlock();
          auto narrow = [&](Value x) -> Value {
            return use32 ? arith::IndexCastOp::create(b, loc, b.getI32Type(),
                                                      x)
                         : x;
          };
          auto widen = [&](Value x) -> Value {
            return use32 ? arith::IndexCastUIOp::create(b, loc,
                                                        b.getIndexType(), x)
                         : x;
          };
          auto constant = [&](int64_t v) { return use32 ? i32(v) : idx(v); };
          Value colBase = narrow(add(colBegin, mul(remu(lane, 4), idx(2))));
          // Clamped indices keep capture reads in bounds on rows past Sq and
          // keys past Sk; those elements are discarded or masked below.
          Value lastRow = narrow(arith::SubIOp::create(b, loc, seqQ, idx(1)));
          Value lastCol = narrow(arith::SubIOp::create(b, loc, seqK, idx(1)));
          // Keys of this thread left before Sk: key colBase + c is inside
          // iff c < remaining, a compare with an immediate per element.
          Value remaining = arith::SubIOp::create(b, loc, narrow(seqK), colBase);
          SmallVector<Value> t;
          // The thread's first element, unclamped (affine casts).
          castBases.clear();
          Value i0 = fragmentRow(0);
          Value j0 = add(colBegin, mul(remu(lane, 4), idx(2)));
          for (int64_t mt = 0; mt < mTiles; ++mt) {
            Value rowBase = narrow(fragmentRow(mt));
            for (int64_t nt = 0; nt < scoreTiles; ++nt) {
              for (int64_t e = 0; e < 4; ++e) {
                Value i = add(rowBase, constant((e / 2) * 8));
                Value j = add(colBase, constant(nt * 8 + e % 2));
                Value rowHead = head, iC;
                if (packedHeads)
                  std::tie(rowHead, iC) = rowPosition(widen(i));
                else
                  iC = widen(arith::MinUIOp::create(b, loc, i, lastRow));
                Value jC =
                    widen(bounded ? arith::MinUIOp::create(b, loc, j, lastCol)
                                  : j);
                Value value = s[mt * perTile + nt * 4 + e];
                ElementOffset at{i0, j0, 16 * mt + (e / 2) * 8,
                                 nt * 8 + e % 2};
                if (Block *score = op.getScoreBlock()) {
                  IRMapping mapping;
                  Value scaled = fmul(value, f32(scale));
                  allowContraction(scaled.getDefiningOp());
                  mapping.map(score->getArgument(0), scaled);
                  mapRegionArguments(score, 1, rowHead, iC, jC, mapping);
                  value = inlineRegion(score, mapping, &at);
                }
                if (!bounded) {
                  t.push_back(value);
                  continue;
                }
                Value keep = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::sgt, remaining,
                    constant(nt * 8 + e % 2));
                if (Block *mask = op.getMaskBlock()) {
                  IRMapping mapping;
                  mapRegionArguments(mask, 0, rowHead, iC, jC, mapping);
                  Value attend = inlineRegion(mask, mapping, &at);
                  // keep &= attend || !needMask
                  Value notNeeded = arith::XOrIOp::create(
                      b, loc, needMask,
                      arith::ConstantIntOp::create(b, loc, 1, 1));
                  keep = arith::AndIOp::create(
                      b, loc, keep,
                      arith::OrIOp::create(b, loc, attend, notNeeded));
                }
                t.push_back(select(
                    keep, value,
                    f32(-std::numeric_limits<double>::infinity())));
              }
            }
          }
          return vector::FromElementsOp::create(b, loc, vecType, t);
        };
        Value scores;
        if (op.getScoreBlock()) {
          // Full tiles inside Sk need only the score region.
          auto split = scf::IfOp::create(
              b, loc, arith::AndIOp::create(b, loc, inside, isFull),
              [&](OpBuilder &, Location) {
                scf::YieldOp::create(b, loc, ValueRange{elements(false)});
              },
              [&](OpBuilder &, Location) {
                scf::YieldOp::create(b, loc, ValueRange{elements(true)});
              });
          scores = split.getResult(0);
        } else {
          scores = elements(true);
        }
        return {scores, op.getScoreBlock() ? f32(log2e) : f32(scale * log2e)};
  };
  std::pair<Value, Value> scaled;
  switch (path) {
  case ScorePath::Fast:
    assert(!op.getScoreBlock() && !op.getMaskBlock() &&
           "the fast path alone is for tiles known full and inside Sk");
    scaled = {packed, f32(scale * log2e)};
    break;
  case ScorePath::Elementwise:
    scaled = elementwise();
    break;
  case ScorePath::Either: {
    Value fast = op.getScoreBlock()
                     ? arith::ConstantIntOp::create(b, loc, 0, 1).getResult()
                     : arith::AndIOp::create(b, loc, inside, isFull)
                           .getResult();
    auto branch = scf::IfOp::create(
        b, loc, fast,
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, loc,
                               ValueRange{packed, f32(scale * log2e)});
        },
        [&](OpBuilder &, Location) {
          auto [scores, factor] = elementwise();
          scf::YieldOp::create(b, loc, ValueRange{scores, factor});
        });
    scaled = {branch.getResult(0), branch.getResult(1)};
    break;
  }
  }
  Value factor = scaled.second;
  SmallVector<Value> t;
  for (int64_t k = 0; k < mTiles * perTile; ++k)
    t.push_back(vector::ExtractOp::create(b, loc, scaled.first,
                                          ArrayRef<int64_t>{k}));

  // Online softmax per row r of the thread (m-tile r / 2, half r % 2: rows
  // lane/4 and lane/4 + 8).
  SmallVector<Value> o;
  for (int64_t k = 0; k < mTiles * valueTiles * 4; ++k)
    o.push_back(vector::ExtractOp::create(b, loc, state[0],
                                          ArrayRef<int64_t>{k}));
  SmallVector<Value> m(state.slice(1, rowsPerThread)),
      l(state.slice(1 + rowsPerThread, rowsPerThread));
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> alphas;
  for (int64_t r = 0; r < rowsPerThread; ++r) {
    int64_t mt = r / 2, half = r % 2;
    auto elements = [&](auto fn) {
      for (int64_t nt = 0; nt < scoreTiles; ++nt)
        for (int64_t e = 2 * half; e < 2 * half + 2; ++e)
          fn(t[mt * perTile + nt * 4 + e]);
    };
    Value rowMax = negInf;
    elements([&](Value &x) { rowMax = fmax(rowMax, x); });
    rowMax = fmax(rowMax, shuffleXor(rowMax, 1));
    rowMax = fmax(rowMax, shuffleXor(rowMax, 2));
    Value newMax = fmax(m[r], fmul(rowMax, factor));
    // A row with no unmasked key yet keeps max -inf; subtract 0 instead so
    // that exp2(-inf - -inf) never makes a NaN.
    Value isNegInf = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                           newMax, negInf);
    Value base = select(isNegInf, f32(0.0), newMax);
    Value negBase = arith::NegFOp::create(b, loc, base);
    Value alpha = exp2(fsub(m[r], base));
    Value sum = f32(0.0);
    elements([&](Value &x) {
      x = exp2(LLVM::FMAOp::create(b, loc, x, factor, negBase));
      sum = fadd(sum, x);
    });
    // l is this thread's partial row sum; the quad reduces it at the end.
    l[r] = fadd(fmul(l[r], alpha), sum);
    m[r] = newMax;
    alphas.push_back(alpha);
  }
  // O *= alpha per row, skipped when no row of the warp got a new maximum
  // (alpha = 1 everywhere): after the first tiles the maximum rarely moves,
  // and the rescale is a quarter of the FP32 instructions of a tile. The
  // element-wise path alone is the peeled tile that crosses Sk, run at most
  // once: it rescales unconditionally, which frees the registers of the
  // branch (the dense D = 128 kernel at 128 x 64 spilled 12 bytes there).
  Value anyMoved = arith::ConstantIntOp::create(b, loc, 1, 1);
  if (path != ScorePath::Elementwise) {
    Value moved = arith::ConstantIntOp::create(b, loc, 0, 1);
    for (Value alpha : alphas)
      moved = arith::OrIOp::create(
          b, loc, moved,
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, alpha,
                                f32(1.0)));
    anyMoved = NVVM::VoteSyncOp::create(
        b, loc, b.getI1Type(), i32(-1), moved,
        NVVM::VoteSyncKindAttr::get(b.getContext(), NVVM::VoteSyncKind::any));
  }
  SmallVector<Type> oTypes(o.size(), b.getF32Type());
  auto rescale = scf::IfOp::create(
      b, loc, anyMoved,
      [&](OpBuilder &, Location) {
        SmallVector<Value> scaledO(o);
        for (int64_t r = 0; r < rowsPerThread; ++r) {
          int64_t mt = r / 2, half = r % 2;
          for (int64_t dt = 0; dt < valueTiles; ++dt)
            for (int64_t e = 2 * half; e < 2 * half + 2; ++e) {
              Value &x = scaledO[(mt * valueTiles + dt) * 4 + e];
              x = fmul(x, alphas[r]);
            }
        }
        scf::YieldOp::create(b, loc, scaledO);
      },
      [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, o); });
  o.assign(rescale.getResults().begin(), rescale.getResults().end());

  // O += P V: k-step kk covers keys 16kk..16kk+15 = score tiles 2kk, 2kk+1.
  // f32 inputs: P V of this tile goes to fresh accumulators (the first
  // planes' product and the others, mmaPlanes) added to O at the end, so
  // that no chain of mma.sync runs over more than one tile.
  SmallVector<Value> pv, pvSmall;
  if (planes > 1) {
    pv.assign(o.size(), f32(0.0));
    pvSmall.assign(o.size(), f32(0.0));
  }
  MutableArrayRef<Value> pvAcc =
      planes > 1 ? MutableArrayRef<Value>(pv) : MutableArrayRef<Value>(o);
  if (useWgmma) {
    // P's A fragments, then the fence that orders their and O's (rescaled)
    // registers before the products.
    SmallVector<Value> operands(o);
    for (int64_t k = 0; k < perTile; k += 2)
      operands.push_back(pack(t[k], t[k + 1]));
    operands = tiedPTX("wgmma.fence.sync.aligned;", operands);
    llvm::copy(ArrayRef<Value>(operands).take_front(o.size()), o.begin());
    ArrayRef<Value> words = ArrayRef<Value>(operands).drop_front(o.size());
    // N-major B (transposed): k-step kk reads keys 16kk.. (rows of 128
    // bytes, 8-row groups 1024 bytes apart), column blocks of 64 values
    // Tk rows apart.
    Value descriptor = wgmmaDescriptor(vOffset, tileK * 128, kSwizzleAtomBytes);
    for (int64_t kk = 0; kk < tileK / 16; ++kk)
      wgmma(words.slice(4 * kk, 4),
            advanceDescriptor(descriptor, kk * 16 * 128), o,
            /*accumulate=*/true, /*transposeB=*/true);
    inlinePTX("wgmma.commit_group.sync.aligned;", "", {});
    o = tiedPTX("wgmma.wait_group.sync.aligned 0;", o);
  }
  for (int64_t kk = 0; !useWgmma && kk < tileK / 16; ++kk) {
    // a[mt][plane]: P's fragments.
    SmallVector<SmallVector<SmallVector<Value, 4>, kPlanes>> a(mTiles);
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      ArrayRef<Value> p = ArrayRef<Value>(t).slice(mt * perTile + 8 * kk, 8);
      a[mt].resize(planes);
      for (int64_t r = 0; r < 4; ++r)
        for (auto [plane, word] :
             llvm::enumerate(packPlanes(p[2 * r], p[2 * r + 1])))
          a[mt][plane].push_back(word);
    }
    for (int64_t dp = 0; dp < valueTiles / 2; ++dp) {
      // Matrices (transposed): keys 16kk + 8(m%2).., d 16dp + 8(m/2)..
      auto vf = loadFragmentPlanes(vFragments, vOffset, vPlane, kk * 16,
                                   dp * 16, vCols, true);
      for (int64_t mt = 0; mt < mTiles; ++mt)
        mmaPlanes(a[mt], vf, pvAcc, pvSmall, mt * valueTiles * 4 + 8 * dp);
    }
  }
  for (auto [x, large, small] : llvm::zip(o, pv, pvSmall))
    x = fadd(x, fadd(small, large));

  auto oType = VectorType::get({mTiles * valueTiles * 4}, b.getF32Type());
  SmallVector<Value> result{vector::FromElementsOp::create(b, loc, oType, o)};
  llvm::append_range(result, m);
  llvm::append_range(result, l);
  return result;
}

void KernelEmitter::emit(IRMapping &args, ValueRange outputs, Value smemBase) {
  operands = &args;
  smem = smemBase;
  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  lane = remu(tid, kWarpSize);
  warp = divu(tid, kWarpSize);
  // Shared-window addresses fit in 32 bits.
  sharedBase = LLVM::PtrToIntOp::create(b, loc, b.getI32Type(), smem);
  if (useWgmma) {
    // The tiles start at the swizzle's repeat (sharedBytes has the slack).
    Value aligned = arith::AndIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, sharedBase, i32(kSwizzleAtomBytes - 1)),
        i32(-kSwizzleAtomBytes));
    Value skip = arith::SubIOp::create(b, loc, aligned, sharedBase);
    smem =
        gep(smem, arith::IndexCastUIOp::create(b, loc, b.getIndexType(), skip),
            b.getI8Type());
    sharedBase = aligned;
  }
  qFragments = fragmentOffsets(
      add(mul(warp, idx(16 * mTiles)), remu(lane, 16)),
      mul(divu(lane, 16), idx(8)), qkCols);
  kFragments = fragmentOffsets(
      add(remu(lane, 8), mul(divu(lane, 16), idx(8))),
      mul(remu(divu(lane, 8), 2), idx(8)), qkCols);
  vFragments = fragmentOffsets(
      add(remu(lane, 8), mul(remu(divu(lane, 8), 2), idx(8))),
      mul(divu(lane, 16), idx(8)), vCols);
  Value blockX = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value qTile = numSplits ? idx(0) : blockX;
  Value blockY = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  if (packedHeads) {
    // Block y is the K/V head; `head` is the first query head of its group.
    kvHead = blockY;
    head = mul(kvHead, idx(packedHeads));
  } else {
    head = blockY;
    kvHead = divu(head, op.getGroupSize());
  }
  rowBegin = mul(qTile, idx(tileQ));

  // f32 inputs: the first planes stand for Q, K, V (same shapes, bf16).
  bool usePlanes = planes > 1;
  Value query = usePlanes ? planeInputs[0] : args.lookup(op.getQuery());
  Value key = usePlanes ? planeInputs[planes] : args.lookup(op.getKey());
  Value value =
      usePlanes ? planeInputs[2 * planes] : args.lookup(op.getValue());
  Value output = outputs.empty() ? Value() : outputs[0];
  seqQ = memref::DimOp::create(b, loc, query, dims.seq);
  seqK = memref::DimOp::create(b, loc, key, dims.seq);

  // Base pointers of this (batch, head) and the distance between rows.
  auto baseOf = [&](Value memref, Value h, Value &rowStride) {
    auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
    ValueRange strides = meta.getStrides();
    rowStride = strides[dims.seq];
    Value offset = add(meta.getOffset(), add(mul(batch, strides[dims.batch]),
                                             mul(h, strides[dims.head])));
    return gep(globalPointer(memref), offset,
               cast<MemRefType>(memref.getType()).getElementType());
  };
  qBase = baseOf(query, head, qRowStride);
  kBase = baseOf(key, kvHead, kRowStride);
  vBase = baseOf(value, kvHead, vRowStride);
  for (int64_t p = 1; p < planes; ++p) {
    Value unused;
    qPlaneBases.push_back(baseOf(planeInputs[p], head, unused));
    kPlaneBases.push_back(baseOf(planeInputs[planes + p], kvHead, unused));
    vPlaneBases.push_back(baseOf(planeInputs[2 * planes + p], kvHead, unused));
  }
  Value oRowStride, oBase;
  if (output)
    oBase = baseOf(output, head, oRowStride);

  // The k-tiles this q-tile visits (causal bounds, else all), and the
  // classifier of one of them.
  Value rows =
      arith::MinUIOp::create(b, loc, idx(tileQ),
                             arith::SubIOp::create(b, loc, seqQ, rowBegin));
  KeyTileRanges ranges =
      emitKeyTileRanges(b, loc, op, rowBegin, rows, seqK, tileK);
  Value lastRow = add(rowBegin, arith::SubIOp::create(b, loc, rows, idx(1)));
  if (numSplits) {
    // This split's share of the k-tiles.
    Value numTiles = arith::CeilDivUIOp::create(b, loc, seqK, idx(tileK));
    Value perSplit =
        arith::CeilDivUIOp::create(b, loc, numTiles, idx(numSplits));
    Value first = mul(blockX, perSplit);
    ranges.begin = arith::MaxUIOp::create(b, loc, ranges.begin, first);
    ranges.end = arith::MinUIOp::create(b, loc, ranges.end,
                                        add(first, perSplit));
  }
  Type i8 = b.getI8Type();
  auto classify = [&](Value kt) -> Value {
    Value colBegin = mul(kt, idx(tileK));
    Value cols = arith::MinUIOp::create(
        b, loc, idx(tileK), arith::SubIOp::create(b, loc, seqK, colBegin));
    Value lastCol = add(colBegin, arith::SubIOp::create(b, loc, cols, idx(1)));
    SmallVector<Value> captures;
    for (Value capture : op.getCaptures())
      captures.push_back(args.lookup(capture));
    TileClassValues cls = emitTileClass(
        b, loc, op, ValueRange{batch, head, rowBegin, lastRow, colBegin,
                               lastCol},
        captures);
    // Packed heads: empty if empty for every head, full if full for all.
    for (int64_t k = 1; k < packedHeads; ++k) {
      TileClassValues other = emitTileClass(
          b, loc, op,
          ValueRange{batch, add(head, idx(k)), rowBegin, lastRow, colBegin,
                     lastCol},
          captures);
      cls.empty = arith::AndIOp::create(b, loc, cls.empty, other.empty);
      cls.full = arith::AndIOp::create(b, loc, cls.full, other.full);
    }
    // The causal ranges refine the classifier.
    Value rangeFull = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, kt,
                              ranges.fullBegin),
        ult(kt, ranges.fullEnd));
    Value full = arith::OrIOp::create(b, loc, cls.full, rangeFull);
    auto c8 = [&](int64_t v) -> Value {
      return arith::ConstantIntOp::create(b, loc, i8, v);
    };
    return select(cls.empty, c8(AttentionOp::kTileEmpty),
                  select(full, c8(AttentionOp::kTileFull),
                         c8(AttentionOp::kTilePartial)));
  };
  auto isVisited = [&](Value cls) -> Value {
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, cls,
        arith::ConstantIntOp::create(b, loc, i8, AttentionOp::kTileEmpty));
  };
  Value tableCount, tableBegin = ranges.begin;
  if (hasClassTable) {
    // The table: tiles [begin, begin + tableCount) classified by all
    // threads; the loop range shrinks to the non-empty ones.
    Type i32Type = b.getI32Type();
    Value tableBase = idx(tableOffset());
    Value minSlot = gep(smem, add(tableBase, idx(kClassTableTiles)),
                        b.getI8Type());
    Value maxSlot = gep(smem, add(tableBase, idx(kClassTableTiles + 4)),
                        b.getI8Type());
    Value noTile = i32(-1);
    scf::IfOp::create(b, loc,
                      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            tid, idx(0)),
                      [&](OpBuilder &, Location) {
                        LLVM::StoreOp::create(b, loc, noTile, minSlot, 4);
                        LLVM::StoreOp::create(b, loc, i32(0), maxSlot, 4);
                        scf::YieldOp::create(b, loc);
                      });
    gpu::BarrierOp::create(b, loc);
    Value limit = arith::MinUIOp::create(
        b, loc, ranges.end, add(ranges.begin, idx(kClassTableTiles)));
    Value start = add(ranges.begin, tid);
    scf::ForOp::create(
        b, loc, start, limit, idx(threads), ValueRange{},
        [&](OpBuilder &, Location, Value kt, ValueRange) {
          Value cls = classify(kt);
          Value rel = arith::SubIOp::create(b, loc, kt, ranges.begin);
          LLVM::StoreOp::create(b, loc, cls, gep(smem, add(tableBase, rel),
                                                 b.getI8Type()));
          scf::IfOp::create(b, loc, isVisited(cls),
                            [&](OpBuilder &, Location) {
                              Value rel32 = arith::IndexCastOp::create(
                                  b, loc, i32Type, rel);
                              LLVM::AtomicRMWOp::create(
                                  b, loc, LLVM::AtomicBinOp::umin, minSlot,
                                  rel32, LLVM::AtomicOrdering::monotonic);
                              LLVM::AtomicRMWOp::create(
                                  b, loc, LLVM::AtomicBinOp::umax, maxSlot,
                                  arith::AddIOp::create(b, loc, rel32, i32(1)),
                                  LLVM::AtomicOrdering::monotonic);
                              scf::YieldOp::create(b, loc);
                            });
          scf::YieldOp::create(b, loc);
        });
    gpu::BarrierOp::create(b, loc);
    tableCount = arith::SubIOp::create(b, loc, limit, ranges.begin);
    Value first = arith::IndexCastUIOp::create(
        b, loc, b.getIndexType(),
        LLVM::LoadOp::create(b, loc, i32Type, minSlot, 4));
    Value last = arith::IndexCastUIOp::create(
        b, loc, b.getIndexType(),
        LLVM::LoadOp::create(b, loc, i32Type, maxSlot, 4));
    Value covered = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          limit, ranges.end);
    Value newBegin =
        add(ranges.begin, arith::MinUIOp::create(b, loc, first, tableCount));
    ranges.end = select(covered, add(ranges.begin, last), ranges.end);
    ranges.begin = newBegin;
  }
  auto classifyIfInRange = [&](Value kt) -> Value {
    auto ifOp = scf::IfOp::create(
        b, loc, ult(kt, ranges.end),
        [&](OpBuilder &, Location) {
          Value cls;
          if (hasClassTable) {
            // Past the table (very long Sk), classify on the fly.
            Value rel = arith::SubIOp::create(b, loc, kt, tableBegin);
            auto inTable = scf::IfOp::create(
                b, loc, ult(rel, tableCount),
                [&](OpBuilder &, Location) {
                  Value address =
                      gep(smem, add(idx(tableOffset()), rel), b.getI8Type());
                  scf::YieldOp::create(
                      b, loc,
                      ValueRange{LLVM::LoadOp::create(b, loc, i8, address)});
                },
                [&](OpBuilder &, Location) {
                  scf::YieldOp::create(b, loc, ValueRange{classify(kt)});
                });
            cls = inTable.getResult(0);
          } else {
            cls = classify(kt);
          }
          scf::YieldOp::create(b, loc, ValueRange{cls});
        },
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(
              b, loc,
              ValueRange{arith::ConstantIntOp::create(
                  b, loc, i8, AttentionOp::kTileEmpty)});
        });
    return ifOp.getResult(0);
  };
  auto loadKeyValue = [&](Value kt, Value buffer) {
    Value colBegin = mul(kt, idx(tileK));
    Value kOffset = add(idx(qBytes), mul(buffer, idx(kBytes)));
    Value vOffset = add(idx(qBytes + 2 * kBytes), mul(buffer, idx(vBytes)));
    copyTileAsync(kBase, kRowStride, colBegin, seqK, kOffset, tileK, headDim,
                  qkCols, useWgmma);
    copyTileAsync(vBase, vRowStride, colBegin, seqK, vOffset, tileK, valueDim,
                  vCols, useWgmma);
    for (int64_t p = 1; p < planes; ++p) {
      copyTileAsync(kPlaneBases[p - 1], kRowStride, colBegin, seqK,
                    add(kOffset, idx(p * kPlane)), tileK, headDim, qkCols);
      copyTileAsync(vPlaneBases[p - 1], vRowStride, colBegin, seqK,
                    add(vOffset, idx(p * vPlane)), tileK, valueDim, vCols);
    }
  };

  // Per-element region ops that are the same for the whole CTA, once.
  if (Block *score = op.getScoreBlock())
    hoistInvariants(score, 1);
  if (Block *mask = op.getMaskBlock())
    hoistInvariants(mask, 0);
  // Packed heads make h vary per row: positions are not (i, j) alone.
  if (!packedHeads) {
    if (Block *score = op.getScoreBlock())
      findAffineCasts(score, 1);
    if (Block *mask = op.getMaskBlock())
      findAffineCasts(mask, 0);
  }

  // Prologue: Q and the first k-tile, then Q's fragments.
  zeroFeaturePadding();
  for (int64_t p = 0; p < planes; ++p) {
    if (packedHeads)
      copyPackedQueryAsync(p ? planeInputs[p] : query, p * qPlane);
    else
      copyTileAsync(p ? qPlaneBases[p - 1] : qBase, qRowStride, rowBegin, seqQ,
                    idx(p * qPlane), tileQ, headDim, qkCols, useWgmma);
  }
  Value firstClass = classifyIfInRange(ranges.begin);
  scf::IfOp::create(b, loc, isVisited(firstClass), [&](OpBuilder &, Location) {
    loadKeyValue(ranges.begin, idx(0));
    scf::YieldOp::create(b, loc);
  });
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
  NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  fenceForWgmma();
  gpu::BarrierOp::create(b, loc);
  if (qInRegisters) {
    queryFragments.resize(mTiles);
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t kk = 0; kk < headSteps; ++kk)
        queryFragments[mt].push_back(loadQueryFragment(mt, kk));
  }

  // The k-tile loop: prefetch tile t+1 into the other buffer while tile t
  // is computed.
  // Loop state: O fragments, then m and l of each row the thread holds,
  // then the class of the current tile.
  int64_t rowsPerThread = 2 * mTiles;
  int64_t numState = 1 + 2 * rowsPerThread;
  auto oType = VectorType::get({mTiles * valueTiles * 4}, b.getF32Type());
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> init{vector::BroadcastOp::create(b, loc, oType, f32(0.0))};
  init.append(rowsPerThread, negInf);
  init.append(rowsPerThread, f32(0.0));
  init.push_back(firstClass);
  auto buildLoop = [&](Value lower, Value upper, ValueRange initial,
                       ScorePath path, bool prefetch = true) {
    return scf::ForOp::create(
      b, loc, lower, upper, idx(1), initial,
      [&](OpBuilder &, Location, Value kt, ValueRange iter) {
        Value buffer = remu(arith::SubIOp::create(b, loc, kt, ranges.begin), 2);
        Value next = add(kt, idx(1));
        Value nextClass = prefetch ? classifyIfInRange(next)
                                   : arith::ConstantIntOp::create(
                                         b, loc, b.getI8Type(),
                                         AttentionOp::kTileEmpty);
        // Every warp is done with the other buffer (tile t-1).
        gpu::BarrierOp::create(b, loc);
        if (prefetch)
          scf::IfOp::create(b, loc, isVisited(nextClass),
                            [&](OpBuilder &, Location) {
                              loadKeyValue(next, arith::SubIOp::create(
                                                     b, loc, idx(1), buffer));
                              scf::YieldOp::create(b, loc);
                            });
        NVVM::CpAsyncCommitGroupOp::create(b, loc);
        // All groups but the newest are complete: tile t has landed.
        NVVM::CpAsyncWaitGroupOp::create(b, loc, 1);
        fenceForWgmma();
        gpu::BarrierOp::create(b, loc);
        Value cls = iter[numState];
        SmallVector<Type> types(iter.take_front(numState).getTypes());
        auto visit = scf::IfOp::create(
            b, loc, types, isVisited(cls), /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(visit.thenBlock());
          scf::YieldOp::create(b, loc,
                               emitKeyTile(kt, buffer, cls,
                                           iter.take_front(numState), path));
          b.setInsertionPointToStart(visit.elseBlock());
          scf::YieldOp::create(b, loc, iter.take_front(numState));
        }
        SmallVector<Value> yields(visit.getResults());
        yields.push_back(nextClass);
        scf::YieldOp::create(b, loc, yields);
      });
  };
  scf::ForOp loop;
  if (!op.getMaskBlock() && !op.getScoreBlock()) {
    // Every tile is full and all but the one that crosses Sk take the fast
    // path: that one is peeled into a loop of its own, so that the main
    // loop carries no element-wise code (whose registers made dense
    // D = 128 at 128 x 64 spill), as FlashAttention-2 peels its masked
    // iterations.
    Value inside = arith::MaxUIOp::create(
        b, loc, ranges.begin,
        arith::MinUIOp::create(b, loc, ranges.end,
                               arith::DivUIOp::create(b, loc, seqK,
                                                      idx(tileK))));
    scf::ForOp main = buildLoop(ranges.begin, inside, init, ScorePath::Fast);
    // The tile that crosses Sk is the last: nothing to prefetch.
    loop = buildLoop(inside, ranges.end, main.getResults(),
                     ScorePath::Elementwise, /*prefetch=*/false);
  } else {
    loop = buildLoop(ranges.begin, ranges.end, init, ScorePath::Either);
  }

  // Epilogue: O / l, lse = (m + log2 l) ln 2; rows with l = 0 (every key
  // masked) give O = 0 and lse = -inf.
  SmallVector<Value> o;
  for (int64_t k = 0; k < mTiles * valueTiles * 4; ++k)
    o.push_back(vector::ExtractOp::create(b, loc, loop.getResult(0),
                                          ArrayRef<int64_t>{k}));
  Value lse = outputs.size() > 1 ? outputs[1] : Value();
  assert((numSplits || output) && "the output is needed without split-KV");
  Value lseBase, lseRowStride;
  if (lse) {
    auto meta = memref::ExtractStridedMetadataOp::create(b, loc, lse);
    ValueRange strides = meta.getStrides();
    lseRowStride = strides[2];
    Value offset = add(meta.getOffset(), add(mul(batch, strides[0]),
                                             mul(head, strides[1])));
    lseBase = gep(globalPointer(lse), offset, b.getF32Type());
  }
  Value colBase = mul(remu(lane, 4), idx(2));
  for (int64_t r = 0; r < rowsPerThread; ++r) {
    int64_t mt = r / 2, half = r % 2;
    Value m = loop.getResult(1 + r);
    Value l = loop.getResult(1 + rowsPerThread + r);
    l = fadd(l, shuffleXor(l, 1));
    l = fadd(l, shuffleXor(l, 2));
    Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                           l, f32(0.0));
    Value inverse =
        select(positive, arith::DivFOp::create(b, loc, f32(1.0), l), f32(0.0));
    Value row = add(fragmentRow(mt), idx(8 * half));
    if (numSplits) {
      // Partial results of this split, in f32; lse = -inf marks a split that
      // saw no unmasked key.
      scf::IfOp::create(b, loc, ult(row, validRows()), [&](OpBuilder &,
                                                           Location) {
        auto [rowHead, query] = rowPosition(row);
        for (int64_t dt = 0; dt < valueDim / 8; ++dt)
          for (int64_t e = 0; e < 2; ++e) {
            int64_t k = (mt * valueTiles + dt) * 4 + 2 * half + e;
            memref::StoreOp::create(
                b, loc, fmul(o[k], inverse), oPart,
                ValueRange{batch, rowHead, blockX, query,
                           add(colBase, idx(dt * 8 + e))});
          }
        Value value = select(positive,
                             fmul(fadd(m, log2(l)), f32(std::log(2.0))),
                             f32(-std::numeric_limits<double>::infinity()));
        memref::StoreOp::create(b, loc, value, lsePart,
                                ValueRange{batch, rowHead, blockX, query});
        scf::YieldOp::create(b, loc);
      });
      continue;
    }
    scf::IfOp::create(b, loc, ult(row, seqQ), [&](OpBuilder &, Location) {
      Value rowOffset = mul(row, oRowStride);
      for (int64_t dt = 0; dt < valueDim / 8; ++dt) {
        int64_t first = (mt * valueTiles + dt) * 4 + 2 * half;
        Value y = fmul(o[first + 1], inverse);
        Value x = fmul(o[first], inverse);
        Value pair = outputType.isF32()
                         ? vector::FromElementsOp::create(
                               b, loc, VectorType::get({2}, outputType),
                               ValueRange{x, y})
                         : pack(x, y);
        Value address =
            gep(oBase, add(rowOffset, add(colBase, idx(dt * 8))), outputType);
        LLVM::StoreOp::create(b, loc, pair, address,
                              /*alignment=*/outputType.isF32() ? 8 : 4);
      }
      if (lse) {
        Value ln2 = f32(std::log(2.0));
        Value value = select(positive, fmul(fadd(m, log2(l)), ln2),
                             f32(-std::numeric_limits<double>::infinity()));
        scf::IfOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                  remu(lane, 4), idx(0)),
            [&](OpBuilder &, Location) {
              LLVM::StoreOp::create(
                  b, loc, value,
                  gep(lseBase, mul(row, lseRowStride), b.getF32Type()),
                  /*alignment=*/4);
              scf::YieldOp::create(b, loc);
            });
      }
      scf::YieldOp::create(b, loc);
    });
  }
}

/// The combine step of split-KV: one CTA per (query, head, batch), one
/// thread per output feature d:
///   m = max_s lse_s, w_s = exp(lse_s - m),
///   O = sum_s w_s O_s / sum_s w_s, lse = m + log(sum_s w_s)
/// (O = 0 and lse = -inf when every split saw only masked keys).
static void emitCombine(OpBuilder &b, AttentionOp op, int64_t numSplits,
                        Value oPart, Value lsePart, ValueRange outputs) {
  Location loc = op.getLoc();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto f32 = [&](double v) -> Value {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  };
  Value d = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value i = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  double log2e = 1.0 / std::log(2.0);
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> lse;
  Value m = negInf;
  for (int64_t sp = 0; sp < numSplits; ++sp) {
    lse.push_back(memref::LoadOp::create(
        b, loc, lsePart, ValueRange{batch, h, idx(sp), i}));
    m = arith::MaximumFOp::create(b, loc, m, lse.back());
  }
  Value empty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
  Value base = arith::SelectOp::create(b, loc, empty, f32(0.0), m);
  Value sum = f32(0.0), acc = f32(0.0);
  for (int64_t sp = 0; sp < numSplits; ++sp) {
    Value w = emitExp2(b, loc, arith::MulFOp::create(
        b, loc, arith::SubFOp::create(b, loc, lse[sp], base), f32(log2e)));
    sum = arith::AddFOp::create(b, loc, sum, w);
    Value part = memref::LoadOp::create(b, loc, oPart,
                                        ValueRange{batch, h, idx(sp), i, d});
    acc = LLVM::FMAOp::create(b, loc, w, part, acc);
  }
  Value out = arith::SelectOp::create(
      b, loc, empty, f32(0.0), arith::DivFOp::create(b, loc, acc, sum));
  LayoutDims dims = op.getLayoutDims();
  SmallVector<Value> at(4);
  at[dims.batch] = batch;
  at[dims.head] = h;
  at[dims.seq] = i;
  at[dims.feature] = d;
  Type element = cast<MemRefType>(outputs[0].getType()).getElementType();
  if (element != out.getType())
    out = arith::TruncFOp::create(b, loc, element, out);
  memref::StoreOp::create(b, loc, out, outputs[0], at);
  if (outputs.size() > 1) {
    Value log = emitLog2(b, loc, sum);
    Value value = arith::SelectOp::create(
        b, loc, empty, negInf,
        arith::AddFOp::create(
            b, loc, m,
            arith::MulFOp::create(b, loc, log, f32(std::log(2.0)))));
    scf::IfOp::create(b, loc,
                      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            d, idx(0)),
                      [&](OpBuilder &, Location) {
                        memref::StoreOp::create(b, loc, value, outputs[1],
                                                ValueRange{batch, h, i});
                        scf::YieldOp::create(b, loc);
                      });
  }
}

/// The first step for f32 inputs: one CTA per (kPlaneRows rows, head,
/// batch) of `source` (f32 Q, K or V) writes each element x as kPlanes bf16
/// values, plane p = bf16(x - planes before it), to the bf16 tensors
/// `planeMemrefs` of the same shape.
static void emitPlaneKernel(OpBuilder &b, Location loc, LayoutDims dims,
                            Value source, ValueRange planeMemrefs) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto type = cast<MemRefType>(source.getType());
  int64_t features = type.getDimSize(dims.feature);
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value rowBlock = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  SmallVector<Value> at(4);
  at[dims.head] = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  at[dims.batch] = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  Value seq = memref::DimOp::create(b, loc, source, dims.seq);
  Value first = arith::MulIOp::create(b, loc, rowBlock, idx(kPlaneRows));
  Type bf16 = BFloat16Type::get(b.getContext());
  scf::ForOp::create(
      b, loc, tid, idx(kPlaneRows * features), idx(kPlaneThreads), ValueRange{},
      [&](OpBuilder &, Location, Value e, ValueRange) {
        // Consecutive threads take consecutive features: coalesced.
        Value row = arith::AddIOp::create(
            b, loc, first, arith::DivUIOp::create(b, loc, e, idx(features)));
        at[dims.seq] = row;
        at[dims.feature] = arith::RemUIOp::create(b, loc, e, idx(features));
        Value inside =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, seq);
        scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
          Value rest = memref::LoadOp::create(b, loc, source, at);
          for (Value plane : planeMemrefs) {
            Value narrow = arith::TruncFOp::create(b, loc, bf16, rest);
            memref::StoreOp::create(b, loc, narrow, plane, at);
            rest = arith::SubFOp::create(
                b, loc, rest,
                arith::ExtFOp::create(b, loc, b.getF32Type(), narrow));
          }
          scf::YieldOp::create(b, loc);
        });
        scf::YieldOp::create(b, loc);
      });
}

/// Rewrites the tensor reads of inlined regions (tensor.extract, tensor.dim
/// of captures, which are memrefs in the kernel) into memref reads.
static void rewriteTensorReads(Operation *root) {
  attn::rewriteBufferReads(root);
}

/// Replaces f32 `math.tanh` (soft-capping) by the hardware's tanh.approx.f32
/// (one SFU instruction, relative error ~2^-11, below bf16's 2^-8) instead
/// of the expansion into exponentials it would otherwise get.
static void useHardwareTanh(Operation *root) {
  SmallVector<math::TanhOp> ops;
  root->walk([&](math::TanhOp op) {
    if (op.getType().isF32())
      ops.push_back(op);
  });
  for (math::TanhOp op : ops) {
    OpBuilder b(op);
    // LLVM 22 has no intrinsic for it: inline PTX.
    Value approx =
        LLVM::InlineAsmOp::create(
            b, op.getLoc(), b.getF32Type(), ValueRange{op.getOperand()},
            b.getStringAttr("tanh.approx.f32 $0, $1;"),
            b.getStringAttr("=f,f"), UnitAttr(), UnitAttr(),
            LLVM::TailCallKindAttr::get(b.getContext(),
                                        LLVM::tailcallkind::TailCallKind::None),
            LLVM::AsmDialectAttr(), ArrayAttr())
            .getResult(0);
    op.replaceAllUsesWith(approx);
    op.erase();
  }
}

/// The memref (or scalar) type of a function argument or result in the
/// kernel.
static Type kernelTypeOf(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    return MemRefType::get(tensor.getShape(), tensor.getElementType());
  return type;
}

/// Why `func` cannot become a kernel, or an empty string.
static std::string unsupportedReason(func::FuncOp func, AttentionOp op) {
  for (int64_t d : {op.getHeadSize(), op.getValueHeadSize()})
    if (d % 8 != 0 || d < 8 || d > 256)
      return "head sizes must be multiples of 8 in [8, 256], got " +
             std::to_string(d);
  // The body must be the attention, the return of its results, and before
  // them only constants and sizes of the arguments (captures such as Sk - Sq),
  // which the kernel recomputes.
  Block &body = func.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (op->getNextNode() != ret ||
      ret.getOperands() != ValueRange(op.getResults()))
    return "the function must end with one attn.attention and the return "
           "of its results";
  for (Operation &producer : body) {
    if (&producer == op.getOperation())
      break;
    if (!isa<arith::ConstantOp, tensor::DimOp, arith::AddIOp, arith::SubIOp,
             arith::MulIOp>(producer))
      return "only constants and tensor sizes may be computed before the "
             "attention (found '" +
             producer.getName().getStringRef().str() + "')";
  }
  for (Value operand :
       {op.getQuery(), op.getKey(), op.getValue()})
    if (!isa<BlockArgument>(operand))
      return "Q, K and V must be function arguments";
  return "";
}

namespace {
/// Drops the solver's state of erased ops, so that a new op at the same
/// address does not inherit it.
struct SolverStateEraser : RewriterBase::Listener {
  explicit SolverStateEraser(DataFlowSolver &solver) : solver(solver) {}
  void notifyOperationErased(Operation *op) override {
    solver.eraseState(solver.getProgramPointAfter(op));
    for (Value result : op->getResults())
      solver.eraseState(result);
  }
  DataFlowSolver &solver;
};
} // namespace

/// Narrows the integer arithmetic of the per-element regions (score, mask)
/// of `op` in `func` to 32 bits where integer range analysis proves it exact
/// (upstream arith-int-range-narrowing's patterns; the op bounds its index
/// arguments below 2^31): ALiBi's `j - i` and its conversion to f32, window
/// and causal comparisons. The kernels evaluate those regions per score
/// element, where 64-bit integer work costs twice. The tiles region, run
/// once per tile, is left as it is: narrowed, its casts cost registers in
/// the k-loop.
static void narrowElementRegions(func::FuncOp func, AttentionOp op) {
  DataFlowSolver solver;
  solver.load<dataflow::DeadCodeAnalysis>();
  solver.load<dataflow::IntegerRangeAnalysis>();
  if (failed(solver.initializeAndRun(func)))
    return;
  SmallVector<Operation *> ops;
  for (Block *block : {op.getScoreBlock(), op.getMaskBlock()})
    if (block)
      for (Operation &nested : block->without_terminator())
        ops.push_back(&nested);
  RewritePatternSet patterns(op.getContext());
  arith::populateIntRangeNarrowingPatterns(patterns, solver, {32});
  SolverStateEraser listener(solver);
  GreedyRewriteConfig config;
  config.setListener(&listener);
  // Best effort: what is not narrowed stays correct in 64 bits.
  (void)applyOpPatternsGreedily(ops, std::move(patterns), config);
}

namespace {
struct ConvertAttnToNVGPU
    : attune::cuda::impl::ConvertAttnToNVGPUBase<ConvertAttnToNVGPU> {
  using Base::Base;
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    static constexpr attune::OptionSpec specs[] = {
        {"decode-tile-k", attune::OptionKind::Integer},
        {"mma", attune::OptionKind::String}};
    return attune::initializeCheckedOptions(
        getArgument(), options, specs, errorHandler,
        [&] { return Base::initializeOptions(options, errorHandler); });
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
    WalkResult walk = module.walk([&](AttentionOp op) {
      auto func = dyn_cast<func::FuncOp>(op->getParentOp());
      if (!func) {
        op.emitError("convert-attn-to-nvgpu: attn.attention must be in the "
                     "body of a func.func");
        return WalkResult::interrupt();
      }
      std::string reason = unsupportedReason(func, op);
      if (!reason.empty()) {
        op.emitError("convert-attn-to-nvgpu: ") << reason;
        return WalkResult::interrupt();
      }
      // Ops attn-tile left alone get the best measured sizes (attunec
      // also tries the others of candidateTileSizes until one does not
      // spill).
      if (!op.getTileSizesPair()) {
        std::pair<int64_t, int64_t> best =
            cuda::candidateTileSizes(op, cuda::selectsWgmma(op, mma)).front();
        op.setTileSizes(ArrayRef<int64_t>{best.first, best.second});
      }
      if (mma != "sync" && mma != "wgmma" && mma != "auto") {
        op.emitError("convert-attn-to-nvgpu: unknown mma '")
            << mma << "' (expected sync, wgmma or auto)";
        return WalkResult::interrupt();
      }
      auto sizes = op.getTileSizesPair();
      // At most 8 warps of 16 rows, or of 32 rows from 128 rows on.
      if (!sizes || sizes->first % 16 || sizes->first > 256 ||
          (sizes->first > 128 && sizes->first % 32) || sizes->second % 16) {
        op.emitError("convert-attn-to-nvgpu: expected tile_sizes (attn-tile) "
                     "with queries a multiple of 16 up to 128, or of 32 up to "
                     "256, and keys a multiple of 16");
        return WalkResult::interrupt();
      }
      work.push_back({func, op});
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    if (work.empty())
      return;

    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), "attn_kernels");
    b.setInsertionPointToStart(gpuModule.getBody());
    // The dynamic shared memory, addressed directly as bytes.
    auto smemType = LLVM::LLVMArrayType::get(b.getI8Type(), 0);
    auto smemGlobal = LLVM::GlobalOp::create(
        b, module.getLoc(), smemType, /*isConstant=*/false,
        LLVM::Linkage::External, "attn_shared_memory", Attribute(),
        /*alignment=*/16, /*addrSpace=*/3);
    (void)smemGlobal;

    for (auto [func, op] : work) {
      narrowElementRegions(func, op);
      auto [tileQ, tileK] = *op.getTileSizesPair();
      Location loc = op.getLoc();
      SmallVector<Type> argTypes, resultTypes;
      for (Type type : func.getArgumentTypes())
        argTypes.push_back(kernelTypeOf(type));
      for (Type type : func.getResultTypes())
        resultTypes.push_back(kernelTypeOf(type));

      // Creates a kernel with `params`; `body` fills it given the entry
      // block, after the function's size computations are recomputed.
      auto buildKernel = [&](StringRef suffix, ArrayRef<Type> params,
                             int64_t threads, int64_t sharedBytes,
                             function_ref<void(Block &, IRMapping &)> body) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(gpuModule.getBody());
        auto kernel = gpu::GPUFuncOp::create(
            b, loc, (func.getSymName() + suffix).str(),
            b.getFunctionType(params, {}));
        kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                        UnitAttr::get(ctx));
        kernel.setKnownBlockSizeAttr(
            b.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
        kernel->setAttr("attn.block", b.getDenseI64ArrayAttr({threads, 1, 1}));
        kernel->setAttr("attn.shared_bytes", b.getI64IntegerAttr(sharedBytes));
        kernel->setAttr("attn.role", b.getStringAttr(suffix.drop_front()));
        Block &entry = kernel.getBody().front();
        b.setInsertionPointToStart(&entry);
        IRMapping args;
        for (auto [funcArg, kernelArg] :
             llvm::zip(func.getArguments(), entry.getArguments()))
          args.map(funcArg, kernelArg);
        for (Operation &producer : func.getBody().front()) {
          if (&producer == op.getOperation())
            break;
          b.clone(producer, args);
        }
        body(entry, args);
        gpu::ReturnOp::create(b, loc);
        rewriteTensorReads(kernel);
        useHardwareTanh(kernel);
        return kernel;
      };
      auto sharedMemory = [&]() -> Value {
        return LLVM::AddressOfOp::create(
            b, loc, LLVM::LLVMPointerType::get(ctx, 3), "attn_shared_memory");
      };

      // f32 Q/K/V: first their bf16 planes, into workspaces the attention
      // kernels read (attn.planes: kPlanes per tensor, Q's, K's, V's).
      KernelEmitter emitter(b, op, tileQ, tileK,
                            cuda::selectsWgmma(op, mma) &&
                                cuda::canUseWgmma(op, tileQ, tileK));
      SmallVector<Type> planeTypes;
      if (emitter.numPlanes() > 1) {
        Type bf16 = BFloat16Type::get(ctx);
        Value operands[] = {op.getQuery(), op.getKey(), op.getValue()};
        StringRef names[] = {"q", "k", "v"};
        for (auto [operand, name] : llvm::zip(operands, names)) {
          auto type = cast<MemRefType>(kernelTypeOf(operand.getType()));
          SmallVector<Type> params{type};
          params.append(kPlanes, MemRefType::get(type.getShape(), bf16));
          planeTypes.append(params.begin() + 1, params.end());
          auto kernel =
              buildKernel(("_planes_" + name).str(), params, kPlaneThreads, 0,
                          [&](Block &entry, IRMapping &) {
                            emitPlaneKernel(b, loc, op.getLayoutDims(),
                                            entry.getArgument(0),
                                            entry.getArguments().drop_front());
                          });
          kernel->setAttr("attn.role", b.getStringAttr("planes"));
          kernel->setAttr("attn.operand", b.getStringAttr(name));
          kernel->setAttr("attn.rows", b.getI64IntegerAttr(kPlaneRows));
          kernel->setAttr("attn.planes", b.getI64IntegerAttr(kPlanes));
        }
      }
      // Passes the planes (the last kernel parameters) to `kernel`.
      auto usePlanes = [&](KernelEmitter &kernel, Block &entry) {
        if (!planeTypes.empty())
          kernel.setPlanes(entry.getArguments().take_back(planeTypes.size()));
      };

      // The kernel for every query length.
      SmallVector<Type> params(argTypes);
      llvm::append_range(params, resultTypes);
      llvm::append_range(params, planeTypes);
      auto forward = buildKernel(
          "_fwd", params, emitter.numThreads(), emitter.sharedBytes(),
          [&](Block &entry, IRMapping &args) {
            usePlanes(emitter, entry);
            emitter.emit(
                args,
                entry.getArguments().slice(argTypes.size(), resultTypes.size()),
                sharedMemory());
          });
      forward->setAttr("attn.tile_q", b.getI64IntegerAttr(tileQ));
      forward->setAttr("attn.tile_k", b.getI64IntegerAttr(tileK));

      // Short queries (decode): the keys split across CTAs, then a combine
      // step, when Sq may be <= kDecodeRows.
      auto qType = cast<RankedTensorType>(op.getQuery().getType());
      int64_t seqQ = qType.getDimSize(op.getLayoutDims().seq);
      if (!ShapedType::isDynamic(seqQ) && seqQ > kDecodeRows) {
        func.erase();
        continue;
      }
      int64_t batch = qType.getDimSize(op.getLayoutDims().batch);
      int64_t heads = op.getNumQueryHeads();
      auto f32Type = b.getF32Type();
      Type oPartType = MemRefType::get(
          {batch, heads, kDecodeSplits, seqQ, op.getValueHeadSize()}, f32Type);
      Type lsePartType =
          MemRefType::get({batch, heads, kDecodeSplits, seqQ}, f32Type);
      // At most the forward kernel's keys per tile (candidates that fit its
      // registers fit these), and 32 beyond D = 64: the decode warp does the
      // mask and score work of 16 rows alone.
      // f32 inputs (three planes per fragment): 16. At most the
      // decode-tile-k option.
      int64_t decodeTileK = std::min<int64_t>(
          tileK, emitter.numPlanes() > 1 ? 16
                 : std::max(op.getHeadSize(), op.getValueHeadSize()) <= 64
                     ? 64
                     : 32);
      if (this->decodeTileK > 0)
        decodeTileK = std::min<int64_t>(decodeTileK, this->decodeTileK);
      KernelEmitter splitter(b, op, kDecodeRows, decodeTileK);
      SmallVector<Type> splitParams(argTypes);
      splitParams.append({oPartType, lsePartType});
      llvm::append_range(splitParams, planeTypes);
      auto split = buildKernel(
          "_decode", splitParams, splitter.numThreads(),
          splitter.sharedBytes(), [&](Block &entry, IRMapping &args) {
            ValueRange workspace =
                entry.getArguments().drop_front(argTypes.size());
            usePlanes(splitter, entry);
            splitter.setSplitKV(kDecodeSplits, workspace[0], workspace[1]);
            splitter.emit(args, {}, sharedMemory());
          });
      split->setAttr("attn.tile_q", b.getI64IntegerAttr(kDecodeRows));
      split->setAttr("attn.tile_k", b.getI64IntegerAttr(decodeTileK));
      split->setAttr("attn.splits", b.getI64IntegerAttr(kDecodeSplits));
      split->setAttr("attn.heads_per_cta",
                     b.getI64IntegerAttr(splitter.headsPerCTA()));
      split->setAttr("attn.max_sq",
                     b.getI64IntegerAttr(splitter.maxSplitQueries()));
      SmallVector<Type> combineParams{oPartType, lsePartType};
      llvm::append_range(combineParams, resultTypes);
      buildKernel("_combine", combineParams, op.getValueHeadSize(), 0,
                  [&](Block &entry, IRMapping &) {
                    emitCombine(b, op, kDecodeSplits, entry.getArgument(0),
                                entry.getArgument(1),
                                entry.getArguments().drop_front(2));
                  });
      func.erase();
    }
  }
};
} // namespace
