//===- KernelEmitter.h - Builds the CUDA attention kernels ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Target/CUDA: the state the kernel emitter's files share.
// KernelEmitter builds the body of one attention kernel (forward or split-KV
// decode) from a KernelPlan; its methods live by concern:
//
//   KernelEmitter.cpp   constants, pointers, inline PTX, fast-math helpers
//   OperandRows.cpp     where the rows of Q, K, V, O and lse lie in global
//                       memory (OperandRows.h: the seam for new sources)
//   SharedStaging.cpp   cp.async copies into swizzled shared tiles, ldmatrix
//   ClassTable.cpp      the k-tiles a CTA visits and their class table
//   MmaSync.cpp         mma.sync fragments and products
//   Wgmma.cpp           wgmma descriptors, fences and products (sm_90a)
//   Planes.cpp          f32 inputs as three bf16 planes
//   RopeKernel.cpp      operands rotated by attn.rope, a kernel of their own
//   ForwardSteps.cpp    one k-tile: scores, softmax update, value product
//   ForwardKernel.cpp   the kernel: prologue, k-loop, epilogue
//   DecodeKernels.cpp   split-KV partial results and the combine kernel
//   RegionInlining.cpp  the score and mask regions in a kernel (inlineRegion,
//                       hoistInvariants, affine casts)
//
// The fragment layout of mma.m16n8k16 (PTX ISA, "Matrix Fragments for
// mma.m16n8k16"), which every index computation follows: lane l holds
//   C/D (16x8 f32): c0,c1 at row l/4,     cols 2(l%4), 2(l%4)+1
//                   c2,c3 at row l/4 + 8, same cols
//   A (16x16 b16):  a0 rows 0-7 / k 0-7, a1 rows 8-15 / k 0-7,
//                   a2 rows 0-7 / k 8-15, a3 rows 8-15 / k 8-15,
//                   each 2 halves: row l/4, k 2(l%4), 2(l%4)+1
//   B (16x8 b16):   b0 k 0-7, b1 k 8-15; each: k 2(l%4), +1 at col l/4
// so two adjacent C tiles of S (keys 16kk..16kk+15) are exactly the A
// operand of P.V for k-step kk once converted to 16-bit pairs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_KERNELEMITTER_H
#define ATTUNE_LIB_TARGET_CUDA_KERNELEMITTER_H

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Utils/RegionLowering.h"
#include "attune/Dialect/Attn/Transforms/TileClassification.h"
#include "attune/Target/CUDA/KernelPlan.h"
#include "attune/Target/CUDA/Passes.h"

#include "OperandRows.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"

#include <utility>

