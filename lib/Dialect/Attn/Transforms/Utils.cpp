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
#include "mlir/Dialect/Utils/StaticValueUtils.h"

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

void attune::attn::emitRopeShapeChecks(OpBuilder &b, RopeOp op) {
  Location loc = op.getLoc();
  LayoutDims d = op.getLayoutDims();
  auto check = [&](Value x, unsigned xDim, Value expected, StringRef what) {
    if (!cast<RankedTensorType>(x.getType()).isDynamicDim(xDim) &&
        getConstantIntValue(expected))
      return; // The verifier compared them.
    Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       tensor::DimOp::create(b, loc, x, xDim),
                                       expected);
    cf::AssertOp::create(b, loc, same,
                         ("attn.rope: " + what + " do not match").str());
  };
  auto dimOf = [&](unsigned dim) -> Value {
    auto type = cast<RankedTensorType>(op.getInput().getType());
    if (!type.isDynamicDim(dim))
      return arith::ConstantIndexOp::create(b, loc, type.getDimSize(dim));
    return tensor::DimOp::create(b, loc, op.getInput(), dim);
  };
  if (Value positions = op.getPositions()) {
    auto type = cast<RankedTensorType>(positions.getType());
    if (type.getRank() == 2)
      check(positions, 0, dimOf(d.batch), "positions and input batch sizes");
    check(positions, type.getRank() - 1, dimOf(d.seq),
          "positions and input sequence lengths");
  }
  if (Value scales = op.getFreqScales())
    check(scales, 0,
          arith::ConstantIndexOp::create(b, loc, op.getNumRotated() / 2),
          "freq_scales and rotary_dim / 2");
}
