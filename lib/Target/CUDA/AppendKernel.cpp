//===- AppendKernel.cpp - attn.append_pages of a program --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The append step of a CUDA program (docs/PagedKV.md, docs/CUDATarget.md,
// "Programs"): attn.append_pages writes the new rows into the caller's
// cache buffer in place (the manifest's "in_place_of"), one thread per
// element of the rows, consecutive threads on consecutive features. An
// attn.rope of the rows (RoPE on the appended keys) is applied on the way:
// the rotated rows never exist in memory.
//
// The CPU target's checks hold here too, as device-side assertions: a
// length that is negative or leaves no room for the rows, a page id outside
// the cache, and two rows written to one place. The last needs a flag per
// (page, row) of the cache, a workspace that a first kernel clears: without
// it the rows would land in an order-dependent place, a silent wrong answer.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "StepKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;
namespace json = llvm::json;

/// `value` (an integer of any width) as an index, sign-extended.
static Value asIndex(OpBuilder &b, Location loc, Value value) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
}

FailureOr<SmallVector<LinalgKernel>> attune::cuda::emitAppendKernels(
    OpBuilder &b, attn::AppendPagesOp op, attn::RopeOp rope, StringRef name,
    StringRef flags, ProgramSizes &sizes, const BufferNamer &bufferOf) {
  Location loc = op.getLoc();
  attn::LayoutDims dims = op.getLayoutDims(), cacheDims = op.getCacheDims();
  auto cacheType = cast<RankedTensorType>(op.getCache().getType());
  int64_t pageSize = op.getPageSize();
  Type i32 = b.getI32Type();
  auto flagsType =
      MemRefType::get({cacheType.getDimSize(cacheDims.batch), pageSize}, i32);
  FailureOr<json::Value> numPages = sizes.dim(op.getCache(), cacheDims.batch);
  if (failed(numPages))
    return failure();
  SmallVector<LinalgKernel> kernels(2);

  // The flags: zero, one thread per (page, row).
  {
    StepKernelBuilder kb(b, loc, (name + "_clear").str(),
                         attn::KernelRole::append, sizes, bufferOf, kernels[0]);
    kb.setPoints(sizes.name(
        ProgramSizes::combine("mul", sizes.name(*numPages), pageSize)));
    OpBuilder &in = kb.body();
    Value buffer = kb.namedBuffer(flags, flagsType);
    Value p = arith::ConstantIndexOp::create(in, loc, pageSize);
    Value page = arith::DivUIOp::create(in, loc, kb.point(), p);
    Value slot = arith::RemUIOp::create(in, loc, kb.point(), p);
    Value zero = arith::ConstantIntOp::create(in, loc, i32, 0);
    memref::StoreOp::create(in, loc, zero, buffer, ValueRange{page, slot});
  }

  // The rows, one thread per element.
  StepKernelBuilder kb(b, loc, name, attn::KernelRole::append, sizes, bufferOf,
                       kernels[1]);
  Value rows = rope ? rope.getInput() : op.getRows();
  auto rowsType = cast<RankedTensorType>(rows.getType());
  json::Value count = 1;
  SmallVector<Value> extent;
  for (int64_t d = 0; d < 4; ++d) {
    FailureOr<json::Value> n = sizes.dim(rows, d);
    if (failed(n))
      return failure();
    count = ProgramSizes::combine("mul", std::move(count), sizes.name(*n));
    extent.push_back(kb.materialize(sizes.name(*n)));
  }
  kb.setPoints(sizes.name(count));
  FailureOr<Value> tableBatch = kb.size(op.getBlockTable(), 0);
  FailureOr<Value> lensBatch = kb.size(op.getSeqLens(), 0);
  FailureOr<Value> tablePages = kb.size(op.getBlockTable(), 1);
  FailureOr<Value> cachePages = kb.size(op.getCache(), cacheDims.batch);
  FailureOr<Value> cacheMemref = kb.buffer(op.getCache());
  if (failed(tableBatch) || failed(lensBatch) || failed(tablePages) ||
      failed(cachePages) || failed(cacheMemref))
    return failure();
  Value flagBuffer = kb.namedBuffer(flags, flagsType);

  OpBuilder &in = kb.body();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(in, loc, v);
  };
  auto cmp = [&](arith::CmpIPredicate predicate, Value x, Value y) -> Value {
    return arith::CmpIOp::create(in, loc, predicate, x, y);
  };
  auto check = [&](Value holds, StringRef what) {
    cf::AssertOp::create(in, loc, holds, ("attn.append_pages: " + what).str());
  };
  // The batch sizes the verifier could not compare (dynamic).
  check(arith::AndIOp::create(
            in, loc,
            cmp(arith::CmpIPredicate::eq, *tableBatch, extent[dims.batch]),
            cmp(arith::CmpIPredicate::eq, *lensBatch, extent[dims.batch])),
        "the rows, block_table and seq_lens batch sizes differ");
  SmallVector<Value> at(4);
  Value rest = kb.point();
  for (int64_t d = 3; d >= 0; --d) {
    at[d] = arith::RemUIOp::create(in, loc, rest, extent[d]);
    rest = arith::DivUIOp::create(in, loc, rest, extent[d]);
  }
  Value batch = at[dims.batch], row = at[dims.seq];
  Value head = at[dims.head], feature = at[dims.feature];

  FailureOr<Value> lengthElement = kb.load(in, op.getSeqLens(), {batch});
  if (failed(lengthElement))
    return failure();
  Value length = asIndex(in, loc, *lengthElement);
  Value p = idx(pageSize);
  Value capacity = arith::MulIOp::create(in, loc, *tablePages, p);
  Value end = arith::AddIOp::create(in, loc, length, extent[dims.seq]);
  check(arith::AndIOp::create(in, loc,
                              cmp(arith::CmpIPredicate::sle, idx(0), length),
                              cmp(arith::CmpIPredicate::sle, end, capacity)),
        "a length plus the new rows exceeds the block table's pages x page "
        "size, or is negative");
  Value position = arith::AddIOp::create(in, loc, length, row);
  FailureOr<Value> pageElement = kb.load(
      in, op.getBlockTable(),
      {batch, arith::DivUIOp::create(in, loc, position, p).getResult()});
  if (failed(pageElement))
    return failure();
  Value page = asIndex(in, loc, *pageElement);
  Value slot = arith::RemUIOp::create(in, loc, position, p);
  check(arith::AndIOp::create(
            in, loc, cmp(arith::CmpIPredicate::sle, idx(0), page),
            cmp(arith::CmpIPredicate::slt, page, *cachePages)),
        "a page id in block_table is outside the cache");
  // One thread per written row claims its place.
  Value first = arith::AndIOp::create(
      in, loc, cmp(arith::CmpIPredicate::eq, head, idx(0)),
      cmp(arith::CmpIPredicate::eq, feature, idx(0)));
  scf::IfOp::create(in, loc, first, [&](OpBuilder &, Location) {
    Value one = arith::ConstantIntOp::create(in, loc, i32, 1);
    Value old =
        memref::AtomicRMWOp::create(in, loc, arith::AtomicRMWKind::assign, one,
                                    flagBuffer, ValueRange{page, slot});
    check(cmp(arith::CmpIPredicate::eq, old,
              arith::ConstantIntOp::create(in, loc, i32, 0)),
          "two rows are written to the same row of a page");
    scf::YieldOp::create(in, loc);
  });

  // The element, rotated when a rope of the rows is fused.
  Type element = rowsType.getElementType();
  FailureOr<Value> loaded = kb.load(in, rows, at);
  if (failed(loaded))
    return failure();
  Value value = *loaded;
  if (rope) {
    Type f32 = in.getF32Type();
    auto toF32 = [&](Value x) -> Value {
      return element.isF32() ? x : arith::ExtFOp::create(in, loc, f32, x);
    };
    bool failedLoad = false;
    auto load = [&](Value f) -> Value {
      SmallVector<Value> index(at);
      index[dims.feature] = f;
      FailureOr<Value> x = kb.load(in, rows, index);
      if (failed(x)) {
        failedLoad = true;
        return arith::ConstantOp::create(in, loc, in.getF32FloatAttr(0));
      }
      return toF32(*x);
    };
    Value pos;
    if (Value positions = rope.getPositions()) {
      // Sizes the verifier could not compare, as the rope kernel checks.
      int64_t rank = cast<RankedTensorType>(positions.getType()).getRank();
      FailureOr<Value> last = kb.size(positions, rank - 1);
      FailureOr<Value> lead = kb.size(positions, 0);
      if (failed(last) || failed(lead))
        return failure();
      cf::AssertOp::create(
          in, loc, cmp(arith::CmpIPredicate::eq, *last, extent[dims.seq]),
          "attn.rope: the positions' last size is not the input's sequence "
          "length");
      SmallVector<Value> index;
      if (rank == 2) {
        cf::AssertOp::create(
            in, loc, cmp(arith::CmpIPredicate::eq, *lead, extent[dims.batch]),
            "attn.rope: the positions' first size is not the input's batch "
            "size");
        index.push_back(batch);
      }
      index.push_back(row);
      FailureOr<Value> x = kb.load(in, positions, index);
      if (failed(x))
        return failure();
      pos = *x;
    } else {
      pos = row;
      if (Value offset = rope.getOffset()) {
        FailureOr<Value> o = kb.scalar(offset);
        if (failed(o))
          return rope.emitError("CUDA target: the offset of an attn.rope "
                                "fused into an append must be a constant, a "
                                "size or a scalar argument"),
                 failure();
        pos = arith::AddIOp::create(in, loc, pos, asIndex(in, loc, *o));
      }
    }
    Value position64 = arith::IndexCastOp::create(in, loc, in.getI64Type(),
                                                  asIndex(in, loc, pos));
    if (Value scales = rope.getFreqScales()) {
      FailureOr<Value> n = kb.size(scales, 0);
      if (failed(n))
        return failure();
      cf::AssertOp::create(
          in, loc,
          cmp(arith::CmpIPredicate::eq, *n, idx(rope.getNumRotated() / 2)),
          "attn.rope: freq_scales does not hold rotary_dim / 2 values");
    }
    auto loadScale = [&](Value k) -> Value {
      FailureOr<Value> x = kb.load(in, rope.getFreqScales(), {k});
      if (failed(x)) {
        failedLoad = true;
        return arith::ConstantOp::create(in, loc, in.getF32FloatAttr(1));
      }
      return *x;
    };
    // The table of theta_k lives in the kernels' gpu.module.
    LLVM::GlobalOp table =
        createRopeThetaTable(b, loc, rope, (name + "_theta").str());
    Value thetas = LLVM::AddressOfOp::create(in, loc, table);
    value = emitRotatedFeature(
        in, loc, rope, feature, toF32(value), load, position64,
        rope.getFreqScales() ? function_ref<Value(Value)>(loadScale) : nullptr,
        thetas);
    if (failedLoad)
      return failure();
    if (!element.isF32())
      value = arith::TruncFOp::create(in, loc, element, value);
  }
  SmallVector<Value> place(4);
  place[cacheDims.batch] = page;
  place[cacheDims.seq] = slot;
  place[cacheDims.head] = head;
  place[cacheDims.feature] = feature;
  memref::StoreOp::create(in, loc, value, *cacheMemref, place);
  return kernels;
}
