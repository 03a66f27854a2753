//===- LowerLinearAttention.cpp - attn.linear_attention to linalg -*- C++
//-*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Kernelised attention (docs/LinearAttention.md) as linalg ops only, so that
// both targets run it as they run any linalg op. Every tensor is f32 and in
// the canonical [B, H, S, ...] order; the sums over keys and features are
// contractions (two f32 inputs, projected-permutation maps: the CUDA target
// runs them as tiled kernels), the feature maps elementwise ops:
//
//   non-causal  KV = phi(K)^T V [B, Hk, r, Dv], z = sum_j phi(K) [B, Hk, r];
//               num = phi(Q) KV, den = phi(Q) z (query heads grouped by key
//               head through an expand_shape: GQA without a gather);
//   causal      the keys in chunks of C rows (zero rows past Sk):
//               KVc, zc per chunk; their exclusive prefix over chunks P, Pz
//               (a contraction with the strictly lower triangle of ones);
//               the queries in the same chunks of the key positions
//               p = i + Sk - Sq they end at, so that query chunk c sees the
//               chunks before c through P[c] and its own chunk through the
//               masked C x C products (phi(Q_c) phi(K_c)^T) V_c.
//
// The last op divides, writes 0 for a row with no keys (a zero
// denominator) and rounds into the result's layout and element type.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>
#include <limits>

namespace attune::attn {
#define GEN_PASS_DEF_ATTNLOWERLINEARATTENTION
#include "attune/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace attune::attn

using namespace mlir;
using namespace attune::attn;

namespace {
using Body = function_ref<Value(OpBuilder &, Location, ValueRange)>;
using utils::IteratorType;

/// The linalg form of one attn.linear_attention, built before it.
class LinearLowering {
public:
  LinearLowering(OpBuilder &b, LinearAttentionOp op)
      : b(b), loc(op.getLoc()), op(op), ctx(op.getContext()),
        dims(op.getLayoutDims()), f32(b.getF32Type()) {
    auto qType = cast<RankedTensorType>(op.getQ().getType());
    auto kType = cast<RankedTensorType>(op.getK().getType());
    heads = qType.getDimSize(dims.head);
    kvHeads = kType.getDimSize(dims.head);
    features = op.getFeatureCount();
    valueSize =
        cast<RankedTensorType>(op.getV().getType()).getDimSize(dims.feature);
  }

  /// The op's value.
  Value lower();

private:
  OpBuilder &b;
  Location loc;
  LinearAttentionOp op;
  MLIRContext *ctx;
  LayoutDims dims;
  Type f32;
  int64_t heads, kvHeads, features, valueSize;
  Value sq, sk, diff; // Sq, Sk and Sk - Sq (index) where they are needed

