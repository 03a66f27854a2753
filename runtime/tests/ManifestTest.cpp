//===- ManifestTest.cpp - Tests of manifest parsing and loading -*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Valid manifests parse into the expected structure; every kind of malformed
// manifest is an ATTUNE_RT_ERROR_MANIFEST naming the JSON path, never a
// crash.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace attune::rt;
using namespace attune::rt::test;

namespace {

/// Joins `members` into a JSON object; each entry of `overrides` replaces a
/// member's JSON text (an empty text removes the member).
std::string objectWith(
    const std::vector<std::pair<std::string, std::string>> &members,
    const std::map<std::string, std::string> &overrides) {
  std::string out = "{";
  for (auto &[key, value] : members) {
    auto it = overrides.find(key);
    const std::string &text = it == overrides.end() ? value : it->second;
    if (text.empty())
      continue;
    out += (out.size() > 1 ? ", \"" : "\"") + key + "\": " + text;
  }
  return out + "}";
}

/// A one-kernel list whose kernel has `overrides` applied.
std::string kernelWith(const std::map<std::string, std::string> &overrides) {
  return "[" +
         objectWith({{"name", R"("k")"},
                     {"cubin", R"("k.cubin")"},
                     {"block", "[128, 1, 1]"},
                     {"grid", "[[1], [1], [1]]"},
                     {"params", "[]"}},
                    overrides) +
         "]";
}

/// Builds a small valid manifest with `overrides` applied to its top-level
/// members.
std::string manifestWith(const std::map<std::string, std::string> &overrides) {
  return objectWith(
      {{"format", R"("attune-cuda")"},
       {"version", "1"},
       {"function", R"("f")"},
       {"chip", R"("sm_80")"},
       {"arguments",
        R"([{"name": "x", "dtype": "f32", "shape": ["N", 16]},
            {"name": "y", "dtype": "f16", "shape": ["M"]}])"},
       {"results", R"([{"name": "z", "dtype": "f32", "shape": ["N", 16]}])"},
       {"constraints", R"([{"divisible": ["N", 4]}])"},
       {"workspace", R"([{"name": "w", "dtype": "f32", "shape": ["N", 2]}])"},
       {"kernels",
        R"([{"name": "k", "cubin": "k.cubin", "block": [128, 1, 1],
             "grid": [[{"ceildiv": ["N", 64]}], ["M", 2], []],
             "shared_bytes": 0,
             "params": [{"tensor": "x"}, {"tensor": "z"}, {"tensor": "w"},
                        {"scalar": "i32", "symbol": "M"}]}])"}},
      overrides);
}

/// Parses `json`, which must fail; returns the message.
std::string manifestError(const std::string &json) {
  Manifest m;
  Status s = parseManifest(json, m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_MANIFEST) << json;
  return s.message();
}

TEST(Manifest, SmallManifestParses) {
  Manifest m;
  Status s = parseManifest(manifestWith({}), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.function, "f");
  EXPECT_EQ(m.chip, "sm_80");
  EXPECT_EQ(m.numArguments, 2);
  EXPECT_EQ(m.numResults, 1);
  EXPECT_EQ(m.numWorkspace, 1);
  ASSERT_EQ(m.tensors.size(), 4u);
  EXPECT_EQ(m.tensors[3].role, TensorRole::Workspace);
  ASSERT_EQ(m.symbols.size(), 2u);
  EXPECT_EQ(m.symbols[0].name, "N");
  EXPECT_EQ(m.symbols[0].tensor, 0);
  EXPECT_EQ(m.symbols[0].dim, 0);
  EXPECT_EQ(m.symbols[1].name, "M");
  EXPECT_EQ(m.describeShape(0), "[N, 16]");
  EXPECT_EQ(m.describeTensor(2), "result 'z'");
  ASSERT_EQ(m.constraints.size(), 1u);
  EXPECT_EQ(m.constraints[0].divisor.value, 4);

  const KernelSpec &k = m.kernels.at(0);
  EXPECT_EQ(k.cubinFile, "k.cubin");
  EXPECT_EQ(k.block, (std::array<uint32_t, 3>{128, 1, 1}));
  ASSERT_EQ(k.grid[0].size(), 1u);
  EXPECT_EQ(k.grid[0][0].divisor, 64);
  EXPECT_EQ(k.grid[0][0].value.symbol, 0);
  ASSERT_EQ(k.grid[1].size(), 2u);
  EXPECT_EQ(k.grid[1][1].value.value, 2);
  EXPECT_TRUE(k.grid[2].empty());
  ASSERT_EQ(k.params.size(), 4u);
  EXPECT_EQ(k.params[2].tensor, 3);
  EXPECT_EQ(k.params[3].kind, KernelParam::Kind::Scalar);
  EXPECT_EQ(k.params[3].scalarType, DType::I32);
  EXPECT_EQ(k.params[3].scalar.symbol, 1);
}

TEST(Manifest, OptionalMembersDefault) {
  Manifest m;
  Status s = parseManifest(
      manifestWith({{"constraints", ""},
                    {"workspace", ""},
                    {"kernels", R"([{"name": "k", "cubin": "k.cubin",
                                     "block": [1, 1, 1], "grid": [[], [], []],
                                     "params": []}])"}}),
      m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.numWorkspace, 0);
  EXPECT_TRUE(m.constraints.empty());
  EXPECT_EQ(m.kernels[0].sharedBytes, 0u);
}

TEST(Manifest, DocumentExampleParses) {
  Manifest m;
  Status s = parseManifest(documentMaskManifest(), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.numArguments, 5);
  EXPECT_EQ(m.numResults, 2);
  std::vector<std::string> symbols;
  for (const SymbolInfo &sym : m.symbols)
    symbols.push_back(sym.name);
  EXPECT_EQ(symbols,
            (std::vector<std::string>{"B", "Hq", "Sq", "Hkv", "Sk"}));
  EXPECT_TRUE(m.tensors[3].hasRange);
  EXPECT_EQ(m.tensors[3].rangeHi, 4);
  EXPECT_EQ(m.kernels[0].sharedBytes, 81920u);
  EXPECT_EQ(m.kernels[0].params.size(), 7u);
  EXPECT_EQ(m.tensors[6].dtype, DType::F32);
}

TEST(Manifest, ConstraintOnUnknownSymbolIsRejected) {
  // docs/CUDAArtifacts.md's example constrains Hq and Hkv while its shapes
  // use static head counts; such a constraint cannot be checked.
  std::string json = documentMaskManifest();
  for (auto [from, to] : {std::pair{R"("Hq", "Sq")", R"(8, "Sq")"},
                          std::pair{R"("Hkv", "Sk")", R"(2, "Sk")"}})
    for (size_t at; (at = json.find(from)) != std::string::npos;)
      json.replace(at, std::string(from).size(), to);
  EXPECT_EQ(manifestError(json),
            "constraints[0].divisible[0]: symbol 'Hq' does not appear in any "
            "argument or result shape, so its value is unknown");
}

struct MalformedCase {
  std::map<std::string, std::string> overrides;
  std::string message;
};

