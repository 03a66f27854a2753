//===- Wgmma.cpp - wgmma.mma_async on sm_90a --------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Hopper's warpgroup MMA: a CTA is Tq / 64 warpgroups; S = Q K^T takes both
// operands by descriptor from the 128-byte-swizzled tiles, O += P V takes P
// from registers (the mma.sync A layout) and V by descriptor, transposed.
// wgmma.fence / commit_group / wait_group are inline PTX that take the
// registers they order as tied operands, so LLVM computes them before the
// fence and reads them only after the wait. docs/CUDATarget.md ("sm_90a:
// wgmma.mma_async") has the layout.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace attune;
using namespace attune::attn;
using namespace attune::cuda;

Value KernelEmitter::wgmmaDescriptor(Value byteOffset, int64_t lbo,
                                     int64_t sbo) {
  // PTX ISA, "Matrix Descriptor Format": bits 0-13 the start address, 16-29
  // the leading and 32-45 the stride byte offset (all in 16 bytes), 62-63
  // the swizzle (1: 128 bytes). Shared addresses are below 2^18, so the
  // start field never carries into the next one (advanceDescriptor).
  Type i64 = b.getI64Type();
  Value address = arith::AddIOp::create(
      b, loc, sharedBase,
      arith::IndexCastOp::create(b, loc, b.getI32Type(), byteOffset));
  Value start = arith::ExtUIOp::create(
      b, loc, i64, arith::ShRUIOp::create(b, loc, address, i32(4)));
  uint64_t fields = (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32) |
                    (uint64_t(1) << 62);
  return arith::OrIOp::create(
      b, loc, start,
      arith::ConstantIntOp::create(b, loc, i64, static_cast<int64_t>(fields)));
}

Value KernelEmitter::advanceDescriptor(Value descriptor, int64_t bytes) {
  assert(bytes % 16 == 0);
  if (bytes == 0)
    return descriptor;
  return arith::AddIOp::create(
      b, loc, descriptor,
      arith::ConstantIntOp::create(b, loc, b.getI64Type(), bytes / 16));
}

void KernelEmitter::wgmma(ValueRange a, Value descriptor,
                          MutableArrayRef<Value> acc, bool accumulate,
                          bool transposeB) {
  int64_t n = 2 * acc.size();
  std::string type = elementType.isBF16() ? "bf16" : "f16";
  std::string text, constraints;
  llvm::raw_string_ostream os(text);
  os << "{\n.reg .pred p;\nsetp.ne.b32 p, " << (accumulate ? 1 : 0)
     << ", 0;\nwgmma.mma_async.sync.aligned.m64n" << n << "k16.f32." << type
     << "." << type << " {";
  for (int64_t k = 0; k < n / 2; ++k) {
    os << (k ? ", $" : "$") << k;
    constraints += "=f,";
  }
  int64_t next = n / 2;
  if (a.size() == 4) {
    os << "}, {$" << next << ", $" << next + 1 << ", $" << next + 2 << ", $"
       << next + 3 << "}, $" << next + 4 << ", p, 1, 1, ";
    constraints += "r,r,r,r,l";
  } else {
    // A by descriptor, K-major (imm-trans-a 0).
    os << "}, $" << next << ", $" << next + 1 << ", p, 1, 1, 0, ";
    constraints += "l,l";
  }
  os << (transposeB ? 1 : 0) << ";\n}";
  SmallVector<Value> operands(a);
  operands.push_back(descriptor);
  // The accumulators are read and written in place (tied operands).
  Value poison = LLVM::PoisonOp::create(b, loc, b.getF32Type());
  for (int64_t k = 0; k < n / 2; ++k) {
    constraints += "," + std::to_string(k);
    operands.push_back(accumulate ? acc[k] : poison);
  }
  SmallVector<Type> types(n / 2, b.getF32Type());
  SmallVector<Value> result = inlinePTX(text, constraints, operands, types);
  llvm::copy(result, acc.begin());
}

void KernelEmitter::fenceForWgmma() {
  if (useWgmma)
    inlinePTX("fence.proxy.async.shared::cta;", "", {});
}

void KernelEmitter::wgmmaQueryKey(Value kOffset, SmallVector<Value> &s) {
  // A (Q, this warpgroup's 64 rows) and B (K) both K-major: k-step kk
  // reads d 16kk.. of every row, 32 bytes into its 128-byte row of column
  // block kk / 4; 8-row groups 1024 bytes apart.
  Value qDescriptor = wgmmaDescriptor(
      mul(divu(warp, 4), idx(kWarpgroupRows * 128)), 16, kSwizzleAtomBytes);
  Value kDescriptor = wgmmaDescriptor(kOffset, 16, kSwizzleAtomBytes);
  // The previous tile's scores were read by this thread: order them
  // before the new products are written.
  inlinePTX("wgmma.fence.sync.aligned;", "", {});
  for (int64_t kk = 0; kk < headSteps; ++kk) {
    int64_t step = (kk % 4) * 32;
    wgmma(advanceDescriptor(qDescriptor, (kk / 4) * tileQ * 128 + step),
          advanceDescriptor(kDescriptor, (kk / 4) * tileK * 128 + step), s,
          /*accumulate=*/kk > 0, /*transposeB=*/false);
  }
  inlinePTX("wgmma.commit_group.sync.aligned;", "", {});
  s = tiedPTX("wgmma.wait_group.sync.aligned 0;", s);
}

void KernelEmitter::wgmmaValueProduct(ArrayRef<Value> t, Value vOffset,
                                      SmallVector<Value> &o) {
  int64_t perTile = tileK / 8 * 4;
  // P's A fragments, then the fence that orders their and O's (rescaled)
  // registers before the products.
  SmallVector<Value> operands(o);
  for (int64_t k = 0; k < perTile; k += 2)
    operands.push_back(pack(t[k], t[k + 1]));
  operands = tiedPTX("wgmma.fence.sync.aligned;", operands);
  llvm::copy(ArrayRef<Value>(operands).take_front(o.size()), o.begin());
  ArrayRef<Value> words = ArrayRef<Value>(operands).drop_front(o.size());
  // N-major B (transposed): k-step kk reads keys 16kk.. (rows of 128
  // bytes, 8-row groups 1024 bytes apart), column blocks of 64 values
  // Tk rows apart.
  Value descriptor = wgmmaDescriptor(vOffset, tileK * 128, kSwizzleAtomBytes);
  for (int64_t kk = 0; kk < tileK / 16; ++kk)
    wgmma(words.slice(4 * kk, 4), advanceDescriptor(descriptor, kk * 16 * 128),
          o,
          /*accumulate=*/true, /*transposeB=*/true);
  inlinePTX("wgmma.commit_group.sync.aligned;", "", {});
  o = tiedPTX("wgmma.wait_group.sync.aligned 0;", o);
}
