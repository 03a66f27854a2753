//===- Artifacts.h - Pieces of the CUDA artifact writer ---------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// What the artifact writer (CUDAArtifacts.cpp) and the program compiler
// (Program.cpp) share: compiling a module of kernels to PTX and a cubin,
// and compiling one attention function into the manifest members of its
// kernels (docs/CUDAArtifacts.md).
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_ARTIFACTS_H
#define ATTUNE_LIB_TARGET_CUDA_ARTIFACTS_H

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/Target/CUDA/CUDAPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>

namespace attune::cuda {

/// Launch rules of one kernel, read from its attn.kernel contract before
/// lowering.
struct KernelInfo {
  std::string name;
  attn::KernelRole role = attn::KernelRole::fwd;
  int64_t threads = 0, tileQ = 0, tileK = 0, sharedBytes = 0, splits = 0;
  /// Split-KV: query heads per CTA and the longest Sq it takes.
  int64_t headsPerCTA = 1, maxSq = 0;
  /// Plane kernels (f32 inputs): the role of the source they split into
  /// bf16 planes ("q", "k", "v", "k0", ...: OperandSources.h), how many, and
  /// rows per CTA.
  std::string operand;
  int64_t planes = 0, rows = 0;
  /// Registers per thread and spill stores, as ptxas -v reports them.
  int64_t registers = 0, spillBytes = 0;
};

/// The kernels of one compiled spec: one PTX module, one cubin.
struct CompiledModule {
  std::string stem;
  llvm::SmallVector<KernelInfo> kernels;
  /// The most any kernel spills, and the most shared memory one uses.
  int64_t spillBytes = 0, sharedBytes = 0;
};
/// The manifest name of an element type ("f32", "bf16", "i32", ...; index
/// is "i64"), or "" when the runtime has none for it.
std::string dtypeName(mlir::Type type);

/// The manifest "range" of argument `index` of `func` (its `attn.range`),
/// if it has one.
std::optional<llvm::json::Array> argumentRange(mlir::func::FuncOp func,
                                               unsigned index);

/// The ptxas to run: `requested`, else $ATTUNE_PTXAS, else the CUDA
/// toolkit's; "" if none is found.
std::string findPtxas(llvm::StringRef requested);

/// Lowers `spec` with `options` to PTX through the kernel pipeline and
/// upstream's NVVM lowering, assembles it with `assembler` into `directory`
/// as `<stem>.ptx` / `<stem>.cubin`, and returns what the manifest needs
/// (every gpu.func must carry an attn.kernel contract).
mlir::FailureOr<CompiledModule>
compileModule(mlir::ModuleOp spec, const CUDAPipelineOptions &options,
              llvm::StringRef directory, llvm::StringRef stem,
              llvm::StringRef assembler);

/// Reports why `spec` is not one function of one attn.attention on its
/// arguments with the producers its kernels read through (what
/// compileAttentionFunction takes), as diagnostics; success if it is.
mlir::LogicalResult checkSingleAttentionSpec(mlir::ModuleOp spec);

/// Compiles the one attention function of `spec` (checkSingleAttentionSpec),
/// choosing its tile sizes, into `directory` as `<function>.ptx/.cubin`, and
/// returns its manifest members: function, arguments, results, constraints,
/// workspace and kernels.
mlir::FailureOr<llvm::json::Object>
compileAttentionFunction(mlir::ModuleOp spec,
                         const CUDAPipelineOptions &options,
                         llvm::StringRef directory, llvm::StringRef assembler);

/// Why the public function of `spec` cannot be compiled as a program of
/// several steps (Program.cpp), as a diagnostic at the offending op;
/// success if it can.
mlir::LogicalResult checkProgram(mlir::ModuleOp spec);

/// Compiles the one public function of `spec`, of several attention and
/// linalg steps, into `directory` and returns its manifest members (as
/// compileAttentionFunction; plus the derived symbols).
mlir::FailureOr<llvm::json::Object>
compileProgram(mlir::ModuleOp spec, const CUDAPipelineOptions &options,
               llvm::StringRef directory, llvm::StringRef assembler);

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_ARTIFACTS_H
