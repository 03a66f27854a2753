//===- MmaSync.cpp - mma.sync fragments and products ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The mma.sync m16n8k16 kernel's products (sm_80, and sm_90a with
// --mma=sync): S = Q K^T with Q's A fragments from registers or ldmatrix
// and K rows as stored as the B operand, and O += P V with P repacked in
// registers as the A operand and V through ldmatrix .trans. Two m-tiles per
// warp from 128-row tiles: every K and V fragment then feeds two mma.sync.
// The fragment layout is described in KernelEmitter.h.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

void KernelEmitter::mma(ArrayRef<Value> a, Value b0, Value b1,
                        MutableArrayRef<Value> acc) {
  Type f32Type = b.getF32Type();
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), {f32Type, f32Type, f32Type, f32Type});
  NVVM::MMATypes type =
      elementType.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  // NVVM types f16 operands as <2 x half>, bf16 ones as i32.
  SmallVector<Value, 4> aOperands(a), bOperands{b0, b1};
  if (elementType.isF16()) {
    auto pairType = VectorType::get({2}, elementType);
    for (Value &operand : aOperands)
      operand = LLVM::BitcastOp::create(b, loc, pairType, operand);
    for (Value &operand : bOperands)
      operand = LLVM::BitcastOp::create(b, loc, pairType, operand);
  }
  Value result = NVVM::MmaOp::create(
      b, loc, structType, aOperands, bOperands, acc, {16, 8, 16}, std::nullopt,
      std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  for (int64_t k = 0; k < 4; ++k)
    acc[k] = LLVM::ExtractValueOp::create(b, loc, result, k);
}

Value KernelEmitter::pack(Value x, Value y) {
  auto pairType = VectorType::get({2}, b.getF32Type());
  Value pair =
      vector::FromElementsOp::create(b, loc, pairType, ValueRange{x, y});
  Value narrow =
      arith::TruncFOp::create(b, loc, VectorType::get({2}, elementType), pair);
  Value asInt = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), narrow);
  return vector::ExtractOp::create(b, loc, asInt, ArrayRef<int64_t>{0});
}

SmallVector<Value, 4> KernelEmitter::loadQueryFragment(int64_t mt, int64_t kk,
                                                       int64_t plane) {
  // Matrix m of the .x4 load: rows 8(m%2).., k-columns 8(m/2)..: lanes
  // 8m..8m+7 give its row addresses (qFragments: row 32w + lane % 16,
  // column 8 (lane / 16)).
  return loadFragment(qFragments, Value(), plane * qPlane, 16 * mt, kk * 16,
                      qkCols, false);
}

void KernelEmitter::syncQueryKey(Value kOffset, MutableArrayRef<Value> s,
                                 MutableArrayRef<Value> sSmall) {
  int64_t perTile = tileK / 8 * 4;
  for (int64_t kk = 0; kk < headSteps; ++kk) {
    // a[mt][plane]: the Q fragments.
    SmallVector<SmallVector<SmallVector<Value, 4>, kPlanes>> a(mTiles);
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t p = 0; p < planes; ++p)
        a[mt].push_back(qInRegisters ? queryFragments[mt][kk]
                                     : loadQueryFragment(mt, kk, p));
    for (int64_t np = 0; np < tileK / 16; ++np) {
      // Matrices: keys 16np + 8(m/2).., d 16kk + 8(m%2)..: the B
      // operands of key columns 16np.. and 16np + 8..
      auto kf = loadFragmentPlanes(kFragments, kOffset, kPlane, np * 16,
                                   kk * 16, qkCols, false);
      for (int64_t mt = 0; mt < mTiles; ++mt)
        mmaPlanes(a[mt], kf, s, sSmall, mt * perTile + 8 * np);
    }
  }
}

void KernelEmitter::syncValueProduct(ArrayRef<Value> t, Value vOffset,
                                     MutableArrayRef<Value> pvAcc,
                                     MutableArrayRef<Value> pvSmall) {
  int64_t perTile = tileK / 8 * 4;
  for (int64_t kk = 0; kk < tileK / 16; ++kk) {
    // a[mt][plane]: P's fragments.
    SmallVector<SmallVector<SmallVector<Value, 4>, kPlanes>> a(mTiles);
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      ArrayRef<Value> p = t.slice(mt * perTile + 8 * kk, 8);
      a[mt].resize(planes);
      for (int64_t r = 0; r < 4; ++r)
        for (auto [plane, word] :
             llvm::enumerate(packPlanes(p[2 * r], p[2 * r + 1])))
          a[mt][plane].push_back(word);
    }
    for (int64_t dp = 0; dp < valueTiles / 2; ++dp) {
      // Matrices (transposed): keys 16kk + 8(m%2).., d 16dp + 8(m/2)..
      auto vf = loadFragmentPlanes(vFragments, vOffset, vPlane, kk * 16,
                                   dp * 16, vCols, true);
      for (int64_t mt = 0; mt < mTiles; ++mt)
        mmaPlanes(a[mt], vf, pvAcc, pvSmall, mt * valueTiles * 4 + 8 * dp);
    }
  }
}
