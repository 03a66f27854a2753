//===- CUDAFuzzer.cpp - Fuzz the CUDA pipeline ------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Compiles every verifier-valid spec within the fuzz bounds through the
// kernel half of attn-cuda-pipeline (attn to gpu.func kernels) and a third
// of them on to PTX (no ptxas, no GPU), for sm_90a or sm_80 and with mma
// auto or sync, all taken from a hash of the input. A crash, an assertion, a
// sanitizer report or a failure without an error diagnostic is a finding; a
// diagnosed refusal (an unsupported spec) is not.
//
//===----------------------------------------------------------------------===//

#include "SpecMutator.h"

#include "attune/Target/CUDA/CUDAPipeline.h"

#include "mlir/Pass/PassManager.h"

using namespace attune::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module = parseSpec(ctx, data, size);
  if (!module || !withinFuzzBounds(*module))
    return 0;
  uint64_t hash = hashInput(data, size);
  attune::cuda::CUDAPipelineOptions options;
  options.chip = hash % 3 == 0 ? "sm_80" : "sm_90a";
  options.mma = hash & 8 ? "sync" : "auto";
  mlir::PassManager pm(&ctx.context);
  attune::cuda::buildCUDAKernelPipeline(pm, options);
  // NVVM and LLVM's NVPTX backend take most of the time of an input: run
  // them on a third of the inputs, so a minute of fuzzing sees more specs.
  if ((hash >> 8) % 3 == 0)
    attune::cuda::buildCUDAToPTXPipeline(pm, options);
  int errors = ctx.errors;
  if (failed(pm.run(*module)) && ctx.errors == errors)
    fuzzFailure("the CUDA pipeline failed without an error diagnostic");
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  return mutateSpec(data, size, maxSize, seed, /*rawPercent=*/5);
}
