//===- ConvertAttnToCPU.cpp - Fused FlashAttention for CPUs -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Lowers attn.attention to a fused, tiled online-softmax loop nest on
// buffers with register-blocked vector microkernels:
//
//   scf.parallel (b, h, q-tile)                        -> OpenMP threads
//     pack Q^T tile (f32, zero-padded); O = 0; m = -inf; l = 0
//     scf.for kv-tile in [begin, end)                   (tile classification)
//       S^T = K Q^T                   4 keys x 16 queries FMA register blocks
//       T = log2(e) * score(scale S)  masked to -inf    (vector on full tiles,
//                                                        per element otherwise)
//       m' = max(m, rowmax T); P = exp2(T - m'); l = l exp2(m - m') + rowsum P
//       O = O exp2(m - m') + P V      4 queries x 16 features FMA blocks
//     O /= l (0 on fully masked rows); lse = m ln 2 + ln l
//
// Scores are kept transposed, queries in the vector lanes, so that K is read
// in place and the softmax statistics are elementwise across key rows.
// Memory is O(tile) per thread; no S x S buffer exists. exp2 is a vector
// polynomial with log2(e) and the scale folded into one multiply. Head
// sizes that the vector width does not divide end in masked tails; the last
// Dv mod lanes features of O are computed transposed, queries in the lanes.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/TileClassification.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"
#include "attune/Dialect/Attn/Utils/RegionLowering.h"
#include "attune/Support/PassOptions.h"
#include "attune/Target/CPU/KernelPlan.h"
#include "attune/Target/CPU/Passes.h"

#include "OperandRows.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <limits>

namespace attune::cpu {
#define GEN_PASS_DEF_CONVERTATTNTOCPU
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;
using namespace attune;
using namespace attune::cpu;
using namespace attune::attn;

namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// Emits the fused loop nest of one attention op.
class CPUAttentionEmitter {
public:
  CPUAttentionEmitter(OpBuilder &b, AttentionOp op, const KernelPlan &plan)
      : b(b), op(op), loc(op.getLoc()), tileQ(plan.tileQ), tileK(plan.tileK),
        lanes(plan.lanes), blockRows(plan.blockRows()),
        fuseProducers(plan.fuseProducers),
        dims(op.getLayoutDims()), headDim(op.getHeadSize()),
        valueDim(op.getValueHeadSize()), valueTail(valueDim % lanes) {
    f32 = b.getF32Type();
    vecType = VectorType::get({lanes}, f32);
  }

  /// Emits the lowering and returns the replacement values.
  SmallVector<Value> emit();
  /// After `emit`: the attn.pack fused into O's stores (fusedPack) and its
  /// replacement, or nulls.
  PackOp getFusedPack() const { return outputPack; }
  Value getPackedOutput() const { return packedOutput; }
  /// After `emit`: the inverse attn.permute ops of O and lse whose stores
  /// the kernel made (fusedUnpermute), or nulls; they now read rows already
  /// in place.
  std::pair<attn::PermuteOp, attn::PermuteOp> getFusedUnpermutes() const {
    return {outputUnpermute, lseUnpermute};
  }

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  /// Reads or writes `rows` in the order of `permute` (if not null), a
  /// fused attn.permute whose order is checked against the sizes of
  /// `input` (laid out as `d`) as its own lowering would: the permute's
  /// input, or for an un-permuted result, which is not there yet, the
  /// query's. Its entries are attn.sort_ids' (fusedPermute).
  void setRowOrder(attn::PermuteOp permute, OperandRows &rows, Value input,
                   LayoutDims d) {
    if (!permute)
      return;
    emitPermuteShapeChecks(b, permute, input, d);
    rows.setRowOrder(readOnlyBuffer(b, loc, permute.getOrder()));
  }
  Value f32Const(double v) {
    return arith::ConstantOp::create(b, loc,
                                     b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value splat(double v) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType, static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value lessThan(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  /// `for (iv = lb; iv < ub; iv += step) body(iv)` without loop-carried
  /// values.
  void forLoop(Value lb, Value ub, int64_t step,
               function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, lb, ub, idx(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }
  /// `body(r)` for the query rows r = 0, step, ... below queryExtent.
  void forQueries(int64_t step, function_ref<void(Value)> body) {
    forLoop(idx(0), queryExtent, step, body);
  }
  /// `body(r0, vectors)` for the register blocks of queries below
  /// queryExtent: blocks of kBlockVectors vectors from r0 = 0, then one of
  /// a single vector where the extent ends within a block.
  void forQueryBlocks(function_ref<void(Value, int64_t)> body) {
    static_assert(kBlockVectors == 2, "the last block is one vector");
    int64_t block = lanes * kBlockVectors;
    Value whole = mul(
        arith::DivUIOp::create(b, loc, queryExtent, idx(block)).getResult(),
        idx(block));
    forLoop(idx(0), whole, block,
            [&](Value r0) { body(r0, kBlockVectors); });
    scf::IfOp::create(b, loc, lessThan(whole, queryExtent),
                      [&](OpBuilder &, Location) {
                        body(whole, 1);
                        scf::YieldOp::create(b, loc);
                      });
  }
  /// One step of an outer-product register block: returns
  /// acc[r * n + v] + broadcast(scalars[r]) * vectors[v] for n vectors.
  SmallVector<Value> fmaStep(ArrayRef<Value> scalars, ArrayRef<Value> vectors,
                             ValueRange acc) {
    SmallVector<Value> next;
    for (auto [r, scalar] : llvm::enumerate(scalars)) {
      Value splatted = vector::BroadcastOp::create(b, loc, vecType, scalar);
      for (auto [v, vec] : llvm::enumerate(vectors))
        next.push_back(vector::FMAOp::create(b, loc, splatted, vec,
                                             acc[r * vectors.size() + v]));
    }
    return next;
  }
  /// A scratch buffer (f32 by default) on the stack of the current thread.
  Value scratch(ArrayRef<int64_t> shape, Type element = {}) {
    return memref::AllocaOp::create(
        b, loc, MemRefType::get(shape, element ? element : f32), ValueRange{},
        b.getI64IntegerAttr(64));
  }
  Value exp2(Value t);
  void emitTile(ValueRange ivs);
  /// One key tile that is not empty: scores, mask and score regions
  /// (skipping the mask when `classifiedFull`), softmax update, P.V.
  void emitKeyTile(Value batch, Value kvHead, Value rows, Value colBegin,
                   Value cols, Value classifiedFull);
  void packQuery(Value batch, Value rows);
  void emitScores(Value batch, Value kvHead, Value colBegin);
  void emitVectorScale();
  void emitElementScores(Value batch, Value rows, Value colBegin, Value cols,
                         Value needMask);
  /// Inlines a score or mask region for one element: `score` (null for
  /// the mask) and `indices` (b, h, i, j) for its arguments.
  Value inlineRegion(Block *block, Value score, ArrayRef<Value> indices);
  /// The vector of `extract`'s capture elements at its mapped indices, of
  /// which only the last is a vector (isLastIndexGather): a gather along
  /// the capture's last dimension, lane indices clamped into it.
  Value emitLastIndexGather(tensor::ExtractOp extract, IRMapping &map);
  /// Inlines a score or mask region for a vector of queries: `score` and i
  /// are vectors, b, h and j scalars; ops with a vector operand are
  /// rebuilt on vectors, the others stay scalar.
  Value vectorizeRegion(Block *block, Value score, ArrayRef<Value> indices);
  void emitVectorScores(Value batch, Value colBegin, Value cols,
                        Value needMask);
  void emitSoftmaxUpdate();
  void emitValueProduct(Value batch, Value kvHead, Value colBegin, Value cols);
  /// `vectors` vectors of P.V features from feature `e`.
  void emitValueBlock(Value batch, Value kvHead, Value colBegin, Value cols,
                      Value e, int64_t vectors);
  void emitTransposedTail(Value batch, Value kvHead, Value colBegin,
                          Value cols);
  void emitEpilogue(Value batch, Value rows);
  /// The query head and position of row `r` of the current query tile.
  Value rowHead(Value r);
  Value rowPosition(Value r);
  /// Fills rowHeads and rowPositions for the packed rows [rowBegin,
  /// rowBegin + tileQ) of K/V head `kvHead`, `rowLimit` = g x Sq of them
  /// existing (rows past it repeat the last one).
  void emitPackedRowMap(Value kvHead, Value rowBegin, Value rowLimit);
  /// The classifier's verdict on key tile [colBegin, lastCol] for the
  /// current query tile: its positions [firstPos, lastPos] in heads
  /// [firstHead, lastHead], empty (full) only when it is for every head.
  TileClassValues emitPackedTileClass(Value batch, Value firstHead,
                                      Value lastHead, Value firstPos,
                                      Value lastPos, Value colBegin,
                                      Value lastCol);
  /// The length of sequence `batch` of the fused pack.
  Value packedLength(Value batch);
  /// Zeroes the rows of the packed output `buffer` (`total` rows) that no
  /// sequence covers: before the first offset and from the last one.
  void zeroUncoveredRows(Value buffer, Value total);

  OpBuilder &b;
  AttentionOp op;
  Location loc;
  int64_t tileQ, tileK;
  /// f32 lanes per vector (8: AVX2, 16: AVX-512) and rows per register
  /// block.
  int64_t lanes, blockRows;
  /// Whether producers of Q, K and V are fused (KernelPlan).
  bool fuseProducers;
  LayoutDims dims;
  int64_t headDim, valueDim;
  /// Dv mod lanes: the last features of O, kept transposed in oTailT.
  int64_t valueTail;
  Type f32;
  VectorType vecType;

  // The operands and results, read and written only through their rows
  // (OperandRows.h: the seam where producers fuse), and the captures.
  std::optional<OperandRows> query, key, value, output, lse;
  SmallVector<Value> captureBuffers;
  /// The attn.pack O is stored through (fusedPack), its offsets as a
  /// buffer, and its result; null when O is stored padded.
  PackOp outputPack;
  Value packOffsets, packedOutput;
  /// The inverse permutes of O and lse fused into their stores, or null.
  attn::PermuteOp outputUnpermute, lseUnpermute;
  /// The sequence lengths of Q and K (the shapes of the results and the
  /// extent of the loop over query tiles) and the number of query tiles.
  Value seqQ, seqK, numQTiles;
  /// Per query tile: its rows rounded up to a multiple of lanes (at most
  /// tileQ), the extent of every loop over queries.
  Value queryExtent;
  /// Whether a query tile holds the query heads of one K/V head (GQA
  /// packing: packed row p is head kvHead g + p / Sq at position p mod Sq,
  /// so that decode's g heads share the vector lanes and each K/V tile is
  /// read once for all of them), and per tile: the head and first row of
  /// an unpacked tile, or each row's head and position (index [tileQ]).
  bool packHeads = false;
  Value tileHead, tileRowBegin, rowHeads, rowPositions;
  // Per-thread tiles: Q^T [D, Tq], S^T/P^T [Tk, Tq] (queries in the vector
  // lanes), O's whole vectors of features [Tq, Dv - Dv mod lanes] (only if
  // Dv >= lanes), O's last Dv mod lanes features transposed
  // [Dv mod lanes, Tq] (only if lanes does not divide Dv), and the
  // per-query statistics m, l and the rescale factor alpha [Tq].
  Value qTile, sTile, oTile, oTailT, rowMax, rowSum, rowScale;
};

} // namespace

/// exp2 of a vector<8xf32>: 2^t = 2^n * 2^f with n = round(t), |f| <= 1/2 and
/// a degree-6 polynomial for 2^f (relative error ~2 ulp). Inputs below -126
/// (including -inf, masked scores) give exactly 0.
Value CPUAttentionEmitter::exp2(Value t) {
  Value tiny = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, t,
                                     splat(-126.0));
  Value x = arith::MaximumFOp::create(b, loc, t, splat(-126.0));
  x = arith::MinimumFOp::create(b, loc, x, splat(126.0));
  Value n = math::FloorOp::create(
      b, loc, arith::AddFOp::create(b, loc, x, splat(0.5)));
  Value f = arith::SubFOp::create(b, loc, x, n);
  static constexpr double kCoefficients[] = {
      1.535336188319500e-4, 1.339887440266574e-3, 9.618437357674640e-3,
      5.550332471162809e-2, 2.402264791363012e-1, 6.931472028550421e-1};
  Value poly = splat(kCoefficients[0]);
  for (double c : ArrayRef<double>(kCoefficients).drop_front())
    poly = math::FmaOp::create(b, loc, poly, f, splat(c));
  poly = math::FmaOp::create(b, loc, poly, f, splat(1.0));
  auto i32Vec = VectorType::get({lanes}, b.getI32Type());
  Value ni = arith::FPToSIOp::create(b, loc, i32Vec, n);
  Value biased = arith::AddIOp::create(
      b, loc, ni,
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32Vec, 127)));
  Value bits = arith::ShLIOp::create(
      b, loc, biased,
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(i32Vec, 23)));
  Value pow2n = arith::BitcastOp::create(b, loc, vecType, bits);
  Value result = arith::MulFOp::create(b, loc, poly, pow2n);
  return arith::SelectOp::create(b, loc, tiny, splat(0.0), result);
}

