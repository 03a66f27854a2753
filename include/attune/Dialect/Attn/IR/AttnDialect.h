//===- AttnDialect.h - Attn dialect declaration -----------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_DIALECT_ATTN_IR_ATTNDIALECT_H
#define ATTUNE_DIALECT_ATTN_IR_ATTNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "attune/Dialect/Attn/IR/AttnDialect.h.inc"

#endif // ATTUNE_DIALECT_ATTN_IR_ATTNDIALECT_H
