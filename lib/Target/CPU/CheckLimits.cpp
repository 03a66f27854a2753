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

namespace {
struct AttnCPUCheckLimits
    : attune::cpu::impl::AttnCPUCheckLimitsBase<AttnCPUCheckLimits> {
  using Base::Base;
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](attn::AttentionOp op) {
      return failed(checkLimits(op)) ? WalkResult::interrupt()
                                     : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