TEST(Manifest, MalformedManifestsAreClearErrors) {
  auto withKernel = [](const std::string &key, const std::string &value) {
    return kernelWith({{key, value}});
  };
  std::vector<MalformedCase> cases = {
      {{{"format", R"("onnx")"}}, "format: expected \"attune-cuda\""},
      {{{"version", "2"}},
       "version: unsupported manifest version 2 (this runtime reads version "
       "1)"},
      {{{"version", R"("1")"}}, "version: expected an integer, got a string"},
      {{{"function", ""}}, "missing member \"function\""},
      {{{"chip", "7"}}, "chip: expected a string, got an integer"},
      {{{"arguments", "{}"}}, "arguments: expected an array, got an object"},
      {{{"arguments", "[[]]"}}, "arguments[0]: expected an object, got an array"},
      {{{"arguments", R"([{"name": "x", "shape": []}])"}},
       "arguments[0]: missing member \"dtype\""},
      {{{"arguments", R"([{"name": "", "dtype": "f32", "shape": []}])"}},
       "arguments[0].name: expected a non-empty string"},
      {{{"arguments", R"([{"name": "x", "dtype": "c64", "shape": []}])"}},
       "arguments[0].dtype: unknown dtype \"c64\" (expected f32, f16, bf16, "
       "f64, i8, i32 or i64)"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": [-1]}])"}},
       "arguments[0].shape[0]: expected an integer in [0, "
       "9223372036854775807], got -1"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": [64.0]}])"}},
       "arguments[0].shape[0]: expected an integer or a symbol name, got a "
       "non-integer number"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": "N"}])"}},
       "arguments[0].shape: expected an array, got a string"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": [],
                           "range": [4, 4]}])"}},
       "arguments[0].range: empty range [4, 4) (it is half-open: lo must be "
       "below hi)"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": [],
                           "range": [0]}])"}},
       "arguments[0].range: expected [lo, hi] with two numbers"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": [],
                           "scalar": 1}])"}},
       "arguments[0].scalar: expected true or false, got an integer"},
      {{{"arguments", R"([{"name": "x", "dtype": "f32", "shape": [4],
                           "scalar": true}])"}},
       "arguments[0].scalar: a scalar argument must have shape []"},
      {{{"results", R"([{"name": "r", "dtype": "f32", "shape": [],
                         "scalar": true}])"}},
       "results[0].scalar: only arguments can be scalars"},
      {{{"kernels", withKernel("params", R"([{"scalar_arg": "x"}])")}},
       "kernels[0].params[0].scalar_arg: argument 'x' is not a scalar "
       "argument"},
      {{{"results", R"([{"name": "x", "dtype": "f32", "shape": []}])"}},
       "results[0].name: duplicate tensor name 'x' (also argument 'x')"},
      {{{"results", ""}}, "missing member \"results\""},
      {{{"workspace", R"([{"name": "w", "dtype": "f32", "shape": ["K"]}])"}},
       "workspace[0].shape[0]: symbol 'K' does not appear in any argument or "
       "result shape, so its value is unknown"},
      {{{"constraints", R"([{"less": ["N", 4]}])"}},
       "constraints[0]: unknown constraint \"less\" (this runtime knows "
       "\"divisible\")"},
      {{{"constraints", R"([{"divisible": ["N", 0]}])"}},
       "constraints[0].divisible[1]: expected an integer in [1, "
       "9223372036854775807], got 0"},
      {{{"constraints", R"([{"divisible": ["N"]}])"}},
       "constraints[0].divisible: expected [a, b]"},
      {{{"constraints", R"([{"divisible": ["N", 2], "x": 1}])"}},
       "constraints[0]: expected an object with exactly one member, e.g. "
       "{\"divisible\": [a, b]}"},
      {{{"kernels", "[]"}}, "kernels: expected at least one kernel"},
      {{{"kernels", ""}}, "missing member \"kernels\""},
      {{{"kernels", withKernel("block", "[128, 1]")}},
       "kernels[0].block: expected three integers [x, y, z]"},
      {{{"kernels", withKernel("block", "[2048, 1, 1]")}},
       "kernels[0].block[0]: expected an integer in [1, 1024], got 2048"},
      {{{"kernels", withKernel("block", "[0, 1, 1]")}},
       "kernels[0].block[0]: expected an integer in [1, 1024], got 0"},
      {{{"kernels", withKernel("block", "[64, 32, 1]")}},
       "kernels[0].block: 2048 threads per block, above CUDA's limit of "
       "1024"},
      {{{"kernels", withKernel("grid", "[[1], [1]]")}},
       "kernels[0].grid: expected three lists of factors [x, y, z]"},
      {{{"kernels", withKernel("grid", "[1, [1], [1]]")}},
       "kernels[0].grid[0]: expected an array of factors, got an integer"},
      {{{"kernels", withKernel("grid", R"([[{"ceildiv": ["N", 0]}], [1], [1]])")}},
       "kernels[0].grid[0][0].ceildiv[1]: expected an integer in [1, "
       "9223372036854775807], got 0"},
      {{{"kernels", withKernel("grid", R"([[{"ceildiv": ["N", "M"]}], [1], [1]])")}},
       "kernels[0].grid[0][0].ceildiv[1]: expected an integer, got a string"},
      {{{"kernels", withKernel("grid", R"([[{"div": ["N", 2]}], [1], [1]])")}},
       "kernels[0].grid[0][0]: expected an integer, a symbol or "
       "{\"ceildiv\": [x, n]}"},
      {{{"kernels", withKernel("grid", R"([["Q"], [1], [1]])")}},
       "kernels[0].grid[0][0]: symbol 'Q' does not appear in any argument or "
       "result shape, so its value is unknown"},
      {{{"kernels", withKernel("grid", R"([[0], [1], [1]])")}},
       "kernels[0].grid[0][0]: expected an integer in [1, "
       "9223372036854775807], got 0"},
      {{{"kernels", withKernel("params", R"([{"tensor": "q"}])")}},
       "kernels[0].params[0].tensor: no argument, result or workspace buffer "
       "is named 'q'"},
      {{{"kernels", withKernel("params", R"([{"tensor": "x", "scalar": "i32"}])")}},
       "kernels[0].params[0]: expected {\"tensor\": name}, {\"scalar\": "
       "dtype, \"symbol\": name} or {\"scalar_arg\": name}"},
      {{{"kernels", withKernel("params", R"([{"scalar": "f32", "symbol": "N"}])")}},
       "kernels[0].params[0].scalar: expected \"i32\" or \"i64\""},
      {{{"kernels", withKernel("params", R"([{"scalar": "i64"}])")}},
       "kernels[0].params[0]: missing member \"symbol\""},
      {{{"kernels", withKernel("params", R"([{"scalar": "i64", "symbol": "Z"}])")}},
       "kernels[0].params[0].symbol: symbol 'Z' does not appear in any "
       "argument or result shape, so its value is unknown"},
      {{{"kernels", withKernel("cubin", R"("/abs/k.cubin")")}},
       "kernels[0].cubin: '/abs/k.cubin' is absolute; expected a file name "
       "relative to the artifact directory"},
      {{{"kernels", withKernel("cubin", R"("../../../../dev/zero")")}},
       "kernels[0].cubin: '../../../../dev/zero' has a '..' component; "
       "expected a file inside the artifact directory"},
      {{{"kernels", withKernel("cubin", R"("sub/../../k.cubin")")}},
       "kernels[0].cubin: 'sub/../../k.cubin' has a '..' component; expected "
       "a file inside the artifact directory"},
      {{{"kernels", withKernel("cubin", R"("..")")}},
       "kernels[0].cubin: '..' has a '..' component; expected a file inside "
       "the artifact directory"},
      {{{"kernels", withKernel("cubin", R"("k.cubin\u0000/../../x")")}},
       "kernels[0].cubin: a file name cannot contain a NUL character"},

      {{{"kernels", withKernel("name", "null")}},
       "kernels[0].name: expected a string, got null"},
  };
  for (const MalformedCase &c : cases)
    EXPECT_EQ(manifestError(manifestWith(c.overrides)), c.message)
        << manifestWith(c.overrides);

  // An optional member, so not in kernelWith's defaults.
  std::string k = kernelWith({});
  k.insert(k.size() - 2, R"(, "shared_bytes": -1)");
  EXPECT_EQ(manifestError(manifestWith({{"kernels", k}})),
            "kernels[0].shared_bytes: expected an integer in [0, 2147483647], "
            "got -1");
  k = kernelWith({});
  k.insert(k.size() - 2, R"(, "ptx": "../k.ptx")");
  EXPECT_EQ(manifestError(manifestWith({{"kernels", k}})),
            "kernels[0].ptx: '../k.ptx' has a '..' component; expected a file "
            "inside the artifact directory");
  k = kernelWith({});
  k.insert(k.size() - 2, R"(, "ptx": 3)");
  EXPECT_EQ(manifestError(manifestWith({{"kernels", k}})),
            "kernels[0].ptx: expected a string, got an integer");
}

