//===- CPUFuzzer.cpp - Fuzz the CPU pipeline --------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Lowers every verifier-valid spec within the fuzz bounds through
// attn-cpu-pipeline to the LLVM dialect and then to LLVM IR, with the
// pipeline mode and vector width taken from a hash of the input. A crash,
// an assertion, a sanitizer report or a failure without an error
// diagnostic is a finding; a diagnosed refusal is not.
//
//===----------------------------------------------------------------------===//

#include "SpecMutator.h"

#include "attune/Target/CPU/CPUPipeline.h"

#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

using namespace attune::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module = parseSpec(ctx, data, size);
  if (!module || !withinFuzzBounds(*module))
    return 0;
  uint64_t hash = hashInput(data, size);
  attune::cpu::CPUPipelineOptions options;
  options.mode = hash % 4 == 0 ? "reference" : "fused";
  options.vectorWidth = hash & 4 ? 16 : 8;
  int errors = ctx.errors;
  if (failed(attune::cpu::lowerToLLVMDialect(*module, options))) {
    if (ctx.errors == errors)
      fuzzFailure("the CPU pipeline failed without an error diagnostic");
    return 0;
  }
  llvm::LLVMContext llvmContext;
  if (!mlir::translateModuleToLLVMIR(*module, llvmContext))
    fuzzFailure("the CPU pipeline's output does not translate to LLVM IR");
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  return mutateSpec(data, size, maxSize, seed, /*rawPercent=*/5);
}
