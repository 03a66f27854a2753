//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CPU_PASSES_H
#define ATTUNE_TARGET_CPU_PASSES_H

#include "attune/Target/CPU/KernelPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace attune::cpu {

#define GEN_PASS_DECL
#include "attune/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attune/Target/CPU/Passes.h.inc"

} // namespace attune::cpu

#endif // ATTUNE_TARGET_CPU_PASSES_H
