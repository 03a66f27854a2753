//===- Utils.h - Helpers shared by attn lowerings ---------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H
#define ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H

#include "mlir/IR/Builders.h"

namespace attune::attn {

class AttentionOp;
class RopeOp;

/// Emits run-time checks (`cf.assert`) that the dynamic sizes the verifier
/// could not compare agree: the batch size of Q, K and V, and the sequence
/// length of K and V. A mismatch aborts with a message instead of reading
/// out of bounds.
void emitShapeChecks(mlir::OpBuilder &b, AttentionOp op);

/// The same for attn.rope: `positions` against the input's B and S, and
/// `freq_scales` against R / 2.
void emitRopeShapeChecks(mlir::OpBuilder &b, RopeOp op);

} // namespace attune::attn

#endif // ATTUNE_DIALECT_ATTN_TRANSFORMS_UTILS_H