/// A manifest whose one kernel has `"if": condition`.
std::string manifestWithCondition(const std::string &condition) {
  std::string k = kernelWith({});
  k.insert(k.size() - 2, ", \"if\": " + condition);
  return manifestWith({{"kernels", k}});
}

TEST(Manifest, KernelConditionsParse) {
  Manifest m;
  Status s = parseManifest(manifestWith({}), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_FALSE(m.kernels[0].condition.has_value());

  struct Case {
    const char *json;
    Condition::Op op;
    const char *described;
  };
  for (const Case &c : {
           Case{R"({"le": ["N", 16]})", Condition::Op::Le, "N <= 16"},
           Case{R"({"lt": [4, "M"]})", Condition::Op::Lt, "4 < M"},
           Case{R"({"gt": ["N", "M"]})", Condition::Op::Gt, "N > M"},
           Case{R"({"ge": ["M", -3]})", Condition::Op::Ge, "M >= -3"},
           Case{R"({"eq": [1, 1]})", Condition::Op::Eq, "1 == 1"},
       }) {
    s = parseManifest(manifestWithCondition(c.json), m);
    ASSERT_TRUE(s.isOk()) << c.json << ": " << s.message();
    ASSERT_TRUE(m.kernels[0].condition.has_value()) << c.json;
    EXPECT_EQ(m.kernels[0].condition->op, c.op) << c.json;
    EXPECT_EQ(m.describe(*m.kernels[0].condition), c.described);
  }
  // Operands: symbols by index, integers by value.
  s = parseManifest(manifestWithCondition(R"({"le": ["M", 16]})"), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.kernels[0].condition->lhs.symbol, 1);
  EXPECT_FALSE(m.kernels[0].condition->rhs.isSymbol());
  EXPECT_EQ(m.kernels[0].condition->rhs.value, 16);
}

TEST(Manifest, MalformedConditionsAreClearErrors) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"ne": ["N", 4]})",
       "kernels[0].if: unknown comparison \"ne\" (this runtime knows "
       "\"lt\", \"le\", \"gt\", \"ge\" and \"eq\")"},
      {R"({"LE": ["N", 4]})",
       "kernels[0].if: unknown comparison \"LE\" (this runtime knows "
       "\"lt\", \"le\", \"gt\", \"ge\" and \"eq\")"},
      {R"({"le": ["N"]})",
       "kernels[0].if.le: expected two operands [x, y], got 1"},
      {R"({"ge": ["N", 4, 8]})",
       "kernels[0].if.ge: expected two operands [x, y], got 3"},
      {R"({"eq": "N"})",
       "kernels[0].if.eq: expected two operands [x, y], got a string"},
      {R"({"le": ["Sq", 16]})",
       "kernels[0].if.le[0]: symbol 'Sq' does not appear in any argument or "
       "result shape, so its value is unknown"},
      {R"({"lt": ["N", 16.0]})",
       "kernels[0].if.lt[1]: expected an integer or a symbol name, got a "
       "non-integer number"},
      {R"({"lt": ["N", true]})",
       "kernels[0].if.lt[1]: expected an integer or a symbol name, got a "
       "boolean"},
      {R"({"gt": [null, 1]})",
       "kernels[0].if.gt[0]: expected an integer or a symbol name, got null"},
      {R"(["le", "N", 16])",
       "kernels[0].if: expected an object with one comparison, e.g. "
       "{\"le\": [\"Sq\", 16]}, got an array"},
      {R"("N <= 16")",
       "kernels[0].if: expected an object with one comparison, e.g. "
       "{\"le\": [\"Sq\", 16]}, got a string"},
      {R"({})",
       "kernels[0].if: expected an object with exactly one member, e.g. "
       "{\"le\": [\"Sq\", 16]}"},
      {R"({"le": ["N", 16], "gt": ["N", 4]})",
       "kernels[0].if: expected an object with exactly one member, e.g. "
       "{\"le\": [\"Sq\", 16]}"},
  };
  for (const auto &[condition, message] : cases)
    EXPECT_EQ(manifestError(manifestWithCondition(condition)), message)
        << condition;

  // The path names the kernel.
  std::string kernels = R"([
      {"name": "a", "cubin": "a.cubin", "block": [1, 1, 1],
       "grid": [[], [], []], "params": [], "if": {"le": ["N", 16]}},
      {"name": "b", "cubin": "b.cubin", "block": [1, 1, 1],
       "grid": [[], [], []], "params": [], "if": {"gt": ["N", "K"]}}])";
  EXPECT_EQ(manifestError(manifestWith({{"kernels", kernels}})),
            "kernels[1].if.gt[1]: symbol 'K' does not appear in any argument "
            "or result shape, so its value is unknown");
}

/// manifestWith() plus top-level `"symbols": symbols` (and `overrides`).
std::string
manifestWithSymbols(const std::string &symbols,
                    std::map<std::string, std::string> overrides = {}) {
  std::string json = manifestWith(overrides);
  return json.insert(json.size() - 1, ", \"symbols\": " + symbols);
}

