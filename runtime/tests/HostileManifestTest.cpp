//===- HostileManifestTest.cpp - Manifests written to break the runtime ---===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Every value of a valid manifest replaced by a value of every other kind
// (negative, huge, fractional, a string, an array, an object) and every
// member removed: each mutant is a manifest error with a message, or a valid
// manifest whose launch planning and parameter packing then run without a
// crash or undefined behaviour. Plus the byte-size computations that used to
// be able to overflow.
//
//===----------------------------------------------------------------------===//

#include "Json.h"
#include "Launch.h"
#include "Manifest.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <functional>

using namespace attune::rt;
using namespace attune::rt::test;

namespace {

/// JSON text of `v` (keys and strings need no escapes here but quotes and
/// backslashes, which the test manifests do not contain).
std::string toJson(const JsonValue &v) {
  switch (v.kind) {
  case JsonValue::Kind::Null:
    return "null";
  case JsonValue::Kind::Bool:
    return v.boolean ? "true" : "false";
  case JsonValue::Kind::Int:
    return std::to_string(v.integer);
  case JsonValue::Kind::Double:
    return cat(v.number);
  case JsonValue::Kind::String:
    return "\"" + v.string + "\"";
  case JsonValue::Kind::Array: {
    std::string out = "[";
    for (size_t i = 0; i < v.array.size(); ++i)
      out += (i ? ", " : "") + toJson(v.array[i]);
    return out + "]";
  }
  case JsonValue::Kind::Object: {
    std::string out = "{";
    for (size_t i = 0; i < v.object.size(); ++i)
      out += (i ? ", \"" : "\"") + v.object[i].first +
             "\": " + toJson(v.object[i].second);
    return out + "}";
  }
  }
  return "";
}

/// Calls `visit` on every value of the tree, root first.
void forEachValue(JsonValue &v, const std::function<void(JsonValue &)> &visit) {
  visit(v);
  for (JsonValue &e : v.array)
    forEachValue(e, visit);
  for (auto &member : v.object)
    forEachValue(member.second, visit);
}

/// Plans a launch of a manifest that parsed, with every symbol 3, and packs
/// the parameters of every kernel that runs: the outcome may be any status,
/// but the run must be clean (the sanitizer builds check that).
void planAndPack(const Manifest &m) {
  std::vector<Tensor> tensors;
  for (int i = 0; i < m.numArguments + m.numResults; ++i) {
    const TensorSpec &spec = m.tensors[i];
    std::vector<int64_t> shape;
    for (const DimExpr &d : spec.shape)
      shape.push_back(d.isSymbol() ? 3 : d.value);
    tensors.emplace_back(0x100000 * (i + 1), static_cast<int32_t>(spec.dtype),
                         shape);
    if (spec.scalar)
      tensors.back().data = 7;
  }
  std::vector<attune_rt_tensor> all = views(tensors);
  LaunchPlan plan;
  Status s = planLaunch(m, all.data(), m.numArguments,
                        all.data() + m.numArguments, m.numResults, plan);
  if (!s.isOk()) {
    EXPECT_FALSE(s.message().empty());
    return;
  }
  std::vector<uint64_t> addresses(m.tensors.size(), 0x900000);
  for (size_t k = 0; k < m.kernels.size(); ++k) {
    if (!plan.launches(k))
      continue;
    PackedParams params;
    packParams(m, static_cast<int>(k), plan.bindings, addresses, params);
    EXPECT_EQ(params.pointers.size(), params.slots.size() + 1);
  }
}

/// documentMaskManifest() with derived symbols (one a kernel's resident CTAs,
/// one dividing by an expression), used by a grid, an `if`, a workspace
/// shape, a view and a scalar.
const char *derivedManifest = R"({
  "format": "attune-cuda", "version": 1, "function": "document_mask",
  "chip": "sm_90a",
  "arguments": [
    {"name": "q", "dtype": "bf16", "shape": ["B", "Hq", "Sq", 128]},
    {"name": "k", "dtype": "bf16", "shape": ["B", "Hkv", "Sk", 128]},
    {"name": "q_doc", "dtype": "i32", "shape": ["B", "Sq"], "range": [0, 4]}
  ],
  "results": [{"name": "o", "dtype": "bf16", "shape": ["B", "Hq", "Sq", 128]}],
  "symbols": [{"name": "s0", "value": {"mul": ["Sq", 4]}},
              {"name": "n", "value": {"max": [{"sub": ["Sk", 1]},
                                              {"ceildiv": ["s0", 64]}]}},
              {"name": "ctas", "resident_ctas": "fwd"},
              {"name": "splits",
               "value": {"floordiv": ["ctas", {"mul": ["B", "Hkv"]}]}}],
  "constraints": [{"divisible": ["s0", "Hkv"]}],
  "workspace": [{"name": "w", "dtype": "f32", "shape": ["B", "Hq", "s0"]}],
  "kernels": [{
    "name": "fwd", "cubin": "fwd.cubin", "block": [128, 1, 1],
    "grid": [[{"ceildiv": ["s0", 256]}], ["Hq"], ["B", "splits"]],
    "if": {"ge": ["n", 1]},
    "params": [{"tensor": "q", "shape": ["B", "Hq", "s0", 32]},
               {"tensor": "k"}, {"tensor": "q_doc"},
               {"tensor": "w", "shape": ["B", "Hq", "Sq", 4]},
               {"tensor": "o"}, {"scalar": "i32", "symbol": "n"}]
  }]
})";

