//===- ParseFuzzer.cpp - Fuzz the parser and verifiers ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Parses the input as a module of attn specs (which also runs every
// verifier). A module that verifies must print and parse back. A crash, an
// assertion or a sanitizer report is a finding; errors are expected.
//
//===----------------------------------------------------------------------===//

#include "SpecMutator.h"

#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/raw_ostream.h"

using namespace attune::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module = parseSpec(ctx, data, size);
  if (!module)
    return 0;
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  if (!mlir::parseSourceString<mlir::ModuleOp>(printed, &ctx.context))
    fuzzFailure("a verified module does not parse back after printing");
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  // Half raw byte mutations: the parser must survive any bytes.
  return mutateSpec(data, size, maxSize, seed, /*rawPercent=*/50);
}
