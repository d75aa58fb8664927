#include "serve_media_type.hpp"

#include <gtest/gtest.h>

namespace imagepipe::serve {
namespace {

TEST(JsonMediaType, JsonAndStructuredJsonSuffixesInAnyCaseWithParameters) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("  application/json ;charset=UTF-8"));
  EXPECT_TRUE(is_json_media_type("application/problem+json"));
  EXPECT_TRUE(is_json_media_type("application/vnd.api+json; ext=x"));
}

TEST(JsonMediaType, OtherTypesAreNot) {
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("text/json"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_media_type("multipart/form-data; boundary=x"));
  EXPECT_FALSE(is_json_media_type("application/+json"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type("application/a/b+json"));
  EXPECT_FALSE(is_json_media_type(""));
}

TEST(JsonMediaTypeProblem, NamesWhatWasReceivedAndWhatIsAccepted) {
  const std::string form = "application/x-www-form-urlencoded";
  EXPECT_EQ(json_media_type_problem(&form, true),
            "Content-Type 'application/x-www-form-urlencoded' is not accepted here; send "
            "application/json (or application/*+json)");
  EXPECT_EQ(json_media_type_problem(nullptr, true),
            "request has a body but no Content-Type; send application/json (or "
            "application/*+json)");
  const std::string json = "application/json; charset=utf-8";
  EXPECT_EQ(json_media_type_problem(&json, true), std::nullopt);
  EXPECT_EQ(json_media_type_problem(nullptr, false), std::nullopt);
}

}  // namespace
}  // namespace imagepipe::serve
