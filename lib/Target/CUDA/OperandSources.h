//===- OperandSources.h - The tensors Q, K and V are read from --*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Private to lib/Target/CUDA: which function arguments a spec's kernels
// read Q, K and V from, and the name each has in the manifest. Q, K and V
// are function arguments, or K and V are a tensor.concat of function
// arguments along the sequence (Transformer-XL's memory and segment): the
// kernels then read each key and value row from its part
// (OperandRows.cpp's concatRows) and the concatenation is never
// materialised; or K and V are attn.gather_pages of function arguments (a
// paged KV cache): the kernels read each row from its page (pagedRows). The conversion (kernel parameters, plane kernels), the
// emitter (operand rows) and the manifest (argument names and shapes, plane
// workspaces) take the sources in the same order from here.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_LIB_TARGET_CUDA_OPERANDSOURCES_H
#define ATTUNE_LIB_TARGET_CUDA_OPERANDSOURCES_H

#include "attune/Dialect/Attn/IR/AttnOps.h"

#include "llvm/ADT/SmallVector.h"

#include <string>

namespace attune::cuda {

/// One tensor a kernel reads an operand from.
struct OperandSource {
  /// The function argument.
  mlir::BlockArgument argument;
  /// Its name in the manifest and in the plane workspaces: "q", "k", "v",
  /// or "k<i>" / "v<i>" for part i of a concatenation.
  std::string role;
  /// The manifest's name of its sequence dimension when dynamic: "Sq",
  /// "Sk", or for part i of a concatenation the argument's `attn.dims`
  /// name, else "Sk<i>" (the same for K's and V's part i, so the runtime
  /// checks that they have the same length). Empty for a paged cache.
  std::string seqName;
  /// A paged KV cache ("k_cache", "v_cache"): the gather that reads it. Its
  /// block table and lengths are function arguments too (captures in the
  /// manifest's terms).
  attn::GatherPagesOp pages;
};

/// Q's, K's and V's sources, in that order.
struct OperandSources {
  llvm::SmallVector<OperandSource, 3> all;
  /// all[first[o], first[o + 1]) are the sources of operand o (Q, K, V).
  unsigned first[4] = {0, 0, 0, 0};

  llvm::ArrayRef<OperandSource> of(unsigned operand) const {
    return llvm::ArrayRef<OperandSource>(all).slice(
        first[operand], first[operand + 1] - first[operand]);
  }
  /// The first source that is `argument`, or null.
  const OperandSource *find(mlir::Value argument) const;
};

/// The sources of `op`'s Q, K and V; on failure, `reason` says why the
/// CUDA kernels cannot read them.
std::optional<OperandSources> getOperandSources(attn::AttentionOp op,
                                                std::string &reason);

/// Whether `producer` is a concatenation or a gather of pages that
/// getOperandSources reads from (the conversion does not copy it into the
/// kernels).
bool isSourceProducer(mlir::Operation *producer, attn::AttentionOp op);

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_OPERANDSOURCES_H
