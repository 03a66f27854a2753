//===- JsonTest.cpp - Tests of the runtime's JSON parser --------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//

#include "Json.h"

#include "gtest/gtest.h"

using namespace attune::rt;

namespace {

JsonValue parseOk(const std::string &text) {
  JsonValue v;
  std::string error;
  EXPECT_TRUE(parseJson(text, v, error)) << text << ": " << error;
  return v;
}

std::string parseError(const std::string &text) {
  JsonValue v;
  std::string error;
  EXPECT_FALSE(parseJson(text, v, error)) << text;
  return error;
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
}

} // namespace
