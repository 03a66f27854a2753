//===- ForwardSteps.cpp - One k-tile of the attention kernels ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The body of one visited k-tile, step by step, as the CPU kernel splits
// it: S = Q K^T (mma.sync or wgmma), the scores (the raw products on full
// tiles inside Sk without a score region, else the score and mask regions
// per fragment element), the online softmax update on the accumulator
// fragments, and O += P V.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include <cmath>
#include <limits>
#include <tuple>

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

Value KernelEmitter::fragmentRow(int64_t mt) {
  return add(rowBegin, add(mul(warp, idx(16 * mTiles)),
                           add(idx(16 * mt), divu(lane, 4))));
}

SmallVector<Value> KernelEmitter::emitKeyTile(Value kt, Value buffer,
                                              Value tileClass, ValueRange state,
                                              ScorePath path) {
  int64_t perTile = tileK / 8 * 4;
  Value colBegin = mul(kt, idx(tileK));
  Value kOffset = keyBuffer(buffer);
  Value vOffset = valueBuffer(buffer);

  SmallVector<Value> s = emitQueryKey(kOffset);
  std::pair<Value, Value> scaled = emitScores(s, colBegin, tileClass, path);
  Value factor = scaled.second;
  SmallVector<Value> t;
  for (int64_t k = 0; k < mTiles * perTile; ++k)
    t.push_back(
        vector::ExtractOp::create(b, loc, scaled.first, ArrayRef<int64_t>{k}));
  SmallVector<Value> result = emitSoftmaxUpdate(t, factor, state, path);
  SmallVector<Value> o(
      ArrayRef<Value>(result).take_front(mTiles * valueTiles * 4));
  emitValueProduct(t, vOffset, o);

  auto oType = VectorType::get({mTiles * valueTiles * 4}, b.getF32Type());
  SmallVector<Value> next{vector::FromElementsOp::create(b, loc, oType, o)};
  llvm::append_range(next, ArrayRef<Value>(result).drop_front(o.size()));
  return next;
}

SmallVector<Value> KernelEmitter::emitQueryKey(Value kOffset) {
  int64_t perTile = tileK / 8 * 4;
  // S = Q K^T for this warp's rows: per m-tile, scoreTiles accumulators of 4
  // (element mt * perTile + 4 nt + e).
  // f32 inputs: the products of the planes after the first apart in `sSmall`
  // (mmaPlanes), added at the end.
  SmallVector<Value> s(mTiles * perTile, f32(0.0)), sSmall;
  if (planes > 1)
    sSmall.assign(s.size(), f32(0.0));
  if (useWgmma)
    wgmmaQueryKey(kOffset, s);
  else
    syncQueryKey(kOffset, s, sSmall);
  for (auto [x, small] : llvm::zip(s, sSmall))
    x = fadd(small, x);
  return s;
}

std::pair<Value, Value> KernelEmitter::emitScores(ArrayRef<Value> s,
                                                  Value colBegin,
                                                  Value tileClass,
                                                  ScorePath path) {
  int64_t perTile = tileK / 8 * 4;
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
  Value isFull =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tileClass,
                            arith::ConstantIntOp::create(
                                b, loc, b.getI8Type(), AttentionOp::kTileFull));
  Value packed = vector::FromElementsOp::create(b, loc, vecType, s);
  // The element-wise path: (scores, factor).
  auto elementwise = [&]() {
    return emitElementwiseScores(s, colBegin, inside, isFull);
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
    Value fast =
        op.getScoreBlock()
            ? arith::ConstantIntOp::create(b, loc, 0, 1).getResult()
            : arith::AndIOp::create(b, loc, inside, isFull).getResult();
    auto branch = scf::IfOp::create(
        b, loc, fast,
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, loc, ValueRange{packed, f32(scale * log2e)});
        },
        [&](OpBuilder &, Location) {
          auto [scores, factor] = elementwise();
          scf::YieldOp::create(b, loc, ValueRange{scores, factor});
        });
    scaled = {branch.getResult(0), branch.getResult(1)};
    break;
  }
  }
  return scaled;
}

std::pair<Value, Value> KernelEmitter::emitElementwiseScores(ArrayRef<Value> s,
                                                             Value colBegin,
                                                             Value inside,
                                                             Value isFull) {
  int64_t scoreTiles = tileK / 8;
  int64_t perTile = scoreTiles * 4;
  double log2e = 1.0 / std::log(2.0);
  double scale = op.getScaleValue();
  auto vecType = VectorType::get({mTiles * perTile}, b.getF32Type());
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
      return use32 ? arith::IndexCastOp::create(b, loc, b.getI32Type(), x) : x;
    };
    auto widen = [&](Value x) -> Value {
      return use32 ? arith::IndexCastUIOp::create(b, loc, b.getIndexType(), x)
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
              widen(bounded ? arith::MinUIOp::create(b, loc, j, lastCol) : j);
          Value value = s[mt * perTile + nt * 4 + e];
          ElementOffset at{i0, j0, 16 * mt + (e / 2) * 8, nt * 8 + e % 2};
          if (Block *score = op.getScoreBlock()) {
            IRMapping mapping;
            Value scaled = fmul(value, f32(scale));
            allowContraction(scaled.getDefiningOp());
            mapping.map(AttentionOp::getScoreArg(score), scaled);
            mapRegionArguments(score, rowHead, iC, jC, mapping);
            value = inlineRegion(score, mapping, &at);
          }
          if (!bounded) {
            t.push_back(value);
            continue;
          }
          Value keep =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                    remaining, constant(nt * 8 + e % 2));
          if (Block *mask = op.getMaskBlock()) {
            IRMapping mapping;
            mapRegionArguments(mask, rowHead, iC, jC, mapping);
            Value attend = inlineRegion(mask, mapping, &at);
            // keep &= attend || !needMask
            Value notNeeded = arith::XOrIOp::create(
                b, loc, needMask, arith::ConstantIntOp::create(b, loc, 1, 1));
            keep = arith::AndIOp::create(
                b, loc, keep, arith::OrIOp::create(b, loc, attend, notNeeded));
          }
          t.push_back(select(keep, value,
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
}

SmallVector<Value> KernelEmitter::emitSoftmaxUpdate(MutableArrayRef<Value> t,
                                                    Value factor,
                                                    ValueRange state,
                                                    ScorePath path) {
  int64_t scoreTiles = tileK / 8;
  int64_t perTile = scoreTiles * 4, rowsPerThread = 2 * mTiles;
  // Online softmax per row r of the thread (m-tile r / 2, half r % 2: rows
  // lane/4 and lane/4 + 8).
  SmallVector<Value> o;
  for (int64_t k = 0; k < mTiles * valueTiles * 4; ++k)
    o.push_back(
        vector::ExtractOp::create(b, loc, state[0], ArrayRef<int64_t>{k}));
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
  SmallVector<Value> result(o);
  llvm::append_range(result, m);
  llvm::append_range(result, l);
  return result;
}

void KernelEmitter::emitValueProduct(ArrayRef<Value> t, Value vOffset,
                                     SmallVector<Value> &o) {
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
  if (useWgmma)
    wgmmaValueProduct(t, vOffset, o);
  else
    syncValueProduct(t, vOffset, pvAcc, pvSmall);
  for (auto [x, large, small] : llvm::zip(o, pv, pvSmall))
    x = fadd(x, fadd(small, large));
}
