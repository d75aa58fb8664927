#include "support/jwt_signer.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <chrono>
#include <stdexcept>

namespace imagepipe::testing {

namespace {

EVP_PKEY* pkey(const std::shared_ptr<void>& key) { return static_cast<EVP_PKEY*>(key.get()); }

std::string bignum(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("no key parameter");
  std::string bytes(pad ? pad : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return bytes;
}

}  // namespace

std::string base64url(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 63];
  }
  if (bytes.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += alphabet[(v >> shift) & 63];
  }
  return out;
}

TestSigningKey::TestSigningKey(std::string kid, std::string alg, std::shared_ptr<void> key)
    : kid_(std::move(kid)), alg_(std::move(alg)), key_(std::move(key)) {}

TestSigningKey TestSigningKey::rsa(std::string kid) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  if (!key) throw std::runtime_error("RSA key generation failed");
  return {std::move(kid), "RS256",
          std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); })};
}

TestSigningKey TestSigningKey::ec(std::string kid) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!key) throw std::runtime_error("EC key generation failed");
  return {std::move(kid), "ES256",
          std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); })};
}

nlohmann::json TestSigningKey::jwk() const {
  nlohmann::json j = {{"kid", kid_}, {"alg", alg_}, {"use", "sig"}};
  if (alg_ == "RS256") {
    j["kty"] = "RSA";
    j["n"] = base64url(bignum(pkey(key_), OSSL_PKEY_PARAM_RSA_N));
    j["e"] = base64url(bignum(pkey(key_), OSSL_PKEY_PARAM_RSA_E));
  } else {
    j["kty"] = "EC";
    j["crv"] = "P-256";
    j["x"] = base64url(bignum(pkey(key_), OSSL_PKEY_PARAM_EC_PUB_X, 32));
    j["y"] = base64url(bignum(pkey(key_), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  return j;
}

std::string TestSigningKey::sign(const nlohmann::json& claims, const nlohmann::json& header) const {
  nlohmann::json h = {{"alg", alg_}, {"typ", "JWT"}, {"kid", kid_}};
  if (header.is_object()) h.update(header);
  const std::string input = base64url(h.dump()) + "." + base64url(claims.dump());

  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t size = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey(key_)) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("signing failed");
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("signing failed");
  signature.resize(size);
  if (alg_ == "ES256") {
    // OpenSSL writes an ECDSA signature as DER; JWS wants r and s, 32 bytes each.
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
    if (!sig) throw std::runtime_error("cannot read the ECDSA signature");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    signature = raw;
  }
  return input + "." + base64url(signature);
}

nlohmann::json jwks(const std::vector<const TestSigningKey*>& keys) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto* key : keys) list.push_back(key->jwk());
  return {{"keys", list}};
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace imagepipe::testing
