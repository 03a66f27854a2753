//===- ParseSource.h - Parse MLIR sources, screened first -------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// MLIR 22's custom parsers for `linalg.transpose`, `linalg.broadcast` and
// `linalg.reduce` crash (a null attribute is stored) when the integer list
// after `permutation =` or `dimensions =` does not parse: `[1, x]`, `[1 0]`,
// `[1, 0,]`, `[99999999999999999999]`. Attune's tools read sources through
// `parseScreenedSourceFile`, which first checks those lists lexically and
// reports a malformed one as an error at its location, so that bad input is
// a diagnostic and never a crash. docs/Testing.md says how this was found.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_SUPPORT_PARSESOURCE_H
#define ATTUNE_SUPPORT_PARSESOURCE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include "llvm/Support/SourceMgr.h"

#include <optional>
#include <string>

namespace attune {

/// A construct MLIR's parser is known to crash on: where it starts (a byte
/// offset into the text) and what is wrong.
struct ParserHazard {
  size_t offset;
  std::string message;
};

/// Returns the first construct of `text` that MLIR's parser is known to
/// crash on, or nothing when there is none. Comments and string literals are
/// skipped; the check is conservative: a list it cannot confirm is well
/// formed is reported.
std::optional<ParserHazard> findParserHazard(llvm::StringRef text);

/// Emits an error, located in buffer `bufferId` of `sourceMgr`, at the first
/// parser hazard of that buffer; fails if there is one.
mlir::LogicalResult screenParserHazards(const llvm::SourceMgr &sourceMgr,
                                        unsigned bufferId,
                                        mlir::MLIRContext *context);

/// Parses the main buffer of `sourceMgr` as a module after screening it.
mlir::OwningOpRef<mlir::ModuleOp>
parseScreenedSourceFile(llvm::SourceMgr &sourceMgr, mlir::MLIRContext *context);

} // namespace attune

#endif // ATTUNE_SUPPORT_PARSESOURCE_H
