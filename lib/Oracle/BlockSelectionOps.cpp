//===- BlockSelectionOps.cpp - The oracle's attn.topk_blocks ----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// attn.topk_blocks in the oracle, written from docs/BlockSelection.md with
// plain loops: block sums, projections and dot products in f64 in order,
// one division, then the candidates of each query block sorted by (score
// descending, key block ascending) and the first top_k kept with the
// forced blocks. For bf16 and f16 inputs the sums are exact, so the
// targets' maps (the same f64 operations) agree bit for bit.
//
//===----------------------------------------------------------------------===//

#include "OracleInternal.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Diagnostics.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace attune;
using namespace attune::oracle;
using namespace attune::oracle::detail;

/// The f64 sums of the rows of every block of `x` in order:
/// [B, H, blocks, D], row-major.
static std::vector<double> blockSums(const Array &x, attn::LayoutDims dims,
                                     int64_t block, int64_t blocks) {
  int64_t batch = x.shape[dims.batch], heads = x.shape[dims.head],
          seq = x.shape[dims.seq], features = x.shape[dims.feature];
  std::vector<double> sums(batch * heads * blocks * features, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t s = 0; s < seq; ++s)
        for (int64_t d = 0; d < features; ++d)
          sums[((b * heads + h) * blocks + s / block) * features + d] +=
              x.data[layoutOffset(x.shape, dims, b, h, s, d)];
  return sums;
}

static LogicalResult evaluateTopk(attn::TopkBlocksOp op, Environment &env) {
  const Array *q = env.lookupArray(op.getQ());
  const Array *k = env.lookupArray(op.getK());
  if (!q || !k)
    return emitError(op.getLoc()) << "oracle: no value for an operand";
  attn::LayoutDims dims = op.getLayoutDims();
  int64_t batch = q->shape[dims.batch], heads = q->shape[dims.head],
          sq = q->shape[dims.seq], features = q->shape[dims.feature];
  int64_t kvHeads = k->shape[dims.head], sk = k->shape[dims.seq];
  if (k->shape[dims.batch] != batch)
    return emitError(op.getLoc())
           << "oracle: q has batch " << batch << ", k " << k->shape[dims.batch];
  if (kvHeads == 0 || heads % kvHeads)
    return emitError(op.getLoc())
           << "oracle: " << heads << " query heads are not a multiple of "
           << kvHeads << " key heads";
  int64_t bq = op.getBlockQ(), bk = op.getBlockK();
  int64_t nq = (sq + bq - 1) / bq, nk = (sk + bk - 1) / bk;
  std::vector<double> qs = blockSums(*q, dims, bq, nq);
  std::vector<double> ks = blockSums(*k, dims, bk, nk);
  // The learned projections: each block's sums times w ([D, P]), f64 in
  // order of d; the scores' features are then the P projected ones.
  if (op.getQProj()) {
    const Array *wq = env.lookupArray(op.getQProj());
    const Array *wk = env.lookupArray(op.getKProj());
    if (!wq || !wk)
      return emitError(op.getLoc()) << "oracle: no value for a projection";
    int64_t p = wq->shape[1];
    auto project = [&](const std::vector<double> &sums, const Array &w) {
      int64_t rows = sums.size() / features;
      std::vector<double> out(rows * p, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < p; ++c)
          for (int64_t d = 0; d < features; ++d)
            out[r * p + c] += sums[r * features + d] * w.data[d * p + c];
      return out;
    };
    qs = project(qs, *wq);
    ks = project(ks, *wk);
    features = p;
  }
  int64_t group = heads / kvHeads, off = sk - sq;

  Array map{{batch, heads, nq, nk},
            std::vector<double>(batch * heads * nq * nk)};
  std::vector<std::pair<double, int64_t>> candidates;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t qb = 0; qb < nq; ++qb) {
        const double *qrow = &qs[((b * heads + h) * nq + qb) * features];
        int64_t last = std::min(sq, (qb + 1) * bq) - 1 + off;
        double rowsQ = double(std::min(bq, sq - qb * bq));
        double *out = &map.data[((b * heads + h) * nq + qb) * nk];
        candidates.clear();
        for (int64_t kb = 0; kb < nk; ++kb) {
          bool eligible = !op.getCausal() || kb * bk <= last;
          int64_t diag = last >= 0 ? last / bk : -1;
          bool forced =
              eligible &&
              (kb < int64_t(op.getSink()) ||
               (last >= 0 && kb <= diag && kb > diag - int64_t(op.getLocal())));
          out[kb] = forced ? 1.0 : 0.0;
          if (!eligible || forced)
            continue;
          const double *krow =
              &ks[((b * kvHeads + h / group) * nk + kb) * features];
          double dot = 0.0;
          for (int64_t d = 0; d < features; ++d)
            dot += qrow[d] * krow[d];
          double score = dot / (rowsQ * double(std::min(bk, sk - kb * bk)));
          if (!std::isnan(score))
            candidates.push_back({score, kb});
        }
        std::sort(candidates.begin(), candidates.end(),
                  [](const auto &x, const auto &y) {
                    return x.first > y.first ||
                           (x.first == y.first && x.second < y.second);
                  });
        int64_t kept = std::min<int64_t>(candidates.size(), op.getTopK());
        for (int64_t c = 0; c < kept; ++c)
          out[candidates[c].second] = 1.0;
      }
  env.bindArray(op.getResult(), std::move(map));
  return success();
}

std::optional<LogicalResult>
oracle::detail::evaluateBlockSelectionOp(Operation *op, Environment &env) {
  if (auto topk = dyn_cast<attn::TopkBlocksOp>(op))
    return evaluateTopk(topk, env);
  return std::nullopt;
}
