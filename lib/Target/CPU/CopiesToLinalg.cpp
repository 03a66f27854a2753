//===- CopiesToLinalg.cpp - Strided memref.copy as linalg.copy --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// A memref.copy between buffers that are not both contiguous lowers to a
// call of the `memrefCopy` runtime function, which compiled specs cannot
// count on; as linalg.copy it becomes loops (see the pass description).
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/Passes.h"

namespace attune::cpu {
#define GEN_PASS_DEF_ATTNCPUCOPIESTOLINALG
#include "attune/Target/CPU/Passes.h.inc"
} // namespace attune::cpu

using namespace mlir;

/// Whether upstream lowers a copy of `type` to llvm.memcpy.
static bool isContiguous(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getLayout().isIdentity();
}

namespace {
struct AttnCPUCopiesToLinalg
    : attune::cpu::impl::AttnCPUCopiesToLinalgBase<AttnCPUCopiesToLinalg> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      if (!isContiguous(copy.getSource().getType()) ||
          !isContiguous(copy.getTarget().getType()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
