//===- ParseSourceTest.cpp - The screen for parser hazards ------*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// findParserHazard must report every integer list MLIR's linalg parsers
// crash on and pass every list they parse, and nothing else.
//
//===----------------------------------------------------------------------===//

#include "attune/Support/ParseSource.h"

#include "gtest/gtest.h"

#include <string>

using attune::findParserHazard;

namespace {

std::string transpose(const std::string &list) {
  return "%0 = linalg.transpose ins(%a : tensor<2x3xf32>) outs(%b : "
         "tensor<3x2xf32>) permutation = " +
         list + "\n";
}

TEST(ParseSource, AcceptsWellFormedLists) {
  for (const char *list :
       {"[1, 0]", "[]", "[ ]", "[1,0]", "[\n1,\n0\n]", "[-1, 0x1F]",
        "[9223372036854775807]", "[1, 0] {x}", "[1, 0] // [x"})
    EXPECT_FALSE(findParserHazard(transpose(list))) << list;
}

TEST(ParseSource, ReportsMalformedLists) {
  for (const char *list :
       {"[1, x]", "[1 0]", "[1, 0,]", "[,]", "[9223372036854775808]",
        "[99999999999999999999]", "[1.0]", "[1e3]", "[0x]", "[-]", "7",
        "array<i64: 1, 0>", "[1, 0", "", "[true]", "[1, %c]"})
    EXPECT_TRUE(findParserHazard(transpose(list))) << list;
}

TEST(ParseSource, ReportsWhereTheListGoesWrong) {
  std::string text = transpose("[1, x]");
  std::optional<attune::ParserHazard> hazard = findParserHazard(text);
  ASSERT_TRUE(hazard);
  EXPECT_EQ(hazard->offset, text.rfind('x'));
  EXPECT_NE(hazard->message.find("'linalg.transpose'"), std::string::npos);
}

TEST(ParseSource, CoversBroadcastAndReduce) {
  EXPECT_TRUE(findParserHazard("linalg.broadcast ins(%c : tensor<2xf32>) "
                               "outs(%a : tensor<2x3xf32>) dimensions = [x]"));
  EXPECT_TRUE(findParserHazard("linalg.reduce ins(%a : tensor<2x3xf32>) "
                               "outs(%c : tensor<2xf32>) dimensions = [1 1]"));
  EXPECT_FALSE(findParserHazard("linalg.reduce ins(%a : tensor<2x3xf32>) "
                                "outs(%c : tensor<2xf32>) dimensions = [1]"));
}

TEST(ParseSource, SkipsCommentsStringsAndOtherNames) {
  // The generic form does not use the custom parser.
  EXPECT_FALSE(findParserHazard(
      "\"linalg.transpose\"(%a, %b) <{permutation = array<i64: 1, 0>}>"));
  EXPECT_FALSE(findParserHazard("// linalg.transpose permutation = [x]"));
  EXPECT_FALSE(findParserHazard("loc(\"linalg.transpose permutation = x\")"));
  EXPECT_FALSE(findParserHazard("attn.transpose permutation = [x]"));
  EXPECT_FALSE(findParserHazard("linalg.transposed permutation = [x]"));
  // A keyword that is part of another name is not the keyword.
  EXPECT_FALSE(findParserHazard("linalg.transpose %permutation = [x]"));
  // The list after a commented-out keyword is the one that is checked.
  EXPECT_TRUE(findParserHazard("linalg.transpose // permutation = [1]\n"
                               "permutation = [1 0]"));
  // An unterminated string does not hide the rest of the next line.
  EXPECT_TRUE(findParserHazard("\"abc\nlinalg.transpose permutation = [x]"));
}

} // namespace
