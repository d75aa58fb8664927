#include "serve_api_keys.hpp"

#include <gtest/gtest.h>

namespace imagepipe::serve {
namespace {

TEST(ApiKeysTest, MatchesByDigestAndNamesTheKey) {
  ApiKeys keys;
  keys.add("ci", "key-for-ci", {"admin"});
  keys.add_digest("ops",
                  "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0");  // s3cret
  const auto* found = keys.match("key-for-ci");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "ci");
  EXPECT_EQ(found->roles, std::vector<std::string>{"admin"});
  EXPECT_EQ(keys.match("key-for-cj"), nullptr);
  EXPECT_EQ(keys.match(""), nullptr);
  EXPECT_EQ(keys.match("key-for-ci "), nullptr);
  ASSERT_NE(keys.match("s3cret"), nullptr);
  EXPECT_EQ(keys.match("s3cret")->name, "ops");
}

TEST(ApiKeysTest, ADigestFromTheConfigMatchesItsKey) {
  ApiKeys keys;
  const auto digest = sha256("s3cret");
  std::string hex;
  for (unsigned char b : digest) {
    static const char* digits = "0123456789abcdef";
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  EXPECT_EQ(
      hex, "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0");  // printf %s s3cret
                                                                                 // | sha256sum
  keys.add_digest("ops", hex);
  ASSERT_NE(keys.match("s3cret"), nullptr);
  EXPECT_EQ(keys.match("s3cret")->name, "ops");
}

}  // namespace
}  // namespace imagepipe::serve