  AffineExpr d(unsigned i) { return getAffineDimExpr(i, ctx); }
  AffineMap map(unsigned loops, ArrayRef<unsigned> results) {
    SmallVector<AffineExpr> exprs;
    for (unsigned r : results)
      exprs.push_back(d(r));
    return AffineMap::get(loops, 0, exprs, ctx);
  }
  AffineMap identity(unsigned loops) {
    return AffineMap::getMultiDimIdentityMap(loops, ctx);
  }
  /// Loops (b, h, s, f) of a 4-D operand in the op's layout.
  AffineMap layoutMap() {
    SmallVector<AffineExpr> exprs(4);
    exprs[dims.batch] = d(0);
    exprs[dims.head] = d(1);
    exprs[dims.seq] = d(2);
    exprs[dims.feature] = d(3);
    return AffineMap::get(4, 0, exprs, ctx);
  }
  static SmallVector<IteratorType> iterators(unsigned loops,
                                             ArrayRef<unsigned> reductions) {
    SmallVector<IteratorType> its(loops, IteratorType::parallel);
    for (unsigned r : reductions)
      its[r] = IteratorType::reduction;
    return its;
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32Constant(OpBuilder &nb, Location l, double v) {
    return arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(v));
  }
  Value zeros(ArrayRef<OpFoldResult> sizes) {
    return filledTensor(b, loc, sizes, b.getF32FloatAttr(0.0));
  }
  Value minusInfinity(ArrayRef<OpFoldResult> sizes) {
    return filledTensor(
        b, loc, sizes,
        b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  }
  Value empty(ArrayRef<OpFoldResult> sizes) {
    return tensor::EmptyOp::create(b, loc, sizes, f32);
  }
  OpFoldResult sizeOf(Value x, unsigned dim) {
    return tensor::getMixedSize(b, loc, x, dim);
  }

  /// One linalg.generic: `maps` are the inputs' then the init's.
  Value generic(ValueRange inputs, ArrayRef<AffineMap> maps, Value init,
                ArrayRef<IteratorType> its, Body body) {
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
               maps, its,
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l, body(nb, l, args));
               })
        .getResult(0);
  }
  /// init + sum lhs * rhs over the reduction loops.
  Value contract(Value lhs, AffineMap lhsMap, Value rhs, AffineMap rhsMap,
                 Value init, AffineMap outMap, ArrayRef<IteratorType> its) {
    return generic({lhs, rhs}, {lhsMap, rhsMap, outMap}, init, its,
                   [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                     Value product =
                         arith::MulFOp::create(nb, l, args[0], args[1]);
                     return arith::AddFOp::create(nb, l, args[2], product);
                   });
  }
  /// init + sum x over the reduction loops.
  Value sum(Value x, AffineMap xMap, Value init, AffineMap outMap,
            ArrayRef<IteratorType> its) {
    return generic({x}, {xMap, outMap}, init, its,
                   [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                     return arith::AddFOp::create(nb, l, args[1], args[0]);
                   });
  }
  /// The largest x over the reduction loops (NaN-propagating).
  Value maximum(Value x, AffineMap xMap, ArrayRef<OpFoldResult> sizes,
                AffineMap outMap, ArrayRef<IteratorType> its) {
    return generic({x}, {xMap, outMap}, minusInfinity(sizes), its,
                   [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                     return arith::MaximumFOp::create(nb, l, args[1], args[0]);
                   });
  }
  /// x's element as f32.
  static Value toF32(OpBuilder &nb, Location l, Value x) {
    if (x.getType().isF32())
      return x;
    return arith::ExtFOp::create(nb, l, nb.getF32Type(), x);
  }
  /// [B, Hx, S, F] sizes of a 4-D operand in the layout.
  SmallVector<OpFoldResult> canonicalSizes(Value x) {
    return {sizeOf(x, dims.batch), sizeOf(x, dims.head), sizeOf(x, dims.seq),
            sizeOf(x, dims.feature)};
  }
  /// `x` (in the layout) as f32 [B, Hx, S, F], times `factor`.
  Value canonical(Value x, double factor) {
    return generic({x}, {layoutMap(), identity(4)}, empty(canonicalSizes(x)),
                   iterators(4, {}),
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     Value v = toF32(nb, l, args[0]);
                     if (factor == 1.0)
                       return v;
                     return Value(arith::MulFOp::create(
                         nb, l, v, f32Constant(nb, l, factor)));
                   });
  }

  Value featureMap(Value x, bool query);
  /// Where a gathered row reads: (source row, whether it is one).
  using RowSource =
      function_ref<std::pair<Value, Value>(OpBuilder &, Location, Value)>;
  Value gatherRows(Value x, Value rows, bool layout, RowSource source);
  Value sliceRows(Value x, OpFoldResult offset, OpFoldResult size);
  Value nonCausal(Value phiQ, Value phiK, Value values, Value &den);
  Value causal(Value phiQ, Value phiK, Value &den, Value &firstRow);
  Value expandHeads(Value x, ArrayRef<OpFoldResult> rest, bool splitRows);
};
} // namespace