TEST(Manifest, DerivedSymbolsParse) {
  std::string symbols = R"([
      {"name": "s0", "value": {"mul": ["N", 4]}},
      {"name": "d", "value": {"max": [{"sub": ["M", "s0"]}, 0]}},
      {"name": "t", "value": {"add": [{"floordiv": ["s0", 3]},
                                      {"ceildiv": [{"min": ["d", 7]}, 2]}]}},
      {"name": "c", "value": -5},
      {"name": "alias", "value": "M"}])";
  // Every place a symbol is used: workspace shape, grid factors (plain and in
  // ceildiv), if, scalar parameter, constraint and view shape.
  std::map<std::string, std::string> uses = {
      {"workspace", R"([{"name": "w", "dtype": "f32", "shape": ["s0", "t"]}])"},
      {"constraints", R"([{"divisible": ["s0", 4]}, {"divisible": [8, "t"]}])"},
      {"kernels", R"([{"name": "k", "cubin": "k.cubin", "block": [128, 1, 1],
             "grid": [[{"ceildiv": ["s0", 64]}], ["d"], ["alias"]],
             "if": {"le": ["t", "c"]},
             "params": [{"tensor": "w", "shape": ["t", 2, "s0"]},
                        {"tensor": "x", "shape": []},
                        {"tensor": "z"},
                        {"scalar": "i64", "symbol": "d"}]}])"}};
  Manifest m;
  Status s = parseManifest(manifestWithSymbols(symbols, uses), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  std::vector<std::string> names;
  for (const SymbolInfo &sym : m.symbols)
    names.push_back(sym.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"N", "M", "s0", "d", "t", "c", "alias"}));
  EXPECT_FALSE(m.symbols[0].isDerived());
  EXPECT_TRUE(m.symbols[2].isDerived());
  EXPECT_EQ(m.symbols[2].tensor, -1);
  // Post-order: N, 4, mul.
  using Op = ExprNode::Op;
  const std::vector<ExprNode> &s0 = m.symbols[2].expr;
  ASSERT_EQ(s0.size(), 3u);
  EXPECT_EQ(s0[0].op, Op::Symbol);
  EXPECT_EQ(s0[0].symbol, 0);
  EXPECT_EQ(s0[1].op, Op::Integer);
  EXPECT_EQ(s0[1].value, 4);
  EXPECT_EQ(s0[2].op, Op::Mul);
  EXPECT_EQ(s0[2].lhs, 0);
  EXPECT_EQ(s0[2].rhs, 1);
  // The divisor of floordiv and ceildiv is the node's value, not a node.
  const std::vector<ExprNode> &t = m.symbols[4].expr;
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t[1].op, Op::FloorDiv);
  EXPECT_EQ(t[1].value, 3);
  EXPECT_EQ(t[1].rhs, -1);
  EXPECT_EQ(m.describeExpr(2), "N * 4");
  EXPECT_EQ(m.describeExpr(3), "max(M - s0, 0)");
  EXPECT_EQ(m.describeExpr(4), "floordiv(s0, 3) + ceildiv(min(d, 7), 2)");
  EXPECT_EQ(m.describeExpr(5), "-5");
  EXPECT_EQ(m.describeExpr(6), "M");
  EXPECT_EQ(m.describeExpr(0), "");

  EXPECT_EQ(m.describeShape(3), "[s0, t]");
  EXPECT_EQ(m.constraints[0].dividend.symbol, 2);
  EXPECT_EQ(m.constraints[1].divisor.symbol, 4);
  const KernelSpec &k = m.kernels[0];
  EXPECT_EQ(k.grid[0][0].value.symbol, 2);
  EXPECT_EQ(k.grid[1][0].value.symbol, 3);
  EXPECT_EQ(k.grid[2][0].value.symbol, 6);
  EXPECT_EQ(m.describe(*k.condition), "t <= c");
  ASSERT_TRUE(k.params[0].view.has_value());
  EXPECT_EQ(m.describe(*k.params[0].view), "[t, 2, s0]");
  ASSERT_TRUE(k.params[1].view.has_value());
  EXPECT_TRUE(k.params[1].view->empty());
  EXPECT_FALSE(k.params[2].view.has_value());
  EXPECT_EQ(k.params[3].scalar.symbol, 3);

  // An empty list is no symbols at all.
  s = parseManifest(manifestWithSymbols("[]"), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.symbols.size(), 2u);
}

TEST(Manifest, DerivedSymbolsStayOutOfArgumentAndResultShapes) {
  // A name a shape uses, an argument's or a result's, cannot be derived: the
  // caller's tensors and the expression could disagree.
  EXPECT_EQ(
      manifestError(manifestWithSymbols(R"([{"name": "N", "value": 4}])")),
      "symbols[0].name: symbol 'N' is in the shape of argument 'x'; a "
      "derived symbol needs a name no argument or result shape uses");
  EXPECT_EQ(
      manifestError(manifestWithSymbols(
          R"([{"name": "R", "value": {"mul": ["N", 2]}}])",
          {{"results",
            R"([{"name": "z", "dtype": "f32", "shape": ["N", "R"]}])"}})),
      "symbols[0].name: symbol 'R' is in the shape of result 'z'; a derived "
      "symbol needs a name no argument or result shape uses");
}