void CPUAttentionEmitter::packQuery(Value batch, Value rows) {
  // Q^T[d][r] = Q[i0 + r][d]: the score kernel then loads lanes queries of
  // one feature at once. Rows past Sq are zero so that they stay finite;
  // they are never stored. Packed once per query tile, this is amortised
  // over all key tiles. A head size that lanes does not divide ends in a
  // masked load of its last D mod lanes features.
  int64_t tail = headDim % lanes;
  forQueries(1, [&](Value r) {
    Value inside = lessThan(r, rows);
    Value head = rowHead(r);
    Value row = rowPosition(r);
    auto pack = [&](Value d, int64_t count) {
      auto ifOp = scf::IfOp::create(
          b, loc, inside,
          [&](OpBuilder &, Location) {
            scf::YieldOp::create(
                b, loc,
                query->loadVector(batch, head, row, d, count));
          },
          [&](OpBuilder &, Location) {
            scf::YieldOp::create(b, loc, splat(0.0));
          });
      for (int64_t lane = 0; lane < count; ++lane)
        memref::StoreOp::create(
            b, loc, vector::ExtractOp::create(b, loc, ifOp.getResult(0), lane),
            qTile, ValueRange{add(d, idx(lane)), r});
    };
    if (headDim >= lanes)
      forLoop(idx(0), idx(headDim - tail), lanes,
              [&](Value d) { pack(d, lanes); });
    if (tail)
      pack(idx(headDim - tail), tail);
  });
}


void CPUAttentionEmitter::emitScores(Value batch, Value kvHead,
                                     Value colBegin) {
  // S^T[c][r] = sum_d K[j0 + c][d] Q^T[d][r], in blocks of 4 keys x 16
  // queries: K is read in place (one broadcast per key and feature), Q^T as
  // vectors. Keys past Sk (last tile) read key Sk - 1 instead, so every load
  // is in bounds; those columns are masked afterwards.
  Value zero = splat(0.0);
  Value lastKey =
      arith::SubIOp::create(b, loc, key->rowCount(batch), idx(1));
  forLoop(idx(0), idx(tileK), blockRows, [&](Value c0) {
    SmallVector<Value> keyRows;
    for (int64_t c = 0; c < blockRows; ++c)
      keyRows.push_back(arith::MinUIOp::create(
          b, loc, add(colBegin, add(c0, idx(c))), lastKey));
    forQueryBlocks([&](Value r0, int64_t vectors) {
      SmallVector<Value> init(blockRows * vectors, zero);
      auto loop = scf::ForOp::create(
          b, loc, idx(0), idx(headDim), idx(1), init,
          [&](OpBuilder &, Location, Value d, ValueRange acc) {
            SmallVector<Value> queries;
            for (int64_t v = 0; v < vectors; ++v)
              queries.push_back(vector::LoadOp::create(
                  b, loc, vecType, qTile,
                  ValueRange{d, add(r0, idx(v * lanes))}));
            SmallVector<Value> keys;
            for (int64_t c = 0; c < blockRows; ++c)
              keys.push_back(key->loadScalar(batch, kvHead, keyRows[c], d));
            scf::YieldOp::create(b, loc, fmaStep(keys, queries, acc));
          });
      for (int64_t c = 0; c < blockRows; ++c)
        for (int64_t v = 0; v < vectors; ++v)
          vector::StoreOp::create(
              b, loc, loop.getResult(c * vectors + v), sTile,
              ValueRange{add(c0, idx(c)), add(r0, idx(v * lanes))});
    });
  });
}

void CPUAttentionEmitter::emitVectorScale() {
  // Full tiles without a score region: T = S * scale * log2(e).
  Value factor = splat(op.getScaleValue() * kLog2E);
  forLoop(idx(0), idx(tileK), 1, [&](Value c) {
    forQueries(lanes, [&](Value r) {
      Value s = vector::LoadOp::create(b, loc, vecType, sTile,
                                       ValueRange{c, r});
      vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, s, factor),
                              sTile, ValueRange{c, r});
    });
  });
}

