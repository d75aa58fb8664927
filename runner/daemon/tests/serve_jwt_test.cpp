// Bearer token checks, with tokens signed by OpenSSL-made keys (tests/support/jwt_signer).
#include "serve_jwt.hpp"

#include <gtest/gtest.h>

#include "support/jwt_signer.hpp"

namespace imagepipe::serve {
namespace {

using nlohmann::json;
using testing::base64url;
using testing::TestSigningKey;

constexpr long long kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
const std::string kIssuer = "https://login.microsoftonline.com/tenant-id/v2.0";
const std::string kClient = "6e74172b-be56-4843-9ff4-e66a39bb12e3";

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new TestSigningKey(TestSigningKey::rsa("rsa-1"));
    ec_ = new TestSigningKey(TestSigningKey::ec("ec-1"));
    other_ = new TestSigningKey(TestSigningKey::rsa("rsa-1"));  // same kid, another key
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_;
  }

  JwtTest() : keys_(JwtKeySet::parse(testing::jwks({rsa_, ec_}).dump())) {
    policy_.issuer = kIssuer;
    policy_.audiences = {kClient};
  }

  // Azure AD v2 access token claims.
  static json claims() {
    return {{"iss", kIssuer},
            {"aud", kClient},
            {"sub", "user-42"},
            {"exp", kNow + 3600},
            {"nbf", kNow - 60},
            {"iat", kNow - 60},
            {"roles", {"Images.Admin"}},
            {"scp", "images.write images.read"}};
  }

  JwtCheck check(const std::string& token) const {
    return check_jwt(token, *keys_, policy_,
                     std::chrono::system_clock::time_point(std::chrono::seconds(kNow)));
  }

  static TestSigningKey* rsa_;
  static TestSigningKey* ec_;
  static TestSigningKey* other_;
  std::shared_ptr<const JwtKeySet> keys_;
  JwtPolicy policy_;
};

TestSigningKey* JwtTest::rsa_ = nullptr;
TestSigningKey* JwtTest::ec_ = nullptr;
TestSigningKey* JwtTest::other_ = nullptr;

TEST_F(JwtTest, AcceptsAnAzureV2TokenSignedWithRs256) {
  const auto result = check(rsa_->sign(claims()));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.identity.subject, "user-42");
  EXPECT_EQ(result.identity.roles, (std::set<std::string>{"Images.Admin"}));
  EXPECT_EQ(result.identity.scopes, (std::set<std::string>{"images.write", "images.read"}));
  EXPECT_EQ(result.kid, "rsa-1");
}

TEST_F(JwtTest, AcceptsEs256) {
  const auto result = check(ec_->sign(claims()));
  ASSERT_TRUE(result.ok()) << result.message;
}

TEST_F(JwtTest, AcceptsAnAudienceListAndTheScopeClaim) {
  auto c = claims();
  c["aud"] = {"someone-else", kClient};
  c.erase("scp");
  c["scope"] = "a b";
  const auto result = check(rsa_->sign(c));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.identity.scopes, (std::set<std::string>{"a", "b"}));
}

TEST_F(JwtTest, ReadsNestedRolesByDottedPath) {
  policy_.roles_claim = "realm_access.roles";
  auto c = claims();
  c["realm_access"] = {{"roles", {"editor"}}};
  const auto result = check(rsa_->sign(c));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.identity.roles, (std::set<std::string>{"editor"}));
}

TEST_F(JwtTest, RefusesASignatureByAnotherKey) {
  const auto result = check(other_->sign(claims()));
  EXPECT_EQ(result.problem, JwtProblem::signature);
  EXPECT_EQ(result.message, "the token's signature does not verify");
}

TEST_F(JwtTest, RefusesATamperedPayload) {
  auto token = rsa_->sign(claims());
  auto c = claims();
  c["roles"] = {"Everything"};
  const auto dot1 = token.find('.'), dot2 = token.rfind('.');
  token = token.substr(0, dot1 + 1) + base64url(c.dump()) + token.substr(dot2);
  EXPECT_EQ(check(token).problem, JwtProblem::signature);
}

TEST_F(JwtTest, RefusesAlgNone) {
  const std::string token =
      base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(claims().dump()) + ".";
  const auto result = check(token);
  EXPECT_EQ(result.problem, JwtProblem::algorithm);
  EXPECT_EQ(result.message,
            "the token's algorithm 'none' is not accepted (accepted: RS256, ES256)");
}

TEST_F(JwtTest, RefusesHs256EvenWithTheRsaKeysId) {
  // The classic confusion: an HMAC keyed with the public key's bytes.
  const std::string token = base64url(R"({"alg":"HS256","kid":"rsa-1"})") + "." +
                            base64url(claims().dump()) + "." + base64url("0123456789abcdef");
  const auto result = check(token);
  EXPECT_EQ(result.problem, JwtProblem::algorithm);
  EXPECT_EQ(result.message,
            "the token's algorithm 'HS256' is not accepted (accepted: RS256, ES256)");
}

TEST_F(JwtTest, RefusesAnAlgorithmNotConfigured) {
  policy_.algorithms = {"RS256"};
  EXPECT_EQ(check(ec_->sign(claims())).message,
            "the token's algorithm 'ES256' is not accepted (accepted: RS256)");
}