TEST(Manifest, MalformedDerivedSymbolsAreClearErrors) {
  const std::string unknownTail =
      "' does not appear in any argument or result shape nor earlier in "
      "\"symbols\", so its value is unknown";
  const std::string expected =
      "expected an integer, a symbol name or an operation such as {\"add\": "
      "[x, y]} or {\"floordiv\": [x, y]}";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "symbols: expected an array, got an object"},
      {"[1]", "symbols[0]: expected an object, got an integer"},
      {R"([{"value": 1}])", "symbols[0]: missing member \"name\""},
      {R"([{"name": "", "value": 1}])",
       "symbols[0].name: expected a non-empty string"},
      {R"([{"name": 3, "value": 1}])",
       "symbols[0].name: expected a string, got an integer"},
      {R"([{"name": "a"}])",
       "symbols[0]: missing member \"value\" (or \"resident_ctas\")"},
      {R"([{"name": "a", "value": 1}, {"name": "a", "value": 2}])",
       "symbols[1].name: duplicate derived symbol 'a' (also symbols[0])"},
      {R"([{"name": "a", "value": "b"}, {"name": "b", "value": 1}])",
       "symbols[0].value: derived symbol 'b' is defined by symbols[1], not "
       "before this one (an expression may use the argument and result "
       "symbols and earlier derived symbols)"},
      {R"([{"name": "a", "value": {"add": ["a", 1]}}])",
       "symbols[0].value.add[0]: derived symbol 'a' refers to itself"},
      {R"([{"name": "a", "value": "Q"}])",
       "symbols[0].value: symbol 'Q" + unknownTail},
      {R"([{"name": "a", "value": {"max": [{"sub": ["N", {"mul": [2, "Z"]}]},
                                          0]}}])",
       "symbols[0].value.max[0].sub[1].mul[1]: symbol 'Z" + unknownTail},
      {R"([{"name": "a", "value": ""}])",
       "symbols[0].value: " + expected + ", got a string"},
      {R"([{"name": "a", "value": 1.5}])",
       "symbols[0].value: " + expected + ", got a non-integer number"},
      {R"([{"name": "a", "value": null}])",
       "symbols[0].value: " + expected + ", got null"},
      {R"([{"name": "a", "value": true}])",
       "symbols[0].value: " + expected + ", got a boolean"},
      {R"([{"name": "a", "value": ["add", 1, 2]}])",
       "symbols[0].value: " + expected + ", got an array"},
      {R"([{"name": "a", "value": {}}])",
       "symbols[0].value: " + expected + ", got an object with 0 members"},
      {R"([{"name": "a", "value": {"add": [1, 2], "sub": [1, 2]}}])",
       "symbols[0].value: " + expected + ", got an object with 2 members"},
      {R"([{"name": "a", "value": {"div": ["N", 2]}}])",
       "symbols[0].value: unknown operation \"div\" (this runtime knows "
       "\"add\", \"sub\", \"mul\", \"floordiv\", \"ceildiv\", \"max\" and "
       "\"min\")"},
      {R"([{"name": "a", "value": {"add": ["N"]}}])",
       "symbols[0].value.add: expected two operands [x, y], got 1"},
      {R"([{"name": "a", "value": {"min": ["N", 1, 2]}}])",
       "symbols[0].value.min: expected two operands [x, y], got 3"},
      {R"([{"name": "a", "value": {"sub": 1}}])",
       "symbols[0].value.sub: expected two operands [x, y], got an integer"},
      {R"([{"name": "a", "value": {"floordiv": ["N"]}}])",
       "symbols[0].value.floordiv: expected two operands [x, y], got 1"},
      {R"([{"name": "a", "value": {"floordiv": ["N", 0]}}])",
       "symbols[0].value.floordiv[1]: expected an integer in [1, "
       "9223372036854775807], got 0"},
      {R"([{"name": "a", "value": {"ceildiv": ["N", -2]}}])",
       "symbols[0].value.ceildiv[1]: expected an integer in [1, "
       "9223372036854775807], got -2"},
      // A divisor that is not a literal is an expression like any other.
      {R"([{"name": "a", "value": {"ceildiv": ["N", 2.0]}}])",
       "symbols[0].value.ceildiv[1]: " + expected +
           ", got a non-integer number"},
      {R"([{"name": "a", "value": {"floordiv": ["N", "Q"]}}])",
       "symbols[0].value.floordiv[1]: symbol 'Q" + unknownTail},
      {R"([{"name": "a", "value": {"floordiv": ["N", {"pow": [2, 3]}]}}])",
       "symbols[0].value.floordiv[1]: unknown operation \"pow\" (this "
       "runtime knows \"add\", \"sub\", \"mul\", \"floordiv\", "
       "\"ceildiv\", \"max\" and \"min\")"},
      {R"([{"name": "a", "value": {"mul": ["N", {"add": [1, 2.0]}]}}])",
       "symbols[0].value.mul[1].add[1]: " + expected +
           ", got a non-integer number"},
  };
  for (const auto &[symbols, message] : cases)
    EXPECT_EQ(manifestError(manifestWithSymbols(symbols)), message) << symbols;

  // With derived symbols, an unknown one elsewhere says where it looked.
  EXPECT_EQ(
      manifestError(manifestWithSymbols(
          R"([{"name": "a", "value": 1}])",
          {{"workspace",
            R"([{"name": "w", "dtype": "f32", "shape": ["b"]}])"}})),
      "workspace[0].shape[0]: symbol 'b' does not appear in any argument or "
      "result shape nor in \"symbols\", so its value is unknown");
}

TEST(Manifest, DivisorsMayBeExpressions) {
  Manifest m;
  Status s = parseManifest(manifestWithSymbols(R"([
      {"name": "per", "value": {"floordiv": ["N", {"mul": ["M", 2]}]}},
      {"name": "up", "value": {"ceildiv": [{"add": ["N", 1]}, "per"]}},
      {"name": "lit", "value": {"floordiv": ["N", 4]}}])"),
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  // Post-order: N, M, 2, mul, floordiv; the divisor is a node (`rhs`).
  using Op = ExprNode::Op;
  const std::vector<ExprNode> &per = m.symbols[2].expr;
  ASSERT_EQ(per.size(), 5u);
  EXPECT_EQ(per[4].op, Op::FloorDiv);
  EXPECT_EQ(per[4].lhs, 0);
  EXPECT_EQ(per[4].rhs, 3);
  EXPECT_EQ(per[3].op, Op::Mul);
  // A literal divisor stays the node's value.
  const std::vector<ExprNode> &lit = m.symbols[4].expr;
  ASSERT_EQ(lit.size(), 2u);
  EXPECT_EQ(lit[1].value, 4);
  EXPECT_EQ(lit[1].rhs, -1);
  EXPECT_EQ(m.describeExpr(2), "floordiv(N, M * 2)");
  EXPECT_EQ(m.describeExpr(3), "ceildiv(N + 1, per)");
  EXPECT_EQ(m.describeExpr(4), "floordiv(N, 4)");
  // A subexpression alone.
  EXPECT_EQ(m.describeExpr(2, 3), "M * 2");
}

/// manifestWithSymbols() whose kernels are `a`, `k` and `a` again, each of
/// 4 x 32 threads.
std::string
manifestWithResident(const std::string &symbols,
                     std::map<std::string, std::string> overrides = {}) {
  overrides.emplace("kernels", R"([
      {"name": "a", "cubin": "a.cubin", "block": [32, 4, 1],
       "grid": [[], [], []], "params": []},
      {"name": "k", "cubin": "k.cubin", "block": [32, 4, 1],
       "grid": [[], [], []], "shared_bytes": 1024, "params": []},
      {"name": "a", "cubin": "a2.cubin", "block": [32, 4, 1],
       "grid": [[], [], []], "params": []}])");
  return manifestWithSymbols(symbols, overrides);
}

