// Signing keys made by OpenSSL for the daemon's token tests: RSA 2048 (RS256) and EC
// P-256 (ES256), their public JWKs, and compact JWTs they sign. Written directly against
// OpenSSL, not with the JOSE library the daemon uses, so a test token is an independent
// opinion of what the standard says (ES256's raw r||s included).
//
//   auto key = TestSigningKey::rsa("key-1");
//   server.on("GET", "/jwks", TestResponse{.body = jwks({&key}).dump()});
//   std::string token = key.sign({{"iss", issuer}, {"aud", "api"}, {"exp", now + 300}});
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe::testing {

std::string base64url(std::string_view bytes);

class TestSigningKey {
 public:
  static TestSigningKey rsa(std::string kid);
  static TestSigningKey ec(std::string kid);

  const std::string& kid() const { return kid_; }
  const std::string& alg() const { return alg_; }
  nlohmann::json jwk() const;  // public members only, with kid, alg and use
  // A compact JWS over `claims`, its header {alg, typ, kid} merged with `header`.
  std::string sign(const nlohmann::json& claims, const nlohmann::json& header = {}) const;

 private:
  TestSigningKey(std::string kid, std::string alg, std::shared_ptr<void> key);
  std::string kid_;
  std::string alg_;
  std::shared_ptr<void> key_;  // EVP_PKEY
};

nlohmann::json jwks(const std::vector<const TestSigningKey*>& keys);

// Seconds since the epoch, for exp / nbf / iat.
long long unix_now();

}  // namespace imagepipe::testing