Value CPUAttentionEmitter::inlineRegion(Block *block, Value score,
                                        ArrayRef<Value> indices) {
  // Captured tensors are read through their buffers.
  IRMapping map;
  mapRegionArguments(block, score, indices, op.getCaptures(), map);
  return attn::inlineRegion(b, block, map, captureBuffers);
}

/// Whether `read` (a tensor.extract or tensor.dim of the region) reads a
/// capture at indices of which at most the last varies between lanes: a
/// gather along the capture's unit-stride last dimension, its lane indices
/// clamped into the dimension (lanes past Sq or masked out read some element
/// of it, and their values are never used).
static bool isLastIndexGather(Operation &read, const RegionVariance &variance) {
  auto extract = dyn_cast<tensor::ExtractOp>(read);
  if (!extract || variance.isVarying(extract.getTensor()) ||
      !AttentionOp::getCaptureNumber(read.getBlock(), extract.getTensor()))
    return false;
  ValueRange indices = extract.getIndices();
  return !indices.empty() && llvm::none_of(indices.drop_back(), [&](Value v) {
    return variance.isVarying(v);
  });
}

/// Whether every op of `block` can be evaluated on all lanes of a vector of
/// queries, including lanes the mask excludes or that lie past Sq: only
/// elementwise arith/math ops whose evaluation cannot trap, and reads of
/// captures at indices that are the same for all lanes (b, h, j, constants;
/// not h when `headVaries`, the lanes holding packed heads) but for the
/// last (isLastIndexGather: the sorted ids and orders of attn-cluster, read
/// at i).
static bool isVectorizable(Block *block, bool headVaries) {
  // Values that differ between lanes: the score and i (and h), and what
  // uses them.
  SmallVector<Value, 3> lanes;
  if (AttentionOp::isScoreBlock(block))
    lanes.push_back(AttentionOp::getScoreArg(block));
  lanes.push_back(AttentionOp::getIndexArg(block, RegionDim::I));
  if (headVaries)
    lanes.push_back(AttentionOp::getIndexArg(block, RegionDim::H));
  RegionVariance variance(block, lanes);
  for (Operation &nested : block->without_terminator()) {
    if (nested.getNumRegions() != 0)
      return false;
    if (isa<tensor::ExtractOp, tensor::DimOp>(nested)) {
      if (variance.hasVaryingOperand(nested) &&
          !isLastIndexGather(nested, variance))
        return false;
      continue;
    }
    if (nested.getDialect()->getNamespace() != "arith" &&
        nested.getDialect()->getNamespace() != "math")
      return false;
    if (!nested.hasTrait<OpTrait::Elementwise>() &&
        !isa<arith::ConstantOp>(nested))
      return false;
    // Integer division traps on zero (and MIN / -1) in masked lanes.
    if (isa<arith::DivSIOp, arith::DivUIOp, arith::RemSIOp, arith::RemUIOp,
            arith::FloorDivSIOp, arith::CeilDivSIOp, arith::CeilDivUIOp>(
            nested) &&
        !matchPattern(nested.getOperand(1), m_Constant()))
      return false;
  }
  return true;
}

Value CPUAttentionEmitter::vectorizeRegion(Block *block, Value score,
                                           ArrayRef<Value> indices) {
  // Uniform values stay scalar; an op with a vector operand is rebuilt on
  // vector<lanes x T>, broadcasting its uniform operands.
  IRMapping map;
  mapRegionArguments(block, score, indices, op.getCaptures(), map);
  DenseSet<Value> vectors;
  if (score)
    vectors.insert(score);
  vectors.insert(indices[static_cast<unsigned>(RegionDim::I)]);
  if (Value head = indices[static_cast<unsigned>(RegionDim::H)];
      isa<VectorType>(head.getType()))
    vectors.insert(head);
  auto toVector = [&](Value v) -> Value {
    if (vectors.contains(v))
      return v;
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({lanes}, v.getType()), v);
  };
  auto emitVectorOp = [&](Operation &nested, IRMapping &map) {
    bool anyVector = llvm::any_of(nested.getOperands(), [&](Value v) {
      return vectors.contains(map.lookupOrDefault(v));
    });
    if (!anyVector)
      return false;
    if (auto extract = dyn_cast<tensor::ExtractOp>(nested)) {
      // isVectorizable admitted it: only the last index is a vector.
      Value gathered = emitLastIndexGather(extract, map);
      map.map(extract.getResult(), gathered);
      vectors.insert(gathered);
      return true;
    }
    OperationState state(nested.getLoc(), nested.getName());
    for (Value operand : nested.getOperands())
      state.addOperands(toVector(map.lookupOrDefault(operand)));
    for (Type type : nested.getResultTypes())
      state.addTypes(VectorType::get({lanes}, type));
    state.addAttributes(nested.getAttrs());
    Operation *vectorOp = b.create(state);
    for (auto [from, to] :
         llvm::zip(nested.getResults(), vectorOp->getResults())) {
      map.map(from, to);
      vectors.insert(to);
    }
    return true;
  };
  return toVector(
      attn::inlineRegion(b, block, map, captureBuffers, emitVectorOp));
}

Value CPUAttentionEmitter::emitLastIndexGather(tensor::ExtractOp extract,
                                               IRMapping &map) {
  unsigned capture =
      *AttentionOp::getCaptureNumber(extract->getBlock(), extract.getTensor());
  Value buffer = captureBuffers[capture];
  auto indexVec = VectorType::get({lanes}, b.getIndexType());
  SmallVector<Value> base;
  for (Value index : extract.getIndices().drop_back())
    base.push_back(map.lookupOrDefault(index));
  base.push_back(idx(0));
  // Clamped into [0, size - 1]: every lane reads inside the buffer.
  Value last = map.lookupOrDefault(extract.getIndices().back());
  Value size = memref::DimOp::create(b, loc, buffer, base.size() - 1);
  Value hi = vector::BroadcastOp::create(
      b, loc, indexVec, arith::SubIOp::create(b, loc, size, idx(1)));
  Value zero = vector::BroadcastOp::create(b, loc, indexVec, idx(0));
  Value lanesAt = arith::MinSIOp::create(
      b, loc, arith::MaxSIOp::create(b, loc, last, zero), hi);
  Type element = extract.getType();
  auto resultType = VectorType::get({lanes}, element);
  Value all = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({lanes}, b.getI1Type()), true));
  Value passThru =
      arith::ConstantOp::create(b, loc, resultType, b.getZeroAttr(resultType));
  return vector::GatherOp::create(b, loc, resultType, buffer, base, lanesAt,
                                  all, passThru);
}

void CPUAttentionEmitter::emitVectorScores(Value batch, Value colBegin,
                                           Value cols, Value needMask) {
  // Regions evaluated on 8 queries at once (one key per row of S^T). Lanes
  // past Sq compute harmless values that are never stored; rows past Sk are
  // -inf, and evaluate the regions at key Sk - 1 instead: a region may index
  // a capture with j (isVectorizable admits reads at uniform indices), which
  // past Sk would read out of bounds.
  Value scale = splat(op.getScaleValue());
  Value log2e = splat(kLog2E);
  Value negInf = splat(-std::numeric_limits<double>::infinity());
  auto indexVec = VectorType::get({lanes}, b.getIndexType());
  SmallVector<Attribute> laneOffsets;
  for (int64_t lane = 0; lane < lanes; ++lane)
    laneOffsets.push_back(b.getIndexAttr(lane));
  Value iota = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(indexVec, laneOffsets));
  Block *mask = op.getMaskBlock();
  Block *score = op.getScoreBlock();
  Value lastKey =
      arith::SubIOp::create(b, loc, key->rowCount(batch), idx(1));
  forLoop(idx(0), idx(tileK), 1, [&](Value c) {
    Value j = arith::MinUIOp::create(b, loc, add(colBegin, c), lastKey);
    Value inside = lessThan(c, cols);
    forQueries(lanes, [&](Value r) {
      // Packed heads: each lane's head and position from the row map.
      Value i = packHeads
                    ? vector::LoadOp::create(b, loc, indexVec, rowPositions,
                                             ValueRange{r})
                          .getResult()
                    : arith::AddIOp::create(
                          b, loc,
                          vector::BroadcastOp::create(b, loc, indexVec,
                                                      add(tileRowBegin, r)),
                          iota)
                          .getResult();
      Value head = packHeads ? vector::LoadOp::create(b, loc, indexVec,
                                                      rowHeads, ValueRange{r})
                                   .getResult()
                             : tileHead;
      Value s = vector::LoadOp::create(b, loc, vecType, sTile, ValueRange{c, r});
      s = arith::MulFOp::create(b, loc, s, scale);
      if (score)
        s = vectorizeRegion(score, s, {batch, head, i, j});
      Value t = arith::MulFOp::create(b, loc, s, log2e);
      Value keep = vector::BroadcastOp::create(
          b, loc, VectorType::get({lanes}, b.getI1Type()), inside);
      if (mask) {
        auto maskIf = scf::IfOp::create(
            b, loc, needMask,
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(
                  b, loc,
                  arith::AndIOp::create(
                      b, loc, keep,
                      vectorizeRegion(mask, Value(), {batch, head, i, j}))
                      .getResult());
            },
            [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, keep); });
        keep = maskIf.getResult(0);
      }
      vector::StoreOp::create(b, loc,
                              arith::SelectOp::create(b, loc, keep, t, negInf),
                              sTile, ValueRange{c, r});
    });
  });
}

