#include "imagepipe/signing.hpp"

#include <gtest/gtest.h>

namespace imagepipe {
namespace {

TEST(Signing, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signing, StorageLinksSignTheKeyAndTheExpiry) {
  const std::string secret = "0123456789abcdef";
  const auto sig = storage_link_signature(secret, "results/a b.png", 1700000000);
  EXPECT_EQ(sig, hmac_sha256_hex(secret, "results/a b.png\n1700000000"));
  EXPECT_TRUE(storage_link_signature_matches(secret, "results/a b.png", 1700000000, sig));
  EXPECT_FALSE(storage_link_signature_matches(secret, "results/a b.png", 1700000001, sig));
  EXPECT_FALSE(storage_link_signature_matches(secret, "results/a c.png", 1700000000, sig));
  EXPECT_FALSE(
      storage_link_signature_matches("another secret!!", "results/a b.png", 1700000000, sig));
  EXPECT_FALSE(
      storage_link_signature_matches(secret, "results/a b.png", 1700000000, sig.substr(1)));
  EXPECT_FALSE(storage_link_signature_matches(secret, "results/a b.png", 1700000000, ""));
}

}  // namespace
}  // namespace imagepipe
