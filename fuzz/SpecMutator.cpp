//===- SpecMutator.cpp - Structured inputs for the spec fuzzers -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "SpecMutator.h"

#include "attune/Dialect/Attn/IR/AttnOps.h"
#include "attune/InitAll.h"
#include "attune/Support/ParseSource.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace attune;
using namespace attune::fuzz;

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

static const mlir::DialectRegistry &registry() {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry;
    registerAllDialects(*r);
    mlir::registerBuiltinDialectTranslation(*r);
    mlir::registerLLVMDialectTranslation(*r);
    mlir::registerOpenMPDialectTranslation(*r);
    return r;
  }();
  return *registry;
}

FuzzContext::FuzzContext()
    : context(registry(), mlir::MLIRContext::Threading::DISABLED) {
  context.loadAllAvailableDialects();
  static bool verbose = std::getenv("ATTUNE_FUZZ_VERBOSE");
  context.getDiagEngine().registerHandler([this](mlir::Diagnostic &diag) {
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      ++errors;
    if (verbose)
      llvm::errs() << diag.getLocation() << ": " << diag << "\n";
  });
}

FuzzContext::~FuzzContext() = default;

mlir::OwningOpRef<mlir::ModuleOp>
attune::fuzz::parseSpec(FuzzContext &ctx, const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  // Through the screen Attune's tools use: the crashes it stops are
  // upstream's (ParseSource.h), and are reported as errors. MLIR's lexer
  // finds the end of its buffer at a NUL past it (as files read by the tools
  // have): libFuzzer's bytes have none, so they are copied into a buffer
  // that does. Without it the lexer read past the input, into whatever
  // followed it on the heap (CI's parse fuzzer, input `vectorf.u`).
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz"), llvm::SMLoc());
  return parseScreenedSourceFile(sourceMgr, &ctx.context);
}

bool attune::fuzz::withinFuzzBounds(mlir::ModuleOp module) {
  int ops = 0;
  bool ok = true;
  module.walk([&](attn::AttentionOp op) {
    if (++ops > kMaxFuzzOps)
      ok = false;
    for (mlir::Value value : op->getOperands()) {
      auto type = mlir::dyn_cast<mlir::RankedTensorType>(value.getType());
      if (!type)
        continue;
      if (type.getRank() > 6)
        ok = false;
      for (int64_t dim : type.getShape())
        if (!mlir::ShapedType::isDynamic(dim) && dim > kMaxFuzzDim)
          ok = false;
    }
    for (mlir::Value value : {op.getQuery(), op.getKey(), op.getValue()}) {
      auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
      if (type.getRank() == 0)
        continue;
      int64_t headSize = type.getShape().back();
      if (mlir::ShapedType::isDynamic(headSize) || headSize > kMaxFuzzHeadSize)
        ok = false;
    }
  });
  return ok;
}

uint64_t attune::fuzz::hashInput(const uint8_t *data, size_t size) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (size_t i = 0; i < size; ++i)
    h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

void attune::fuzz::fuzzFailure(const char *what) {
  llvm::errs() << "attune-fuzz: " << what << "\n";
  std::abort();
}

//===----------------------------------------------------------------------===//
// Random specs
//===----------------------------------------------------------------------===//

namespace {
/// A small deterministic generator (splitmix64): the same seed gives the
/// same mutation on every machine.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n ? next() % n : 0; }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T, size_t N> const T &pick(const T (&items)[N]) {
    return items[below(N)];
  }
};

/// A capture: its function argument type and attributes.
struct Capture {
  std::string type, attrs;
};
} // namespace

static std::string join(const std::vector<std::string> &dims) {
  std::string s;
  for (const std::string &d : dims)
    s += d + "x";
  return s;
}

