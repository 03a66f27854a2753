//===- ReadOnlyArguments.cpp - Inputs are not scratch space -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Marks tensor arguments non-writable for One-Shot Bufferize, so that no op
// of a spec function writes into the caller's input buffers (see the pass
// description).
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUREADONLYARGUMENTS
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;

namespace {
struct AttnCPUReadOnlyArguments
    : attune::cpu::impl::AttnCPUReadOnlyArgumentsBase<
          AttnCPUReadOnlyArguments> {
  using Base::Base;
  void runOnOperation() override {
    Builder builder(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      for (BlockArgument arg : func.getArguments())
        if (isa<TensorType>(arg.getType()))
          func.setArgAttr(
              arg.getArgNumber(),
              bufferization::BufferizationDialect::kWritableAttrName,
              builder.getBoolAttr(false));
    }
  }
};
} // namespace