void CPUAttentionEmitter::emitElementScores(Value batch, Value rows,
                                            Value colBegin, Value cols,
                                            Value needMask) {
  // Partial tiles and score regions: one element at a time, the mask first
  // (where needed), the score only where the mask holds, and -inf outside
  // the sequences.
  Value scale = f32Const(op.getScaleValue());
  Value log2e = f32Const(kLog2E);
  Value negInf = f32Const(-std::numeric_limits<double>::infinity());
  Block *mask = op.getMaskBlock();
  Block *score = op.getScoreBlock();
  forQueries(1, [&](Value r) {
    Value rowInside = lessThan(r, rows);
    Value head = rowHead(r);
    Value i = rowPosition(r);
    forLoop(idx(0), idx(tileK), 1, [&](Value c) {
      Value inside = arith::AndIOp::create(b, loc, rowInside,
                                           lessThan(c, cols));
      Value j = add(colBegin, c);
      SmallVector<Value> indices{batch, head, i, j};
      auto keep = [&]() -> Value {
        if (!mask)
          return inside;
        // The mask may read captures at (i, j): evaluate it only inside.
        Value evaluate = arith::AndIOp::create(b, loc, inside, needMask);
        auto ifOp = scf::IfOp::create(
            b, loc, evaluate,
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(b, loc,
                                   inlineRegion(mask, Value(), indices));
            },
            [&](OpBuilder &, Location) {
              scf::YieldOp::create(b, loc, inside);
            });
        return ifOp.getResult(0);
      }();
      auto valueIf = scf::IfOp::create(
          b, loc, keep,
          [&](OpBuilder &, Location) {
            Value s = memref::LoadOp::create(b, loc, sTile, ValueRange{c, r});
            s = arith::MulFOp::create(b, loc, s, scale);
            if (score)
              s = inlineRegion(score, s, indices);
            scf::YieldOp::create(b, loc,
                                 arith::MulFOp::create(b, loc, s, log2e)
                                     .getResult());
          },
          [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, negInf); });
      memref::StoreOp::create(b, loc, valueIf.getResult(0), sTile,
                              ValueRange{c, r});
    });
  });
}

void CPUAttentionEmitter::emitSoftmaxUpdate() {
  // For lanes queries at a time (one per lane): m' = max(m, max_c T),
  // P = exp2(T - m'), l = l 2^(m - m') + sum_c P, and alpha = 2^(m - m') to
  // rescale O in the P.V kernel. The reductions over keys are elementwise
  // across the rows of S^T: no horizontal reductions. While a query has seen
  // only masked keys, m' = -inf: use 0 as the reference so that P = 0 and
  // alpha = 0 rather than NaN.
  Value negInf = splat(-std::numeric_limits<double>::infinity());
  forQueries(lanes, [&](Value r) {
    auto maxLoop = scf::ForOp::create(
        b, loc, idx(0), idx(tileK), idx(1), ValueRange{negInf},
        [&](OpBuilder &, Location, Value c, ValueRange acc) {
          Value t = vector::LoadOp::create(b, loc, vecType, sTile,
                                           ValueRange{c, r});
          scf::YieldOp::create(
              b, loc,
              arith::MaximumFOp::create(b, loc, acc[0], t).getResult());
        });
    Value oldMax = vector::LoadOp::create(b, loc, vecType, rowMax, r);
    Value newMax =
        arith::MaximumFOp::create(b, loc, oldMax, maxLoop.getResult(0));
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                        newMax, negInf);
    Value ref = arith::SelectOp::create(b, loc, empty, splat(0.0), newMax);
    Value alpha = exp2(arith::SubFOp::create(b, loc, oldMax, ref));
    auto sumLoop = scf::ForOp::create(
        b, loc, idx(0), idx(tileK), idx(1), ValueRange{splat(0.0)},
        [&](OpBuilder &, Location, Value c, ValueRange acc) {
          Value t = vector::LoadOp::create(b, loc, vecType, sTile,
                                           ValueRange{c, r});
          Value p = exp2(arith::SubFOp::create(b, loc, t, ref));
          vector::StoreOp::create(b, loc, p, sTile, ValueRange{c, r});
          scf::YieldOp::create(
              b, loc, arith::AddFOp::create(b, loc, acc[0], p).getResult());
        });
    Value oldSum = vector::LoadOp::create(b, loc, vecType, rowSum, r);
    Value newSum =
        vector::FMAOp::create(b, loc, oldSum, alpha, sumLoop.getResult(0));
    vector::StoreOp::create(b, loc, newSum, rowSum, r);
    vector::StoreOp::create(b, loc, newMax, rowMax, r);
    vector::StoreOp::create(b, loc, alpha, rowScale, r);
  });
}

