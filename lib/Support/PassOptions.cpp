//===- PassOptions.cpp - Checked parsing of pass options --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Support/PassOptions.h"

#include "llvm/ADT/StringExtras.h"

using namespace attune;
using llvm::StringRef;

/// Splits `options` at spaces outside quotes and braces, as MLIR does.
static llvm::SmallVector<StringRef> splitOptions(StringRef options) {
  llvm::SmallVector<StringRef> items;
  size_t start = 0, depth = 0;
  char quote = 0;
  for (size_t i = 0, e = options.size(); i <= e; ++i) {
    char c = i < e ? options[i] : ' ';
    if (quote) {
      quote = c == quote ? 0 : quote;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && depth) {
      --depth;
    } else if (c == ' ' && !depth) {
      if (i > start)
        items.push_back(options.slice(start, i));
      start = i + 1;
    }
  }
  return items;
}

static StringRef describe(OptionKind kind) {
  switch (kind) {
  case OptionKind::Integer:
    return "an integer";
  case OptionKind::Unsigned:
    return "a non-negative integer";
  case OptionKind::Bool:
    return "true or false";
  case OptionKind::String:
    return "a string";
  }
  llvm_unreachable("unknown option kind");
}

std::string attune::checkOptionValues(StringRef pass, StringRef options,
                                      llvm::ArrayRef<OptionSpec> specs) {
  for (StringRef item : splitOptions(options)) {
    auto [key, value] = item.split('=');
    bool hasValue = item.contains('=');
    const OptionSpec *spec = llvm::find_if(
        specs, [&](const OptionSpec &s) { return s.name == key; });
    if (spec == specs.end()) {
      std::string names;
      llvm::raw_string_ostream os(names);
      llvm::interleaveComma(specs, os,
                            [&](const OptionSpec &s) { os << s.name; });
      return ("unknown option '" + key + "' of " + pass + " (expected " +
              (specs.empty() ? "none" : names) + ")")
          .str();
    }
    // A bare key sets a flag; the others need a value.
    if (!hasValue && spec->kind == OptionKind::Bool)
      continue;
    bool ok = false;
    switch (spec->kind) {
    case OptionKind::Integer: {
      int64_t n;
      ok = hasValue && !value.getAsInteger(0, n);
      break;
    }
    case OptionKind::Unsigned: {
      uint32_t n;
      ok = hasValue && !value.getAsInteger(0, n);
      break;
    }
    case OptionKind::Bool:
      ok = llvm::is_contained(
          {"true", "false", "TRUE", "FALSE", "True", "False", "1", "0"}, value);
      break;
    case OptionKind::String:
      ok = hasValue;
      break;
    }
    if (!ok)
      return ("option '" + key + "' of " + pass + " takes " +
              describe(spec->kind) +
              (hasValue ? ", got '" + value + "'" : ", got no value"))
          .str();
  }
  return "";
}

mlir::LogicalResult attune::initializeCheckedOptions(
    StringRef pass, StringRef options, llvm::ArrayRef<OptionSpec> specs,
    llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)> errorHandler,
    llvm::function_ref<mlir::LogicalResult()> parse) {
  std::string error = checkOptionValues(pass, options, specs);
  if (!error.empty())
    return errorHandler(error);
  return parse();
}
