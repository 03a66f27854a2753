//===- ParallelLinalg.cpp - Linalg ops outside the kernels on threads -----===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The attention kernels are parallel loops (OpenMP threads); the linalg ops
// of a program around them (Linformer's projections, pooling, relative
// position terms, a merge's combine) were lowered by upstream's
// `convert-linalg-to-loops` to serial loops, one core of many. This pass
// lowers each such op to loops itself and turns its leading band of
// parallel loops into one `scf.parallel`, which `convert-scf-to-openmp`
// then runs on threads. Every output element keeps its sum in its order:
// only independent elements are split among threads.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUPARALLELLINALG
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;

/// A loop nest with fewer iterations than this stays serial: forking and
/// joining the OpenMP team costs a few microseconds, more than the loop.
static constexpr int64_t kMinParallelIterations = 1 << 14;

/// The number of leading loops of `op` that may run in parallel: parallel
/// iterators each of which every output indexes by itself (so distinct
/// iterations of the band write distinct elements). The innermost loop of
/// a nest stays serial: OpenMP collapses the band into one loop of
/// divisions, which LLVM would not vectorise.
static unsigned parallelBand(linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned band = 0;
  size_t limit = iterators.size() == 1 ? 1 : iterators.size() - 1;
  for (; band < limit; ++band) {
    if (!linalg::isParallelIterator(iterators[band]))
      break;
    bool indexed = llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &out) {
      return llvm::any_of(op.getMatchingIndexingMap(&out).getResults(),
                          [&](AffineExpr e) {
                            auto dim = dyn_cast<AffineDimExpr>(e);
                            return dim && dim.getPosition() == band;
                          });
    });
    if (!indexed)
      break;
  }
  return band;
}

/// Whether `op`'s iteration space is known to be smaller than
/// kMinParallelIterations.
static bool isSmall(linalg::LinalgOp op) {
  int64_t total = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range))
      return false;
    total *= range;
    if (total >= kMinParallelIterations)
      return false;
  }
  return true;
}

/// Replaces the perfect nest `loops` (outermost first, each the only op
/// besides the terminator in the body of the one before) by one
/// scf.parallel over the same ranges. Fails, changing nothing, when a bound
/// is defined inside the nest.
static LogicalResult toParallel(RewriterBase &rewriter,
                                MutableArrayRef<scf::ForOp> loops) {
  scf::ForOp outer = loops.front();
  SmallVector<Value> lower, upper, steps;
  for (scf::ForOp loop : loops) {
    for (Value bound :
         {loop.getLowerBound(), loop.getUpperBound(), loop.getStep()})
      if (outer->isAncestor(bound.getParentBlock()->getParentOp()))
        return failure();
    lower.push_back(loop.getLowerBound());
    upper.push_back(loop.getUpperBound());
    steps.push_back(loop.getStep());
  }
  rewriter.setInsertionPoint(outer);
  auto parallel =
      scf::ParallelOp::create(rewriter, outer.getLoc(), lower, upper, steps);
  ValueRange ivs = parallel.getInductionVars();
  for (auto [loop, iv] : llvm::zip(loops.drop_back(), ivs))
    rewriter.replaceAllUsesWith(loop.getInductionVar(), iv);
  // The innermost band loop's body, without its scf.yield, goes in front of
  // the scf.parallel's terminator.
  Block *inner = loops.back().getBody();
  rewriter.eraseOp(inner->getTerminator());
  rewriter.inlineBlockBefore(inner, parallel.getBody()->getTerminator(),
                             ivs.back());
  rewriter.eraseOp(outer);
  return success();
}

namespace {
struct AttnCPUParallelLinalg
    : attune::cpu::impl::AttnCPUParallelLinalgBase<AttnCPUParallelLinalg> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      // Inside a kernel's parallel loop the threads are taken already.
      if (op->getParentOfType<scf::ParallelOp>() ||
          op->getParentOfType<omp::ParallelOp>() ||
          !op.hasPureBufferSemantics())
        return;
      ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      unsigned band = parallelBand(op);
      if (band == 0 || isSmall(op))
        continue;
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::LinalgLoops> loops =
          linalg::linalgOpToLoops(rewriter, op);
      if (failed(loops))
        continue;
      rewriter.eraseOp(op);
      if (loops->size() < band)
        continue;
      // The loads index with affine.apply of identity maps: the loop
      // variables themselves.
      loops->front()->walk([&](affine::AffineApplyOp apply) {
        if (apply.getAffineMap().isIdentity())
          rewriter.replaceOp(apply, apply.getMapOperands());
      });
      SmallVector<scf::ForOp> nest;
      for (Operation *loop : ArrayRef(*loops).take_front(band))
        nest.push_back(cast<scf::ForOp>(loop));
      (void)toParallel(rewriter, nest);
    }
  }
};
} // namespace