namespace attune::cuda {

/// 2^x with the hardware's approximate exp2 (ex2.approx.ftz.f32):
/// ex2(-inf) = +0, which the online softmax relies on.
mlir::Value emitExp2(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// log2(x) with the hardware's approximation (lg2.approx.ftz.f32).
mlir::Value emitLog2(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

/// Lets LLVM fuse `op`'s float multiply and add into an FMA (one rounding
/// instead of two), as nvcc does by default (-fmad=true): a score region's
/// `s + bias` after the kernel's `s * scale`, ALiBi's `slope * (j - i)`.
void allowContraction(mlir::Operation *op);

/// The combine step of split-KV: one CTA per (query, head, batch), one
/// thread per output feature d:
///   m = max_s lse_s, w_s = exp(lse_s - m),
///   O = sum_s w_s O_s / sum_s w_s, lse = m + log(sum_s w_s)
/// (O = 0 and lse = -inf when every split saw only masked keys).
void emitCombine(mlir::OpBuilder &b, attn::AttentionOp op, mlir::Value oPart,
                 mlir::Value lsePart, mlir::ValueRange outputs);

/// The first step for f32 inputs: one CTA per (kPlaneRows rows, head,
/// batch) of `source` (f32 Q, K or V) writes each element x as kPlanes bf16
/// values, plane p = bf16(x - planes before it), to the bf16 tensors
/// `planeMemrefs` of the same shape.
void emitPlaneKernel(mlir::OpBuilder &b, mlir::Location loc,
                     attn::LayoutDims dims, mlir::Value source,
                     mlir::ValueRange planeMemrefs);

/// The table of theta_k = base^(-2k / R), k < R / 2, of `rope`, as a
/// constant global `name` (f64) of the gpu.module at the builder's
/// insertion point (RopeKernel.cpp).
mlir::LLVM::GlobalOp createRopeThetaTable(mlir::OpBuilder &b,
                                          mlir::Location loc, attn::RopeOp rope,
                                          llvm::StringRef name);

/// p / scaling (f64) of `position` (i64), the first factor of every angle
/// of a row `rope` rotates.
mlir::Value emitScaledPosition(mlir::OpBuilder &b, mlir::Location loc,
                               attn::RopeOp rope, mlir::Value position);

/// sin and cos (f32) of pair `k`'s angle (p / scaling) theta_k of a row at
/// `scaled` (emitScaledPosition), `loadScale` and `thetas` as below.
std::pair<mlir::Value, mlir::Value>
emitRopeSinCos(mlir::OpBuilder &b, mlir::Location loc, attn::RopeOp rope,
               mlir::Value k, mlir::Value scaled,
               llvm::function_ref<mlir::Value(mlir::Value)> loadScale,
               mlir::Value thetas);

/// Feature `f` (index) of a row that `rope` rotates, whose value is `x`
/// (f32), at `position` (i64): x itself past rotary_dim, else x cos a -+
/// partner sin a (docs/Rope.md). `load` gives the row's feature at an
/// index as f32, `loadScale` (null without freq_scales) freq_scales[k];
/// `thetas` is the address of createRopeThetaTable's table. Returns f32.
mlir::Value emitRotatedFeature(
    mlir::OpBuilder &b, mlir::Location loc, attn::RopeOp rope, mlir::Value f,
    mlir::Value x, llvm::function_ref<mlir::Value(mlir::Value)> load,
    mlir::Value position,
    llvm::function_ref<mlir::Value(mlir::Value)> loadScale, mlir::Value thetas);

/// Rotates the pairs of the 16-byte chunk (8 features) at feature `f` (a
/// multiple of 8 below rotary_dim, below rotary_dim / 2 for half pairing)
/// of a row at `scaled` (emitScaledPosition): interleaved, the 4 pairs of
/// that chunk; half pairing, the 8 pairs of it and the chunk at f + R / 2.
/// `loadChunk` gives the chunk at a feature (a vector of 8 16-bit
/// elements), `storeChunk` writes one back; both chunks are loaded before
/// either is stored, so the rotation may be in place. `loadScale` and
/// `thetas` as in emitRotatedFeature. Requires ropeFitsChunks.
void emitRotatedChunks(
    mlir::OpBuilder &b, mlir::Location loc, attn::RopeOp rope, mlir::Value f,
    mlir::Value scaled, llvm::function_ref<mlir::Value(mlir::Value)> loadChunk,
    llvm::function_ref<void(mlir::Value, mlir::Value)> storeChunk,
    llvm::function_ref<mlir::Value(mlir::Value)> loadScale, mlir::Value thetas);

/// The rope kernel of an operand that `rope` rotates (RopeKernel.cpp): one
/// CTA per (kPlaneRows rows, head, batch) of `input` (the rope's input, in
/// the rope's layout) writes them rotated to `output`, of the same type.
/// `args` maps the function's values (positions, offset, frequency scales)
/// to the kernel's; `table` is createRopeThetaTable's.
void emitRopeKernel(mlir::OpBuilder &b, mlir::Location loc, attn::RopeOp rope,
                    mlir::Value input, mlir::Value output,
                    const mlir::IRMapping &args, mlir::LLVM::GlobalOp table);

/// Builds the body of one attention kernel. The plan's sizes are the
/// emitter's own fields (private inheritance: the plan is what the emitter
/// is built from, not part of its interface).
class KernelEmitter : private KernelPlan {
  // The names the region lowering's declarations use.
  using Value = mlir::Value;
  using ValueRange = mlir::ValueRange;
  using IRMapping = mlir::IRMapping;
  using Block = mlir::Block;
  using Operation = mlir::Operation;

public:
  KernelEmitter(mlir::OpBuilder &b, attn::AttentionOp op,
                const KernelPlan &plan);

  /// f32 Q/K/V: the kernel reads each of them as kPlanes bf16 tensors
  /// x = hi + mid + lo (written by emitPlaneKernel; every plane holds the
  /// next 8 significant bits) and computes every product a * b as the sum of
  /// the plane products a_p b_q with p + q < kPlanes: six mma.sync whose
  /// dropped terms are below 2^-24 relative, so O is as accurate as an f32
  /// computation. `planeMemrefs` lists the planes of each source of Q, K
  /// and V in the order of OperandSources (Q's, K's parts', V's parts').
  void setPlanes(ValueRange planeMemrefs) {
    assert(planeMemrefs.size() % planes == 0);
    planeInputs.assign(planeMemrefs.begin(), planeMemrefs.end());
  }

  /// Operands rotated by attn.rope: `rotated[s]` is the workspace the rope
  /// kernel wrote source `s` (OperandSources) to, or null.
  void setRotated(ValueRange rotated) {
    rotatedInputs.assign(rotated.begin(), rotated.end());
  }

  /// Q rotated by attn.rope as it is loaded (OperandSource::ropeOnLoad):
  /// `rope` and its theta table (createRopeThetaTable). The kernel reads the
  /// rope's input and rotates its Q tile in shared memory once, before the
  /// k-loop.
  void setQueryRope(attn::RopeOp rope, mlir::LLVM::GlobalOp table) {
    queryRope = rope;
    queryRopeTable = table;
  }

  /// Split-KV (the plan's maxSplits): the partial results (O / l in f32 and
  /// lse per split) go to `oPart` [splits, B, Hq, Sq, Dv] and `lsePart`
  /// [splits, B, Hq, Sq] for emitCombine; `splits` (dynamic: the launch's
  /// CTAs per row group, at most maxSplits, times splitWarps) is the
  /// launch's split count. With split warps, a launch of one CTA per row
  /// group merges them itself into `outputs` (O and, if the op has it,
  /// lse; empty for a kernel of one warp per CTA).
  void setPartialOutputs(Value partialOutput, Value partialLse,
                         ValueRange outputs) {
    oPart = partialOutput;
    lsePart = partialLse;
    mergeOutputs.assign(outputs.begin(), outputs.end());
  }

  /// Emits the kernel body at the builder's insertion point. `args` maps the
  /// op's operands (Q, K, V, captures) to kernel arguments; `outputs` are
  /// O and, if the op has it, lse.
  void emit(IRMapping &args, ValueRange outputs, Value smem);

private:
  //===--------------------------------------------------------------------===//
  // Constants, pointers and inline PTX (KernelEmitter.cpp)
  //===--------------------------------------------------------------------===//

  Value idx(int64_t v);
  Value i32(int64_t v);
  Value f32(double v);
  Value add(Value x, Value y);
  Value mul(Value x, Value y);
  Value divu(Value x, int64_t y);
  Value remu(Value x, int64_t y);
  Value ult(Value x, Value y);
  Value select(Value c, Value x, Value y);
  Value fmax(Value x, Value y);
  Value fmul(Value x, Value y);
  Value fadd(Value x, Value y);
  Value fsub(Value x, Value y);
  Value exp2(Value x) { return emitExp2(b, loc, x); }
  Value log2(Value x) { return emitLog2(b, loc, x); }

  /// The device address of a memref's first element, as a global pointer.
  Value globalPointer(Value memref);
  /// `base` advanced by `offset` (index) elements of `element`.
  Value gep(Value base, Value offset, mlir::Type element);
  /// Inline PTX `text` with `constraints`; side effects keep it in program
  /// order with the other inline PTX and the barriers.
  llvm::SmallVector<Value> inlinePTX(llvm::StringRef text,
                                     llvm::StringRef constraints,
                                     ValueRange operands,
                                     mlir::TypeRange results = {});
  /// Inline PTX `text` that takes `values` (f32 or i32) and gives them back:
  /// code that reads the results runs after it, code that computes
  /// `values` before it (wgmma.fence and wgmma.wait_group).
  llvm::SmallVector<Value> tiedPTX(llvm::StringRef text, ValueRange values);
  /// Butterfly shuffle across the lanes of a quad.
  Value shuffleXor(Value x, int64_t offset);

  //===--------------------------------------------------------------------===//
  // Operand rows in global memory (OperandRows.cpp)
  //===--------------------------------------------------------------------===//

  /// Picks the source of every operand's rows: queryRows, keyRows and
  /// valueRows (each plane) and outputRows. The one place a new source
  /// (OperandRows.h) is chosen.
  void emitOperandRows(IRMapping &args, ValueRange outputs);
  /// The dense strided rows of head `h` of `memref`, whose dimensions are
  /// at `at`, with `count` rows.
  OperandRows stridedRows(Value memref, attn::LayoutDims at, Value h,
                          Value count);
  /// Packed heads: row r of Q is query head head + r / Sq, position r % Sq
  /// (rowPosition), Sq * g rows.
  OperandRows packedQueryRows(Value memref);
  /// The rows of head `h` of the concatenation of `parts` along the
  /// sequence (`count` rows in all): each row read from its part. One part
  /// is stridedRows.
  OperandRows concatRows(llvm::ArrayRef<Value> parts, Value h, Value count);
  /// The rows of head `h` of the paged cache `cache` that `pages` reads
  /// (its block table and lengths mapped by `args`): row r is slot r % P of
  /// page table[batch, r / P], and the rows at or past the sequence's
  /// length are zero-filled. A length outside [0, M P] or a page id outside
  /// [0, N) of a row below it fails a device-side assertion (the launch
  /// reports it) instead of reading outside the cache.
  OperandRows pagedRows(attn::GatherPagesOp pages, Value cache, Value h,
                        IRMapping &args);
  /// The rows of head `h` of sequence `batch` of the packed [T, H, D]
  /// tensor `packed` (a varlen batch): rows [offsets[b], offsets[b + 1]),
  /// evenly spaced. Offsets that are negative, decrease, reach past T or
  /// give a sequence longer than `padded` rows fail a device-side assertion
  /// naming `opName` (the launch reports it) and read no row.
  OperandRows varlenRows(Value offsets, Value packed, Value h, Value padded,
                         llvm::StringRef opName);
  /// A fused attn.pack (packedOutput): zeroes this CTA's share of the
  /// output's rows that no sequence covers, rows [0, offsets[0]) in batch
  /// 0's CTAs and [offsets[B], T) in batch B - 1's, for its head.
  void zeroUncoveredRows();
  /// The rows of plane `plane` of Q (queryRows, or for packed heads built
  /// now).
  OperandRows queryPlaneRows(int64_t plane);
  /// `row` clamped to the last of `count` rows, or to row 0 when there is
  /// none: a row a zero-filled copy names without reading it.
  Value clampRow(Value row, Value count);
  /// Where row `row` of `rows` starts.
  RowStart rowStart(const OperandRows &rows, Value row);
  /// The address of feature `col` (none: the row's first) of the row that
  /// starts at `start`.
  Value rowAddress(const OperandRows &rows, RowStart start, Value col = {});

  //===--------------------------------------------------------------------===//
  // Shared-memory staging (SharedStaging.cpp)
  //===--------------------------------------------------------------------===//

  /// Address of element (row, col) of the swizzled 16-bit shared tile that
  /// starts `byteOffset` bytes into shared memory and has `cols` columns.
  /// `col` must be a multiple of 8 (one 16-byte chunk). With `blockRows`
  /// (the tile's rows), the tile is stored as column blocks of 64 (128-byte
  /// rows, block after block), the 128-byte swizzle layout of wgmma's
  /// descriptors; otherwise rows are whole.
  Value sharedAddress(Value byteOffset, Value row, Value col, int64_t cols,
                      int64_t blockRows = 0);
  /// A thread's ldmatrix row addresses into a swizzled tile: the thread
  /// reads row `rowConst + rowLane`, column `colConst + colLane` (rowConst
  /// a multiple of 8, colConst of 16, colLane 0 or 8). Then the swizzled
  /// chunk is (colConst / 8) ^ t with t = colLane / 8 ^ rowLane % 8 < 8,
  /// which is 8 (colConst / 64) + ((colConst / 8) % 8 ^ t): four per-thread
  /// 32-bit shared addresses, one per (colConst / 16) % 4, and the rest a
  /// compile-time offset (loadFragment).
  llvm::SmallVector<Value, 4> fragmentOffsets(Value rowLane, Value colLane,
                                              int64_t cols);
  /// ldmatrix .x4 of the fragment rows (rowConst, colConst) of the tile at
  /// `dynamicOffset` (index bytes, may be null) + `staticOffset` given its
  /// fragmentOffsets. Inline PTX with the constant part as the address's
  /// immediate: as an LLVM address it was hoisted out of the k-loop, one
  /// 64-bit register pair per (k-step, matrix), the kernels' largest
  /// register cost.
  llvm::SmallVector<Value, 4> loadFragment(llvm::ArrayRef<Value> offsets,
                                           Value dynamicOffset,
                                           int64_t staticOffset,
                                           int64_t rowConst, int64_t colConst,
                                           int64_t cols, bool transpose);
  /// Issues the cp.async copies of features [0, cols) of rows
  /// [rowBegin, rowBegin + rows) of `source` (16-bit) into the shared tile
  /// at `byteOffset`, which has `sharedCols` columns; rows at or past its
  /// count are zero-filled. `blocked`: in wgmma's layout (sharedAddress).
  void copyTileAsync(const OperandRows &source, Value rowBegin,
                     Value byteOffset, int64_t rows, int64_t cols,
                     int64_t sharedCols, bool blocked = false);
  /// copyTileAsync of rows on pages (OperandRows::pages) whose passes each
  /// stay on one page: one table read per page, not per chunk.
  void copyPagedTileAsync(const OperandRows &source, Value rowBegin,
                          Value byteOffset, int64_t rows, int64_t cols,
                          int64_t sharedCols, int64_t blockRows);
  /// cp.async.cg of one 16-byte chunk from global `src` to shared `dst`,
  /// of which `srcBytes` (i32: 16 or 0) are read and the rest zero-filled.
  void copyChunkAsync(Value dst, Value src, Value srcBytes);
  /// With a head size D that is not a multiple of 16, the last k-step of
  /// S = Q K^T reads the 8 columns [D, D + 8) of the Q and K tiles, which no
  /// copy writes: zeroes them, once, before the first copy.
  void zeroFeaturePadding();
  /// Issues the copies of k-tile `kt`'s K and V (every plane) into
  /// `buffer` (below the plan's stages).
  void loadKeyValue(Value kt, Value buffer);
  /// Shared-memory byte offsets of K and V buffer `buffer` (KernelPlan's
  /// keyOffset and valueOffset at a dynamic buffer).
  Value keyBuffer(Value buffer) {
    return add(idx(keyOffset(0)), mul(buffer, idx(kBytes)));
  }
  Value valueBuffer(Value buffer) {
    return add(idx(valueOffset(0)), mul(buffer, idx(vBytes)));
  }
  /// With setQueryRope: rotates the rows of the Q tile in shared memory
  /// that hold queries, by the rope of their (batch, query index), after
  /// the tile's copies have landed (RopeKernel.cpp). The caller orders it
  /// before the tile's reads with a barrier.
  void rotateQueryTile();

  //===--------------------------------------------------------------------===//
  // The k-tiles a CTA visits (ClassTable.cpp)
  //===--------------------------------------------------------------------===//

  /// Computes `ranges` (the causal bounds, this split's share of them) and,
  /// for masked ops, fills the class table and shrinks `ranges` to its
  /// non-empty tiles.
  void emitTileRange();
  /// Whether the op's classifier finds keys [colBegin, lastCol] empty, and
  /// full, for this CTA's rows (every head of a packed group).
  attn::TileClassValues classifyKeys(Value colBegin, Value lastCol);
  /// The class (AttentionOp::kTile*) of k-tile `kt`, from the op's
  /// classifier and the causal ranges.
  Value classify(Value kt);
  /// Whether a class is not kTileEmpty.
  Value isVisited(Value cls);
  /// The class of `kt` (from the table where it has it), or kTileEmpty past
  /// the range.
  Value classifyIfInRange(Value kt);

  //===--------------------------------------------------------------------===//
  // mma.sync (MmaSync.cpp)
  //===--------------------------------------------------------------------===//

  /// One mma.sync m16n8k16: `acc` (4 f32) += A (4 x i32) * B (2 x i32).
  void mma(llvm::ArrayRef<Value> a, Value b0, Value b1,
           llvm::MutableArrayRef<Value> acc);
  /// Packs two f32 into the 16-bit pair register (x in the low half).
  Value pack(Value x, Value y);
  /// Loads the Q fragments of this warp's m-tile `mt` for k-step `kk`.
  llvm::SmallVector<Value, 4> loadQueryFragment(int64_t mt, int64_t kk,
                                                int64_t plane = 0);
  /// S (+)= Q K^T of the K tile at `kOffset` with mma.sync; the products of
  /// the planes after the first go to `sSmall` (mmaPlanes).
  void syncQueryKey(Value kOffset, llvm::MutableArrayRef<Value> s,
                    llvm::MutableArrayRef<Value> sSmall);
  /// acc (+)= P V of the V tile at `vOffset` with mma.sync, P the
  /// probabilities `t` (score fragment layout); `small` as in mmaPlanes.
  void syncValueProduct(llvm::ArrayRef<Value> t, Value vOffset,
                        llvm::MutableArrayRef<Value> acc,
                        llvm::MutableArrayRef<Value> small);

  //===--------------------------------------------------------------------===//
  // wgmma.mma_async (Wgmma.cpp)
  //===--------------------------------------------------------------------===//

  /// The wgmma descriptor of the 128-byte-swizzled tile at `byteOffset`
  /// (index) with leading and stride byte offsets `lbo` and `sbo`.
  Value wgmmaDescriptor(Value byteOffset, int64_t lbo, int64_t sbo);
  /// `descriptor` advanced by `bytes` (a multiple of 16).
  Value advanceDescriptor(Value descriptor, int64_t bytes);
  /// wgmma reads shared memory through the async proxy: once this thread's
  /// cp.async copies have landed, order them before those reads.
  void fenceForWgmma();
  /// One wgmma.mma_async m64nNk16 of this warpgroup, N = 2 acc.size():
  /// acc (+)= A B with A either this warp's 16 rows as 4 registers
  /// (mma.sync's A fragment layout) or the warpgroup's 64 rows by one
  /// K-major descriptor, and B from shared memory by `descriptor`, K-major
  /// or, `transposeB`, N-major. Without `accumulate`, acc's inputs are
  /// ignored.
  void wgmma(ValueRange a, Value descriptor, llvm::MutableArrayRef<Value> acc,
             bool accumulate, bool transposeB);
  /// s = Q K^T of the K tile at `kOffset` with wgmma (s's inputs ignored).
  void wgmmaQueryKey(Value kOffset, llvm::SmallVector<Value> &s);
  /// o += P V of the V tile at `vOffset` with wgmma, P the probabilities
  /// `t` from registers.
  void wgmmaValueProduct(llvm::ArrayRef<Value> t, Value vOffset,
                         llvm::SmallVector<Value> &o);

  //===--------------------------------------------------------------------===//
  // f32 inputs as bf16 planes (Planes.cpp)
  //===--------------------------------------------------------------------===//

  /// The pair registers of (x, y), one per plane.
  llvm::SmallVector<Value, kPlanes> packPlanes(Value x, Value y);
  /// One ldmatrix .x4 B fragment per plane: loadFragment at plane p's
  /// `dynamicOffset + p * planeBytes`.
  llvm::SmallVector<llvm::SmallVector<Value, 4>, kPlanes>
  loadFragmentPlanes(llvm::ArrayRef<Value> offsets, Value dynamicOffset,
                     int64_t planeBytes, int64_t rowConst, int64_t colConst,
                     int64_t cols, bool transpose);
  /// acc[first, first + 8) += A B for the two 8-column halves of the B
  /// fragments, from their planes a[p] (4 registers) and b[p] (4: two per
  /// half): the product of the first planes into `acc`, the others into
  /// `small` (empty with one plane). Tensor cores round their f32
  /// accumulation toward zero, so a long chain of mma.sync into one
  /// accumulator drifts by up to an ulp of it per step; the small terms kept
  /// apart drift only by ulps of their own, 2^-8 smaller, magnitude.
  void mmaPlanes(llvm::ArrayRef<llvm::SmallVector<Value, 4>> a,
                 llvm::ArrayRef<llvm::SmallVector<Value, 4>> b,
                 llvm::MutableArrayRef<Value> acc,
                 llvm::MutableArrayRef<Value> small, int64_t first);

  //===--------------------------------------------------------------------===//
  // Region lowering (RegionInlining.cpp)
  //===--------------------------------------------------------------------===//

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
  void findAffineCasts(Block *block);
  llvm::DenseMap<Operation *, std::pair<int64_t, int64_t>> affineCasts;
  /// sitofp(x(i0, j0)) per affine cast, for the tile being emitted (cleared
  /// before each).
  llvm::DenseMap<Operation *, Value> castBases;
  /// Clones the ops of `block` that `value` depends on with `mapping`.
  Value cloneDependencies(Block *block, Value value, IRMapping &mapping);
  /// Maps the b, h (and, when given, i, j) and capture arguments of a score
  /// or mask region (not a score region's s).
  void mapRegionArguments(Block *block, Value h, Value i, Value j,
                          IRMapping &mapping) {
    llvm::SmallVector<mlir::Value> captures =
        llvm::map_to_vector(op.getCaptures(), [&](Value capture) {
          return operands->lookup(capture);
        });
    attn::mapRegionArguments(block, Value(), {batch, h, i, j}, captures,
                             mapping);
  }
  /// Emits, at the insertion point, the ops of a score or mask region that
  /// do not depend on the element, once.
  void hoistInvariants(Block *block);
  /// Per region: its ops hoisted out of the per-element copies.
  llvm::DenseMap<Block *, IRMapping> hoisted;

  //===--------------------------------------------------------------------===//
  // One k-tile (ForwardSteps.cpp)
  //===--------------------------------------------------------------------===//

  /// The first row of this thread's fragments of m-tile `mt` (lane / 4 of
  /// its 16 rows; the thread also holds that row + 8).
  Value fragmentRow(int64_t mt);
  /// Which score paths a k-tile body contains: the fast one (a full tile
  /// inside Sk without a score region), the element-wise one, or both
  /// behind a branch on the tile.
  enum class ScorePath { Fast, Elementwise, Either };
  /// The body of one visited k-tile: returns the updated (O, m, l).
  llvm::SmallVector<Value> emitKeyTile(Value kt, Value buffer, Value tileClass,
                                       ValueRange state, ScorePath path);
  /// S = Q K^T for this warp's rows from the K tile at `kOffset`: per
  /// m-tile, Tk / 8 accumulators of 4 (element mt * perTile + 4 nt + e).
  llvm::SmallVector<Value> emitQueryKey(Value kOffset);
  /// The scores of S in log2 units as (x, factor), x * factor: the raw
  /// products on the fast path, else the masked, score-modified values.
  std::pair<Value, Value> emitScores(llvm::ArrayRef<Value> s, Value colBegin,
                                     Value tileClass, ScorePath path);
  /// The element-wise path of emitScores for tiles that are not known full
  /// and inside Sk, or that have a score region.
  std::pair<Value, Value> emitElementwiseScores(llvm::ArrayRef<Value> s,
                                                Value colBegin, Value inside,
                                                Value isFull);
  /// The online softmax over this tile's scores `t` (exponentiated in
  /// place): updates m and l of `state` and rescales its O; returns
  /// (O, m, l) as one list.
  llvm::SmallVector<Value> emitSoftmaxUpdate(llvm::MutableArrayRef<Value> t,
                                             Value factor, ValueRange state,
                                             ScorePath path);
  /// O += P V of the V tile at `vOffset`, P the probabilities `t`.
  void emitValueProduct(llvm::ArrayRef<Value> t, Value vOffset,
                        llvm::SmallVector<Value> &o);

  //===--------------------------------------------------------------------===//
  // The kernel (ForwardKernel.cpp) and split-KV (DecodeKernels.cpp)
  //===--------------------------------------------------------------------===//

  /// Thread, lane and warp indices, the shared-memory base (aligned for
  /// wgmma) and the fragments' shared addresses.
  void emitThreadIndices(Value smemBase);
  /// The CTA's batch, heads and rows, and the rows of its operands
  /// (emitOperandRows).
  void emitBlockPointers(IRMapping &args, ValueRange outputs);
  /// The kernel after its block pointers: the k-tiles, the prologue, the
  /// k-loop and the epilogue.
  void emitAttention(ValueRange outputs);
  /// Stores row `row` (m-tile `mt`, half `half` of the thread's rows) of O
  /// = o / l to outputRows and, with `lse` (the op has it), lse =
  /// (m + log2 l) ln 2.
  void storeOutputRow(llvm::ArrayRef<Value> o, int64_t mt, int64_t half,
                      Value row, Value m, Value l, Value positive,
                      Value inverse, Value colBase, const OperandRows *lse);
  /// Split-KV: stores row `row` of this split's partial O / l (f32) and lse
  /// (-inf: the split saw no unmasked key) to the workspaces.
  void storePartialRow(llvm::ArrayRef<Value> o, int64_t mt, int64_t half,
                       Value row, Value m, Value l, Value positive,
                       Value inverse, Value colBase);
  /// (query head, query index) of CTA row `row`, clamped into the rows that
  /// exist so that region reads stay in bounds.
  std::pair<Value, Value> rowPosition(Value row);
  /// Rows of the CTA that hold queries.
  Value validRows();
  /// Split-KV with split warps, a launch of one CTA per row group: merges
  /// the partial rows of the CTA's splitWarps splits into O and lse
  /// (mergeOutputs), so that no combine kernel runs.
  void mergeSplitWarps();
  /// The barrier between the threads that share the shared-memory tiles:
  /// the CTA's, or with split warps each warp's own (bar.warp.sync).
  void syncTiles();

  mlir::OpBuilder &b;
  attn::AttentionOp op;
  mlir::Location loc;
  attn::LayoutDims dims;
  /// The 16-bit type of the tiles in shared memory and of the mma.sync
  /// operands (bf16 for f32 inputs), and O's element type.
  mlir::Type elementType, outputType;
  /// f32 inputs: the plane tensors (setPlanes).
  llvm::SmallVector<Value, 3 * kPlanes> planeInputs;
  /// Rotated operands (setRotated).
  llvm::SmallVector<Value, 3> rotatedInputs;
  /// Q rotated as it is loaded (setQueryRope), or null.
  attn::RopeOp queryRope;
  mlir::LLVM::GlobalOp queryRopeTable;
  /// fragmentOffsets of the Q (A operand), K (B) and V (B, transposed)
  /// fragments, and the 32-bit shared address of the dynamic shared memory;
  /// set by emit().
  llvm::SmallVector<Value, 4> qFragments, kFragments, vFragments;
  Value sharedBase;

  // Values of the kernel, set by emit().
  IRMapping *operands = nullptr;
  Value smem, tid, lane, warp, blockX;
  /// With split warps: the warp's index in the CTA (null otherwise).
  Value splitWarp;
  Value batch, head, kvHead, rowBegin, seqQ, seqK;
  /// The rows of this (batch, head) of Q, K and V (one per plane) and O
  /// (emitOperandRows; Q's only without packed heads, O's only without
  /// split-KV), and Q (its first plane for f32 inputs).
  llvm::SmallVector<OperandRows, kPlanes> queryRows, keyRows, valueRows;
  Value query;
  OperandRows outputRows;
  /// O goes through a fused attn.pack: the packed output [T, H, Dv] and
  /// the pack's offsets (null otherwise).
  Value packedOutput, packOffsets;
  /// Split-KV workspaces and the outputs a one-CTA launch merges them into
  /// (setPartialOutputs); this warp's split (block x, or with split warps
  /// block x times splitWarps plus the warp).
  Value oPart, lsePart, splitIndex;
  llvm::SmallVector<Value, 2> mergeOutputs;
  /// The k-tiles the CTA visits (emitTileRange), the last query row of the
  /// CTA, and the class table's first tile and size.
  attn::KeyTileRanges ranges;
  Value lastRow, tableBegin, tableCount;
  /// Per m-tile and k-step, when Q stays in registers.
  llvm::SmallVector<llvm::SmallVector<llvm::SmallVector<Value, 4>>>
      queryFragments;
};

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_KERNELEMITTER_H
