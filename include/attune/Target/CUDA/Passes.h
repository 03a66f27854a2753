//===- Passes.h - CUDA target passes ----------------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CUDA_PASSES_H
#define ATTUNE_TARGET_CUDA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace attune::cuda {

#define GEN_PASS_DECL
#include "attune/Target/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attune/Target/CUDA/Passes.h.inc"

} // namespace attune::cuda

#endif // ATTUNE_TARGET_CUDA_PASSES_H