/// A mask region body over %b, %h, %i, %j and captures %c0, %c1, ...; adds
/// the captures it reads to `captures`.
static std::string maskBody(Rng &rng, std::vector<Capture> &captures,
                            const std::string &batch) {
  static const char *preds[] = {"ule", "ult", "uge", "ugt", "eq",
                                "ne",  "sle", "slt", "sge", "sgt"};
  switch (rng.below(6)) {
  case 0: // causal-like
    return std::string("      %keep = arith.cmpi ") + rng.pick(preds) +
           ", %j, %i : index\n      attn.yield %keep : i1\n";
  case 1: { // window
    static const char *widths[] = {"0", "1", "3", "16", "128", "4096"};
    return std::string("      %w = arith.constant ") + rng.pick(widths) +
           " : index\n      %c = arith.cmpi ule, %j, %i : index\n"
           "      %jw = arith.addi %j, %w : index\n"
           "      %n = arith.cmpi " +
           rng.pick(preds) +
           ", %i, %jw : index\n      %keep = arith.andi %c, %n : i1\n"
           "      attn.yield %keep : i1\n";
  }
  case 2: { // key padding through a capture
    std::string name = "%c" + std::to_string(captures.size());
    captures.push_back({"tensor<" + batch + "xi32>",
                        batch == "?" ? " {attn.dims = [\"B\"], attn.range = "
                                       "[0, 40]}"
                                     : ""});
    return "      %n = tensor.extract " + name + "[%b] : tensor<" + batch +
           "xi32>\n      %ni = arith.index_cast %n : i32 to index\n"
           "      %keep = arith.cmpi slt, %j, %ni : index\n"
           "      attn.yield %keep : i1\n";
  }
  case 3: { // block diagonal
    static const char *blocks[] = {"1", "2", "7", "64"};
    return std::string("      %bs = arith.constant ") + rng.pick(blocks) +
           " : index\n      %bi = arith.divui %i, %bs : index\n"
           "      %bj = arith.divui %j, %bs : index\n"
           "      %keep = arith.cmpi eq, %bi, %bj : index\n"
           "      attn.yield %keep : i1\n";
  }
  case 4: // everything or nothing
    return std::string("      %keep = arith.constant ") +
           (rng.chance(50) ? "true" : "false") +
           "\n      attn.yield %keep : i1\n";
  default: { // strided
    static const char *strides[] = {"1", "2", "3", "8"};
    return std::string("      %st = arith.constant ") + rng.pick(strides) +
           " : index\n      %d = arith.subi %i, %j : index\n"
           "      %r = arith.remui %d, %st : index\n"
           "      %z = arith.constant 0 : index\n"
           "      %keep = arith.cmpi eq, %r, %z : index\n"
           "      attn.yield %keep : i1\n";
  }
  }
}

/// A score region body over %s (f32), %b, %h, %i, %j and captures.
static std::string scoreBody(Rng &rng, std::vector<Capture> &captures,
                             int64_t heads) {
  switch (rng.below(5)) {
  case 0: { // softcap
    static const char *caps[] = {"50.0", "1.0", "0.0", "-3.5", "1.0e30"};
    return std::string("      %cap = arith.constant ") + rng.pick(caps) +
           " : f32\n      %x = arith.divf %s, %cap : f32\n"
           "      %t = math.tanh %x : f32\n"
           "      %r = arith.mulf %cap, %t : f32\n"
           "      attn.yield %r : f32\n";
  }
  case 1: { // alibi, slopes per head
    std::string name = "%c" + std::to_string(captures.size());
    std::string type = "tensor<" + std::to_string(heads) + "xf32>";
    captures.push_back({type, " {attn.range = [0.0, 1.0]}"});
    return "      %m = tensor.extract " + name + "[%h] : " + type +
           "\n      %ii = arith.index_cast %i : index to i64\n"
           "      %jj = arith.index_cast %j : index to i64\n"
           "      %rel = arith.subi %jj, %ii : i64\n"
           "      %relf = arith.sitofp %rel : i64 to f32\n"
           "      %bias = arith.mulf %m, %relf : f32\n"
           "      %r = arith.addf %s, %bias : f32\n"
           "      attn.yield %r : f32\n";
  }
  case 2: { // a bias table over clamped relative positions
    std::string name = "%c" + std::to_string(captures.size());
    std::string type = "tensor<16x" + std::to_string(heads) + "xf32>";
    captures.push_back({type, ""});
    return "      %ii = arith.index_cast %i : index to i64\n"
           "      %jj = arith.index_cast %j : index to i64\n"
           "      %rel = arith.subi %jj, %ii : i64\n"
           "      %a = math.absi %rel : i64\n"
           "      %c15 = arith.constant 15 : i64\n"
           "      %n = arith.minsi %a, %c15 : i64\n"
           "      %ni = arith.index_cast %n : i64 to index\n"
           "      %bias = tensor.extract " +
           name + "[%ni, %h] : " + type +
           "\n      %r = arith.addf %s, %bias : f32\n"
           "      attn.yield %r : f32\n";
  }
  case 3: { // arithmetic on the score alone
    static const char *ops[] = {"arith.addf", "arith.subf", "arith.mulf",
                                "arith.maximumf", "arith.divf"};
    static const char *consts[] = {"0.0", "2.0", "-1.0", "0x7F800000",
                                   "0x7FC00000"};
    return std::string("      %k = arith.constant ") + rng.pick(consts) +
           " : f32\n      %r = " + rng.pick(ops) +
           " %s, %k : f32\n      attn.yield %r : f32\n";
  }
  default: // identity
    return "      attn.yield %s : f32\n";
  }
}

