//===- KernelPlan.cpp - The CPU kernel's tile policy ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CPU/KernelPlan.h"

#include "OperandRows.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace attune;
using namespace attune::cpu;

double KernelPlan::stackBytes(attn::AttentionOp op, int64_t tileQ,
                              int64_t tileK, bool fuseProducers) {
  double q = tileQ, k = tileK, d = op.getHeadSize(),
         dv = op.getValueHeadSize();
  // Staged rows of fused producers (OperandRows.h).
  double staged =
      fuseProducers ? OperandRows::stagingBytes(op, Operand::Query, tileQ) +
                          OperandRows::stagingBytes(op, Operand::Key, tileK) +
                          OperandRows::stagingBytes(op, Operand::Value, tileK)
                    : 0;
  // GQA's row map of heads and positions (index: 8 bytes each).
  double rowMap = op.getGroupSize() > 1 ? 16 * q : 0;
  return 4 * (d * q + k * q + q * dv + 3 * q) + staged + rowMap;
}

bool KernelPlan::fits(int64_t tileQ, int64_t tileK, int64_t lanes) {
  KernelPlan plan{tileQ, tileK, lanes};
  return tileQ > 0 && tileQ % (lanes * kBlockVectors) == 0 && tileK > 0 &&
         tileK % plan.blockRows() == 0;
}

FailureOr<KernelPlan> KernelPlan::get(attn::AttentionOp op,
                                      int64_t defaultTileQ,
                                      int64_t defaultTileK,
                                      int64_t vectorWidth) {
  auto [tileQ, tileK] = op.getTileSizesPair().value_or(
      std::make_pair(defaultTileQ, defaultTileK));
  int64_t lanes = vectorWidth;
  if (lanes == 16 && !fits(tileQ, tileK, 16) && fits(tileQ, tileK, 8))
    lanes = 8;
  KernelPlan plan{tileQ, tileK, lanes};
  if (!fits(tileQ, tileK, lanes)) {
    op.emitError() << "convert-attn-to-cpu: tile sizes (" << tileQ << ", "
                   << tileK << ") do not fit the " << lanes
                   << "-lane microkernel: queries per tile must be a "
                      "positive multiple of "
                   << lanes * kBlockVectors << " and keys of "
                   << plan.blockRows();
    return failure();
  }
  // Producers whose staged rows do not fit are materialised instead.
  if (stackBytes(op, tileQ, tileK) > kMaxTileStackBytes)
    plan.fuseProducers = false;
  if (double bytes = stackBytes(op, tileQ, tileK, plan.fuseProducers);
      bytes > kMaxTileStackBytes) {
    op.emitError() << "convert-attn-to-cpu: tile sizes (" << tileQ << ", "
                   << tileK << ") at head sizes (" << op.getHeadSize() << ", "
                   << op.getValueHeadSize() << ") need "
                   << llvm::formatv("{0:e2}", bytes)
                   << " bytes of per-thread tiles on the stack, above the "
                      "limit of "
                   << kMaxTileStackBytes << ": use smaller tile sizes";
    return failure();
  }
  return plan;
}
