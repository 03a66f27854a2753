//===- ParseSource.cpp - Parse MLIR sources, screened first -----*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "attune/Support/ParseSource.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/Parser/Parser.h"

#include "llvm/ADT/StringExtras.h"

#include <cstdint>

using namespace mlir;

namespace {

/// An op whose custom parser crashes on a malformed integer list after
/// `keyword =`.
struct ListOp {
  llvm::StringLiteral name;
  llvm::StringLiteral keyword;
};

constexpr ListOp kListOps[] = {
    {"linalg.transpose", "permutation"},
    {"linalg.broadcast", "dimensions"},
    {"linalg.reduce", "dimensions"},
};

/// Characters that continue an MLIR bare identifier or a suffix id.
bool isIdChar(char c) {
  return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.' || c == '-';
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// `text` with comments and string literals blanked out (offsets kept), so
/// that a name inside them is not taken for code and a generic-form op
/// (`"linalg.transpose"(...)`, parsed without the custom parser) is skipped.
std::string blankCommentsAndStrings(llvm::StringRef text) {
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      for (; i < out.size() && out[i] != '\n'; ++i)
        out[i] = ' ';
    } else if (out[i] == '"') {
      out[i] = ' ';
      for (++i; i < out.size() && out[i] != '"' && out[i] != '\n'; ++i) {
        if (out[i] == '\\' && i + 1 < out.size() && out[i + 1] != '\n')
          out[i++] = ' ';
        out[i] = ' ';
      }
      if (i < out.size() && out[i] == '"')
        out[i] = ' ';
    }
  }
  return out;
}

/// Finds the bare word `word` at or after `from`; npos if there is none.
size_t findWord(llvm::StringRef text, llvm::StringRef word, size_t from) {
  for (size_t at = text.find(word, from); at != llvm::StringRef::npos;
       at = text.find(word, at + 1)) {
    bool startsWord = at == 0 || (!isIdChar(text[at - 1]) &&
                                  !llvm::is_contained("%@#!^", text[at - 1]));
    size_t end = at + word.size();
    if (startsWord && (end == text.size() || !isIdChar(text[end])))
      return at;
  }
  return llvm::StringRef::npos;
}

size_t skipSpace(llvm::StringRef text, size_t at) {
  while (at < text.size() && isSpace(text[at]))
    ++at;
  return at;
}

/// Whether `text` at `at` starts `[i64, ...]` as DenseI64ArrayAttr::parse
/// accepts it; on failure `at` is where it goes wrong.
bool isIntegerList(llvm::StringRef text, size_t &at) {
  at = skipSpace(text, at);
  if (at == text.size() || text[at] != '[')
    return false;
  at = skipSpace(text, at + 1);
  if (at < text.size() && text[at] == ']')
    return true;
  while (true) {
    size_t start = at;
    if (at < text.size() && text[at] == '-')
      ++at;
    bool hex = text.substr(at).starts_with("0x");
    size_t digits = hex ? at + 2 : at;
    size_t end = digits;
    while (end < text.size() && (hex ? llvm::isHexDigit(text[end])
                                     : llvm::isDigit(text[end])))
      ++end;
    uint64_t value;
    if (end == digits ||
        text.substr(digits, end - digits)
            .getAsInteger(hex ? 16 : 10, value) ||
        value > uint64_t(INT64_MAX) ||
        (end < text.size() && isIdChar(text[end]))) {
      at = start;
      return false;
    }
    at = skipSpace(text, end);
    if (at < text.size() && text[at] == ']')
      return true;
    if (at == text.size() || text[at] != ',')
      return false;
    at = skipSpace(text, at + 1);
  }
}

} // namespace

std::optional<attune::ParserHazard>
attune::findParserHazard(llvm::StringRef original) {
  std::string blanked = blankCommentsAndStrings(original);
  llvm::StringRef text = blanked;
  std::optional<ParserHazard> first;
  for (const ListOp &op : kListOps) {
    for (size_t name = findWord(text, op.name, 0);
         name != llvm::StringRef::npos;
         name = findWord(text, op.name, name + 1)) {
      size_t keyword = findWord(text, op.keyword, name + op.name.size());
      if (keyword == llvm::StringRef::npos)
        break;
      size_t equal = skipSpace(text, keyword + op.keyword.size());
      if (equal == text.size() || text[equal] != '=')
        continue;
      size_t at = equal + 1;
      if (isIntegerList(text, at) || (first && first->offset <= at))
        continue;
      first = ParserHazard{
          at, ("'" + op.name + "' expects '" + op.keyword +
               " = [...]' with 64-bit integers here; Attune refuses this "
               "before MLIR's parser, which crashes on a malformed list")
                  .str()};
    }
  }
  return first;
}

LogicalResult attune::screenParserHazards(const llvm::SourceMgr &sourceMgr,
                                          unsigned bufferId,
                                          MLIRContext *context) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferId);
  std::optional<ParserHazard> hazard = findParserHazard(buffer->getBuffer());
  if (!hazard)
    return success();
  auto [line, column] = sourceMgr.getLineAndColumn(
      llvm::SMLoc::getFromPointer(buffer->getBufferStart() + hazard->offset),
      bufferId);
  Location loc = FileLineColLoc::get(context, buffer->getBufferIdentifier(),
                                     line, column);
  return emitError(loc) << hazard->message;
}

OwningOpRef<ModuleOp>
attune::parseScreenedSourceFile(llvm::SourceMgr &sourceMgr,
                                MLIRContext *context) {
  if (failed(screenParserHazards(sourceMgr, sourceMgr.getMainFileID(),
                                 context)))
    return nullptr;
  return parseSourceFile<ModuleOp>(sourceMgr, context);
}