std::string attune::fuzz::generateSpec(uint64_t seed) {
  Rng rng(seed);
  static const int64_t headCounts[] = {1, 2, 4, 8};
  static const int64_t headSizes[] = {8, 16, 32, 64, 64, 80, 96, 128, 256};
  static const char *seqs[] = {"?", "?", "1", "3", "16", "64", "100"};
  static const char *batches[] = {"?", "?", "1", "2"};
  static const char *elements[] = {"f32", "f32", "f16", "bf16"};
  static const char *scales[] = {"0.125", "1.0", "0.0", "-1.0", "1.0e-30"};

  int64_t heads = rng.pick(headCounts);
  int64_t kvHeads = rng.chance(70) ? heads : heads / (1 << rng.below(3));
  if (kvHeads < 1)
    kvHeads = 1;
  int64_t d = rng.pick(headSizes);
  int64_t dv = rng.chance(85) ? d : rng.pick(headSizes);
  std::string b = rng.pick(batches), sq = rng.pick(seqs),
              sk = rng.chance(50) ? sq : rng.pick(seqs);
  std::string element = rng.pick(elements);
  bool bshd = rng.chance(25);
  auto type = [&](int64_t h, const std::string &s, int64_t dim) {
    std::vector<std::string> dims = {b, std::to_string(h), s};
    if (bshd)
      std::swap(dims[1], dims[2]);
    return "tensor<" + join(dims) + std::to_string(dim) + element + ">";
  };
  std::string q = type(heads, sq, d), k = type(kvHeads, sk, d),
              v = type(kvHeads, sk, dv), o = type(heads, sq, dv);
  bool lse = rng.chance(15);
  std::string lseType = "tensor<" + b + "x" + std::to_string(heads) + "x" +
                        sq + "xf32>";

  std::vector<Capture> captures;
  std::string score, mask;
  if (rng.chance(50))
    score = scoreBody(rng, captures, heads);
  if (rng.chance(60))
    mask = maskBody(rng, captures, b);

  std::string s;
  llvm::raw_string_ostream os(s);
  os << "func.func @spec(%q: " << q << ", %k: " << k << ", %v: " << v;
  for (size_t i = 0; i < captures.size(); ++i)
    os << ", %arg" << i << ": " << captures[i].type << captures[i].attrs;
  os << ") -> (" << o << (lse ? ", " + lseType : "") << ") {\n";
  os << "  %o" << (lse ? ", %lse" : "") << " = attn.attention\n      ins(%q, %k, %v : "
     << q << ", " << k << ", " << v << ")\n";
  if (!captures.empty()) {
    os << "      captures(";
    for (size_t i = 0; i < captures.size(); ++i)
      os << (i ? ", " : "") << "%arg" << i;
    os << " : ";
    for (size_t i = 0; i < captures.size(); ++i)
      os << (i ? ", " : "") << captures[i].type;
    os << ")\n";
  }
  if (rng.chance(30))
    os << "      scale(" << rng.pick(scales) << ")\n";
  if (bshd)
    os << "      layout(bshd)\n";
  os << "      -> " << o << (lse ? ", " + lseType : "") << "\n";
  auto regionArgs = [&](const char *prefix) {
    std::string a = prefix;
    for (size_t i = 0; i < captures.size(); ++i)
      a += ", %c" + std::to_string(i);
    return a + ")";
  };
  if (!score.empty())
    os << "    score" << regionArgs("(%s, %b, %h, %i, %j") << " {\n"
       << score << "    }\n";
  if (!mask.empty())
    os << "    mask" << regionArgs("(%b, %h, %i, %j") << " {\n"
       << mask << "    }\n";
  os << "  return %o" << (lse ? ", %lse" : "") << " : " << o
     << (lse ? ", " + lseType : "") << "\n}\n";
  return s;
}