/// phi(x) as f32 [B, Hx, S, r] (docs/LinearAttention.md): elu + 1, or the
/// FAVOR+ features shifted by each query's largest exponent (queries) or
/// by the (b, head)'s largest (keys).
Value LinearLowering::featureMap(Value x, bool query) {
  SmallVector<OpFoldResult> sizes = canonicalSizes(x);
  if (op.getFeatureMap() == FeatureMap::elu)
    return generic(
        {x}, {layoutMap(), identity(4)}, empty(sizes), iterators(4, {}),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value v = toF32(nb, l, args[0]);
          Value zero = f32Constant(nb, l, 0.0);
          Value positive =
              arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, v, zero);
          Value plusOne =
              arith::AddFOp::create(nb, l, v, f32Constant(nb, l, 1.0));
          Value exp = math::ExpOp::create(nb, l, v);
          return Value(arith::SelectOp::create(nb, l, positive, plusOne, exp));
        });

  // x' = sqrt(scale) x; the exponents x' . w[:, f]: loops (b, h, s, f, d).
  Value scaled = canonical(x, std::sqrt(op.getFavorScale()));
  Value w = op.getFeatures();
  if (!cast<RankedTensorType>(w.getType()).getElementType().isF32())
    w = generic({w}, {identity(2), identity(2)},
                empty(tensor::getMixedSizes(b, loc, w)), iterators(2, {}),
                [](OpBuilder &nb, Location l, ValueRange args) {
                  return toF32(nb, l, args[0]);
                });
  SmallVector<OpFoldResult> projSizes(sizes);
  projSizes[3] = b.getIndexAttr(features);
  Value proj =
      contract(scaled, map(5, {0, 1, 2, 4}), w, map(5, {4, 3}),
               zeros(projSizes), map(5, {0, 1, 2, 3}), iterators(5, {4}));
  SmallVector<OpFoldResult> rowSizes(sizes.begin(), sizes.begin() + 3);
  AffineMap rows = map(4, {0, 1, 2});
  if (query) {
    // exp(e - max_f e): the per-query factors cancel.
    Value shift = maximum(proj, identity(4), rowSizes, rows, iterators(4, {3}));
    return generic({proj, shift}, {identity(4), rows, identity(4)},
                   empty(projSizes), iterators(4, {}),
                   [](OpBuilder &nb, Location l, ValueRange args) {
                     Value e = arith::SubFOp::create(nb, l, args[0], args[1]);
                     return Value(math::ExpOp::create(nb, l, e));
                   });
  }
  // Keys: e = x' . w - |x'|^2 / 2, shifted by the head's largest e (the
  // rows' maxima first, so that no loop runs over S x r).
  Value norms =
      generic({scaled}, {identity(4), rows}, zeros(rowSizes), iterators(4, {3}),
              [](OpBuilder &nb, Location l, ValueRange args) {
                Value sq = arith::MulFOp::create(nb, l, args[0], args[0]);
                return Value(arith::AddFOp::create(nb, l, args[1], sq));
              });
  auto exponent = [&](OpBuilder &nb, Location l, Value e, Value norm) {
    Value half = arith::MulFOp::create(nb, l, norm, f32Constant(nb, l, 0.5));
    return Value(arith::SubFOp::create(nb, l, e, half));
  };
  Value rowMax = generic(
      {proj, norms}, {identity(4), rows, rows}, minusInfinity(rowSizes),
      iterators(4, {3}), [&](OpBuilder &nb, Location l, ValueRange args) {
        return Value(arith::MaximumFOp::create(
            nb, l, args[2], exponent(nb, l, args[0], args[1])));
      });
  Value headMax = maximum(rowMax, identity(3), {sizes[0], sizes[1]},
                          map(3, {0, 1}), iterators(3, {2}));
  return generic({proj, norms, headMax},
                 {identity(4), rows, map(4, {0, 1}), identity(4)},
                 empty(projSizes), iterators(4, {}),
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value e = arith::SubFOp::create(
                       nb, l, exponent(nb, l, args[0], args[1]), args[2]);
                   return Value(math::ExpOp::create(nb, l, e));
                 });
}

