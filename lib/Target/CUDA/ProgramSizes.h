//===- ProgramSizes.h - Tensor sizes of a program, symbolically -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// The CUDA artifact has no host code: every size a launch needs (a
// workspace's shape, a grid, a view's shape) must be an expression of the
// symbols the runtime binds from the arguments' shapes. ProgramSizes
// computes such an expression for every dimension of every tensor of a
// function, from the ops that define it (tensor.dim, arith on index,
// reshapes, slices, linalg inits, attention results, varlen packs and
// unpacks), in the manifest's syntax (docs/CUDAArtifacts.md, "Derived
// symbols"), and names the compound ones as derived symbols.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_PROGRAMSIZES_H
#define ATTUNE_LIB_TARGET_CUDA_PROGRAMSIZES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Value.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace attune::cuda {

class ProgramSizes {
public:
  /// Names the arguments of `func` and their dynamic dimensions: `attn.dims`
  /// names first, then by role (B, Sq, Sk, ...) for an argument that is
  /// directly Q, K or V of an attention, else `<name>_d<dim>`.
  explicit ProgramSizes(mlir::func::FuncOp func);

  /// The manifest name of argument `i` (q, k, v, k_1, capture0, ...).
  llvm::StringRef argumentName(unsigned i) const { return names[i]; }
  /// The manifest shape of argument `i` (empty for a scalar).
  llvm::json::Array argumentShape(unsigned i) const;

  /// Dimension `d` of `tensor` as an expression of the argument symbols;
  /// failure, with a diagnostic at the op that defines it, when it cannot
  /// be computed without running the function.
  mlir::FailureOr<llvm::json::Value> dim(mlir::Value tensor, int64_t d);
  /// An index or integer scalar of the function, the same way.
  mlir::FailureOr<llvm::json::Value> index(mlir::Value value);

  /// `expr` as a manifest size: itself when it is an integer or an argument
  /// symbol, else a derived symbol (`n0`, `n1`, ...) defined once.
  llvm::json::Value name(const llvm::json::Value &expr);
  /// A derived symbol (`n0`, ...) for the CTAs of `kernel` the launch's
  /// device holds at once (a manifest `resident_ctas` symbol), defined once.
  llvm::json::Value residentCTAs(llvm::StringRef kernel);
  /// The shape of `tensor`, each dimension named.
  mlir::FailureOr<llvm::json::Array> shape(mlir::Value tensor);

  /// The derived symbols named so far, in order of definition (the
  /// manifest's "symbols").
  const llvm::json::Array &derivedSymbols() const { return derived; }
  /// The expression a derived symbol stands for, or nullptr.
  const llvm::json::Value *definition(llvm::StringRef symbol) const;

  /// `op` ("add", "mul", "floordiv", ...) of `a` and `b`, folded where both
  /// are integers or one is the operation's identity.
  static llvm::json::Value combine(llvm::StringRef op, llvm::json::Value a,
                                   llvm::json::Value b);

  /// A printed form of `expr`, equal for equal expressions.
  static std::string key(const llvm::json::Value &expr);

private:
  std::string define(const std::string &key, llvm::StringRef member,
                     llvm::json::Value definition);

  mlir::func::FuncOp func;
  std::vector<std::string> names;
  std::vector<std::vector<llvm::json::Value>> argumentDims;
  llvm::json::Array derived;
  llvm::StringMap<std::string> derivedByKey;
  /// The argument symbols and derived symbols.
  llvm::StringSet<> taken;
};

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_PROGRAMSIZES_H
