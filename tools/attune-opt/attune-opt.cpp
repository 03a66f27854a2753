//===- attune-opt.cpp - Attune's mlir-opt -----------------------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// `mlir-opt` with the `attn` dialect, the upstream dialects specs use, and
// Attune's passes.
//
//===----------------------------------------------------------------------===//

#include "attune/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#ifndef ATTUNE_VERSION
#define ATTUNE_VERSION "unknown"
#endif

int main(int argc, char **argv) {
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &os) {
    os << "Attune version " ATTUNE_VERSION "\n";
  });
  mlir::DialectRegistry registry;
  attune::registerAllDialects(registry);
  attune::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Attune optimizer driver: attention specs and passes\n",
      registry));
}