/// `rows` rows ([B, Hx, rows, F], f32) read from `x` (canonical f32, or
/// with `layout` an operand in the op's layout): row t is x's row
/// `source(t).first` when `source(t).second`, else zero. A row that is
/// none reads row 0: a caller makes `rows` 0 when x has no row.
Value LinearLowering::gatherRows(Value x, Value rows, bool layout,
                                 RowSource source) {
  SmallVector<OpFoldResult> sizes =
      layout ? canonicalSizes(x) : tensor::getMixedSizes(b, loc, x);
  sizes[2] = rows;
  return generic(
      {}, {identity(4)}, empty(sizes), iterators(4, {}),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> loops;
        for (unsigned k = 0; k < 4; ++k)
          loops.push_back(linalg::IndexOp::create(nb, l, k));
        auto [row, valid] = source(nb, l, loops[2]);
        loops[2] = arith::SelectOp::create(
            nb, l, valid, row, arith::ConstantIndexOp::create(nb, l, 0));
        SmallVector<Value> at(loops);
        if (layout) {
          unsigned order[] = {dims.batch, dims.head, dims.seq, dims.feature};
          for (unsigned k = 0; k < 4; ++k)
            at[order[k]] = loops[k];
        }
        Value v = toF32(nb, l, tensor::ExtractOp::create(nb, l, x, at));
        return Value(
            arith::SelectOp::create(nb, l, valid, v, f32Constant(nb, l, 0.0)));
      });
}

/// Rows [offset, offset + size) of `x` (dimension 2), a view.
Value LinearLowering::sliceRows(Value x, OpFoldResult offset,
                                OpFoldResult size) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
      sizes = tensor::getMixedSizes(b, loc, x),
      strides(rank, b.getIndexAttr(1));
  offsets[2] = offset;
  sizes[2] = size;
  return tensor::ExtractSliceOp::create(b, loc, x, offsets, sizes, strides);
}

/// `x` ([B, H, rows, F]) as [B, Hk, H / Hk, rest...]: the query heads of
/// each key head together, and with `splitRows` the rows as (chunks, C).
Value LinearLowering::expandHeads(Value x, ArrayRef<OpFoldResult> rest,
                                  bool splitRows) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> shape{sizeOf(x, 0), b.getIndexAttr(kvHeads),
                                  b.getIndexAttr(heads / kvHeads)};
  shape.append(rest.begin(), rest.end());
  SmallVector<ReassociationIndices> groups{{0}, {1, 2}, {3}, {4}};
  if (splitRows)
    groups = {{0}, {1, 2}, {3, 4}, {5}};
  auto [staticShape, dynamic] = decomposeMixedValues(shape);
  (void)dynamic;
  auto resultType = RankedTensorType::get(staticShape, type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, resultType, x, groups, shape);
}

/// num [B, H, Sq, Dv] and `den` [B, H, Sq] over every key.
Value LinearLowering::nonCausal(Value phiQ, Value phiK, Value values,
                                Value &den) {
  OpFoldResult batch = sizeOf(phiK, 0), sq = sizeOf(phiQ, 2);
  OpFoldResult r = b.getIndexAttr(features), dv = b.getIndexAttr(valueSize);
  OpFoldResult hk = b.getIndexAttr(kvHeads);
  // KV[b, h, f, e] = sum_j phiK[j, f] v[j, e]: loops (b, h, f, e, j).
  Value kv = contract(phiK, map(5, {0, 1, 4, 2}), values, map(5, {0, 1, 4, 3}),
                      zeros({batch, hk, r, dv}), map(5, {0, 1, 2, 3}),
                      iterators(5, {4}));
  // z[b, h, f] = sum_j phiK[j, f]: loops (b, h, j, f).
  Value z = sum(phiK, identity(4), zeros({batch, hk, r}), map(4, {0, 1, 3}),
                iterators(4, {2}));
  Value grouped = expandHeads(phiQ, {sq, r}, /*splitRows=*/false);
  OpFoldResult g = b.getIndexAttr(heads / kvHeads);
  // Loops (b, hk, g, i, e, f) and (b, hk, g, i, f).
  Value num = contract(grouped, map(6, {0, 1, 2, 3, 5}), kv,
                       map(6, {0, 1, 5, 4}), zeros({batch, hk, g, sq, dv}),
                       map(6, {0, 1, 2, 3, 4}), iterators(6, {5}));
  Value dens = contract(grouped, identity(5), z, map(5, {0, 1, 4}),
                        zeros({batch, hk, g, sq}), map(5, {0, 1, 2, 3}),
                        iterators(5, {4}));
  den = tensor::CollapseShapeOp::create(
      b, loc, dens, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});
  return tensor::CollapseShapeOp::create(
      b, loc, num, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
}

