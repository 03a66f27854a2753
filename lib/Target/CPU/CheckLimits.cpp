//===- CheckLimits.cpp - What the CPU target refuses ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Verifier-valid attention ops may have head sizes or static shapes that no
// kernel could compile in bounded time and memory, or whose buffers could
// not be addressed; refusing them up front beats running for minutes.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Target/CPU/CPUPipeline.h"
#include "attune/Target/CPU/Passes.h"

#include "llvm/Support/MathExtras.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUCHECKLIMITS
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;
using namespace attune;

/// Whether the static part of `type` (dynamic sizes count as 1) has a size
/// in bytes that fits in int64.
static bool fitsInMemory(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return true;
  Type element = shaped.getElementType();
  int64_t bytes =
      element.isIntOrFloat() ? (element.getIntOrFloatBitWidth() + 7) / 8 : 8;
  for (int64_t size : shaped.getShape())
    if (!ShapedType::isDynamic(size) && llvm::MulOverflow(bytes, size, bytes))
      return false;
  return true;
}

static LogicalResult checkLimits(attn::AttentionOp op) {
  for (auto [name, size] :
       {std::pair<StringRef, int64_t>{"head size D", op.getHeadSize()},
        {"value head size Dv", op.getValueHeadSize()}})
    if (size > cpu::kMaxHeadSize)
      return op.emitOpError("has ")
             << name << " = " << size << ", above the CPU target's limit of "
             << cpu::kMaxHeadSize;
  for (Value value : llvm::concat<Value>(op->getOperands(), op->getResults()))
    if (!fitsInMemory(value.getType()))
      return op.emitOpError("has an operand or result of type ")
             << value.getType()
             << ", whose size in bytes does not fit in 64 bits";
  return success();
}

/// Refuses a tensor.expand_shape that upstream's memref lowering
/// (expand-strided-metadata) crashes on in LLVM 22: a reassociation group
/// with more than one dynamic size.
static LogicalResult checkExpandShape(tensor::ExpandShapeOp op) {
  ArrayRef<int64_t> shape = op.getResultType().getShape();
  for (const ReassociationIndices &group : op.getReassociationIndices())
    if (llvm::count_if(group, [&](int64_t d) {
          return ShapedType::isDynamic(shape[d]);
        }) > 1)
      return op.emitOpError("has a reassociation group with more than one "
                            "dynamic size, which the CPU target does not "
                            "support (upstream memref lowering); make all "
                            "but one of them static");
  return success();
}

/// Refuses a tensor.dim or memref.dim of a constant dimension outside
/// [0, rank): undefined behaviour, which an upstream fold of the CPU
/// pipeline crashes on in LLVM 22 (fuzz/findings/README.md).
static LogicalResult checkDim(Operation *op, Value source,
                              std::optional<int64_t> index) {
  auto type = dyn_cast<ShapedType>(source.getType());
  if (!index || !type || !type.hasRank() ||
      (*index >= 0 && *index < type.getRank()))
    return success();
  return op->emitOpError("reads dimension ")
         << *index << " of a rank-" << type.getRank()
         << " value, which does not exist";
}

namespace {
struct AttnCPUCheckLimits
    : attune::cpu::impl::AttnCPUCheckLimitsBase<AttnCPUCheckLimits> {
  using Base::Base;
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](Operation *op) {
      LogicalResult checked = success();
      if (auto attention = dyn_cast<attn::AttentionOp>(op))
        checked = checkLimits(attention);
      else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
        checked = checkExpandShape(expand);
      else if (auto dim = dyn_cast<tensor::DimOp>(op))
        checked = checkDim(dim, dim.getSource(), dim.getConstantIndex());
      else if (auto dim = dyn_cast<memref::DimOp>(op))
        checked = checkDim(dim, dim.getSource(), dim.getConstantIndex());
      return failed(checked) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
