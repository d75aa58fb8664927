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

// Found by the json_scan fuzzer: the scan took the first "image", nlohmann the last, so the
// image verified at accept was not the image the job would have run on.
TEST(CutStringMember, RefusesAMemberThatAppearsTwice) {
  EXPECT_FALSE(cut_string_member(R"({"image": "a", "image": ""})", "image"));
  EXPECT_FALSE(cut_string_member(R"({"image": "a", "x": 1, "image" : "b"})", "image"));
  EXPECT_TRUE(cut_string_member(R"({"image": "a", "x": {"image": "b"}})", "image"));
}

TEST(ParseUniqueKeys, RefusesAKeyTwiceAtAnyDepth) {
  EXPECT_EQ(parse_unique_keys(R"({"a": [{"b": 1}, {"b": 2}], "c": {"b": 3}})"),
            json::parse(R"({"a": [{"b": 1}, {"b": 2}], "c": {"b": 3}})"));
  for (const auto& [body, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"image": "a", "image": ""})", "image"},
           {R"({"x": [1, {"k": 1, "k": 2}]})", "k"},
           {R"({"image": "a", "\u0069mage": "b"})", "image"},  // the same key, escaped
       }) {
    try {
      (void)parse_unique_keys(body, /*allow_exceptions=*/false);
      ADD_FAILURE() << "accepted " << body;
    } catch (const DuplicateKey& e) {
      EXPECT_EQ(e.key, key);
      EXPECT_EQ(std::string(e.what()), "duplicate key \"" + key + "\"");
    }
  }
}

TEST(ParseUniqueKeys, ShowsAtMost64BytesOfAKeyAndNeverHalfACharacter) {
  std::string key = std::string(63, 'k') + "\xc3\xa9" + std::string(100, 'z');
  try {
    (void)parse_unique_keys("{\"" + key + "\": 1, \"" + key + "\": 2}");
    ADD_FAILURE();
  } catch (const DuplicateKey& e) {
    EXPECT_EQ(e.key, std::string(63, 'k') + "...");
  }
}

TEST(ParseUniqueKeys, MalformedJsonFollowsAllowExceptions) {
  EXPECT_TRUE(parse_unique_keys("{\"a\": ", false).is_discarded());
  EXPECT_THROW((void)parse_unique_keys("{\"a\": "), nlohmann::json::parse_error);
}

TEST(CutStringMember, EmptyValueIsFound) {
  const auto cut = cut_string_member(R"({"image_base64":""})", "image_base64");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->value, "");
  EXPECT_EQ(cut->rest, R"({"image_base64":""})");
}

JsonLimit over(std::string_view body, JsonLimits limits, std::string_view exempt = {}) {
  return exceeded_json_limit(body, limits, exempt);
}

TEST(ExceededJsonLimit, CountsBracketsOutsideStringsOnly) {
  // Four levels: the object, a's list, the inner object, b's list.
  EXPECT_EQ(over(R"({"a": [[1], {"b": [2]}]})", {.depth = 4}), JsonLimit::none);
  EXPECT_EQ(over(R"({"a": [[1], {"b": [2]}]})", {.depth = 3}), JsonLimit::depth);
  EXPECT_EQ(over(R"({"a": "[[[[[[\"[[[[", "b": "{{{{"})", {.depth = 1}), JsonLimit::none);
  EXPECT_EQ(over(std::string(100000, '['), {}), JsonLimit::depth);
  EXPECT_EQ(over(std::string(64, '[') + std::string(64, ']'), {.depth = 64}), JsonLimit::none);
  EXPECT_EQ(over(R"({"unterminated": "[[[[)", {.depth = 1}), JsonLimit::none);
}

TEST(ExceededJsonLimit, CountsMembersAndElementsOfAllContainers) {
  // 3 members, 3 elements, 1 member, 1 element and none: 8 values.
  const std::string body = R"({"a": [1, 2, {"x": 3}], "b": [[ ]], "c": ", , ,"})";
  EXPECT_EQ(over(body, {.values = 8}), JsonLimit::none);
  EXPECT_EQ(over(body, {.values = 7}), JsonLimit::values);
  EXPECT_EQ(over("[ ]", {.values = 0}), JsonLimit::none);
  EXPECT_EQ(over("[0]", {.values = 0}), JsonLimit::values);
}

TEST(ExceededJsonLimit, LongStringsExceptTheExemptTopLevelMember) {
  const std::string big(100, 'A');
  const std::string body = R"({"prompt": "hi", "image_base64": ")" + big + R"("})";
  EXPECT_EQ(over(body, {.string_bytes = 99}), JsonLimit::string_bytes);
  EXPECT_EQ(over(body, {.string_bytes = 100}), JsonLimit::none);
  EXPECT_EQ(over(body, {.string_bytes = 99}, "image_base64"), JsonLimit::none);
  // Only the top-level member's value is exempt: not a nested one, not a key, not a value
  // whose name merely follows it.
  EXPECT_EQ(
      over(R"({"x": {"image_base64": ")" + big + R"("}})", {.string_bytes = 99}, "image_base64"),
      JsonLimit::string_bytes);
  EXPECT_EQ(over("{\"" + big + R"(": 1})", {.string_bytes = 99}, big), JsonLimit::string_bytes);
  EXPECT_EQ(over(R"({"image_base64": "", "prompt": ")" + big + R"("})", {.string_bytes = 99},
                 "image_base64"),
            JsonLimit::string_bytes);
}

}  // namespace
}  // namespace imagepipe::serve
