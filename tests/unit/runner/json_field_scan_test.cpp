#include "json_field_scan.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace imagepipe::serve {
namespace {

using nlohmann::json;

TEST(CutStringMember, TakesTheValueOutAndLeavesValidJson) {
  const std::string body =
      R"({"prompt": "a \"dog\"", "image_base64" : "QUJD", "n": [1, {"x": "}"}]})";
  const auto cut = cut_string_member(body, "image_base64");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->value, "QUJD");
  EXPECT_EQ(json::parse(cut->rest),
            json::parse(R"({"prompt": "a \"dog\"", "image_base64": "", "n": [1, {"x": "}"}]})"));
}

TEST(CutStringMember, SkipsNestedMembersOfTheSameName) {
  const std::string body = R"({"meta": {"image_base64": "nested"}, "image_base64": "top"})";
  const auto cut = cut_string_member(body, "image_base64");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->value, "top");
}

TEST(CutStringMember, LeavesEverythingUnusualToTheParser) {
  for (const char* body : {R"({"image_base64": "QU\/JD"})",         // an escape to undo
                           "{\"image_base64\": \"QU\nJD\"}",        // a raw control character
                           R"({"image_base64": 12})",               // not a string
                           R"({"other": "x"})",                     // absent
                           R"(["image_base64", "x"])",              // not an object
                           R"({"image_base64": "unterminated)",     // malformed
                           R"({"a": "x" "image_base64": "QUJD"})",  // missing comma
                           R"({"a": {"b": "x", "image_base64": "QUJD"})", ""}) {
    EXPECT_FALSE(cut_string_member(body, "image_base64")) << body;
  }
}

TEST(CutStringMember, EmptyValueIsFound) {
  const auto cut = cut_string_member(R"({"image_base64":""})", "image_base64");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->value, "");
  EXPECT_EQ(cut->rest, R"({"image_base64":""})");
}

TEST(NestsDeeperThan, CountsBracketsOutsideStringsOnly) {
  EXPECT_FALSE(nests_deeper_than(R"({"a": [[1], {"b": [2]}]})", 4));
  EXPECT_TRUE(nests_deeper_than(R"({"a": [[1], {"b": [2]}]})", 3));
  EXPECT_FALSE(nests_deeper_than(R"({"a": "[[[[[[\"[[[[", "b": "{{{{"})", 1));
  EXPECT_TRUE(nests_deeper_than(std::string(100000, '['), 64));
  EXPECT_FALSE(nests_deeper_than(std::string(64, '[') + std::string(64, ']'), 64));
  EXPECT_FALSE(nests_deeper_than(R"({"unterminated": "[[[[)", 1));
}

}  // namespace
}  // namespace imagepipe::serve
