//===- Planes.cpp - f32 inputs as three bf16 planes -------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Tensor cores take 16-bit operands; an f32 spec still gets f32 accuracy.
// Plane kernels first write each element x of Q, K and V as three bf16
// values (plane p = bf16(x - planes before it)); the attention kernels then
// hold three planes per tile and compute every product as the six plane
// products a_p b_q with p + q < 3, the large one and the small ones in
// separate accumulators (tensor cores round their f32 accumulation toward
// zero). docs/CUDATarget.md ("f32 inputs: three bf16 planes").
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

SmallVector<Value, kPlanes> KernelEmitter::packPlanes(Value x, Value y) {
  if (planes == 1)
    return {pack(x, y)};
  auto pairType = VectorType::get({2}, b.getF32Type());
  auto narrowType = VectorType::get({2}, elementType);
  Value rest =
      vector::FromElementsOp::create(b, loc, pairType, ValueRange{x, y});
  SmallVector<Value, kPlanes> result;
  for (int64_t p = 0; p < planes; ++p) {
    Value narrow = arith::TruncFOp::create(b, loc, narrowType, rest);
    if (p + 1 < planes)
      rest = arith::SubFOp::create(
          b, loc, rest, arith::ExtFOp::create(b, loc, pairType, narrow));
    Value word = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), narrow);
    result.push_back(
        vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0}));
  }
  return result;
}

SmallVector<SmallVector<Value, 4>, kPlanes> KernelEmitter::loadFragmentPlanes(
    ArrayRef<Value> offsets, Value dynamicOffset, int64_t planeBytes,
    int64_t rowConst, int64_t colConst, int64_t cols, bool transpose) {
  SmallVector<SmallVector<Value, 4>, kPlanes> fragments;
  for (int64_t p = 0; p < planes; ++p)
    fragments.push_back(loadFragment(offsets, dynamicOffset, p * planeBytes,
                                     rowConst, colConst, cols, transpose));
  return fragments;
}

void KernelEmitter::mmaPlanes(ArrayRef<SmallVector<Value, 4>> a,
                              ArrayRef<SmallVector<Value, 4>> bPlanes,
                              MutableArrayRef<Value> acc,
                              MutableArrayRef<Value> small, int64_t first) {
  for (int64_t half = 0; half < 2; ++half) {
    int64_t at = first + 4 * half, b0 = 2 * half, b1 = 2 * half + 1;
    // The smallest terms first.
    for (int64_t order = planes - 1; order > 0; --order)
      for (int64_t p = 0; p <= order; ++p)
        mma(a[p], bPlanes[order - p][b0], bPlanes[order - p][b1],
            small.slice(at, 4));
    mma(a[0], bPlanes[0][b0], bPlanes[0][b1], acc.slice(at, 4));
  }
}

void attune::cuda::emitPlaneKernel(OpBuilder &b, Location loc, LayoutDims dims,
                                   Value source, ValueRange planeMemrefs) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto type = cast<MemRefType>(source.getType());
  int64_t features = type.getDimSize(dims.feature);
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value rowBlock = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  SmallVector<Value> at(4);
  at[dims.head] = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  at[dims.batch] = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  Value seq = memref::DimOp::create(b, loc, source, dims.seq);
  Value first = arith::MulIOp::create(b, loc, rowBlock, idx(kPlaneRows));
  Type bf16 = BFloat16Type::get(b.getContext());
  scf::ForOp::create(
      b, loc, tid, idx(kPlaneRows * features), idx(kPlaneThreads), ValueRange{},
      [&](OpBuilder &, Location, Value e, ValueRange) {
        // Consecutive threads take consecutive features: coalesced.
        Value row = arith::AddIOp::create(
            b, loc, first, arith::DivUIOp::create(b, loc, e, idx(features)));
        at[dims.seq] = row;
        at[dims.feature] = arith::RemUIOp::create(b, loc, e, idx(features));
        Value inside =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, seq);
        scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
          Value rest = memref::LoadOp::create(b, loc, source, at);
          for (Value plane : planeMemrefs) {
            Value narrow = arith::TruncFOp::create(b, loc, bf16, rest);
            memref::StoreOp::create(b, loc, narrow, plane, at);
            rest = arith::SubFOp::create(
                b, loc, rest,
                arith::ExtFOp::create(b, loc, b.getF32Type(), narrow));
          }
          scf::YieldOp::create(b, loc);
        });
        scf::YieldOp::create(b, loc);
      });
}
