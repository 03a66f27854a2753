//===- InnermostParallel.cpp - Stride-1 parallel loop innermost -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The linalg ops around the attention (Linformer's projections E.K and F.V,
// pooling, other contractions over the sequence) become plain loops on the
// CPU, in the op's iterator order. A contraction written with its
// reduction innermost, out[b, h, p, d] += E[p, s] K[b, h, s, d] over
// (b, h, p, d, s), then runs a scalar reduction that LLVM cannot vectorise
// without reassociating floats; with the output's stride-1 dimension d
// innermost, (b, h, p, s, d), the inner loop is an elementwise multiply-add
// over contiguous rows that LLVM's loop vectoriser turns into vector FMAs,
// with the same sum in the same order per element. The reduction then moves
// outside the loops of a small output tile, (b, h, s, p, d): each row of K
// is read once, not once per projected row, and the 32 x 64 accumulators
// stay in L1.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUINNERMOSTPARALLEL
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;

/// The loop that `map`'s last result is, if that result is a loop dimension
/// which appears nowhere else in `map`.
static std::optional<unsigned> lastDimension(AffineMap map) {
  if (map.getNumResults() == 0)
    return std::nullopt;
  auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
  if (!last)
    return std::nullopt;
  for (AffineExpr result : map.getResults().drop_back())
    if (result.isFunctionOfDim(last.getPosition()))
      return std::nullopt;
  return last.getPosition();
}

/// Output elements that one step of the reduction may update: enough for
/// the accumulators (16 KiB of f32) to stay in the L1 cache.
static constexpr int64_t kMaxAccumulators = 4096;

/// The new loop order of `op` (old loop indices, outermost first) that puts
/// the output's stride-1 loop innermost and a single reduction loop outside
/// the parallel loops after it while those span at most kMaxAccumulators
/// output elements (static sizes) and one parallel loop stays outside it,
/// or nothing when `op` has no reduction,
/// the order would not change, or some operand reads the stride-1 loop at
/// another stride.
static std::optional<SmallVector<unsigned>>
innermostOrder(linalg::GenericOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  std::optional<unsigned> inner = lastDimension(maps.back());
  unsigned loops = op.getNumLoops();
  if (!inner || !linalg::isParallelIterator(iterators[*inner]))
    return std::nullopt;
  for (AffineMap map : ArrayRef(maps).drop_back()) {
    if (!map.isFunctionOfDim(*inner))
      continue;
    if (lastDimension(map) != inner)
      return std::nullopt;
  }
  SmallVector<unsigned> order;
  for (unsigned loop = 0; loop < loops; ++loop)
    if (loop != *inner)
      order.push_back(loop);
  order.push_back(*inner);
  // The reduction outside the parallel loops of a small output tile: each
  // step then reads the inputs' rows once and updates accumulators that
  // stay in L1 (Linformer's E . K reads each row of K once, not once per
  // projected row), in the same order of summation per element.
  if (op.getNumReductionLoops() == 1) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    auto *reduction = llvm::find_if(order, [&](unsigned l) {
      return !linalg::isParallelIterator(iterators[l]);
    });
    // The output elements the loops after the reduction span (none when
    // one is dynamic or they are too many already: then it stays).
    std::optional<int64_t> tile = 1;
    for (unsigned l : llvm::make_range(reduction + 1, order.end())) {
      if (ShapedType::isDynamic(ranges[l]) ||
          *tile * ranges[l] > kMaxAccumulators) {
        tile = std::nullopt;
        break;
      }
      *tile *= ranges[l];
    }
    // At least one parallel loop stays outside, for the threads
    // (attn-cpu-parallel-linalg splits the loops before the reduction).
    while (tile && reduction - order.begin() > 1) {
      int64_t range = ranges[*(reduction - 1)];
      if (ShapedType::isDynamic(range) || *tile * range > kMaxAccumulators)
        break;
      *tile *= range;
      std::swap(*reduction, *(reduction - 1));
      --reduction;
    }
  }
  if (llvm::equal(order, llvm::seq<unsigned>(0, loops)))
    return std::nullopt;
  return order;
}

namespace {
struct AttnCPUInnermostParallel
    : attune::cpu::impl::AttnCPUInnermostParallelBase<
          AttnCPUInnermostParallel> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      std::optional<SmallVector<unsigned>> order = innermostOrder(op);
      if (!order)
        continue;
      rewriter.setInsertionPoint(op);
      // A permutation of the loops is always valid for a linalg op.
      (void)linalg::interchangeGenericOp(rewriter, op, *order);
    }
  }
};
} // namespace
