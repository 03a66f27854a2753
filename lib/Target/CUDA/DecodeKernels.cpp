//===- DecodeKernels.cpp - Split-KV decode and combine ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Short queries (Sq <= 16 / g): the decode kernel is the forward emitter
// with the keys split over the warps of up to 64 CTAs per (K/V head,
// batch), each warp a split with its own shared memory (KernelPlan::
// splitWarps; the workspaces' split dimension counts them), and the g
// query heads of a K/V head packed into the warp's 16 rows
// (KernelPlan::decode); each split writes O / l and lse to a workspace.
// A launch of one CTA per row group merges its warps' splits in the CTA;
// otherwise the combine kernel merges them all. docs/CUDATarget.md
// ("Short queries: split-KV").
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

std::pair<Value, Value> KernelEmitter::rowPosition(Value row) {
  if (!packedHeads)
    return {head, row};
  Value seq = arith::MaxUIOp::create(b, loc, seqQ, idx(1));
  Value last =
      arith::SubIOp::create(b, loc, mul(seq, idx(packedHeads)), idx(1));
  Value r = arith::MinUIOp::create(b, loc, row, last);
  return {add(head, arith::DivUIOp::create(b, loc, r, seq)),
          arith::RemUIOp::create(b, loc, r, seq)};
}

Value KernelEmitter::validRows() {
  return packedHeads ? mul(seqQ, idx(packedHeads)) : seqQ;
}

void KernelEmitter::storePartialRow(ArrayRef<Value> o, int64_t mt, int64_t half,
                                    Value row, Value m, Value l, Value positive,
                                    Value inverse, Value colBase) {
  // Partial results of this split, in f32; lse = -inf marks a split that
  // saw no unmasked key.
  scf::IfOp::create(b, loc, ult(row, validRows()), [&](OpBuilder &, Location) {
    auto [rowHead, query] = rowPosition(row);
    for (int64_t dt = 0; dt < valueDim / 8; ++dt)
      for (int64_t e = 0; e < 2; ++e) {
        int64_t k = (mt * valueTiles + dt) * 4 + 2 * half + e;
        memref::StoreOp::create(b, loc, fmul(o[k], inverse), oPart,
                                ValueRange{splitIndex, batch, rowHead, query,
                                           add(colBase, idx(dt * 8 + e))});
      }
    Value value = select(positive, fmul(fadd(m, log2(l)), f32(std::log(2.0))),
                         f32(-std::numeric_limits<double>::infinity()));
    memref::StoreOp::create(b, loc, value, lsePart,
                            ValueRange{splitIndex, batch, rowHead, query});
    scf::YieldOp::create(b, loc);
  });
}