void CPUAttentionEmitter::emitValueBlock(Value batch, Value kvHead,
                                         Value colBegin, Value cols, Value e,
                                         int64_t vectors) {
  // O[r][e..] = alpha[r] O[r][e..] + sum_c P[r][c] V[j0 + c][e..] for
  // `vectors` vectors of features at e, in register blocks of blockRows
  // rows, reading V in place.
  forQueries(blockRows, [&](Value r0) {
    SmallVector<Value> init;
    for (int64_t r = 0; r < blockRows; ++r) {
      Value row = add(r0, idx(r));
      Value alpha = vector::BroadcastOp::create(
          b, loc, vecType,
          memref::LoadOp::create(b, loc, rowScale, ValueRange{row}));
      for (int64_t v = 0; v < vectors; ++v) {
        Value o = vector::LoadOp::create(
            b, loc, vecType, oTile, ValueRange{row, add(e, idx(v * lanes))});
        init.push_back(arith::MulFOp::create(b, loc, o, alpha));
      }
    }
    auto loop = scf::ForOp::create(
        b, loc, idx(0), cols, idx(1), init,
        [&](OpBuilder &, Location, Value c, ValueRange acc) {
          Value col = add(colBegin, c);
          SmallVector<Value> values;
          for (int64_t v = 0; v < vectors; ++v) {
            values.push_back(value->loadVector(batch, kvHead, col,
                                               add(e, idx(v * lanes))));
          }
          SmallVector<Value> probs;
          for (int64_t r = 0; r < blockRows; ++r)
            probs.push_back(memref::LoadOp::create(
                b, loc, sTile, ValueRange{c, add(r0, idx(r))}));
          scf::YieldOp::create(b, loc, fmaStep(probs, values, acc));
        });
    for (int64_t r = 0; r < blockRows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        vector::StoreOp::create(
            b, loc, loop.getResult(r * vectors + v), oTile,
            ValueRange{add(r0, idx(r)), add(e, idx(v * lanes))});
  });
}

void CPUAttentionEmitter::emitValueProduct(Value batch, Value kvHead,
                                           Value colBegin, Value cols) {
  // Blocks of kBlockVectors vectors of features in a loop (the IR does not
  // grow with Dv), then one block of what is left (one vector), then the
  // Dv mod lanes features of the tail, transposed.
  int64_t fullVectors = valueDim / lanes;
  int64_t pairs = fullVectors / kBlockVectors;
  int64_t blockWidth = kBlockVectors * lanes;
  if (pairs)
    forLoop(idx(0), idx(pairs * blockWidth), blockWidth, [&](Value e) {
      emitValueBlock(batch, kvHead, colBegin, cols, e, kBlockVectors);
    });
  if (int64_t rest = fullVectors % kBlockVectors)
    emitValueBlock(batch, kvHead, colBegin, cols, idx(pairs * blockWidth),
                   rest);
  if (valueTail)
    emitTransposedTail(batch, kvHead, colBegin, cols);
}

void CPUAttentionEmitter::emitTransposedTail(Value batch, Value kvHead,
                                             Value colBegin, Value cols) {
  // O^T[f][r] = alpha[r] O^T[f][r] + sum_c V[j0 + c][e0 + f] P^T[c][r] for
  // the last features e0 + f of O, the score kernel's shape: queries in the
  // lanes, blocks of blockRows features x kBlockVectors query vectors, V
  // read in place (one broadcast per key and feature). A tail of t features
  // costs t FMAs per `lanes` scores, not a whole zero-padded vector per
  // score (D = 17 at 8 lanes: 1 instead of 8; as fast as the padded
  // vector even at t = lanes - 1, bench/RESULTS.md).
  int64_t first = valueDim - valueTail;
  forQueryBlocks([&](Value r0, int64_t vectors) {
    SmallVector<Value> alphas;
    for (int64_t v = 0; v < vectors; ++v)
      alphas.push_back(vector::LoadOp::create(b, loc, vecType, rowScale,
                                              add(r0, idx(v * lanes))));
    for (int64_t f0 = 0; f0 < valueTail; f0 += blockRows) {
      int64_t features = std::min(blockRows, valueTail - f0);
      SmallVector<Value> init;
      for (int64_t f = 0; f < features; ++f)
        for (int64_t v = 0; v < vectors; ++v) {
          Value o = vector::LoadOp::create(
              b, loc, vecType, oTailT,
              ValueRange{idx(f0 + f), add(r0, idx(v * lanes))});
          init.push_back(arith::MulFOp::create(b, loc, o, alphas[v]));
        }
      auto loop = scf::ForOp::create(
          b, loc, idx(0), cols, idx(1), init,
          [&](OpBuilder &, Location, Value c, ValueRange acc) {
            Value col = add(colBegin, c);
            SmallVector<Value> probs;
            for (int64_t v = 0; v < vectors; ++v)
              probs.push_back(vector::LoadOp::create(
                  b, loc, vecType, sTile,
                  ValueRange{c, add(r0, idx(v * lanes))}));
            SmallVector<Value> values;
            for (int64_t f = 0; f < features; ++f)
              values.push_back(value->loadScalar(batch, kvHead, col,
                                                 idx(first + f0 + f)));
            scf::YieldOp::create(b, loc, fmaStep(values, probs, acc));
          });
      for (int64_t f = 0; f < features; ++f)
        for (int64_t v = 0; v < vectors; ++v)
          vector::StoreOp::create(
              b, loc, loop.getResult(f * vectors + v), oTailT,
              ValueRange{idx(f0 + f), add(r0, idx(v * lanes))});
    }
  });
}

void CPUAttentionEmitter::emitEpilogue(Value batch, Value rows) {
  // O = O / l, 0 on fully masked rows (l = 0); lse = m ln 2 + ln l, -inf
  // there.
  Value zero = f32Const(0.0);
  forLoop(idx(0), rows, 1, [&](Value r) {
    Value head = rowHead(r);
    Value row = rowPosition(r);
    Value l = memref::LoadOp::create(b, loc, rowSum, ValueRange{r});
    Value empty =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l, zero);
    Value inv = arith::SelectOp::create(
        b, loc, empty, zero, arith::DivFOp::create(b, loc, f32Const(1.0), l));
    Value invVec = vector::BroadcastOp::create(b, loc, vecType, inv);
    if (valueDim >= lanes)
      forLoop(idx(0), idx(valueDim - valueTail), lanes, [&](Value e) {
        Value o =
            vector::LoadOp::create(b, loc, vecType, oTile, ValueRange{r, e});
        output->storeVector(arith::MulFOp::create(b, loc, o, invVec), batch,
                            head, row, e);
      });
    // The transposed tail, one feature at a time.
    for (int64_t f = 0; f < valueTail; ++f) {
      Value o = memref::LoadOp::create(b, loc, oTailT, ValueRange{idx(f), r});
      output->storeScalar(arith::MulFOp::create(b, loc, o, inv), batch, head,
                          row, idx(valueDim - valueTail + f));
    }
    if (lse) {
      Value m = memref::LoadOp::create(b, loc, rowMax, ValueRange{r});
      Value value = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, m, f32Const(kLn2)),
          math::LogOp::create(b, loc, l));
      value = arith::SelectOp::create(
          b, loc, empty, f32Const(-std::numeric_limits<double>::infinity()),
          value);
      lse->storeScalar(value, batch, head, row);
    }
  });
}

Value CPUAttentionEmitter::packedLength(Value batch) {
  Value first = loadIndex(b, loc, packOffsets, batch);
  Value end = loadIndex(b, loc, packOffsets, add(batch, idx(1)));
  return arith::SubIOp::create(b, loc, end, first);
}

void CPUAttentionEmitter::zeroUncoveredRows(Value buffer, Value total) {
  Value offsets = outputPack.getCuSeqlens();
  Value entries = tensor::DimOp::create(b, loc, offsets, 0);
  Value last = arith::SubIOp::create(b, loc, entries, idx(1));
  Value first = extractIndex(b, loc, offsets, idx(0));
  Value end = extractIndex(b, loc, offsets, last);
  RankedTensorType type = outputPack.getResult().getType();
  Value zero = arith::ConstantOp::create(
      b, loc, b.getZeroAttr(type.getElementType()));
  for (auto [begin, stop] : {std::make_pair(idx(0), first),
                             std::make_pair(end, total)})
    forLoop(begin, stop, 1, [&](Value row) {
      forLoop(idx(0), idx(type.getDimSize(1)), 1, [&](Value head) {
        forLoop(idx(0), idx(type.getDimSize(2)), 1, [&](Value feature) {
          memref::StoreOp::create(b, loc, zero, buffer,
                                  ValueRange{row, head, feature});
        });
      });
    });
}

Value CPUAttentionEmitter::rowHead(Value r) {
  if (!packHeads)
    return tileHead;
  return memref::LoadOp::create(b, loc, rowHeads, ValueRange{r});
}

Value CPUAttentionEmitter::rowPosition(Value r) {
  if (!packHeads)
    return add(tileRowBegin, r);
  return memref::LoadOp::create(b, loc, rowPositions, ValueRange{r});
}

void CPUAttentionEmitter::emitPackedRowMap(Value kvHead, Value rowBegin,
                                           Value rowLimit) {
  Value firstHead = mul(kvHead, idx(op.getGroupSize()));
  Value lastRow = arith::SubIOp::create(b, loc, rowLimit, idx(1));
  forLoop(idx(0), idx(tileQ), 1, [&](Value r) {
    Value row = arith::MinUIOp::create(b, loc, add(rowBegin, r), lastRow);
    Value head = add(firstHead, arith::DivUIOp::create(b, loc, row, seqQ));
    Value position = arith::RemUIOp::create(b, loc, row, seqQ);
    memref::StoreOp::create(b, loc, head, rowHeads, ValueRange{r});
    memref::StoreOp::create(b, loc, position, rowPositions, ValueRange{r});
  });
}

