//===- CUDAPipeline.h - From attn specs to CUDA kernels ---------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The CUDA target: `attn-cuda-pipeline{chip=...}` lowers a spec to PTX (in a
// gpu.binary), and writeCUDAArtifacts turns a spec into the directory the
// runtime loads (docs/CUDAArtifacts.md): PTX, cubins from ptxas, manifest.
// The tile policy both use is in KernelPlan.h.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CUDA_CUDAPIPELINE_H
#define ATTUNE_TARGET_CUDA_CUDAPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace attune::cuda {

/// Options of `attn-cuda-pipeline`.
struct CUDAPipelineOptions
    : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture: sm_80 or sm_90a"),
                           llvm::cl::init("sm_90a")};
  Option<int64_t> tileQ{
      *this, "tile-q",
      llvm::cl::desc("Queries per CTA (0: chosen per head size)"),
      llvm::cl::init(0)};
  Option<int64_t> tileK{
      *this, "tile-k",
      llvm::cl::desc("Keys per k-tile (0: chosen per head size)"),
      llvm::cl::init(0)};
  Option<int64_t> decodeTileK{
      *this, "decode-tile-k",
      llvm::cl::desc("Keys per k-tile of the decode kernel at most (0: "
                     "derived from tile-k)"),
      llvm::cl::init(0)};
  Option<bool> cluster{
      *this, "cluster",
      llvm::cl::desc("Sort bucketed attention's rows by bucket (attn-cluster) "
                     "in a program, so that the kernel skips the tiles of "
                     "different buckets"),
      llvm::cl::init(true)};
  Option<std::string> mma{
      *this, "mma",
      llvm::cl::desc("Tensor-core instructions on sm_90a: auto (wgmma where "
                     "it measured faster: so far everywhere it applies), "
                     "wgmma (wgmma.mma_async wherever "
                     "the kernel allows it) or sync (mma.sync only, as on "
                     "sm_80)"),
      llvm::cl::init("auto")};

  /// The `mma` the kernel conversion gets: wgmma and auto become sync on a
  /// chip without wgmma; anything else goes through (the conversion
  /// rejects unknown values).
  std::string kernelMma() const {
    bool wantsWgmma = mma == "wgmma" || mma == "auto";
    return chip != "sm_90a" && wantsWgmma ? std::string("sync")
                                          : mma.getValue();
  }
};

/// The chips the target supports.
bool isSupportedChip(llvm::StringRef chip);

/// Adds the attn-level passes and the kernel conversion (up to gpu.func
/// kernels with launch attributes).
void buildCUDAKernelPipeline(mlir::OpPassManager &pm,
                             const CUDAPipelineOptions &options);

/// Adds the lowering of gpu.module kernels to NVVM and PTX (a gpu.binary of
/// format `isa`).
void buildCUDAToPTXPipeline(mlir::OpPassManager &pm,
                            const CUDAPipelineOptions &options);

/// Registers `attn-cuda-pipeline` (both of the above).
void registerCUDAPipeline();

/// Checks that `spec` is what the CUDA target compiles: one public function
/// that is either one attn.attention on its arguments (with the producers
/// its kernels read through, scalar ops, and a return of its results) or a
/// program of several attention and linalg steps (docs/CUDATarget.md,
/// "Programs"). Anything else is refused with a diagnostic;
/// writeCUDAArtifacts checks this first.
mlir::LogicalResult checkSupportedSpec(mlir::ModuleOp spec);

/// Whether `spec` is one function of one attn.attention on its arguments
/// (not a program): what --gpu-element-type can retype.
bool isSingleAttentionSpec(mlir::ModuleOp spec);

/// Compiles `spec` for `chip` into `directory` (created if needed):
/// `<kernel>.ptx`, `<kernel>.cubin` (with `ptxas`), `manifest.json` and
/// `spec.mlir`. `ptxas` is the assembler to use (empty: $ATTUNE_PTXAS, then
/// /usr/local/cuda/bin/ptxas, then PATH). Diagnostics go to the context.
mlir::LogicalResult writeCUDAArtifacts(mlir::ModuleOp spec,
                                       const CUDAPipelineOptions &options,
                                       llvm::StringRef directory,
                                       llvm::StringRef ptxas = "");

} // namespace attune::cuda

#endif // ATTUNE_TARGET_CUDA_CUDAPIPELINE_H
