//===- PassOptions.h - Checked parsing of pass options ----------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// MLIR parses `--my-pass='tile-q=abc'` with llvm::cl, which prints its own
// complaint to stderr and hands MLIR an empty message ("error: "). These
// helpers check the text of pass and pipeline options first, so that a bad
// value is reported once, through MLIR, with the option, the value and what
// the option takes.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_SUPPORT_PASSOPTIONS_H
#define ATTUNE_SUPPORT_PASSOPTIONS_H

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <string>

namespace attune {

/// The kind of value an option takes.
enum class OptionKind { Integer, Unsigned, Bool, String };

/// One option of a pass or pipeline: its name and kind.
struct OptionSpec {
  llvm::StringLiteral name;
  OptionKind kind;
};

/// Checks the `key=value` list `options` of pass or pipeline `pass` (the
/// syntax of `--pass='...'` and `pass{...}`): every key must be in `specs`
/// and every value of the key's kind. Returns "" or a message naming the
/// option, its value and what it takes.
std::string checkOptionValues(llvm::StringRef pass, llvm::StringRef options,
                              llvm::ArrayRef<OptionSpec> specs);

/// `Pass::initializeOptions` for a pass with options `specs`: checks the
/// text with `checkOptionValues`, then parses it with `parse` (the base
/// class's `initializeOptions`).
mlir::LogicalResult initializeCheckedOptions(
    llvm::StringRef pass, llvm::StringRef options,
    llvm::ArrayRef<OptionSpec> specs,
    llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)> errorHandler,
    llvm::function_ref<mlir::LogicalResult()> parse);

/// Registers pass pipeline `arg` like `mlir::PassPipelineRegistration`, but
/// reports bad options through MLIR's error handler: the text is checked
/// against `specs`, then the parsed options by `validate` ("" when valid).
template <typename Options>
void registerCheckedPipeline(
    llvm::StringRef arg, llvm::StringRef description,
    llvm::ArrayRef<OptionSpec> specs,
    std::function<void(mlir::OpPassManager &, const Options &)> builder,
    std::function<std::string(const Options &)> validate) {
  std::string name = arg.str();
  mlir::registerPassPipeline(
      arg, description,
      [=](mlir::OpPassManager &pm, llvm::StringRef text,
          llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)>
              errorHandler) -> mlir::LogicalResult {
        std::string error = checkOptionValues(name, text, specs);
        Options options;
        if (error.empty()) {
          std::string parseError;
          llvm::raw_string_ostream os(parseError);
          if (mlir::failed(options.parseFromString(text, os)))
            error = parseError.empty() ? "cannot parse the options '" +
                                             text.str() + "' of " + name
                                       : parseError;
        }
        if (error.empty())
          error = validate(options);
        if (!error.empty())
          return errorHandler(error);
        builder(pm, options);
        return mlir::success();
      },
      [](llvm::function_ref<void(const mlir::detail::PassOptions &)>
             optHandler) { optHandler(Options()); });
}

} // namespace attune

#endif // ATTUNE_SUPPORT_PASSOPTIONS_H
