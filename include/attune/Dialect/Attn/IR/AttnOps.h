//===- AttnOps.h - Attn dialect operations ----------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_IR_ATTNOPS_H
#define ATTUNE_DIALECT_ATTN_IR_ATTNOPS_H

#include "attune/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferIntRangeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attune/Dialect/Attn/IR/AttnEnums.h.inc"

namespace attune::attn {

/// Positions of the batch, head, sequence and feature dimensions of a 4-D
/// Q/K/V/O tensor in a given layout.
struct LayoutDims {
  unsigned batch, head, seq, feature;
};

/// The dimension positions of `layout`.
LayoutDims getLayoutDims(Layout layout);

/// The index arguments of the score and mask regions, in their order:
/// batch, query head, query position, key position.
enum class RegionDim : unsigned { B = 0, H = 1, I = 2, J = 3 };

} // namespace attune::attn

#define GET_ATTRDEF_CLASSES
#include "attune/Dialect/Attn/IR/AttnAttrs.h.inc"

#define GET_OP_CLASSES
#include "attune/Dialect/Attn/IR/AttnOps.h.inc"

#endif // ATTUNE_DIALECT_ATTN_IR_ATTNOPS_H
