#include "imagepipe/signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "imagepipe/error.hpp"

namespace imagepipe {

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &size))
    throw Error(ErrorClass::internal, "cannot compute an HMAC-SHA256");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (unsigned i = 0; i < size; ++i) {
    out[2 * i] = kDigits[mac[i] >> 4];
    out[2 * i + 1] = kDigits[mac[i] & 15];
  }
  return out;
}

std::string storage_link_signature(std::string_view secret, std::string_view key,
                                   std::int64_t expires) {
  std::string message(key);
  message += '\n';
  message += std::to_string(expires);
  return hmac_sha256_hex(secret, message);
}

bool storage_link_signature_matches(std::string_view secret, std::string_view key,
                                    std::int64_t expires, std::string_view signature) {
  const std::string expected = storage_link_signature(secret, key, expires);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace imagepipe
