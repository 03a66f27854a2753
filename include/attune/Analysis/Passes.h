//===- Passes.h - Analysis passes -------------------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_ANALYSIS_PASSES_H
#define ATTUNE_ANALYSIS_PASSES_H

#include "mlir/Pass/Pass.h"

#include <string>

namespace attune::attn {

#define GEN_PASS_DECL
#include "attune/Analysis/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attune/Analysis/Passes.h.inc"

} // namespace attune::attn

#endif // ATTUNE_ANALYSIS_PASSES_H
