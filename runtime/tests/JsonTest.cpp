//===- JsonTest.cpp - Tests of the runtime's JSON parser --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include "gtest/gtest.h"

#include <chrono>

using namespace attune::rt;

namespace {

JsonValue parseOk(const std::string &text) {
  JsonValue v;
  std::string error;
  EXPECT_TRUE(parseJson(text, v, error)) << text << ": " << error;
  return v;
}

std::string parseError(const std::string &text,
                       const JsonLimits &limits = JsonLimits()) {
  JsonValue v;
  std::string error;
  EXPECT_FALSE(parseJson(text, v, error, limits)) << text.substr(0, 100);
  return error;
}

/// An object with `n` distinct keys, then `extra` (a member or "").
std::string manyKeys(int n, const std::string &extra) {
  std::string text = "{";
  for (int i = 0; i < n; ++i)
    text += "\"key" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  return text + (extra.empty() ? "\"end\": 0" : extra) + "}";
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST(Json, Scalars) {
  EXPECT_TRUE(parseOk("null").isNull());
  EXPECT_TRUE(parseOk(" true ").boolean);
  EXPECT_EQ(parseOk("false").kind, JsonValue::Kind::Bool);
  JsonValue i = parseOk("-42");
  ASSERT_TRUE(i.isInt());
  EXPECT_EQ(i.integer, -42);
  JsonValue big = parseOk("9223372036854775807");
  ASSERT_TRUE(big.isInt());
  EXPECT_EQ(big.integer, INT64_MAX);
  // Integers beyond int64 and numbers with a fraction or exponent are not
  // integers (a manifest field that needs an integer rejects them).
  EXPECT_EQ(parseOk("9223372036854775808").kind, JsonValue::Kind::Double);
  EXPECT_EQ(parseOk("64.0").kind, JsonValue::Kind::Double);
  JsonValue e = parseOk("1.5e3");
  EXPECT_EQ(e.kind, JsonValue::Kind::Double);
  EXPECT_DOUBLE_EQ(e.number, 1500);
}

TEST(Json, Strings) {
  EXPECT_EQ(parseOk(R"("a\"b\\c\/d\n\t")").string, "a\"b\\c/d\n\t");
  EXPECT_EQ(parseOk(R"("\u00e9")").string, "\xC3\xA9");
  EXPECT_EQ(parseOk(R"("\ud83d\ude00")").string, "\xF0\x9F\x98\x80");
}

TEST(Json, ContainersKeepOrder) {
  JsonValue v = parseOk(R"({"b": [1, [2, {}], []], "a": {"x": null}})");
  ASSERT_TRUE(v.isObject());
  ASSERT_EQ(v.object.size(), 2u);
  EXPECT_EQ(v.object[0].first, "b");
  EXPECT_EQ(v.object[1].first, "a");
  const JsonValue *b = v.find("b");
  ASSERT_TRUE(b && b->isArray());
  EXPECT_EQ(b->array.size(), 3u);
  EXPECT_EQ(b->array[1].array[0].integer, 2);
  EXPECT_TRUE(v.find("a")->find("x")->isNull());
  EXPECT_EQ(v.find("zz"), nullptr);
}

TEST(Json, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parseError("{\n  \"a\": 1,\n  \"a\": 2\n}"),
            "line 3, column 3: duplicate key \"a\"");
  EXPECT_EQ(parseError("[1, 2,]"), "line 1, column 7: unexpected character ']'");
  EXPECT_EQ(parseError(""),
            "line 1, column 1: unexpected end of input, expected a value");
}

TEST(Json, MalformedInputsAreErrors) {
  for (const char *text :
       {"{", "[", "[1 2]", "{\"a\" 1}", "{1: 2}", "\"abc", "\"\\x\"",
        "\"\\u12\"", "\"\\ud83d\"", "\"\\ude00\"", "01", "-", "1.", "1e",
        "tru", "nul", "[1] x", "{\"a\":}", "\"a\nb\"", "+1", "NaN"})
    EXPECT_FALSE(parseError(text).empty()) << text;
}

TEST(Json, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_NE(parseError(deep).find("nesting deeper than 512 levels"),
            std::string::npos);
  std::string ok = std::string(500, '[') + std::string(500, ']');
  parseOk(ok);
  std::string deepObject;
  for (int i = 0; i < 100000; ++i)
    deepObject += "{\"a\": ";
  EXPECT_NE(parseError(deepObject).find("nesting deeper than 512 levels"),
            std::string::npos);
}

// The duplicate-key check was a linear search per key: 80k keys took 19 s.
TEST(Json, ManyKeysAreFast) {
  JsonValue v = parseOk(manyKeys(80000, ""));
  EXPECT_EQ(v.object.size(), 80001u);
  std::string text = manyKeys(80000, "\"key79999\": 1");
  auto start = std::chrono::steady_clock::now();
  std::string error = parseError(text);
  double seconds = secondsSince(start);
  EXPECT_NE(error.find("duplicate key \"key79999\""), std::string::npos);
  // For an optimized build; sanitizers and -O0 are several times slower
  // but still nowhere near the quadratic check.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||           \
    !defined(__OPTIMIZE__)
  constexpr double budget = 5.0;
#else
  constexpr double budget = 1.0;
#endif
  EXPECT_LT(seconds, budget);
}

TEST(Json, LimitsAreErrors) {
  JsonLimits small;
  small.maxDocumentBytes = 40;
  small.maxDepth = 2;
  small.maxStringBytes = 4;
  small.maxNumberChars = 5;
  small.maxValues = 4;
  EXPECT_EQ(parseError(std::string(41, ' ') + "1", small),
            "document of 42 bytes, above the limit of 40");
  EXPECT_EQ(parseError("[[[1]]]", small),
            "line 1, column 4: nesting deeper than 2 levels");
  EXPECT_EQ(parseError("[\"abcd\", \"abcde\"]", small),
            "line 1, column 10: string longer than 4 bytes");
  EXPECT_EQ(parseError("{\"abcde\": 1}", small),
            "line 1, column 2: string longer than 4 bytes");
  EXPECT_EQ(parseError("[12345, 123456]", small),
            "line 1, column 9: number longer than 5 characters");
  EXPECT_EQ(parseError("[1, 2, 3, 4]", small),
            "line 1, column 11: more than 4 values");
  JsonValue v;
  std::string error;
  EXPECT_TRUE(parseJson("[[2], 1234]", v, error, small)) << error;

  // The defaults.
  EXPECT_EQ(parseError("[1e999]"),
            "line 1, column 2: number out of the range of a double");
  EXPECT_EQ(parseError("-1e400"),
            "line 1, column 1: number out of the range of a double");
  EXPECT_EQ(parseError(std::string(101, '1')),
            "line 1, column 1: number longer than 100 characters");
  EXPECT_EQ(parseError("\"" + std::string((1 << 20) + 1, 'x') + "\""),
            "line 1, column 1: string longer than 1048576 bytes");
  EXPECT_EQ(parseError(std::string((16 << 20) + 1, ' ')),
            "document of 16777217 bytes, above the limit of 16777216");
  std::string values = "[";
  for (int i = 0; i < (1 << 20); ++i)
    values += "0,";
  EXPECT_EQ(parseError(values + "0]").substr(0, 8), "line 1, ");
  EXPECT_NE(parseError(values + "0]").find("more than 1048576 values"),
            std::string::npos);
}

} // namespace