TEST_F(JwtTest, RefusesAnAlgorithmThatDoesNotFitTheKey) {
  const auto result = check(ec_->sign(claims(), {{"kid", "rsa-1"}}));
  EXPECT_EQ(result.problem, JwtProblem::algorithm);
  EXPECT_EQ(result.message,
            "the token's algorithm 'ES256' does not fit its key 'rsa-1' (RSA, RS256)");
}

TEST_F(JwtTest, ExpiryHonoursTheClockSkew) {
  auto c = claims();
  c["exp"] = kNow - 30;  // within the 60 s skew
  EXPECT_TRUE(check(rsa_->sign(c)).ok());
  c["exp"] = kNow - 61;
  const auto result = check(rsa_->sign(c));
  EXPECT_EQ(result.problem, JwtProblem::expired);
  EXPECT_EQ(result.message, "the token expired at 2027-01-15T07:58:59Z");
}

TEST_F(JwtTest, RefusesATokenNotYetValid) {
  auto c = claims();
  c["nbf"] = kNow + 600;
  const auto result = check(rsa_->sign(c));
  EXPECT_EQ(result.problem, JwtProblem::not_yet_valid);
  EXPECT_EQ(result.message, "the token is not valid before 2027-01-15T08:10:00Z");
}

TEST_F(JwtTest, RefusesATokenWithoutExpiry) {
  auto c = claims();
  c.erase("exp");
  EXPECT_EQ(check(rsa_->sign(c)).message, "the token has no numeric 'exp' claim");
}

TEST_F(JwtTest, RefusesAnotherAudience) {
  auto c = claims();
  c["aud"] = "api://another-service";
  const auto result = check(rsa_->sign(c));
  EXPECT_EQ(result.problem, JwtProblem::audience);
  EXPECT_EQ(result.message,
            "the token's audience 'api://another-service' is not an accepted "
            "audience (accepted: " +
                kClient + ")");
}

TEST_F(JwtTest, RefusesAnotherIssuer) {
  auto c = claims();
  c["iss"] = "https://sts.windows.net/tenant-id/";  // Azure's v1 issuer
  const auto result = check(rsa_->sign(c));
  EXPECT_EQ(result.problem, JwtProblem::issuer);
  EXPECT_EQ(result.message,
            "the token's issuer 'https://sts.windows.net/tenant-id/' is not the "
            "accepted issuer '" +
                kIssuer + "'");
}

TEST_F(JwtTest, ReportsAnUnknownKeyId) {
  const auto result = check(rsa_->sign(claims(), {{"kid", "rotated-2"}}));
  EXPECT_EQ(result.problem, JwtProblem::unknown_key);
  EXPECT_EQ(result.message, "the token's key id 'rotated-2' is not in the issuer's key set");
}

TEST_F(JwtTest, WithoutAKidTriesTheKeysOfTheRightType) {
  auto token = rsa_->sign(claims(), {{"kid", nullptr}});
  // {"kid": null} merged: the header still carries a null kid, which counts as none.
  EXPECT_TRUE(check(token).ok()) << check(token).message;
}

TEST_F(JwtTest, RefusesMalformedTokens) {
  const std::string three =
      "the bearer token is not a JWT: it must be three base64url parts "
      "separated by '.'";
  EXPECT_EQ(check("not-a-token").message, three);
  EXPECT_EQ(check("a.b.c.d").message, three);
  EXPECT_EQ(check("a+b.c.d").message,
            "the bearer token is not a JWT: a part holds characters outside base64url");
  EXPECT_EQ(check(base64url("not json") + "." + base64url("{}") + ".c2ln").message,
            "the bearer token is not a JWT: its header is not base64url-encoded JSON");
  EXPECT_EQ(check(base64url(R"({"alg":"RS256"})") + "." + base64url("[1,2]") + ".c2ln").message,
            "the bearer token is not a JWT: its payload is not base64url-encoded JSON");
  EXPECT_EQ(check(base64url(R"({"typ":"JWT"})") + "." + base64url("{}") + ".c2ln").message,
            "the bearer token is not a JWT: its header has no 'alg'");
  EXPECT_EQ(
      check(base64url(R"({"alg":"ES256","kid":"ec-1"})") + "." + base64url("{}") + ".c2ln").message,
      "the token's signature does not verify");
}

TEST(JwtKeySetTest, SkipsEncryptionKeysAndOtherCurvesAndRefusesNonJwks) {
  auto rsa = TestSigningKey::rsa("sig");
  auto enc = rsa.jwk();
  enc["kid"] = "enc";
  enc["use"] = "enc";
  json p384 = {{"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}, {"x", "AA"}, {"y", "AA"}};
  json broken = {{"kty", "RSA"}, {"kid", "broken"}, {"n", "!!"}, {"e", "AQAB"}};
  const auto set = JwtKeySet::parse(json({{"keys", {rsa.jwk(), enc, p384, broken, 7}}}).dump());
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid, "sig");
  EXPECT_THROW(JwtKeySet::parse("<html>"), std::runtime_error);
  EXPECT_THROW(JwtKeySet::parse(R"({"keys": {}})"), std::runtime_error);
}

}  // namespace
}  // namespace imagepipe::serve