TileClassValues CPUAttentionEmitter::emitPackedTileClass(
    Value batch, Value firstHead, Value lastHead, Value firstPos,
    Value lastPos, Value colBegin, Value lastCol) {
  Value yes = arith::ConstantIntOp::create(b, loc, 1, 1);
  auto loop = scf::ForOp::create(
      b, loc, firstHead, add(lastHead, idx(1)), idx(1), ValueRange{yes, yes},
      [&](OpBuilder &, Location, Value h, ValueRange acc) {
        TileClassValues one = emitTileClass(
            b, loc, op,
            ValueRange{batch, h, firstPos, lastPos, colBegin, lastCol},
            op.getCaptures());
        Value empty = arith::AndIOp::create(b, loc, acc[0], one.empty);
        Value full = arith::AndIOp::create(b, loc, acc[1], one.full);
        scf::YieldOp::create(b, loc, ValueRange{empty, full});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

void CPUAttentionEmitter::emitKeyTile(Value batch, Value kvHead, Value rows,
                                      Value colBegin, Value cols,
                                      Value classifiedFull) {
  if (key->isStaged())
    key->stage(batch, kvHead, colBegin);
  emitScores(batch, kvHead, colBegin);

  // A tile needs the mask unless it is classified full; one that crosses
  // Sk needs the element path for the bound.
  Value needMask =
      arith::XOrIOp::create(b, loc, classifiedFull,
                            arith::ConstantIntOp::create(b, loc, 1, 1));
  Value whole = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      cols, idx(tileK));
  // Scores: one multiply on full tiles without a score region; the
  // regions on 8 queries at once where they vectorise; else per element.
  bool vectorRegions =
      (!op.getMaskBlock() || isVectorizable(op.getMaskBlock(), packHeads)) &&
      (!op.getScoreBlock() || isVectorizable(op.getScoreBlock(), packHeads));
  auto emitMasked = [&]() {
    if (vectorRegions)
      emitVectorScores(batch, colBegin, cols, needMask);
    else
      emitElementScores(batch, rows, colBegin, cols, needMask);
  };
  if (op.getScoreBlock()) {
    emitMasked();
  } else {
    Value fast = arith::AndIOp::create(b, loc, classifiedFull, whole);
    scf::IfOp::create(
        b, loc, fast,
        [&](OpBuilder &, Location) {
          emitVectorScale();
          scf::YieldOp::create(b, loc);
        },
        [&](OpBuilder &, Location) {
          emitMasked();
          scf::YieldOp::create(b, loc);
        });
  }
  emitSoftmaxUpdate();
  if (value->isStaged())
    value->stage(batch, kvHead, colBegin);
  emitValueProduct(batch, kvHead, colBegin, cols);
}

void CPUAttentionEmitter::emitTile(ValueRange ivs) {
  // ivs[1] is the query head, or with packed heads the K/V head.
  Value batch = ivs[0], head = packHeads ? Value() : ivs[1];
  // Visit query tiles in zig-zag order (0, n-1, 1, n-2, ...): the threads'
  // contiguous chunks of iterations then get equal work under causal-like
  // masks, where later query tiles see more keys.
  Value t = ivs[2];
  Value half = arith::DivUIOp::create(b, loc, t, idx(2));
  Value odd = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, t, idx(2)), idx(1));
  Value qTileIndex = arith::SelectOp::create(
      b, loc, odd,
      arith::SubIOp::create(b, loc,
                            arith::SubIOp::create(b, loc, numQTiles, idx(1)),
                            half),
      half);
  Value kvHead = packHeads ? ivs[1]
                           : arith::DivUIOp::create(b, loc, head,
                                                    idx(op.getGroupSize()))
                                 .getResult();
  Value rowBegin = mul(qTileIndex, idx(tileQ));
  // With O stored packed, only the rows the pack keeps are computed: a
  // query tile wholly past its sequence's length is skipped.
  Value rowLimit = query->rowCount(batch);
  if (packHeads)
    rowLimit = mul(rowLimit, idx(op.getGroupSize()));
  std::optional<OpBuilder::InsertionGuard> insideSequence;
  if (outputPack) {
    rowLimit = packedLength(batch);
    auto inside = scf::IfOp::create(b, loc, lessThan(rowBegin, rowLimit),
                                    /*withElseRegion=*/false);
    insideSequence.emplace(b);
    b.setInsertionPointToStart(&inside.getThenRegion().front());
  }
  Value rows = arith::MinUIOp::create(
      b, loc, idx(tileQ), arith::SubIOp::create(b, loc, rowLimit, rowBegin));
  // The query loops run over the rows rounded up to a vector of queries,
  // not the whole tile: a short last tile (decode: one row per head) costs
  // a vector, not tileQ rows.
  queryExtent =
      mul(arith::CeilDivUIOp::create(b, loc, rows, idx(lanes)).getResult(),
          idx(lanes));

  qTile = scratch({headDim, tileQ});
  sTile = scratch({tileK, tileQ});
  int64_t vectorFeatures = valueDim - valueTail;
  if (vectorFeatures)
    oTile = scratch({tileQ, vectorFeatures});
  if (valueTail)
    oTailT = scratch({valueTail, tileQ});
  rowMax = scratch({tileQ});
  rowSum = scratch({tileQ});
  rowScale = scratch({tileQ});
  tileHead = head;
  tileRowBegin = rowBegin;
  if (packHeads) {
    rowHeads = scratch({tileQ}, b.getIndexType());
    rowPositions = scratch({tileQ}, b.getIndexType());
    emitPackedRowMap(kvHead, rowBegin, rowLimit);
  }

  auto stackBuffer = [&](ArrayRef<int64_t> shape, Type element) {
    return scratch(shape, element);
  };
  query->prepareStaging(stackBuffer, tileQ);
  key->prepareStaging(stackBuffer, tileK);
  value->prepareStaging(stackBuffer, tileK);
  if (query->isStaged())
    query->stage(batch, head, rowBegin);
  packQuery(batch, rows);
  forQueries(1, [&](Value r) {
    memref::StoreOp::create(
        b, loc, f32Const(-std::numeric_limits<double>::infinity()), rowMax,
        ValueRange{r});
    memref::StoreOp::create(b, loc, f32Const(0.0), rowSum, ValueRange{r});
    if (vectorFeatures)
      forLoop(idx(0), idx(vectorFeatures), lanes, [&](Value e) {
        vector::StoreOp::create(b, loc, splat(0.0), oTile, ValueRange{r, e});
      });
  });
  if (valueTail)
    forLoop(idx(0), idx(valueTail), 1, [&](Value f) {
      forQueries(lanes, [&](Value r) {
        vector::StoreOp::create(b, loc, splat(0.0), oTailT, ValueRange{f, r});
      });
    });

  Value keys = key->rowCount(batch);
  // The tile's query positions [firstPos, lastPos] and heads [firstHead,
  // lastHead]: with packed heads, a tile across two heads holds positions
  // from the first head's end and the next one's start, so [0, Sq - 1].
  Value lastRowIndex = arith::SubIOp::create(b, loc, rows, idx(1));
  Value firstPos = rowBegin;
  Value lastPos = add(rowBegin, lastRowIndex);
  Value firstHead = head, lastHead = head;
  if (packHeads) {
    firstHead = rowHead(idx(0));
    lastHead = rowHead(lastRowIndex);
    Value oneHead = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          firstHead, lastHead);
    Value first = rowPosition(idx(0));
    Value last = rowPosition(lastRowIndex);
    Value lastOfHead = arith::SubIOp::create(b, loc, seqQ, idx(1));
    firstPos = arith::SelectOp::create(b, loc, oneHead, first, idx(0));
    lastPos = arith::SelectOp::create(b, loc, oneHead, last, lastOfHead);
  }
  Value positions =
      add(arith::SubIOp::create(b, loc, lastPos, firstPos), idx(1));
  KeyTileRanges ranges =
      emitKeyTileRanges(b, loc, op, firstPos, positions, keys, tileK);
  forLoop(ranges.begin, ranges.end, 1, [&](Value kt) {
    Value colBegin = mul(kt, idx(tileK));
    Value cols = arith::MinUIOp::create(
        b, loc, idx(tileK), arith::SubIOp::create(b, loc, keys, colBegin));
    // The tile classifier (attn-sparsify) on this tile's box of (b, h, i, j):
    // empty tiles are skipped, full ones skip the mask.
    Value lastCol = add(colBegin, arith::SubIOp::create(b, loc, cols, idx(1)));
    TileClassValues tileClass =
        packHeads ? emitPackedTileClass(batch, firstHead, lastHead, firstPos,
                                        lastPos, colBegin, lastCol)
                  : emitTileClass(b, loc, op,
                                  ValueRange{batch, head, firstPos, lastPos,
                                             colBegin, lastCol},
                                  op.getCaptures());
    Value visit = arith::XOrIOp::create(
        b, loc, tileClass.empty, arith::ConstantIntOp::create(b, loc, 1, 1));
    scf::IfOp::create(b, loc, visit, [&](OpBuilder &, Location) {
      // One op per statement: argument evaluation order is unspecified.
      Value pastFullBegin = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::uge, kt, ranges.fullBegin);
      Value beforeFullEnd = lessThan(kt, ranges.fullEnd);
      Value inFullRange =
          arith::AndIOp::create(b, loc, pastFullBegin, beforeFullEnd);
      Value classifiedFull =
          arith::OrIOp::create(b, loc, tileClass.full, inFullRange);
      emitKeyTile(batch, kvHead, rows, colBegin, cols, classifiedFull);
      scf::YieldOp::create(b, loc);
    });
  });
  emitEpilogue(batch, rows);
}

