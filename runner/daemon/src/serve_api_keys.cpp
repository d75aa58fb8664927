#include "serve_api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace imagepipe::serve {

std::array<unsigned char, 32> sha256(std::string_view bytes) {
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size())
    throw std::runtime_error("SHA-256 failed");
  return out;
}

void ApiKeys::add(std::string name, std::string_view key, std::vector<std::string> roles,
                  std::vector<std::string> scopes) {
  keys_.push_back({std::move(name), sha256(key), std::move(roles), std::move(scopes)});
}

void ApiKeys::add_digest(std::string name, std::string_view hex, std::vector<std::string> roles,
                         std::vector<std::string> scopes) {
  if (hex.size() != 64) throw std::invalid_argument("a SHA-256 digest is 64 hex digits");
  ApiKey key{std::move(name), {}, std::move(roles), std::move(scopes)};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("a SHA-256 digest is 64 hex digits");
  };
  for (std::size_t i = 0; i < 32; ++i)
    key.digest[i] = static_cast<unsigned char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  keys_.push_back(std::move(key));
}

const ApiKey* ApiKeys::match(std::string_view presented) const {
  const auto digest = sha256(presented);
  const ApiKey* found = nullptr;
  for (const auto& key : keys_)  // every key, even after a match
    if (CRYPTO_memcmp(digest.data(), key.digest.data(), digest.size()) == 0) found = &key;
  return found;
}

}  // namespace imagepipe::serve
