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

TEST(JsonMediaTypeProblem, CharsetsOtherThanUtf8AreRefused) {
  for (const std::string ok : {"application/json; charset=UTF-8", "application/json;charset=\"utf-8\"",
                               "application/json; charset=utf8", "application/json; v=1"})
    EXPECT_EQ(json_media_type_problem(&ok, true), std::nullopt) << ok;
  const std::string utf16 = "application/json; v=1; Charset=\"UTF-16\"";
  EXPECT_EQ(json_media_type_problem(&utf16, true),
            "charset 'utf-16' is not accepted here; JSON is sent as UTF-8");
}

TEST(ContentEncodingProblem, OnlyIdentityOrNoneIsAccepted) {
  EXPECT_EQ(content_encoding_problem(nullptr), std::nullopt);
  for (const std::string ok : {"identity", " Identity ", ""})
    EXPECT_EQ(content_encoding_problem(&ok), std::nullopt) << ok;
  const std::string gzip = "gzip";
  EXPECT_EQ(content_encoding_problem(&gzip),
            "Content-Encoding 'gzip' is not accepted here; send the body uncompressed");
}

}  // namespace
}  // namespace imagepipe::serve
