//===- attune-downstream.cpp - A tool built on an installed Attune --------===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Stands for a project that embeds Attune through find_package(Attune):
// registers Attune's dialects and passes, parses the spec named on the
// command line, counts its `attn.attention` ops through the generated op
// class (so the installed .inc headers are used), lowers it with
// `attn-lower-to-reference` and prints the result.
//
//===----------------------------------------------------------------------===//

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    llvm::errs() << "usage: attune-downstream <spec.mlir>\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  attune::registerAllDialects(registry);
  attune::registerAllPasses();
  mlir::MLIRContext context(registry);

  // The parser reports its own diagnostics (with locations) on failure.
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &context);
  if (!module)
    return 1;
  unsigned attentionOps = 0;
  module->walk([&](attune::attn::AttentionOp) { ++attentionOps; });
  llvm::outs() << "// attn.attention ops before lowering: " << attentionOps
               << "\n";

  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::parsePassPipeline(
          "attn-lower-to-reference", pm, llvm::errs())))
    return 1;
  if (mlir::failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  return 0;
}
