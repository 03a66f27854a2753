//===- RegionInlining.cpp - Score and mask regions in a kernel --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The CUDA side of the shared region lowering (docs/RegionLowering.md):
// the kernel maps a region's (b, h, i, j) to a fragment's positions and
// its captures to the kernel's buffers, hoists what does not vary per
// element out of the key loop once, and rebuilds the float casts of affine
// forms of i and j from one base value per thread (ElementOffset) instead
// of recomputing them per fragment element.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "attune/Dialect/Attn/Utils/RegionLowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

Value KernelEmitter::inlineRegion(Block *block, IRMapping &mapping,
                                  const ElementOffset *at) {
  IRMapping &invariant = hoisted[block];
  SmallVector<Value> buffers =
      llvm::map_to_vector(op.getCaptures(), [&](Value capture) {
        return operands->lookup(capture);
      });
  // The score region runs at the masked elements of a partial tile too
  // (their scores become -inf after), where the op's semantics do not
  // promise its capture reads are in bounds (docs/Semantics.md: it is
  // evaluated only where the mask keeps the key): those reads are clamped
  // into the capture.
  bool clampReads = AttentionOp::isScoreBlock(block) && op.getMaskBlock();
  auto clampedRead = [&](Operation &nested, IRMapping &mapping) {
    auto extract = dyn_cast<tensor::ExtractOp>(nested);
    if (!extract)
      return false;
    std::optional<unsigned> capture =
        AttentionOp::getCaptureNumber(block, extract.getTensor());
    if (!capture || !buffers[*capture] ||
        !isa<MemRefType>(buffers[*capture].getType()))
      return false;
    Value buffer = buffers[*capture];
    Location loc = nested.getLoc();
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    SmallVector<Value> indices;
    for (auto [d, index] : llvm::enumerate(extract.getIndices())) {
      Value size = memref::DimOp::create(b, loc, buffer, d);
      Value last = arith::SubIOp::create(
          b, loc, arith::MaxUIOp::create(b, loc, size, one), one);
      indices.push_back(
          arith::MinUIOp::create(b, loc, mapping.lookupOrDefault(index), last));
    }
    mapping.map(extract.getResult(),
                memref::LoadOp::create(b, loc, buffer, indices));
    return true;
  };
  // Hoisted ops are reused and affine casts rebuilt from their base; the
  // rest is cloned (captures read from the kernel's buffers) and may
  // contract into FMAs.
  auto emitOp = [&](Operation &nested, IRMapping &mapping) {
    if (lookupHoisted(nested, invariant, mapping))
      return true;
    if (clampReads && clampedRead(nested, mapping))
      return true;
    auto affine = at ? affineCasts.find(&nested) : affineCasts.end();
    if (affine == affineCasts.end())
      return false;
    Value &base = castBases[&nested];
    if (!base) {
      IRMapping baseMapping;
      mapRegionArguments(block, head, at->i0, at->j0, baseMapping);
      base = cloneDependencies(block, nested.getResult(0), baseMapping);
    }
    auto [ci, cj] = affine->second;
    int64_t offset = ci * at->di + cj * at->dj;
    mapping.map(nested.getResult(0),
                offset ? fadd(base, f32(static_cast<double>(offset))) : base);
    return true;
  };
  return attn::inlineRegion(b, block, mapping, buffers, emitOp,
                            allowContraction);
}

Value KernelEmitter::cloneDependencies(Block *block, Value value,
                                       IRMapping &mapping) {
  return attn::cloneDependencies(b, block, value, mapping, hoisted[block]);
}

void KernelEmitter::findAffineCasts(Block *block) {
  // Hoisted integers are the invariants of the affine forms.
  IRMapping &invariant = hoisted[block];
  for (auto [cast, form] : attn::findAffineCasts(
           block, [&](Value v) { return invariant.contains(v); }))
    affineCasts[cast] = form;
}

void KernelEmitter::hoistInvariants(Block *block) {
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
  mapRegionArguments(block, head, Value(), Value(), mapping);
  SmallVector<Value> buffers =
      llvm::map_to_vector(op.getCaptures(), [&](Value capture) {
        return operands->lookup(capture);
      });
  attn::hoistInvariants(b, block, variance, mapping, buffers, hoisted[block]);
}