/// The chunked causal form: num [B, H, rows, Dv] and `den` [B, H, rows]
/// with query i at row i + Sk - Sq - `firstRow` (set here) when that key
/// position is not negative.
Value LinearLowering::causal(Value phiQ, Value phiK, Value &den,
                             Value &firstRow) {
  int64_t chunk = op.getChunk();
  sq = getValueOrCreateConstantIndexOp(b, loc, sizeOf(phiQ, 2));
  sk = getValueOrCreateConstantIndexOp(b, loc, sizeOf(phiK, 2));
  Value c = index(chunk);
  // N key chunks; the queries' key positions p = i + Sk - Sq start in
  // chunk c0 and span nQc chunks (at most Sq; none when Sq = 0).
  Value n = arith::CeilDivUIOp::create(b, loc, sk, c);
  diff = arith::SubIOp::create(b, loc, sk, sq);
  Value offset = arith::MaxSIOp::create(b, loc, diff, index(0));
  Value c0 = arith::DivUIOp::create(b, loc, offset, c);
  Value nq =
      arith::MinSIOp::create(b, loc, arith::SubIOp::create(b, loc, n, c0), sq);
  firstRow = arith::MulIOp::create(b, loc, c0, c);

  OpFoldResult batch = sizeOf(phiK, 0), hk = b.getIndexAttr(kvHeads),
               g = b.getIndexAttr(heads / kvHeads),
               r = b.getIndexAttr(features), dv = b.getIndexAttr(valueSize),
               cc = b.getIndexAttr(chunk);
  Value keyRows = arith::MulIOp::create(b, loc, n, c);
  auto keyRow = [&](OpBuilder &nb, Location l, Value t) {
    return std::make_pair(
        t, arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, t, sk)
               .getResult());
  };
  Value paddedK = gatherRows(phiK, keyRows, /*layout=*/false, keyRow);
  Value paddedV = gatherRows(op.getV(), keyRows, /*layout=*/true, keyRow);
  // [B, Hk, count, C, F] views of `count` chunks of padded keys.
  auto chunks = [&](Value x, OpFoldResult count, int64_t width) {
    SmallVector<OpFoldResult> shape{batch, hk, count, cc,
                                    b.getIndexAttr(width)};
    auto [staticShape, dynamic] = decomposeMixedValues(shape);
    (void)dynamic;
    auto type = cast<RankedTensorType>(x.getType());
    return tensor::ExpandShapeOp::create(
               b, loc,
               RankedTensorType::get(staticShape, type.getElementType()), x,
               ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}, {4}}, shape)
        .getResult();
  };
  Value kChunks = chunks(paddedK, n, features);
  Value vChunks = chunks(paddedV, n, valueSize);

  // Per chunk: KVc (loops b, h, c, f, e, jj) and zc (b, h, c, f, jj).
  Value kv = contract(kChunks, map(6, {0, 1, 2, 5, 3}), vChunks,
                      map(6, {0, 1, 2, 5, 4}), zeros({batch, hk, n, r, dv}),
                      map(6, {0, 1, 2, 3, 4}), iterators(6, {5}));
  Value z = sum(kChunks, map(5, {0, 1, 2, 4, 3}), zeros({batch, hk, n, r}),
                map(5, {0, 1, 2, 3}), iterators(5, {4}));
  // The exclusive prefix over chunks: L[c, c'] = (c' < c).
  Value lower = generic(
      {}, {identity(2)}, empty({n, n}), iterators(2, {}),
      [&](OpBuilder &nb, Location l, ValueRange) {
        Value row = linalg::IndexOp::create(nb, l, 0);
        Value col = linalg::IndexOp::create(nb, l, 1);
        Value before =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, col, row);
        return Value(arith::UIToFPOp::create(nb, l, nb.getF32Type(), before));
      });
  Value prefix = contract(lower, map(6, {2, 5}), kv, map(6, {0, 1, 5, 3, 4}),
                          zeros({batch, hk, n, r, dv}), map(6, {0, 1, 2, 3, 4}),
                          iterators(6, {5}));
  Value prefixZ = contract(lower, map(5, {2, 4}), z, map(5, {0, 1, 4, 3}),
                           zeros({batch, hk, n, r}), map(5, {0, 1, 2, 3}),
                           iterators(5, {4}));

  // The queries in key-position chunks c0 .. c0 + nQc: row t holds query
  // i = c0 * C + t - (Sk - Sq), zero where that is not a query.
  Value queryRows = arith::MulIOp::create(b, loc, nq, c);
  Value placed = gatherRows(
      phiQ, queryRows, /*layout=*/false,
      [&](OpBuilder &nb, Location l, Value t) {
        Value i = arith::SubIOp::create(
            nb, l, arith::AddIOp::create(nb, l, firstRow, t), diff);
        Value valid = arith::AndIOp::create(
            nb, l,
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, i,
                                  arith::ConstantIndexOp::create(nb, l, 0)),
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, i, sq));
        return std::make_pair(i, valid);
      });
  Value grouped = expandHeads(placed, {nq, cc, r}, /*splitRows=*/true);
  Value kOwn = chunks(sliceRows(paddedK, firstRow, queryRows), nq, features);
  Value vOwn = chunks(sliceRows(paddedV, firstRow, queryRows), nq, valueSize);
  Value prefixOwn = sliceRows(prefix, c0, nq),
        prefixZOwn = sliceRows(prefixZ, c0, nq);

  // The earlier chunks: loops (b, hk, g, qc, ii, e, f) and (..., ii, f).
  Value num =
      contract(grouped, map(7, {0, 1, 2, 3, 4, 6}), prefixOwn,
               map(7, {0, 1, 3, 6, 5}), zeros({batch, hk, g, nq, cc, dv}),
               map(7, {0, 1, 2, 3, 4, 5}), iterators(7, {6}));
  Value dens = contract(grouped, identity(6), prefixZOwn, map(6, {0, 1, 3, 5}),
                        zeros({batch, hk, g, nq, cc}), map(6, {0, 1, 2, 3, 4}),
                        iterators(6, {5}));
  // The own chunk: scores (loops b, hk, g, qc, ii, jj, f), masked to
  // jj <= ii, times V into num (loops b, hk, g, qc, ii, e, jj).
  Value scores =
      contract(grouped, map(7, {0, 1, 2, 3, 4, 6}), kOwn,
               map(7, {0, 1, 3, 5, 6}), zeros({batch, hk, g, nq, cc, cc}),
               map(7, {0, 1, 2, 3, 4, 5}), iterators(7, {6}));
  Value masked = generic(
      {scores}, {identity(6), identity(6)}, empty({batch, hk, g, nq, cc, cc}),
      iterators(6, {}), [&](OpBuilder &nb, Location l, ValueRange args) {
        Value ii = linalg::IndexOp::create(nb, l, 4);
        Value jj = linalg::IndexOp::create(nb, l, 5);
        Value seen =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ule, jj, ii);
        return Value(arith::SelectOp::create(nb, l, seen, args[0],
                                             f32Constant(nb, l, 0.0)));
      });
  num = contract(masked, map(7, {0, 1, 2, 3, 4, 6}), vOwn,
                 map(7, {0, 1, 3, 6, 5}), num, map(7, {0, 1, 2, 3, 4, 5}),
                 iterators(7, {6}));
  dens = sum(masked, identity(6), dens, map(6, {0, 1, 2, 3, 4}),
             iterators(6, {5}));
  den = tensor::CollapseShapeOp::create(
      b, loc, dens, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3, 4}});
  return tensor::CollapseShapeOp::create(
      b, loc, num, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3, 4}, {5}});
}

