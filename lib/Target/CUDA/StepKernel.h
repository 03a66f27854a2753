//===- StepKernel.h - Kernels of non-attention steps ------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// What the kernels of a CUDA program's linalg and append steps share
// (LinalgKernel.cpp, AppendKernel.cpp): a gpu.func of kStepThreads threads
// per CTA, one thread per point of the step, guarded by `point < points`,
// whose parameters are added as the body needs them: a memref per program
// buffer it reads or writes and an i64 per symbol of the manifest
// (docs/CUDATarget.md, "Programs").
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_STEPKERNEL_H
#define ATTUNE_LIB_TARGET_CUDA_STEPKERNEL_H

#include "Program.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace attune::cuda {

/// A step kernel under construction: its gpu.func, the builder of the
/// body of its guard, and its parameters.
class StepKernelBuilder {
public:
  /// Creates the gpu.func `name` where `b` points (in a gpu.module), with
  /// the guard `point() < points`; the points are set by setPoints.
  StepKernelBuilder(mlir::OpBuilder &b, mlir::Location loc,
                    llvm::StringRef name, attn::KernelRole role,
                    ProgramSizes &sizes, const BufferNamer &bufferOf,
                    LinalgKernel &result);

  /// The builder of the guarded body (the thread's point is in range).
  mlir::OpBuilder &body() { return in; }
  /// The thread's point (index), computed before the guard.
  mlir::Value point() const { return pointValue; }
  /// Sets the number of points (the guard's bound and the manifest's
  /// `count`), an expression of ProgramSizes.
  void setPoints(const llvm::json::Value &count);
  /// A workgroup (shared) memory buffer of the kernel.
  mlir::Value workgroupBuffer(mlir::MemRefType type);

  /// The kernel parameter of the buffer `root` (a program argument or a
  /// step's result), added on first use.
  mlir::FailureOr<mlir::Value> buffer(mlir::Value root);
  /// The kernel parameter of the workspace `name` of type `type`.
  mlir::Value namedBuffer(llvm::StringRef name, mlir::MemRefType type);
  /// `expr` (ProgramSizes) as an index value at the kernel's entry.
  mlir::Value materialize(const llvm::json::Value &expr);
  /// Dimension `d` of `tensor`, at the kernel's entry.
  mlir::FailureOr<mlir::Value> size(mlir::Value tensor, int64_t d);
  /// An index value or attribute of the function, at the kernel's entry.
  mlir::FailureOr<mlir::Value> mixed(mlir::OpFoldResult value);
  /// The value a scalar of the function (defined outside the step) has in
  /// the kernel: a constant is cloned, an integer size computed from the
  /// symbols, a scalar argument passed as a parameter; failure otherwise.
  mlir::FailureOr<mlir::Value> scalar(mlir::Value value);
  /// The initial value of output `init` of `op` at the point whose init
  /// indices `indices` gives, in the guarded body: zero where the init is
  /// unread or an empty tensor, the constant of a linalg.fill, else the
  /// init's element (a diagnostic for a fill of a non-constant).
  mlir::FailureOr<mlir::Value>
  initialValue(mlir::linalg::GenericOp op, mlir::OpOperand &init,
               llvm::function_ref<llvm::SmallVector<mlir::Value>()> indices);
  /// Loads element `at` of `tensor` with `b`: the index is carried back
  /// through the views (collapse_shape, expand_shape, extract_slice) to the
  /// buffer they view.
  mlir::FailureOr<mlir::Value> load(mlir::OpBuilder &b, mlir::Value tensor,
                                    llvm::SmallVector<mlir::Value> at);

private:
  mlir::Value addParameter(mlir::Type type);

  mlir::gpu::GPUFuncOp kernel;
  mlir::scf::IfOp guard;
  mlir::OpBuilder prelude, in;
  mlir::Value pointValue;
  ProgramSizes &sizes;
  const BufferNamer &bufferOf;
  LinalgKernel &result;
  llvm::DenseMap<mlir::Value, mlir::Value> buffers;
  llvm::StringMap<mlir::Value> values;
};

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_STEPKERNEL_H