//===----------------------------------------------------------------------===//
// Structured rewrites of spec text
//===----------------------------------------------------------------------===//

/// The [begin, end) ranges of the shapes inside `tensor<...>` types.
static std::vector<std::pair<size_t, size_t>> tensorTypes(const std::string &s) {
  std::vector<std::pair<size_t, size_t>> ranges;
  // The next type starts after this one's '>': ranges never overlap. (They
  // did for "tensor<tensor<...>", and rewriteTypes then appended the rest
  // of the text once per overlapping range, which a few rewrites of a
  // mutant grew to gigabytes: an out-of-memory of the parse fuzzer.)
  for (size_t pos = s.find("tensor<"); pos != std::string::npos;) {
    size_t begin = pos + 7, end = s.find('>', begin);
    if (end == std::string::npos)
      break;
    ranges.push_back({begin, end});
    pos = s.find("tensor<", end);
  }
  return ranges;
}

/// Splits the shape text "1x?x8xf32" into its parts.
static std::vector<std::string> splitShape(const std::string &shape) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t x = shape.find('x'); x != std::string::npos;
       x = shape.find('x', start)) {
    parts.push_back(shape.substr(start, x - start));
    start = x + 1;
  }
  parts.push_back(shape.substr(start));
  return parts;
}

/// Rewrites every tensor type of `s` with `rewrite(parts)`, where the last
/// part is the element type.
template <typename Fn> static std::string rewriteTypes(const std::string &s, Fn rewrite) {
  std::string out;
  size_t last = 0;
  for (auto [begin, end] : tensorTypes(s)) {
    std::vector<std::string> parts = splitShape(s.substr(begin, end - begin));
    rewrite(parts);
    std::string shape;
    for (size_t i = 0; i < parts.size(); ++i)
      shape += (i ? "x" : "") + parts[i];
    out += s.substr(last, begin - last) + shape;
    last = end;
  }
  return out + s.substr(last);
}

/// Replaces one occurrence (the n-th, modulo their count) of any word of
/// `group` by another word of it.
template <size_t N>
static bool swapWord(std::string &s, Rng &rng, const char *const (&group)[N]) {
  std::vector<std::pair<size_t, size_t>> hits; // position, word index
  for (size_t w = 0; w < N; ++w)
    for (size_t pos = s.find(group[w]); pos != std::string::npos;
         pos = s.find(group[w], pos + 1)) {
      size_t end = pos + std::strlen(group[w]);
      bool wordEnd = end >= s.size() || !(isalnum(s[end]) || s[end] == '_');
      if (wordEnd)
        hits.push_back({pos, w});
    }
  if (hits.empty())
    return false;
  auto [pos, w] = hits[rng.below(hits.size())];
  s.replace(pos, std::strlen(group[w]), group[rng.below(N)]);
  return true;
}

/// Inserts `text` before the `->` that ends the first attn.attention's
/// operand list.
static bool insertBeforeResults(std::string &s, const std::string &text) {
  size_t op = s.find("attn.attention");
  if (op == std::string::npos)
    return false;
  size_t arrow = s.find("-> tensor", op);
  if (arrow == std::string::npos)
    return false;
  s.insert(arrow, text);
  return true;
}

