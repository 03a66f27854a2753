//===- OracleTestFixture.h - What the oracle's tests share ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// OracleTest.cpp and TensorOpsTest.cpp both parse a small function and
// evaluate it with the oracle; this fixture does that once for both.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_UNITTESTS_ORACLE_ORACLETESTFIXTURE_H
#define ATTUNE_UNITTESTS_ORACLE_ORACLETESTFIXTURE_H

#include "attune/Oracle/Oracle.h"

#include "attune/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

namespace attune::oracle::test {

/// `count` uniformly random values in [-1, 1).
inline std::vector<double> randomData(int64_t count, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> data(count);
  for (double &x : data)
    x = dist(gen);
  return data;
}

/// A context with every Attune dialect loaded, and the parsing and
/// evaluation of one function.
class OracleFixture : public ::testing::Test {
protected:
  OracleFixture() {
    mlir::DialectRegistry registry;
    attune::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// Parses `source` and returns its first function.
  mlir::func::FuncOp parse(llvm::StringRef source) {
    module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
    if (!module)
      return nullptr;
    return *module->getOps<mlir::func::FuncOp>().begin();
  }

  /// Evaluates the first function of `source` and expects success (a
  /// failure shows the diagnostics).
  std::vector<Array> run(llvm::StringRef source, llvm::ArrayRef<Array> args) {
    std::string messages;
    mlir::FailureOr<std::vector<Array>> results =
        evaluate(source, args, messages);
    EXPECT_TRUE(mlir::succeeded(results)) << messages;
    if (mlir::failed(results))
      return {};
    return *results;
  }

  /// Evaluates the first function of `source`, expects failure and returns
  /// the diagnostics it emitted.
  std::string runExpectingError(llvm::StringRef source,
                                llvm::ArrayRef<Array> args) {
    std::string messages;
    EXPECT_TRUE(mlir::failed(evaluate(source, args, messages)));
    return messages;
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;

private:
  /// Parses `source` and evaluates its first function; the diagnostics go
  /// to `messages`.
  mlir::FailureOr<std::vector<Array>> evaluate(llvm::StringRef source,
                                               llvm::ArrayRef<Array> args,
                                               std::string &messages) {
    mlir::func::FuncOp func = parse(source);
    EXPECT_TRUE(func) << "failed to parse";
    if (!func)
      return mlir::failure();
    mlir::ScopedDiagnosticHandler handler(
        &context, [&](mlir::Diagnostic &diag) {
          messages += diag.str() + "\n";
          return mlir::success();
        });
    return oracle::evaluate(func, args);
  }
};

} // namespace attune::oracle::test

#endif // ATTUNE_UNITTESTS_ORACLE_ORACLETESTFIXTURE_H
