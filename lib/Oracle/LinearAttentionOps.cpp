//===- LinearAttentionOps.cpp - The oracle's linear attention ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.linear_attention in the oracle, written from docs/LinearAttention.md
// with plain loops in f64: the feature maps of every query and key, then
// for each query row the sums over its keys of (phi(q) . phi(k)) v and of
// phi(q) . phi(k), one key at a time (no factored state: the lowerings'
// reassociation is what this checks). A row with no keys is 0.
//
// FAVOR+'s exponents are shifted as the semantics allow (a positive factor
// per query, one per (b, key head) for the keys), so that exp stays in
// range for any finite input.
//
//===----------------------------------------------------------------------===//

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Diagnostics.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using namespace attune::oracle::detail;

/// The features of every row of `x` ([B, Hx, S, D] in `dims`): [B, Hx, S,
/// r], row-major. FAVOR+ rows are scaled as the file comment says: `query`
/// rows by their own largest exponent, key rows by their (b, head)'s.
static std::vector<double> featuresOf(attn::LinearAttentionOp op,
                                      const Array &x, attn::LayoutDims dims,
                                      const Array *w, bool query) {
  int64_t batch = x.shape[dims.batch], heads = x.shape[dims.head],
          seq = x.shape[dims.seq], d = x.shape[dims.feature];
  int64_t r = w ? w->shape[1] : d;
  std::vector<double> phi(batch * heads * seq * r);
  std::vector<double> row(d);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      // data() + offset: `&phi[i]` of an empty vector (S = 0) is undefined.
      double *head = phi.data() + (b * heads + h) * seq * r;
      for (int64_t s = 0; s < seq; ++s) {
        for (int64_t f = 0; f < d; ++f)
          row[f] = x.data[layoutOffset(x.shape, dims, b, h, s, f)];
        double *out = &head[s * r];
        if (!w) {
          for (int64_t f = 0; f < d; ++f)
            out[f] = row[f] > 0 ? row[f] + 1.0 : std::exp(row[f]);
          continue;
        }
        // The exponents x' . w[:, f] - |x'|^2 / 2, x' = sqrt(scale) x.
        double root = std::sqrt(op.getFavorScale()), norm = 0.0;
        for (int64_t e = 0; e < d; ++e)
          norm += (root * row[e]) * (root * row[e]);
        for (int64_t f = 0; f < r; ++f) {
          double dot = 0.0;
          for (int64_t e = 0; e < d; ++e)
            dot += root * row[e] * w->data[e * r + f];
          out[f] = dot - norm / 2;
        }
      }
      if (!w)
        continue;
      // exp of the exponents less the largest of the row (queries) or of
      // the head (keys); 1 / sqrt(r) cancels.
      double headMax = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < seq * r; ++i)
        headMax = std::max(headMax, head[i]);
      for (int64_t s = 0; s < seq; ++s) {
        double *out = &head[s * r];
        double shift = query ? *std::max_element(out, out + r) : headMax;
        for (int64_t f = 0; f < r; ++f)
          out[f] = std::exp(out[f] - shift);
      }
    }
  return phi;
}

static LogicalResult evaluateLinear(attn::LinearAttentionOp op,
                                    Environment &env) {
  const Array *q = env.lookupArray(op.getQ());
  const Array *k = env.lookupArray(op.getK());
  const Array *v = env.lookupArray(op.getV());
  const Array *w =
      op.getFeatures() ? env.lookupArray(op.getFeatures()) : nullptr;
  if (!q || !k || !v || (op.getFeatures() && !w))
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = q->shape[dims.batch], heads = q->shape[dims.head],
          sq = q->shape[dims.seq];
  int64_t kvHeads = k->shape[dims.head], sk = k->shape[dims.seq],
          dv = v->shape[dims.feature];
  if (k->shape[dims.batch] != batch || v->shape[dims.batch] != batch)
    return emitError(op.getLoc())
           << "oracle: q, k and v have batch sizes " << batch << ", "
           << k->shape[dims.batch] << " and " << v->shape[dims.batch];
  if (v->shape[dims.seq] != sk)
    return emitError(op.getLoc())
           << "oracle: k has " << sk << " rows, v " << v->shape[dims.seq];
  int64_t r = w ? w->shape[1] : q->shape[dims.feature];
  std::vector<double> phiQ = featuresOf(op, *q, dims, w, /*query=*/true);
  std::vector<double> phiK = featuresOf(op, *k, dims, w, /*query=*/false);

  std::vector<int64_t> shape(4);
  shape[dims.batch] = batch;
  shape[dims.head] = heads;
  shape[dims.seq] = sq;
  shape[dims.feature] = dv;
  Array out{shape, std::vector<double>(batch * heads * sq * dv, 0.0)};
  int64_t group = heads / kvHeads;
  std::vector<double> num(dv);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < sq; ++i) {
        const double *fq = &phiQ[((b * heads + h) * sq + i) * r];
        // Keys [0, end): every key, or those j <= i + Sk - Sq.
        int64_t end =
            op.getCausal() ? std::clamp<int64_t>(i + sk - sq + 1, 0, sk) : sk;
        std::fill(num.begin(), num.end(), 0.0);
        double den = 0.0;
        for (int64_t j = 0; j < end; ++j) {
          const double *fk = &phiK[((b * kvHeads + h / group) * sk + j) * r];
          double a = 0.0;
          for (int64_t f = 0; f < r; ++f)
            a += fq[f] * fk[f];
          den += a;
          for (int64_t e = 0; e < dv; ++e)
            num[e] +=
                a * v->data[layoutOffset(v->shape, dims, b, h / group, j, e)];
        }
        if (end == 0)
          continue;
        for (int64_t e = 0; e < dv; ++e)
          out.data[layoutOffset(shape, dims, b, h, i, e)] = num[e] / den;
      }
  env.bindArray(op.getResult(), std::move(out));
  return success();
}

std::optional<LogicalResult>
oracle::detail::evaluateLinearAttentionOp(Operation *op, Environment &env) {
  if (auto linear = dyn_cast<attn::LinearAttentionOp>(op))
    return evaluateLinear(linear, env);
  return std::nullopt;
}
