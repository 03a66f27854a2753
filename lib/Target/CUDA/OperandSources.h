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
// paged KV cache): the kernels read each row from its page (pagedRows); or
// any of them is an attn.unpack of a packed [T, H, D] argument (a varlen
// batch): the kernels read sequence b's rows from its rows of the packed
// tensor (varlenRows); or any of them is an attn.rope of an argument,
// rotated into a workspace by a kernel of its own (RopeKernel.cpp) or, Q,
// in shared memory as it is loaded. The conversion (kernel parameters,
// plane kernels), the emitter (operand rows) and the manifest (argument
// names and shapes, plane workspaces) take the sources in the same order
// from here; the attn.pack that O may go through is found here too
// (getFusedPack).
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
  /// A varlen operand: the unpack that reads the packed argument. Its
  /// offsets and padded length come from the function too.
  attn::UnpackOp unpack;
  /// An operand rotated by attn.rope: a kernel of its own writes the
  /// rotated argument to the workspace "<role>_rope", which the attention
  /// kernels read instead (RopeKernel.cpp); or, `ropeOnLoad`, the attention
  /// kernels read the argument and rotate it as they load it. Q, 16-bit and
  /// rotating by whole chunks (ropeFitsChunks), is rotated on load: each
  /// CTA rotates its Q tile once in shared memory, no more work than the
  /// rope kernel's and without its write and read of the rotated copy. K
  /// and V are not: every CTA would rotate all of them
  /// (docs/CUDATarget.md, "attn.rope").
  attn::RopeOp rope;
  bool ropeOnLoad = false;
};

/// Whether the rows `rope` rotates, of `element`, rotate by whole 16-byte
/// chunks: 16-bit elements, and the rotated features of a chunk pair with
/// those of one chunk (half pairing: R / 2 a multiple of 8; interleaved: R
/// a multiple of 8). Defined in RopeKernel.cpp.
bool ropeFitsChunks(attn::RopeOp rope, mlir::Type element);

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

/// Whether `producer` is a concatenation, a gather of pages, an unpack or a
/// rope that getOperandSources reads from (the conversion does not copy it into
/// the kernels).
bool isSourceProducer(mlir::Operation *producer, attn::AttentionOp op);

/// The attn.pack that `op`'s O goes through to the function's result, whose
/// rows the kernels store in their packed places (a varlen batch), or null
/// when O is returned as it is. On failure (a pack the kernels cannot
/// write), `reason` says why.
mlir::FailureOr<attn::PackOp> getFusedPack(attn::AttentionOp op,
                                           std::string &reason);

} // namespace attune::cuda

#endif // ATTUNE_LIB_TARGET_CUDA_OPERANDSOURCES_H