TEST(Manifest, ResidentCTAsNameAKernel) {
  Manifest m;
  Status s = parseManifest(manifestWithResident(R"([
      {"name": "ctas", "resident_ctas": "k"},
      {"name": "plain", "value": {"mul": ["N", 2]}},
      {"name": "splits", "value": {"max": [{"floordiv": ["ctas", "plain"]},
                                           1]}},
      {"name": "other", "resident_ctas": "a"},
      {"name": "again", "resident_ctas": "k"}])",
                                                {{"workspace",
                                                  R"([{"name": "w",
                                                       "dtype": "f32",
                                                       "shape": ["splits",
                                                                 "N"]}])"}}),
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  const SymbolInfo &ctas = m.symbols[2];
  EXPECT_TRUE(ctas.isDerived());
  EXPECT_TRUE(ctas.isResidentCTAs());
  ASSERT_EQ(ctas.expr.size(), 1u);
  EXPECT_EQ(ctas.expr[0].op, ExprNode::Op::ResidentCTAs);
  EXPECT_EQ(ctas.expr[0].kernel, 1);
  // The first kernel of a name; several symbols may name one kernel.
  EXPECT_EQ(m.symbols[5].expr[0].kernel, 0);
  EXPECT_EQ(m.symbols[6].expr[0].kernel, 1);
  // Depending on the device: the resident symbols and those using them.
  std::vector<bool> onDevice;
  for (const SymbolInfo &sym : m.symbols)
    onDevice.push_back(sym.onDevice);
  // N, M, ctas, plain, splits, other, again.
  EXPECT_EQ(onDevice,
            (std::vector<bool>{false, false, true, false, true, true, true}));
  EXPECT_FALSE(m.symbols[4].isResidentCTAs());
  EXPECT_TRUE(m.needsDevice());
  EXPECT_EQ(m.describeExpr(2), "resident_ctas(k)");
  EXPECT_EQ(m.describeExpr(4), "max(floordiv(ctas, plain), 1)");
  EXPECT_EQ(m.describeShape(3), "[splits, N]");

  ASSERT_TRUE(
      parseManifest(
          manifestWithSymbols(R"([{"name": "s", "value": {"mul": ["N", 2]}}])"),
          m)
          .isOk());
  EXPECT_FALSE(m.needsDevice());
}

TEST(Manifest, MalformedResidentCTAsAreClearErrors) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {R"([{"name": "c", "resident_ctas": "nope"}])",
       "symbols[0].resident_ctas: no kernel of \"kernels\" is named 'nope'"},
      {R"([{"name": "s", "value": 1}, {"name": "c", "resident_ctas": "K"}])",
       "symbols[1].resident_ctas: no kernel of \"kernels\" is named 'K'"},
      {R"([{"name": "c", "resident_ctas": "k", "value": 4}])",
       "symbols[0]: expected either \"value\" or \"resident_ctas\", not "
       "both"},
      {R"([{"name": "c", "resident_ctas": 3}])",
       "symbols[0].resident_ctas: expected a string, got an integer"},
      {R"([{"name": "c", "resident_ctas": ""}])",
       "symbols[0].resident_ctas: expected a non-empty string"},
      {R"([{"name": "c", "resident_ctas": {"kernel": "k"}}])",
       "symbols[0].resident_ctas: expected a string, got an object"},
      // Used before it is defined, like any derived symbol.
      {R"([{"name": "s", "value": {"floordiv": ["N", "c"]}},
           {"name": "c", "resident_ctas": "k"}])",
       "symbols[0].value.floordiv[1]: derived symbol 'c' is defined by "
       "symbols[1], not before this one (an expression may use the argument "
       "and result symbols and earlier derived symbols)"},
  };
  for (const auto &[symbols, message] : cases)
    EXPECT_EQ(manifestError(manifestWithResident(symbols)), message) << symbols;

  // Result shapes are known without a device, so none may depend on one: a
  // result or argument shape naming a resident_ctas symbol is refused, like
  // one naming a symbol derived from it.
  EXPECT_EQ(
      manifestError(manifestWithResident(
          R"([{"name": "C", "resident_ctas": "k"}])",
          {{"results",
            R"([{"name": "z", "dtype": "f32", "shape": ["N", "C"]}])"}})),
      "symbols[0].name: symbol 'C' is in the shape of result 'z'; it "
      "depends on the device (through \"resident_ctas\"), and argument and "
      "result shapes must not (they are known without one)");
  EXPECT_EQ(manifestError(manifestWithResident(
                R"([{"name": "M", "resident_ctas": "k"}])")),
            "symbols[0].name: symbol 'M' is in the shape of argument 'y'; it "
            "depends on the device (through \"resident_ctas\"), and argument "
            "and result shapes must not (they are known without one)");
  EXPECT_EQ(
      manifestError(manifestWithResident(
          R"([{"name": "c", "resident_ctas": "k"},
              {"name": "R", "value": {"floordiv": ["c", 2]}}])",
          {{"results",
            R"([{"name": "z", "dtype": "f32", "shape": ["N", "R"]}])"}})),
      "symbols[1].name: symbol 'R' is in the shape of result 'z'; it "
      "depends on the device (through \"resident_ctas\"), and argument and "
      "result shapes must not (they are known without one)");
  // Through a longer chain too; any other derived name is refused as before.
  EXPECT_EQ(
      manifestError(manifestWithResident(
          R"([{"name": "c", "resident_ctas": "k"},
              {"name": "s", "value": {"max": [{"sub": ["c", "N"]}, 1]}},
              {"name": "R", "value": {"add": [1, {"mul": ["s", 2]}]}}])",
          {{"results",
            R"([{"name": "z", "dtype": "f32", "shape": ["N", "R"]}])"}})),
      "symbols[2].name: symbol 'R' is in the shape of result 'z'; it "
      "depends on the device (through \"resident_ctas\"), and argument and "
      "result shapes must not (they are known without one)");
  EXPECT_EQ(
      manifestError(manifestWithResident(
          R"([{"name": "c", "resident_ctas": "k"},
              {"name": "R", "value": {"floordiv": ["N", 2]}}])",
          {{"results",
            R"([{"name": "z", "dtype": "f32", "shape": ["N", "R"]}])"}})),
      "symbols[1].name: symbol 'R' is in the shape of result 'z'; a derived "
      "symbol needs a name no argument or result shape uses");
}

TEST(Manifest, MalformedViewsAreClearErrors) {
  auto withParams = [](const std::string &params) {
    return manifestWithSymbols(
        R"([{"name": "s", "value": {"mul": ["N", 16]}}])",
        {{"kernels", kernelWith({{"params", params}})}});
  };
  Manifest m;
  Status s = parseManifest(withParams(R"([{"tensor": "x", "shape": ["s"]},
                                          {"tensor": "w", "shape": [1, "s"]}])"),
                           m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.kernels[0].params[0].view->at(0).symbol, 2);

  std::vector<std::pair<std::string, std::string>> cases = {
      {R"([{"tensor": "x", "shape": "s"}])",
       "kernels[0].params[0].shape: expected an array, got a string"},
      {R"([{"tensor": "x", "shape": [-1]}])",
       "kernels[0].params[0].shape[0]: expected an integer in [0, "
       "9223372036854775807], got -1"},
      {R"([{"tensor": "x", "shape": [16, 1.5]}])",
       "kernels[0].params[0].shape[1]: expected an integer or a symbol name, "
       "got a non-integer number"},
      {R"([{"tensor": "x", "shape": [{"mul": ["N", 16]}]}])",
       "kernels[0].params[0].shape[0]: expected an integer or a symbol name, "
       "got an object"},
      {R"([{"tensor": "x", "shape": ["Q"]}])",
       "kernels[0].params[0].shape[0]: symbol 'Q' does not appear in any "
       "argument or result shape nor in \"symbols\", so its value is "
       "unknown"},
      {R"([{"scalar": "i32", "symbol": "s", "shape": [1]}])",
       "kernels[0].params[0].shape: only a {\"tensor\": name} parameter can "
       "have a \"shape\" (a view of the buffer)"},
  };
  for (const auto &[params, message] : cases)
    EXPECT_EQ(manifestError(withParams(params)), message) << params;
  EXPECT_EQ(manifestError(manifestWith(
                {{"arguments",
                  R"([{"name": "x", "dtype": "f32", "shape": ["N", 16]},
                      {"name": "y", "dtype": "f16", "shape": ["M"]},
                      {"name": "c", "dtype": "f32", "shape": [],
                       "scalar": true}])"},
                 {"kernels",
                  kernelWith({{"params",
                               R"([{"scalar_arg": "c", "shape": []}])"}})}})),
            "kernels[0].params[0].shape: only a {\"tensor\": name} parameter "
            "can have a \"shape\" (a view of the buffer)");
}