class EveryMutant : public ::testing::TestWithParam<const char *> {};

TEST_P(EveryMutant, EveryValueOfEveryKindAndEveryMissingMember) {
  JsonValue original;
  std::string error;
  ASSERT_TRUE(parseJson(GetParam(), original, error)) << error;
  const char *replacements[] = {"null",
                                "true",
                                "-1",
                                "0",
                                "1.5",
                                "9223372036854775807",
                                "-9223372036854775808",
                                "1e308",
                                "\"\"",
                                "\"Sq\"",
                                "[]",
                                "[[]]",
                                "{}",
                                "{\"le\": [\"Sq\", 16]}",
                                "{\"mul\": [\"Sq\", 2]}"};
  std::vector<JsonValue> values;
  for (const char *text : replacements) {
    values.emplace_back();
    ASSERT_TRUE(parseJson(text, values.back(), error)) << text;
  }

  int mutants = 0, valid = 0;
  auto check = [&](const JsonValue &root) {
    std::string json = toJson(root);
    Manifest m;
    Status s = parseManifest(json, m);
    ++mutants;
    if (!s.isOk()) {
      EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_MANIFEST) << json;
      EXPECT_FALSE(s.message().empty()) << json;
      return;
    }
    ++valid;
    planAndPack(m);
  };

  // Count the values, then mutate the n-th of a fresh copy each time.
  int count = 0;
  forEachValue(original, [&](JsonValue &) { ++count; });
  for (int target = 0; target < count; ++target) {
    for (const JsonValue &replacement : values) {
      JsonValue root = original;
      int n = 0;
      forEachValue(root, [&](JsonValue &v) {
        if (n++ == target)
          v = replacement;
      });
      // (Replacing a container while visiting it is safe: its children are
      // visited from the new value.)
      check(root);
    }
  }
  // Every member of every object removed.
  for (int target = 0; target < count; ++target) {
    JsonValue probe = original;
    int n = 0;
    size_t members = 0;
    forEachValue(probe, [&](JsonValue &v) {
      if (n++ == target)
        members = v.object.size();
    });
    for (size_t i = 0; i < members; ++i) {
      JsonValue root = original;
      n = 0;
      forEachValue(root, [&](JsonValue &v) {
        if (n++ == target)
          v.object.erase(v.object.begin() + i);
      });
      check(root);
    }
  }
  EXPECT_GT(mutants, 1500);
  EXPECT_GT(valid, 50) << mutants; // e.g. another static size or range
}

INSTANTIATE_TEST_SUITE_P(HostileManifest, EveryMutant,
                         ::testing::Values(documentMaskManifest(),
                                           derivedManifest));

/// documentMaskManifest() with `from` replaced by `to`.
std::string documentMaskWith(const std::string &from, const std::string &to) {
  std::string json = documentMaskManifest();
  size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return json.replace(at, from.size(), to);
}

