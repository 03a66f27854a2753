//===- Utils.cpp - Helpers shared by attn lowerings -------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/Transforms/Utils.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attune::attn;

void attune::attn::emitShapeChecks(OpBuilder &b, AttentionOp op) {
  Location loc = op.getLoc();
  LayoutDims d = op.getLayoutDims();
  auto check = [&](Value x, Value y, unsigned dim, StringRef what) {
    auto xt = cast<RankedTensorType>(x.getType());
    auto yt = cast<RankedTensorType>(y.getType());
    if (!xt.isDynamicDim(dim) && !yt.isDynamicDim(dim))
      return; // The verifier compared them.
    Value same = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, tensor::DimOp::create(b, loc, x, dim),
        tensor::DimOp::create(b, loc, y, dim));
    cf::AssertOp::create(b, loc, same,
                         ("attn.attention: " + what + " do not match").str());
  };
  check(op.getQuery(), op.getKey(), d.batch, "query and key batch sizes");
  check(op.getQuery(), op.getValue(), d.batch, "query and value batch sizes");
  check(op.getKey(), op.getValue(), d.seq, "key and value sequence lengths");
}