/// attn.merge's formula for output feature `d` of query `i` of head `h` of
/// sequence `batch` over the first `splits` partial results, stored to O
/// (and lse, by the thread of feature 0).
static void emitMergedFeature(OpBuilder &b, Location loc, AttentionOp op,
                              Value oPart, Value lsePart, Value splits,
                              Value batch, Value h, Value i, Value d,
                              ValueRange outputs) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto f32 = [&](double v) -> Value {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  };
  double log2e = 1.0 / std::log(2.0);
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  // The splits, walked in chunks of chunkSize splits whose loads are
  // independent, so that a thread waits for one memory latency per chunk,
  // not per split (a loop of one load per split would wait 64 times at 64
  // splits). Splits past the count (the last chunk's) read the last split
  // and weigh nothing; a count known here (a CTA's split warps) is one
  // chunk of exactly that many.
  int64_t chunkSize = 8;
  if (std::optional<int64_t> count = getConstantIntValue(splits))
    chunkSize = std::min(chunkSize, *count);
  Value last = arith::SubIOp::create(b, loc, splits, idx(1));
  Value chunks = arith::CeilDivUIOp::create(b, loc, splits, idx(chunkSize));
  // (split index clamped into the launch's, whether it is one of them).
  auto split = [&](Value chunk, int64_t k) -> std::pair<Value, Value> {
    Value sp = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, chunk, idx(chunkSize)), idx(k));
    Value valid =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, sp, splits);
    return {arith::MinUIOp::create(b, loc, sp, last), valid};
  };
  auto lseOf = [&](Value sp) -> Value {
    return memref::LoadOp::create(b, loc, lsePart, ValueRange{sp, batch, h, i});
  };
  auto maxLoop = scf::ForOp::create(
      b, loc, idx(0), chunks, idx(1), ValueRange{negInf},
      [&](OpBuilder &, Location, Value chunk, ValueRange iter) {
        Value m = iter[0];
        for (int64_t k = 0; k < chunkSize; ++k) {
          auto [sp, valid] = split(chunk, k);
          Value lse = arith::SelectOp::create(b, loc, valid, lseOf(sp), negInf);
          m = arith::MaximumFOp::create(b, loc, m, lse);
        }
        scf::YieldOp::create(b, loc, ValueRange{m});
      });
  Value m = maxLoop.getResult(0);
  Value empty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, negInf);
  Value base = arith::SelectOp::create(b, loc, empty, f32(0.0), m);
  auto sumLoop = scf::ForOp::create(
      b, loc, idx(0), chunks, idx(1), ValueRange{f32(0.0), f32(0.0)},
      [&](OpBuilder &, Location, Value chunk, ValueRange iter) {
        Value sum = iter[0], acc = iter[1];
        for (int64_t k = 0; k < chunkSize; ++k) {
          auto [sp, valid] = split(chunk, k);
          Value w = emitExp2(b, loc,
                             arith::MulFOp::create(
                                 b, loc,
                                 arith::SubFOp::create(b, loc, lseOf(sp), base),
                                 f32(log2e)));
          w = arith::SelectOp::create(b, loc, valid, w, f32(0.0));
          Value part = memref::LoadOp::create(b, loc, oPart,
                                              ValueRange{sp, batch, h, i, d});
          sum = arith::AddFOp::create(b, loc, sum, w);
          acc = LLVM::FMAOp::create(b, loc, w, part, acc);
        }
        scf::YieldOp::create(b, loc, ValueRange{sum, acc});
      });
  Value sum = sumLoop.getResult(0), acc = sumLoop.getResult(1);
  Value out = arith::SelectOp::create(b, loc, empty, f32(0.0),
                                      arith::DivFOp::create(b, loc, acc, sum));
  LayoutDims dims = op.getLayoutDims();
  SmallVector<Value> at(4);
  at[dims.batch] = batch;
  at[dims.head] = h;
  at[dims.seq] = i;
  at[dims.feature] = d;
  Type element = cast<MemRefType>(outputs[0].getType()).getElementType();
  if (element != out.getType())
    out = arith::TruncFOp::create(b, loc, element, out);
  memref::StoreOp::create(b, loc, out, outputs[0], at);
  if (outputs.size() > 1) {
    Value log = emitLog2(b, loc, sum);
    Value value = arith::SelectOp::create(
        b, loc, empty, negInf,
        arith::AddFOp::create(
            b, loc, m, arith::MulFOp::create(b, loc, log, f32(std::log(2.0)))));
    scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, d, idx(0)),
        [&](OpBuilder &, Location) {
          memref::StoreOp::create(b, loc, value, outputs[1],
                                  ValueRange{batch, h, i});
          scf::YieldOp::create(b, loc);
        });
  }
}

void attune::cuda::emitCombine(OpBuilder &b, AttentionOp op, Value oPart,
                               Value lsePart, ValueRange outputs) {
  Location loc = op.getLoc();
  Value d = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value i = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value batch = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  // The launch's split count (the manifest's decode_splits x split warps).
  Value splits = memref::DimOp::create(b, loc, oPart, 0);
  emitMergedFeature(b, loc, op, oPart, lsePart, splits, batch, h, i, d,
                    outputs);
}

void KernelEmitter::mergeSplitWarps() {
  // One CTA covers the row group: its warps' partial rows, just written by
  // them (a CTA barrier orders global memory within the CTA), merged here
  // and no combine kernel runs (the manifest's `if` on decode_splits).
  Value ctas = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
  scf::IfOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, ctas, idx(1)),
      [&](OpBuilder &, Location) {
        gpu::BarrierOp::create(b, loc);
        Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
        Value items = mul(validRows(), idx(valueDim));
        scf::ForOp::create(
            b, loc, thread, items, idx(splitWarps * threads), ValueRange{},
            [&](OpBuilder &, Location, Value item, ValueRange) {
              Value row = divu(item, valueDim);
              Value d = remu(item, valueDim);
              auto [rowHead, query] = rowPosition(row);
              emitMergedFeature(b, loc, op, oPart, lsePart, idx(splitWarps),
                                batch, rowHead, query, d, mergeOutputs);
              scf::YieldOp::create(b, loc);
            });
        scf::YieldOp::create(b, loc);
      });
}
