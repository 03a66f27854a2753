//===- Passes.td - CPU target passes -----------------------*- tablegen -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CPU_PASSES_TD
#define ATTUNE_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnCPUEntryPoints : Pass<"attn-cpu-entry-points", "::mlir::ModuleOp"> {
  let summary = "Give public functions the C calling convention of the runtime";
  let description = [{
    Runs on bufferized code. Every public `func.func` that returns memrefs
    gets one trailing out-parameter per result, of the same type: the
    result is copied into it (after a run-time check that the caller's
    buffer has the result's sizes, so a wrong buffer aborts with a message
    rather than being overrun) and the function returns nothing. Unlike
    upstream `buffer-results-to-out-params`, dynamic shapes are supported:
    the caller knows the result sizes from the shape rules of the spec.

    Public functions are also marked `llvm.emit_c_interface`, so that
    `_mlir_ciface_<name>` takes pointers to memref descriptors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

#endif // ATTUNE_TARGET_CPU_PASSES_TD