TEST(HostileManifest, SizesThatOverflowAreErrors) {
  // A tensor whose element count overflows int64.
  Manifest m;
  ASSERT_TRUE(parseManifest(documentMaskWith(R"("shape": ["B", "Sq"])",
                                             R"("shape": ["B", "Sq",
                                                4611686018427387904])"),
                            m)
                  .isOk());
  DocumentMaskTensors t;
  t.args[3] = Tensor(0x40000, ATTUNE_RT_I32, {2, 130, 4611686018427387904});
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  LaunchPlan plan;
  Status s = planLaunch(m, args.data(), args.size(), results.data(),
                        results.size(), plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "argument 'q_doc' has more than 2^63 elements");

  // A workspace buffer whose byte size overflows.
  std::string json =
      documentMaskWith(R"("workspace": [])",
                       R"("workspace": [{"name": "w", "dtype": "f32",
                        "shape": [2305843009213693952, "B"]}])");
  json = json.replace(json.find(R"({"tensor": "lse"})"), 17,
                      R"({"tensor": "lse"}, {"tensor": "w"})");
  ASSERT_TRUE(parseManifest(json, m).isOk());
  args = views(t.args);
  DocumentMaskTensors fine;
  args = views(fine.args);
  s = planLaunch(m, args.data(), args.size(), results.data(), results.size(),
                 plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_UNSUPPORTED);
  EXPECT_EQ(s.message(), "workspace 'w' would need more than 2^63 bytes");

  // Negative sizes, and sizes where a count is needed, are manifest errors.
  Manifest bad;
  s = parseManifest(
      documentMaskWith(R"("shape": ["B", "Sq"])", R"("shape": ["B", -4])"),
      bad);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_MANIFEST);
  EXPECT_EQ(s.message(), "arguments[3].shape[1]: expected an integer in [0, "
                         "9223372036854775807], got -4");
  s = parseManifest(documentMaskWith(R"("shared_bytes": 81920)",
                                     R"("shared_bytes": 4294967296)"),
                    bad);
  EXPECT_EQ(s.message(), "kernels[0].shared_bytes: expected an integer in "
                         "[0, 2147483647], got 4294967296");
  s = parseManifest(documentMaskWith(R"("block": [128, 1, 1])",
                                     R"("block": [1024, 1024, 64])"),
                    bad);
  EXPECT_EQ(s.message(), "kernels[0].block: 67108864 threads per block, "
                         "above CUDA's limit of 1024");
}

TEST(HostileManifest, DeepOrWideExpressionsAreBounded) {
  // documentMaskManifest() with derived symbol s0 = `expr`.
  auto withSymbol = [](const std::string &expr) {
    return documentMaskWith(R"("workspace": [])",
                            R"("symbols": [{"name": "s0", "value": )" + expr +
                                R"(}], "workspace": [])");
  };
  // Sq + 1 + 1 + ..., `depth` operations deep.
  auto nested = [](int depth) {
    std::string expr = R"("Sq")";
    for (int i = 0; i < depth; ++i)
      expr = R"({"add": [)" + expr + ", 1]}";
    return expr;
  };
  DocumentMaskTensors t;
  std::vector<attune_rt_tensor> args = views(t.args),
                                results = views(t.results);
  Manifest m;
  Status s = parseManifest(withSymbol(nested(maxExprDepth)), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  LaunchPlan plan;
  s = planLaunch(m, args.data(), args.size(), results.data(), results.size(),
                 plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(plan.bindings.values.back(), 130 + maxExprDepth);

  // One more level is an error naming the path; so is any depth the JSON
  // reader accepts (512), without recursing that deep.
  std::string path = "symbols[0].value";
  for (int i = 0; i < maxExprDepth; ++i)
    path += ".add[0]";
  EXPECT_EQ(parseManifest(withSymbol(nested(maxExprDepth + 1)), m).message(),
            path + ": expression nested more than 64 operations deep");
  for (int depth : {500, 2000}) {
    s = parseManifest(withSymbol(nested(depth)), m);
    EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_MANIFEST) << depth;
  }

  // A quarter of a million nodes, as wide as the depth allows: evaluated in
  // one pass, and described in a bounded message.
  std::function<std::string(int)> tree = [&](int depth) -> std::string {
    if (depth == 0)
      return R"("Sq")";
    std::string half = tree(depth - 1);
    return R"({"add": [)" + half + ", " + half + "]}";
  };
  s = parseManifest(withSymbol(R"({"sub": [0, )" + tree(17) + "]}"), m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.symbols.back().expr.size(), 2u * (1 << 17) + 1);
  s = planLaunch(m, args.data(), args.size(), results.data(), results.size(),
                 plan);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_TENSOR);
  EXPECT_NE(s.message().find("is -17039360 for Sq = 130"), std::string::npos)
      << s.message();
  EXPECT_LT(s.message().size(), 400u);
}

TEST(HostileManifest, HugeArraysAreBoundedOrHarmless) {
  // A shape of 100k dimensions parses (the rank is an int32 in the C API);
  // a kernel parameter list of 500k entries too; past 2^20 values in all
  // the JSON reader stops.
  std::string dims;
  for (int i = 0; i < 100000; ++i)
    dims += i ? ", 1" : "1";
  Manifest m;
  Status s = parseManifest(
      documentMaskWith(R"("shape": ["B", "Sq"], "range")",
                       R"("shape": ["B", "Sq", )" + dims + R"(], "range")"),
      m);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(m.tensors[3].shape.size(), 100002u);
  std::string params;
  for (int i = 0; i < 1100000; ++i)
    params += i ? ", 0" : "0";
  s = parseManifest(documentMaskWith(R"("tile_sizes": [64, 64])",
                                     R"("tile_sizes": [)" + params + "]"),
                    m);
  EXPECT_EQ(s.code(), ATTUNE_RT_ERROR_MANIFEST);
  EXPECT_NE(s.message().find("more than 1048576 values"), std::string::npos)
      << s.message();
}

} // namespace
