//===- CUDAPipeline.cpp - From attn specs to CUDA kernels -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// `attn-cuda-pipeline`: the attn-level passes, the kernel conversion, and
// upstream's lowering of the kernels to PTX. The artifact writer
// (CUDAArtifacts.cpp) runs the same two halves per tile configuration.
//
//===----------------------------------------------------------------------===//

#include "attune/Target/CUDA/CUDAPipeline.h"

#include "attune/Dialect/Attn/Transforms/Passes.h"
#include "attune/Support/PassOptions.h"
#include "attune/Target/CUDA/KernelPlan.h"
#include "attune/Target/CUDA/Passes.h"

#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace attune;
using namespace attune::cuda;

bool attune::cuda::isSupportedChip(llvm::StringRef chip) {
  return chip == "sm_80" || chip == "sm_90a";
}

void attune::cuda::buildCUDAKernelPipeline(OpPassManager &pm,
                                           const CUDAPipelineOptions &options) {
  // Without explicit sizes, convert-attn-to-nvvm picks them per head size.
  if (options.tileQ > 0 || options.tileK > 0) {
    attn::AttnTileOptions tiling;
    tiling.tileQ = options.tileQ > 0 ? options.tileQ : kFallbackTileQ;
    tiling.tileK = options.tileK > 0 ? options.tileK : kFallbackTileK;
    pm.addPass(attn::createAttnTile(tiling));
  }
  pm.addPass(attn::createAttnSparsify());
  ConvertAttnToNVVMOptions conversion;
  conversion.decodeTileK = options.decodeTileK;
  conversion.mma = options.kernelMma();
  pm.addPass(createConvertAttnToNVVM(conversion));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void attune::cuda::buildCUDAToPTXPipeline(OpPassManager &pm,
                                          const CUDAPipelineOptions &options) {
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  // PTX ISA 8.0 has everything stage 1 uses and is what sm_90a needs.
  nvvm.cubinFeatures = "+ptx80";
  nvvm.cubinFormat = "isa";
  nvvm.optLevel = 3;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}

void attune::cuda::registerCUDAPipeline() {
  static constexpr attune::OptionSpec specs[] = {
      {"chip", attune::OptionKind::String},
      {"tile-q", attune::OptionKind::Integer},
      {"tile-k", attune::OptionKind::Integer},
      {"decode-tile-k", attune::OptionKind::Integer},
      {"mma", attune::OptionKind::String},
      {"cluster", attune::OptionKind::Bool}};
  attune::registerCheckedPipeline<CUDAPipelineOptions>(
      "attn-cuda-pipeline",
      "Lower attn.attention to PTX: attn-tile, attn-sparsify, "
      "convert-attn-to-nvvm, then NVVM and LLVM's NVPTX backend (the PTX "
      "lands in a gpu.binary)",
      specs,
      [](OpPassManager &pm, const CUDAPipelineOptions &options) {
        buildCUDAKernelPipeline(pm, options);
        buildCUDAToPTXPipeline(pm, options);
      },
      [](const CUDAPipelineOptions &options) -> std::string {
        if (!isSupportedChip(options.chip))
          return "unknown chip '" + options.chip +
                 "' (expected sm_80 or "
                 "sm_90a)";
        if (options.tileQ < 0 || options.tileK < 0 || options.decodeTileK < 0)
          return "tile-q, tile-k and decode-tile-k must be positive, or 0 "
                 "to choose per head size";
        // An unknown mma is left to convert-attn-to-nvvm, which names it.
        return "";
      });
}
