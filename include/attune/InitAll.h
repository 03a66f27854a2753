//===- InitAll.h - Register Attune and its upstream dialects ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Entry points for tools and for compilers that embed Attune: one call adds
// the `attn` dialect plus every upstream dialect its specs and lowerings use,
// another registers Attune's passes with the global pass registry.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_INITALL_H
#define ATTUNE_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace attune {

/// Adds the `attn` dialect and the upstream dialects (and their interface
/// models) that specs and Attune's lowerings use to `registry`.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers all of Attune's passes and pipelines.
void registerAllPasses();

} // namespace attune

#endif // ATTUNE_INITALL_H
