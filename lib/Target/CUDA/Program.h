//===- Program.h - Functions of several steps on CUDA -----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// A CUDA program: a function whose body holds several attention and linalg
// steps and the reshapes, slices and size computations between them
// (docs/CUDATarget.md, "Programs"). Program.cpp splits it into steps and
// writes one manifest; this header is what its linalg kernels
// (LinalgKernel.cpp) need.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_PROGRAM_H
#define ATTUNE_LIB_TARGET_CUDA_PROGRAM_H

#include "ProgramSizes.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <functional>
#include <optional>
#include <string>

namespace attune::cuda {

/// Threads per CTA of a step kernel (linalg, append).
constexpr int64_t kStepThreads = 256;

/// The manifest name of the buffer that holds `root` (a program argument or
/// a step's result), or failure with a diagnostic.
using BufferNamer = std::function<mlir::FailureOr<std::string>(mlir::Value)>;

/// What the manifest needs of a step kernel (linalg, append).
struct LinalgKernel {
  std::string name;
  /// Its parameters in order: `{"tensor": buffer}` and
  /// `{"scalar": "i64", "symbol": s}`.
  llvm::json::Array params;
  /// Its points (threads that work): an integer or a symbol.
  llvm::json::Value count = 0;
  /// The grid, when it is not ceil(count / kStepThreads) CTAs along x.
  std::optional<llvm::json::Array> grid;
};

/// The extent of every loop of `op` (ProgramSizes expressions, named),
/// each from an operand dimension the loop indexes directly; failure with
/// a diagnostic when a loop indexes none.
mlir::FailureOr<llvm::SmallVector<llvm::json::Value>>
loopExtents(mlir::linalg::GenericOp op, ProgramSizes &sizes);

/// Lanes of a warp: the threads that share a point of a linalg kernel
/// whose reduction is split.
constexpr int64_t kWarpLanes = 32;

/// The combiner of `op`'s reduction when its kernel may split the reduction
/// across the lanes of a warp (one output, one commutative arith op with a
/// neutral element folding each value into the output), else null.
mlir::Operation *splitCombiner(mlir::linalg::GenericOp op);

/// Emits `op`, a linalg.generic on tensors of the program, as a gpu.func
/// named `name` where `b` points (in a gpu.module): one thread per point of
/// its parallel iteration space or, with `warp` (splitCombiner(op) must
/// hold), one warp per point, its lanes sharing the first reduction loop.
mlir::FailureOr<LinalgKernel>
emitLinalgKernel(mlir::OpBuilder &b, mlir::linalg::GenericOp op,
                 llvm::StringRef name, ProgramSizes &sizes,
                 const BufferNamer &bufferOf, bool warp = false);

/// The most ids attn.sort_ids' kernel counts in shared memory (32 KiB).
constexpr int64_t kMaxSortIds = 8192;

/// Emits `op`, an attn.sort_ids of a program, as a gpu.func named `name`
/// where `b` points (in a gpu.module): one CTA per row, a stable counting
/// sort in shared memory (HashKernels.cpp); a diagnostic when num_ids is
/// above kMaxSortIds.
mlir::FailureOr<LinalgKernel>
emitSortIdsKernel(mlir::OpBuilder &b, attn::SortIdsOp op, llvm::StringRef name,
                  ProgramSizes &sizes, const BufferNamer &bufferOf);

/// Emits `op`, an attn.permute of a program, as a gpu.func named `name`:
/// one thread per element, a gather by the order or, with `inverse`, a
/// scatter, which the caller allows only for an order of attn.sort_ids
/// (HashKernels.cpp).
mlir::FailureOr<LinalgKernel>
emitPermuteKernel(mlir::OpBuilder &b, attn::PermuteOp op, llvm::StringRef name,
                  ProgramSizes &sizes, const BufferNamer &bufferOf);

/// Emits the kernels of `op`, an attn.append_pages of a program whose
/// cache is an argument written in place, where `b` points (in a
/// gpu.module): `<name>_clear` zeroes `flags` (an i32 workspace [pages,
/// page size]), then `<name>` writes each row, rotated by `rope` when it
/// is not null (the attn.rope whose result is op's rows) (AppendKernel.cpp).
mlir::FailureOr<llvm::SmallVector<LinalgKernel>>
emitAppendKernels(mlir::OpBuilder &b, attn::AppendPagesOp op, attn::RopeOp rope,
                  llvm::StringRef name, llvm::StringRef flags,
                  ProgramSizes &sizes, const BufferNamer &bufferOf);

/// A linalg.generic that the tiled contraction kernels compute: one
/// reduction loop k, C[batch, m, n] += A[batch, m, k] * B[batch, k, n] in
/// f32, every indexing map a projected permutation (ContractionKernel.cpp).
struct Contraction {
  llvm::SmallVector<unsigned, 2> batch, m, n;
  unsigned k;
  /// The input indexed by the m loops, and the one indexed by the n loops.
  mlir::OpOperand *lhs, *rhs;
};

/// `op` as a Contraction, or nullopt.
std::optional<Contraction> matchContraction(mlir::linalg::GenericOp op);

/// Emits the two kernels of a contraction where `b` points (in a
/// gpu.module): `<name>` computes, per CTA, a 32 x 64 tile of C over one
/// chunk of kContractionChunk values of k into `partial` (an f32 workspace
/// [ceil(K / chunk), batch, M, N] the caller declares with
/// contractionPartialShape), then `<name>_sum` adds the chunks in order
/// into C's initial value.
mlir::FailureOr<llvm::SmallVector<LinalgKernel>>
emitContractionKernels(mlir::OpBuilder &b, mlir::linalg::GenericOp op,
                       const Contraction &c, llvm::StringRef name,
                       llvm::StringRef partial, ProgramSizes &sizes,
                       const BufferNamer &bufferOf);

/// The shape of the partial sums' workspace of `c`.
mlir::FailureOr<llvm::json::Array>
contractionPartialShape(mlir::linalg::GenericOp op, const Contraction &c,
                        ProgramSizes &sizes);

/// Values of k one CTA of a contraction kernel reduces.
constexpr int64_t kContractionChunk = 1024;

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_PROGRAM_H