Value LinearLowering::lower() {
  Value q = op.getQ(), k = op.getK(), v = op.getV();
  emitSizeCheck(b, op, q, dims.batch, k, dims.batch,
                "query and key batch sizes");
  emitSizeCheck(b, op, v, dims.batch, k, dims.batch,
                "value and key batch sizes");
  emitSizeCheck(b, op, v, dims.seq, k, dims.seq,
                "value and key sequence lengths");
  Value phiQ = featureMap(q, /*query=*/true);
  Value phiK = featureMap(k, /*query=*/false);
  Value den, num, firstRow;
  if (op.getCausal())
    num = causal(phiQ, phiK, den, firstRow);
  else
    num = nonCausal(phiQ, phiK, canonical(v, 1.0), den);

  // O = num / den (0 where den = 0) into the result's layout. Causal rows
  // are read at their key position's row; the loop t (extent min(Sk, 1))
  // reads them only when there is a key, so that no empty tensor is read.
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  SmallVector<OpFoldResult> outSizes(4);
  outSizes[dims.batch] = sizeOf(q, dims.batch);
  outSizes[dims.head] = b.getIndexAttr(heads);
  outSizes[dims.seq] = sizeOf(q, dims.seq);
  outSizes[dims.feature] = b.getIndexAttr(valueSize);
  Value init = filledTensor(b, loc, outSizes,
                            b.getFloatAttr(resultType.getElementType(), 0.0));
  auto divide = [](OpBuilder &nb, Location l, Value n, Value d, Value valid,
                   Type element) {
    Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0));
    Value some =
        arith::CmpFOp::create(nb, l, arith::CmpFPredicate::UNE, d, zero);
    if (valid)
      some = arith::AndIOp::create(nb, l, some, valid);
    Value ratio = arith::SelectOp::create(
        nb, l, some, arith::DivFOp::create(nb, l, n, d), zero);
    if (element.isF32())
      return ratio;
    return Value(arith::TruncFOp::create(nb, l, element, ratio));
  };
  Type element = resultType.getElementType();
  AffineMap outMap = layoutMap();
  if (!op.getCausal()) {
    Value result = generic(
        {num, den}, {identity(4), map(4, {0, 1, 2}), outMap}, init,
        iterators(4, {}), [&](OpBuilder &nb, Location l, ValueRange args) {
          return divide(nb, l, args[0], args[1], Value(), element);
        });
    return result;
  }
  sq = getValueOrCreateConstantIndexOp(b, loc, sizeOf(q, dims.seq));
  sk = getValueOrCreateConstantIndexOp(b, loc, sizeOf(k, dims.seq));
  diff = arith::SubIOp::create(b, loc, sk, sq);
  Value window = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{OpFoldResult(
          arith::MinSIOp::create(b, loc, sk, index(1)).getResult())},
      f32);
  SmallVector<AffineExpr> out;
  for (AffineExpr e : outMap.getResults())
    out.push_back(e);
  return generic(
      {window}, {map(5, {4}), AffineMap::get(5, 0, out, ctx)}, init,
      iterators(5, {4}), [&](OpBuilder &nb, Location l, ValueRange args) {
        Value bi = linalg::IndexOp::create(nb, l, 0);
        Value h = linalg::IndexOp::create(nb, l, 1);
        Value i = linalg::IndexOp::create(nb, l, 2);
        Value e = linalg::IndexOp::create(nb, l, 3);
        Value p = arith::AddIOp::create(nb, l, i, diff);
        Value zero = arith::ConstantIndexOp::create(nb, l, 0);
        Value valid =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, p, zero);
        Value row = arith::SelectOp::create(
            nb, l, valid, arith::SubIOp::create(nb, l, p, firstRow), zero);
        Value n =
            tensor::ExtractOp::create(nb, l, num, ValueRange{bi, h, row, e});
        Value d = tensor::ExtractOp::create(nb, l, den, ValueRange{bi, h, row});
        // Added to the zero it starts from (exact): a body that ignored it
        // would let canonicalisation drop the initial value, which the
        // loop does not overwrite when there is no key.
        return Value(arith::AddFOp::create(
            nb, l, args[1], divide(nb, l, n, d, valid, element)));
      });
}

LogicalResult attune::attn::lowerLinearAttention(RewriterBase &rewriter,
                                                 LinearAttentionOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  rewriter.replaceOp(op, LinearLowering(rewriter, op).lower());
  return success();
}

namespace {
struct AttnLowerLinearAttention
    : attune::attn::impl::AttnLowerLinearAttentionBase<
          AttnLowerLinearAttention> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(lowerAll(getOperation(), lowerLinearAttention)))
      signalPassFailure();
  }
};
} // namespace