TEST(Manifest, InPlaceResults) {
  // A result the kernels write into an argument's buffer (a paged KV cache
  // appended to): "in_place_of" names the argument.
  auto withResults = [](const std::string &results) {
    return manifestWith({{"results", results}});
  };
  Manifest m;
  Status s = parseManifest(
      withResults(R"([{"name": "z", "dtype": "f32", "shape": ["N", 16],
                       "in_place_of": "x"}])"),
      m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.tensors[2].inPlaceOf, 0);
  EXPECT_EQ(m.tensors[0].inPlaceOf, -1);

  std::vector<std::pair<std::string, std::string>> cases = {
      {R"([{"name": "z", "dtype": "f32", "shape": ["N", 16],
            "in_place_of": 0}])",
       "results[0].in_place_of: expected an argument name, got an integer"},
      {R"([{"name": "z", "dtype": "f32", "shape": ["N", 16],
            "in_place_of": "w"}])",
       "results[0].in_place_of: 'w' is not an argument"},
      {R"([{"name": "z", "dtype": "f16", "shape": ["M"]},
           {"name": "z2", "dtype": "f16", "shape": ["M"],
            "in_place_of": "z"}])",
       "results[1].in_place_of: 'z' is not an argument"},
      {R"([{"name": "z", "dtype": "f32", "shape": ["N", 8],
            "in_place_of": "x"}])",
       "results[0].in_place_of: argument 'x' does not have the result's "
       "dtype and shape"},
      {R"([{"name": "z", "dtype": "f32", "shape": ["M"],
            "in_place_of": "y"}])",
       "results[0].in_place_of: argument 'y' does not have the result's "
       "dtype and shape"},
      {R"([{"name": "z", "dtype": "f32", "shape": ["N", 16],
            "in_place_of": "x"},
           {"name": "z2", "dtype": "f32", "shape": ["N", 16],
            "in_place_of": "x"}])",
       "results[1].in_place_of: argument 'x' is already written in place by "
       "result 'z'"},
  };
  for (const auto &[results, message] : cases)
    EXPECT_EQ(manifestError(withResults(results)), message) << results;
  EXPECT_EQ(manifestError(manifestWith(
                {{"arguments",
                  R"([{"name": "x", "dtype": "f32", "shape": ["N", 16],
                       "in_place_of": "x"},
                      {"name": "y", "dtype": "f16", "shape": ["M"]}])"}})),
            "arguments[0].in_place_of: only results can be written in place");
}

TEST(Manifest, InformativeKernelMembersAreIgnored) {
  // What attunec writes besides what the runtime needs.
  std::string k = kernelWith({});
  k.insert(k.size() - 2, R"(, "ptx": "k.ptx", "tile_sizes": [64, 128],
                             "registers": 168, "spill_bytes": 0)");
  Manifest m;
  Status s = parseManifest(manifestWith({{"kernels", k}}), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.kernels[0].name, "k");
  EXPECT_FALSE(m.kernels[0].condition.has_value());
}

