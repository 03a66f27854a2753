//===- CPUPipeline.h - attn specs to LLVM for x86 CPUs ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The pass pipeline that takes a module of attention specs (func.func on
// tensors holding attn.attention) to the LLVM dialect, and the steps after
// it: C-interface entry points, LLVM IR, object files, a JIT and the C
// header that describes the entry points.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_TARGET_CPU_CPUPIPELINE_H
#define ATTUNE_TARGET_CPU_CPUPIPELINE_H

#include "attune/Target/CPU/KernelPlan.h"

#include "mlir/IR/Location.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Support/LLVM.h"

#include <memory>
#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir {
class ExecutionEngine;
class ModuleOp;
class OpPassManager;
} // namespace mlir

namespace attune::cpu {

/// The largest head size (D and Dv) the CPU target compiles
/// (`attn-cpu-check-limits`): far above any model's (at most 256), and low
/// enough that the compile time and code size of a kernel stay bounded.
inline constexpr int64_t kMaxHeadSize = 4096;

/// Options of `attn-cpu-pipeline`.
struct CPUPipelineOptions : mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<std::string> mode{
      *this, "mode",
      llvm::cl::desc("How attn.attention is lowered: 'fused' (tiled "
                     "FlashAttention, the default) or 'reference' (the "
                     "naive materialised form)"),
      llvm::cl::init("fused")};
  Option<int64_t> tileQ{*this, "tile-q",
                        llvm::cl::desc("Query rows per tile (fused)"),
                        llvm::cl::init(kDefaultTileQ)};
  Option<int64_t> tileK{*this, "tile-k",
                        llvm::cl::desc("Keys per tile (fused)"),
                        llvm::cl::init(kDefaultTileK)};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes per vector (fused): 8 (AVX2), 16 (AVX-512), "
                     "or 0 to choose from the CPU the code is compiled for"),
      llvm::cl::init(0)};
  Option<bool> cluster{
      *this, "cluster",
      llvm::cl::desc("Sort bucketed attention's rows by bucket so that the "
                     "kernel skips the tiles of different buckets "
                     "(attn-cluster; fused)"),
      llvm::cl::init(true)};
  Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("CPU the code is compiled for (LLVM name), or 'host'"),
      llvm::cl::init("host")};
};

/// Adds the passes that lower a module of specs to the LLVM dialect. Entry
/// points (public functions) take their results as trailing out-parameters
/// and get a C interface (`_mlir_ciface_<name>`).
void buildCPUPipeline(mlir::OpPassManager &pm,
                      const CPUPipelineOptions &options);

/// Registers `attn-cpu-pipeline`.
void registerCPUPipeline();

/// The f32 lanes of the widest vectors `cpu` ("host" for this machine) runs
/// well: 16 with AVX-512, else 8.
int64_t getNativeVectorWidth(llvm::StringRef cpu);

/// "" if `cpu` is "host" or a CPU that LLVM's target for this host knows
/// (and, on x86-64, that runs 64-bit code); otherwise an error message that
/// lists the valid names.
std::string checkCPUName(llvm::StringRef cpu);

/// Checks option values the pipeline cannot express in its types.
mlir::LogicalResult validatePipelineOptions(const CPUPipelineOptions &options,
                                           mlir::Location loc);

/// Runs the pipeline on `module` in place. Diagnostics go to the context.
mlir::LogicalResult lowerToLLVMDialect(mlir::ModuleOp module,
                                       const CPUPipelineOptions &options);

/// Path of the OpenMP runtime that compiled code calls for parallel loops;
/// programs linking an `attunec` object need it too.
llvm::StringRef getOpenMPLibraryPath();

/// JIT-compiles a module in the LLVM dialect for the host, at -O3.
llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
createJIT(mlir::ModuleOp llvmModule);

/// Compiles a module in the LLVM dialect to a relocatable object file for
/// `cpu` ("host" for this machine) and writes it to `path`.
mlir::LogicalResult emitObjectFile(mlir::ModuleOp llvmModule,
                                   llvm::StringRef path, llvm::StringRef cpu);

/// Writes a C header declaring the entry points of `specModule` (before
/// lowering) as the object file exports them.
mlir::LogicalResult emitCHeader(mlir::ModuleOp specModule,
                                llvm::StringRef guardName,
                                llvm::raw_ostream &os);

} // namespace attune::cpu

#endif // ATTUNE_TARGET_CPU_CPUPIPELINE_H