SmallVector<Value> CPUAttentionEmitter::emit() {
  emitShapeChecks(b, op);
  // Fused producers (OperandRows.h): a query or key from attn.rope is read
  // from the rope's input and rotated as it is staged; a key or value from
  // tensor.concat along the sequence is staged from the concat's inputs.
  // None when the plan materialises them (their staged rows would not fit
  // the stack).
  RopeOp queryRope, keyRope;
  tensor::ConcatOp keyConcat, valueConcat;
  attn::GatherPagesOp keyPages, valuePages;
  attn::UnpackOp queryUnpack, keyUnpack, valueUnpack;
  attn::PermuteOp queryPermute, keyPermute, valuePermute;
  if (fuseProducers) {
    queryPermute = fusedPermute(op, Operand::Query);
    keyPermute = fusedPermute(op, Operand::Key);
    valuePermute = fusedPermute(op, Operand::Value);
    std::tie(outputUnpermute, lseUnpermute) = fusedUnpermute(op);
    queryRope = fusedRope(op, Operand::Query);
    keyRope = fusedRope(op, Operand::Key);
    keyConcat = fusedConcat(op, Operand::Key);
    valueConcat = fusedConcat(op, Operand::Value);
    keyPages = fusedPages(op, Operand::Key);
    valuePages = fusedPages(op, Operand::Value);
    queryUnpack = fusedUnpack(op, Operand::Query);
    keyUnpack = fusedUnpack(op, Operand::Key);
    valueUnpack = fusedUnpack(op, Operand::Value);
  }
  // A permuted operand is read from the permute's input, in its order.
  auto unpermuted = [](Value tensor, attn::PermuteOp permute) {
    return permute ? permute.getInput() : tensor;
  };
  Value queryTensor = queryRope ? queryRope.getInput()
                                : unpermuted(op.getQuery(), queryPermute);
  Value keyTensor =
      keyRope ? keyRope.getInput() : unpermuted(op.getKey(), keyPermute);
  // A concatenated operand reads its first input through `buffer`, a paged
  // one its cache, an unpacked one the packed tensor.
  auto source = [&](Value tensor, tensor::ConcatOp concat,
                    attn::GatherPagesOp pages, attn::UnpackOp unpack) -> Value {
    if (concat)
      return concat.getInputs().front();
    if (unpack)
      return unpack.getPacked();
    return pages ? pages.getCache() : tensor;
  };
  Value queryBuffer =
      readOnlyBuffer(b, loc, source(queryTensor, {}, {}, queryUnpack));
  Value keyBuffer = readOnlyBuffer(
      b, loc, source(keyTensor, keyConcat, keyPages, keyUnpack));
  Value valueBuffer =
      readOnlyBuffer(b, loc,
                     source(unpermuted(op.getValue(), valuePermute),
                            valueConcat, valuePages, valueUnpack));
  for (Value capture : op.getCaptures())
    captureBuffers.push_back(isa<RankedTensorType>(capture.getType())
                                 ? readOnlyBuffer(b, loc, capture)
                                 : Value());
  // The padded rows of an unpacked operand, after the checks of its
  // offsets, which the staging then trusts.
  auto unpackedRows = [&](attn::UnpackOp unpack) -> Value {
    attn::emitUnpackChecks(b, unpack);
    return attn::getUnpackedLength(b, unpack);
  };
  Value batchSize = tensor::DimOp::create(b, loc, queryTensor, dims.batch);
  seqQ = queryUnpack ? unpackedRows(queryUnpack)
                     : tensor::DimOp::create(b, loc, queryTensor, dims.seq);
  // The inputs of a concatenation, their first rows, and the row count.
  auto concatSources = [&](tensor::ConcatOp concat,
                           SmallVector<Value> &buffers,
                           SmallVector<Value> &starts) -> Value {
    Value rows = idx(0);
    for (Value input : concat.getInputs()) {
      buffers.push_back(readOnlyBuffer(b, loc, input));
      starts.push_back(rows);
      rows = add(rows, tensor::DimOp::create(b, loc, input, dims.seq));
    }
    return rows;
  };
  // The rows of a paged operand: pages x page size, after the checks of
  // its table and lengths, which the staging then trusts (once for K and V
  // of one table and lengths over caches of the same static page count).
  auto pagedRows = [&](attn::GatherPagesOp pages) -> Value {
    auto pageCount = [](attn::GatherPagesOp p) {
      return p.getCache().getType().getDimSize(p.getCacheDims().batch);
    };
    if (!keyPages || pages == keyPages ||
        pages.getBlockTable() != keyPages.getBlockTable() ||
        pages.getSeqLens() != keyPages.getSeqLens() ||
        ShapedType::isDynamic(pageCount(pages)) ||
        pageCount(pages) != pageCount(keyPages))
      attn::emitGatherPagesChecks(b, pages);
    Value count = tensor::DimOp::create(b, loc, pages.getBlockTable(), 1);
    return mul(count, idx(pages.getPageSize()));
  };
  SmallVector<Value> keyBuffers, keyStarts, valueBuffers, valueStarts;
  seqK = keyConcat    ? concatSources(keyConcat, keyBuffers, keyStarts)
         : keyPages   ? pagedRows(keyPages)
         : keyUnpack  ? unpackedRows(keyUnpack)
                      : tensor::DimOp::create(b, loc, keyTensor, dims.seq);
  Value seqV = valueConcat
                   ? concatSources(valueConcat, valueBuffers, valueStarts)
               : valuePages && valuePages != keyPages ? pagedRows(valuePages)
               : valueUnpack && valueUnpack != keyUnpack
                   ? unpackedRows(valueUnpack)
                   : seqK;
  if (valueConcat || valuePages || valueUnpack)
    cf::AssertOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, seqK, seqV),
        "attn.attention: key and value sequence lengths do not match");
  query.emplace(b, loc, queryBuffer, dims, seqQ, lanes);
  key.emplace(b, loc, keyBuffer, dims, seqK, lanes);
  value.emplace(b, loc, valueBuffer, dims, seqK, lanes);
  if (keyConcat)
    key->setSources(keyBuffers, keyStarts);
  if (valueConcat)
    value->setSources(valueBuffers, valueStarts);
  for (auto [pages, rows] : {std::make_pair(keyPages, &key),
                             std::make_pair(valuePages, &value)})
    if (pages)
      (*rows)->setPages(readOnlyBuffer(b, loc, pages.getBlockTable()),
                        readOnlyBuffer(b, loc, pages.getSeqLens()),
                        pages.getCacheDims(), pages.getPageSize());
  for (auto [unpack, rows] : {std::make_pair(queryUnpack, &query),
                              std::make_pair(keyUnpack, &key),
                              std::make_pair(valueUnpack, &value)})
    if (unpack)
      (*rows)->setPacked(readOnlyBuffer(b, loc, unpack.getCuSeqlens()));
  // The orders of the permuted operands: rows of attn.sort_ids
  // (permutations), checked against the operand's sizes as attn.permute
  // would be.
  for (auto [permute, rows] :
       {std::make_pair(queryPermute, &query), std::make_pair(keyPermute, &key),
        std::make_pair(valuePermute, &value)})
    if (permute)
      setRowOrder(permute, **rows, permute.getInput(), dims);
  for (auto [rope, rows] : {std::make_pair(queryRope, &query),
                            std::make_pair(keyRope, &key)}) {
    if (!rope)
      continue;
    emitRopeShapeChecks(b, rope);
    auto bufferOf = [&](Value tensor) {
      return tensor ? readOnlyBuffer(b, loc, tensor) : Value();
    };
    (*rows)->setRotary(rope, bufferOf(rope.getPositions()), rope.getOffset(),
                       bufferOf(rope.getFreqScales()));
  }

  auto dynamicSizesOf = [&](Value result) {
    auto type = cast<RankedTensorType>(result.getType());
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d))
        continue;
      // The output's dynamic dims are batch and Sq; lse is [B, Hq, Sq].
      bool isSeq = result == op.getLse() ? d == 2 : d == dims.seq;
      dynamicSizes.push_back(isSeq ? seqQ : batchSize);
    }
    return dynamicSizes;
  };
  auto alloc = [&](RankedTensorType type, ValueRange dynamicSizes) -> Value {
    return memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()),
        dynamicSizes, b.getI64IntegerAttr(64));
  };
  auto allocResult = [&](Value result) -> Value {
    return alloc(cast<RankedTensorType>(result.getType()),
                 dynamicSizesOf(result));
  };
  // O's rows go straight to their packed place when an attn.pack is its
  // only reader (docs/Varlen.md): the padded O never exists.
  outputPack = fusedPack(op);
  Value outputBuffer;
  if (outputPack) {
    Value total = attn::getPackedRows(b, outputPack);
    attn::emitPackChecks(b, outputPack, total, seqQ, batchSize);
    RankedTensorType type = outputPack.getResult().getType();
    outputBuffer = alloc(type, type.isDynamicDim(0) ? ValueRange{total}
                                                    : ValueRange{});
    packOffsets = readOnlyBuffer(b, loc, outputPack.getCuSeqlens());
    output.emplace(b, loc, outputBuffer, dims, seqQ, lanes);
    output->setPacked(packOffsets);
    zeroUncoveredRows(outputBuffer, total);
  } else {
    outputBuffer = allocResult(op.getOutput());
    output.emplace(b, loc, outputBuffer, dims, seqQ, lanes);
    // O's rows (and lse's) straight to their original places when an
    // inverse attn.permute reads them (attn-cluster's un-permute).
    setRowOrder(outputUnpermute, *output, queryTensor, dims);
  }
  Value lseBuffer;
  if (op.getLse()) {
    lseBuffer = allocResult(op.getLse());
    lse.emplace(b, loc, lseBuffer, seqQ, lanes);
    setRowOrder(lseUnpermute, *lse, queryTensor, dims);
  }

  // GQA: a tile holds rows of all g query heads of a K/V head, which then
  // share the vector lanes of a short Sq (decode) and each K/V tile's
  // reads. Not with a staged Q (its stage reads rows of one head) or a
  // fused pack (its rows end per sequence).
  int64_t group = op.getGroupSize();
  packHeads = group > 1 && !query->isStaged() && !outputPack;
  Value queryRows = packHeads ? mul(seqQ, idx(group)) : seqQ;
  numQTiles = arith::CeilDivUIOp::create(b, loc, queryRows, idx(tileQ));
  int64_t heads = op.getNumQueryHeads() / (packHeads ? group : 1);
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0), idx(0), idx(0)},
      ValueRange{batchSize, idx(heads), numQTiles},
      ValueRange{idx(1), idx(1), idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        // Scratch tiles live on the stack of the thread for one iteration.
        auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
        Block *body = b.createBlock(&scope.getBodyRegion());
        b.setInsertionPointToStart(body);
        emitTile(ivs);
        memref::AllocaScopeReturnOp::create(b, loc, ValueRange{});
        b.setInsertionPointAfter(scope);
      });

  SmallVector<Value> results, buffers{outputBuffer, lseBuffer};
  for (auto [result, buffer] : llvm::zip(op.getResults(), buffers)) {
    if (result == op.getOutput() && outputPack) {
      // The pack's result; the padded O, read by nothing, is a placeholder.
      packedOutput = bufferization::ToTensorOp::create(
          b, loc, outputPack.getResult().getType(), buffer, /*restrict=*/true,
          /*writable=*/true);
      results.push_back(tensor::EmptyOp::create(
          b, loc, cast<RankedTensorType>(result.getType()),
          dynamicSizesOf(result)));
      continue;
    }
    results.push_back(bufferization::ToTensorOp::create(
        b, loc, result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  }
  return results;
}

/// Erases a fused producer (attn.rope, tensor.concat, attn.gather_pages,
/// attn.unpack) that nothing reads but for its sizes (the run-time shape
/// checks), which are computed from its inputs instead. One that something
/// else reads is kept and materialised.
static void eraseIfOnlySized(RewriterBase &rewriter, Operation *producer) {
  Value result = producer->getResult(0);
  for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
    auto dim = dyn_cast<tensor::DimOp>(use.getOwner());
    std::optional<int64_t> index = dim ? dim.getConstantIndex() : std::nullopt;
    if (!index)
      continue;
    rewriter.setInsertionPoint(dim);
    Value size;
    if (isa<RopeOp, PermuteOp>(producer)) {
      // The input's shape (its first operand).
      size = tensor::DimOp::create(rewriter, dim.getLoc(),
                                   producer->getOperand(0), *index);
    } else if (auto unpack = dyn_cast<UnpackOp>(producer)) {
      LayoutDims dims = unpack.getLayoutDims();
      Location l = dim.getLoc();
      if (*index == int64_t(dims.batch)) {
        Value entries =
            tensor::DimOp::create(rewriter, l, unpack.getCuSeqlens(), 0);
        Value one = arith::ConstantIndexOp::create(rewriter, l, 1);
        size = arith::SubIOp::create(rewriter, l, entries, one);
      }
      else if (*index == int64_t(dims.seq))
        size = getUnpackedLength(rewriter, unpack);
      else
        size = tensor::DimOp::create(rewriter, l, unpack.getPacked(),
                                     *index == int64_t(dims.head) ? 1 : 2);
    } else if (auto pages = dyn_cast<GatherPagesOp>(producer)) {
      LayoutDims dims = pages.getLayoutDims(), cache = pages.getCacheDims();
      Location l = dim.getLoc();
      if (*index == int64_t(dims.batch))
        size = tensor::DimOp::create(rewriter, l, pages.getBlockTable(), 0);
      else if (*index == int64_t(dims.seq)) {
        Value count =
            tensor::DimOp::create(rewriter, l, pages.getBlockTable(), 1);
        Value pageSize =
            arith::ConstantIndexOp::create(rewriter, l, pages.getPageSize());
        size = arith::MulIOp::create(rewriter, l, count, pageSize);
      }
      else
        size = tensor::DimOp::create(
            rewriter, l, pages.getCache(),
            *index == int64_t(dims.head) ? cache.head : cache.feature);
    } else {
      auto concat = cast<tensor::ConcatOp>(producer);
      ValueRange inputs = concat.getInputs();
      size = tensor::DimOp::create(rewriter, dim.getLoc(), inputs.front(),
                                   *index);
      if (*index == int64_t(concat.getDim()))
        for (Value input : inputs.drop_front())
          size = arith::AddIOp::create(
              rewriter, dim.getLoc(), size,
              tensor::DimOp::create(rewriter, dim.getLoc(), input, *index));
    }
    rewriter.replaceOp(dim, size);
  }
  if (result.use_empty())
    rewriter.eraseOp(producer);
}