static std::string rewriteSpec(std::string s, Rng &rng) {
  static const char *dims[] = {"?", "1", "2", "3", "8", "16", "32",
                               "64", "80", "96", "128", "256", "0"};
  static const char *elements[] = {"f32", "f16", "bf16", "f64", "i32"};
  static const char *preds[] = {"ule", "ult", "uge", "ugt", "eq",
                                "ne",  "sle", "slt", "sge", "sgt"};
  static const char *floatOps[] = {"arith.addf", "arith.subf", "arith.mulf",
                                   "arith.maximumf", "arith.minimumf",
                                   "arith.divf"};
  static const char *intOps[] = {"arith.addi", "arith.subi", "arith.muli",
                                 "arith.divui", "arith.remui", "arith.maxsi",
                                 "arith.minsi", "arith.divsi"};
  static const char *unary[] = {"math.tanh", "math.exp", "math.absf",
                                "math.sqrt", "math.log"};
  static const char *indices[] = {"%b", "%h", "%i", "%j"};
  static const char *scales[] = {"0.125", "1.0", "0.0", "-2.0", "1.0e38",
                                 "0x7FC00000"};
  switch (rng.below(9)) {
  case 0: { // one dimension value, everywhere it appears
    std::vector<std::string> seen;
    rewriteTypes(s, [&](std::vector<std::string> &parts) {
      for (size_t i = 0; i + 1 < parts.size(); ++i)
        seen.push_back(parts[i]);
    });
    if (seen.empty())
      return s;
    std::string from = seen[rng.below(seen.size())], to = rng.pick(dims);
    return rewriteTypes(s, [&](std::vector<std::string> &parts) {
      for (size_t i = 0; i + 1 < parts.size(); ++i)
        if (parts[i] == from)
          parts[i] = to;
    });
  }
  case 1: { // one dimension of one type
    auto types = tensorTypes(s);
    if (types.empty())
      return s;
    size_t which = rng.below(types.size()), n = 0;
    std::string to = rng.pick(dims);
    return rewriteTypes(s, [&](std::vector<std::string> &parts) {
      if (n++ == which && parts.size() > 1)
        parts[rng.below(parts.size() - 1)] = to;
    });
  }
  case 2: { // an element type, everywhere it appears
    static const char *from[] = {"f32", "f16", "bf16"};
    std::string f = rng.pick(from), t = rng.pick(elements);
    return rewriteTypes(s, [&](std::vector<std::string> &parts) {
      if (parts.back() == f)
        parts.back() = t;
    });
  }
  case 3:
    swapWord(s, rng, preds);
    return s;
  case 4:
    if (!swapWord(s, rng, floatOps))
      swapWord(s, rng, intOps);
    return s;
  case 5:
    if (!swapWord(s, rng, unary))
      swapWord(s, rng, indices);
    return s;
  case 6: { // layout
    size_t pos = s.find("layout(bshd)");
    if (pos != std::string::npos)
      s.erase(pos, 12);
    else
      insertBeforeResults(s, "layout(bshd) ");
    return s;
  }
  case 7: { // scale
    size_t pos = s.find("scale(");
    std::string scale = rng.pick(scales);
    if (pos == std::string::npos) {
      insertBeforeResults(s, "scale(" + scale + ") ");
    } else {
      size_t end = s.find(')', pos);
      if (end != std::string::npos)
        s.replace(pos + 6, end - pos - 6, scale);
    }
    return s;
  }
  default: { // a constant of a region
    size_t pos = s.find("arith.constant ");
    std::vector<size_t> hits;
    for (; pos != std::string::npos; pos = s.find("arith.constant ", pos + 1))
      hits.push_back(pos + 15);
    if (hits.empty())
      return s;
    size_t at = hits[rng.below(hits.size())];
    size_t end = s.find(' ', at);
    static const char *ints[] = {"0", "1", "-1", "7", "4096", "2147483647",
                                 "-9223372036854775808"};
    if (end != std::string::npos && s.compare(end, 3, " : ") == 0 &&
        s.compare(at, 4, "true") && s.compare(at, 5, "false") &&
        s.find('.', at) > end)
      s.replace(at, end - at, rng.pick(ints));
    return s;
  }
  }
}

size_t attune::fuzz::mutateSpec(uint8_t *data, size_t size, size_t maxSize,
                                unsigned seed, unsigned rawPercent) {
  Rng rng(seed);
  if (rng.chance(rawPercent))
    return LLVMFuzzerMutate(data, size, maxSize);
  std::string text;
  if (size == 0 || rng.chance(20)) {
    text = generateSpec(rng.next());
  } else {
    text.assign(reinterpret_cast<const char *>(data), size);
    for (size_t n = 1 + rng.below(3); n; --n)
      text = rewriteSpec(std::move(text), rng);
  }
  if (text.size() > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}