TEST(Manifest, ScalarArgumentsAndFloatRanges) {
  // What attunec writes for a non-tensor function argument: "scalar": true,
  // shape [], a scalar_arg param.
  std::string args = R"([{"name": "x", "dtype": "f32", "shape": ["N", 16]},
      {"name": "y", "dtype": "f16", "shape": ["M"]},
      {"name": "capture0", "dtype": "f32", "shape": [], "scalar": true,
       "range": [0.5, 30.0]}])";
  Manifest m;
  Status s = parseManifest(
      manifestWith({{"arguments", args},
                    {"kernels", kernelWith({{"params",
                                             R"([{"scalar_arg": "capture0"},
                                                 {"tensor": "x"}])"}})}}),
      m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_TRUE(m.tensors[2].scalar);
  EXPECT_FALSE(m.tensors[0].scalar);
  EXPECT_DOUBLE_EQ(m.tensors[2].rangeLo, 0.5);
  EXPECT_DOUBLE_EQ(m.tensors[2].rangeHi, 30.0);
  EXPECT_EQ(m.kernels[0].params[0].kind, KernelParam::Kind::ScalarArgument);
  EXPECT_EQ(m.kernels[0].params[0].tensor, 2);

  EXPECT_EQ(manifestError(manifestWith(
                {{"arguments", args},
                 {"kernels",
                  kernelWith({{"params", R"([{"tensor": "capture0"}])"}})}})),
            "kernels[0].params[0].tensor: argument 'capture0' is a scalar; "
            "pass it with {\"scalar_arg\": name}");
}

TEST(Manifest, NotJsonOrNotAnObject) {
  EXPECT_EQ(manifestError("{\"format\": "),
            "invalid JSON: line 1, column 12: unexpected end of input, "
            "expected a value");
  EXPECT_EQ(manifestError("[]"),
            "top level: expected an object, got an array");
}

TEST(Manifest, TruncatedAndCorruptedManifestsNeverCrash) {
  // Every prefix of a valid manifest and every single-byte corruption
  // either parses or fails with a message.
  std::string json = documentMaskManifest();
  for (size_t n = 0; n < json.size(); ++n) {
    Manifest m;
    Status s = parseManifest(json.substr(0, n), m);
    EXPECT_FALSE(s.isOk());
    EXPECT_FALSE(s.message().empty());
  }
  for (size_t i = 0; i < json.size(); ++i) {
    for (char c : {'"', '1', ']', 'x', '-'}) {
      std::string corrupted = json;
      corrupted[i] = c;
      Manifest m;
      Status s = parseManifest(corrupted, m);
      EXPECT_TRUE(s.isOk() || !s.message().empty());
    }
  }
}

TEST(Manifest, LoadReadsCubins) {
  Manifest m;
  Status s = loadManifest(ATTUNE_RT_TEST_INPUTS "/document_mask", m);
  ASSERT_TRUE(s.isOk()) << s.message();
  ASSERT_TRUE(m.kernels[0].cubin);
  EXPECT_EQ(*m.kernels[0].cubin, "not a real cubin: document_mask_fwd\n");
}

TEST(Manifest, LoadErrorsNameTheFile) {
  Manifest m;
  Status s = loadManifest("/nonexistent/attune", m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cannot open artifact directory "
                         "'/nonexistent/attune': No such file or directory");

  s = loadManifest(ATTUNE_RT_TEST_INPUTS "/document_mask/manifest.json", m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_NE(s.message().find("is not a directory"), std::string::npos);

  TempDir dir;
  s = loadManifest(dir.path(), m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cannot open '" + dir.path() +
                             "/manifest.json': No such file or directory");

  dir.write("manifest.json", manifestWith({{"version", "3"}}));
  s = loadManifest(dir.path(), m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_MANIFEST);
  EXPECT_EQ(s.message(), dir.path() + "/manifest.json: version: unsupported "
                                      "manifest version 3 (this runtime "
                                      "reads version 1)");

  dir.write("manifest.json", manifestWith({}));
  s = loadManifest(dir.path(), m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cubin of kernel 'k': cannot open '" + dir.path() +
                             "/k.cubin': No such file or directory");

  dir.write("k.cubin", "");
  s = loadManifest(dir.path(), m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(),
            "cubin of kernel 'k': '" + dir.path() + "/k.cubin' is empty");

  dir.write("k.cubin", "cubin");
  s = loadManifest(dir.path() + "/", m);
  EXPECT_TRUE(s.isOk()) << s.message();
  // Names that stay inside (a '..' inside a name is not a component).
  dir.write("k..cubin", "cubin");
  dir.write("manifest.json",
            manifestWith(
                {{"kernels", kernelWith({{"cubin", R"("./k..cubin")"}})}}));
  s = loadManifest(dir.path(), m);
  EXPECT_TRUE(s.isOk()) << s.message();
}

/// Loads `dir` holding manifestWith() whose kernel's cubin is `cubin`;
/// returns the status.
Status loadWithCubin(TempDir &dir, const std::string &cubin) {
  dir.write("manifest.json",
            manifestWith({{"kernels", kernelWith({{"cubin", cubin}})}}));
  Manifest m;
  return loadManifest(dir.path(), m);
}

// An artifact directory is input: a cubin must be a regular file inside it,
// of bounded size. /dev/zero used to end in std::bad_alloc, a FIFO blocked
// forever and ../../etc/passwd loaded as a cubin.
TEST(Manifest, CubinsMustBeRegularFilesInsideTheDirectory) {
  TempDir dir;
  std::string real = dir.path();
  {
    char *resolved = realpath(dir.path().c_str(), nullptr);
    ASSERT_NE(resolved, nullptr);
    real = resolved;
    std::free(resolved);
  }
  ASSERT_EQ(symlink("/dev/zero", (dir.path() + "/zero.cubin").c_str()), 0);
  dir.track("zero.cubin");
  Status s = loadWithCubin(dir, R"("zero.cubin")");
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cubin of kernel 'k': '" + dir.path() +
                             "/zero.cubin' resolves to '/dev/zero', outside "
                             "the artifact directory '" +
                             real + "/'");

  ASSERT_EQ(symlink("/etc/passwd", (dir.path() + "/passwd.cubin").c_str()), 0);
  dir.track("passwd.cubin");
  s = loadWithCubin(dir, R"("passwd.cubin")");
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_NE(s.message().find("resolves to '/etc/passwd', outside"),
            std::string::npos)
      << s.message();

  // A FIFO inside the directory: refused at once, not a hang.
  ASSERT_EQ(mkfifo((dir.path() + "/fifo.cubin").c_str(), 0600), 0);
  dir.track("fifo.cubin");
  s = loadWithCubin(dir, R"("fifo.cubin")");
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cubin of kernel 'k': '" + real +
                             "/fifo.cubin' is not a regular file");

  ASSERT_EQ(mkdir((dir.path() + "/sub.cubin").c_str(), 0700), 0);
  dir.track("sub.cubin");
  s = loadWithCubin(dir, R"("sub.cubin")");
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cubin of kernel 'k': '" + real +
                             "/sub.cubin' is not a regular file");

  // Too large: a sparse file, so the test writes nothing.
  std::string big = dir.path() + "/big.cubin";
  dir.write("big.cubin", "x");
  ASSERT_EQ(truncate(big.c_str(), static_cast<off_t>(LoadLimits().cubinBytes) +
                                      1),
            0);
  s = loadWithCubin(dir, R"("big.cubin")");
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cubin of kernel 'k': '" + real +
                             "/big.cubin' is 268435457 bytes, above the "
                             "limit of 268435456");

  // The directory itself.
  s = loadWithCubin(dir, R"(".")");
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(),
            "cubin of kernel 'k': '" + real + "' is not a regular file");

  // A link that stays inside is fine.
  dir.write("k.cubin", "cubin");
  ASSERT_EQ(symlink("k.cubin", (dir.path() + "/link.cubin").c_str()), 0);
  dir.track("link.cubin");
  s = loadWithCubin(dir, R"("link.cubin")");
  EXPECT_TRUE(s.isOk()) << s.message();
}

// Many kernels naming one cubin read it once; distinct cubins are bounded in
// total (a 16 MiB manifest could otherwise name a 256 MiB cubin 100k times).
TEST(Manifest, CubinsAreReadOnceAndBoundedInTotal) {
  TempDir dir;
  dir.write("k.cubin", "cubin");
  std::string kernels = "[";
  for (int i = 0; i < 1000; ++i)
    kernels += std::string(i ? ", " : "") + R"({"name": "k)" +
               std::to_string(i) +
               R"(", "cubin": "k.cubin", "block": [1, 1, 1],
                  "grid": [[1], [1], [1]], "params": []})";
  dir.write("manifest.json", manifestWith({{"kernels", kernels + "]"}}));
  Manifest m;
  Status s = loadManifest(dir.path(), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  ASSERT_EQ(m.kernels.size(), 1000u);
  EXPECT_EQ(m.kernels[0].cubin.get(), m.kernels[999].cubin.get());

  // Five distinct files of 100 bytes pass one by one but not together
  // under a limit of 450 (the default, 1 GiB, would take seconds to test).
  kernels = "[";
  for (int i = 0; i < 5; ++i) {
    std::string name = "big" + std::to_string(i) + ".cubin";
    dir.write(name, std::string(100, 'x'));
    kernels += std::string(i ? ", " : "") + R"({"name": "k)" +
               std::to_string(i) + R"(", "cubin": ")" + name +
               R"(", "block": [1, 1, 1], "grid": [[1], [1], [1]],
                  "params": []})";
  }
  dir.write("manifest.json", manifestWith({{"kernels", kernels + "]"}}));
  LoadLimits limits;
  limits.cubinTotalBytes = 450;
  s = loadManifest(dir.path(), m, limits);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(), "cubin of kernel 'k4': the cubins total more than "
                         "450 bytes, the limit");
  limits.cubinTotalBytes = 500;
  s = loadManifest(dir.path(), m, limits);
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(LoadLimits().cubinTotalBytes, uint64_t(1) << 30);
}

TEST(Manifest, ManifestMustBeARegularFile) {
  TempDir dir;
  ASSERT_EQ(mkfifo((dir.path() + "/manifest.json").c_str(), 0600), 0);
  dir.track("manifest.json");
  Manifest m;
  Status s = loadManifest(dir.path(), m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_IO);
  EXPECT_EQ(s.message(),
            "'" + dir.path() + "/manifest.json' is not a regular file");
}

} // namespace