namespace {
struct ConvertAttnToCPU
    : attune::cpu::impl::ConvertAttnToCPUBase<ConvertAttnToCPU> {
  using Base::Base;
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    static constexpr attune::OptionSpec specs[] = {
        {"tile-q", attune::OptionKind::Integer},
        {"tile-k", attune::OptionKind::Integer},
        {"vector-width", attune::OptionKind::Integer}};
    return attune::initializeCheckedOptions(
        getArgument(), options, specs, errorHandler,
        [&] { return Base::initializeOptions(options, errorHandler); });
  }
  void runOnOperation() override {
    int64_t vectorWidth = this->vectorWidth;
    if (vectorWidth != 8 && vectorWidth != 16) {
      emitError(getOperation()->getLoc())
          << "convert-attn-to-cpu: vector-width must be 8 (AVX2) or 16 "
             "(AVX-512), got "
          << vectorWidth;
      return signalPassFailure();
    }
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (AttentionOp op : ops) {
      // The tile sizes attn-tile chose, else this pass's options.
      FailureOr<KernelPlan> plan =
          KernelPlan::get(op, this->tileQ, this->tileK, vectorWidth);
      if (failed(plan))
        return signalPassFailure();
      rewriter.setInsertionPoint(op);
      // Fused producers, consumers first (a rope may read a concat), each
      // once (Q and K may be one rope, K and V one concat).
      llvm::SetVector<Operation *> producers;
      if (plan->fuseProducers) {
        for (Operand which : {Operand::Query, Operand::Key})
          if (RopeOp rope = fusedRope(op, which))
            producers.insert(rope);
        for (Operand which : {Operand::Query, Operand::Key, Operand::Value}) {
          if (UnpackOp unpack = fusedUnpack(op, which))
            producers.insert(unpack);
          if (PermuteOp permute = fusedPermute(op, which))
            producers.insert(permute);
        }
        for (Operand which : {Operand::Key, Operand::Value}) {
          if (tensor::ConcatOp concat = fusedConcat(op, which))
            producers.insert(concat);
          if (GatherPagesOp pages = fusedPages(op, which))
            producers.insert(pages);
        }
      }
      CPUAttentionEmitter emitter(rewriter, op, *plan);
      rewriter.replaceOp(op, emitter.emit());
      if (PackOp pack = emitter.getFusedPack())
        rewriter.replaceOp(pack, emitter.getPackedOutput());
      auto [outputUnpermute, lseUnpermute] = emitter.getFusedUnpermutes();
      for (attn::PermuteOp unpermute : {outputUnpermute, lseUnpermute})
        if (unpermute)
          rewriter.replaceOp(unpermute, unpermute.getInput());
      for (Operation *producer : producers)
        eraseIfOnlySized(rewriter, producer);
    }
    // Vectorised score regions use math functions (tanh for soft-capping,
    // erf, ...) that LLVM would otherwise scalarise into libm calls per
    // lane: expand them into polynomials that stay vectors.
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          name.consume_front("math.");
          return llvm::is_contained({"tanh", "erf", "erfc", "atan", "atan2",
                                     "log", "log2", "log1p", "exp", "expm1",
                                     "sin", "cos"},
                                    name);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
