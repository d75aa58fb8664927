#include "serve_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <fstream>
#include <memory>
#include <stdexcept>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/url.hpp"
#include "imagepipe/ascii.hpp"

namespace imagepipe::serve {

namespace {

constexpr std::string_view kVersion = "v1:";
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw std::bad_alloc();
  return ctx;
}

const auto* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
auto* bytes_of(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

CredentialSealer::CredentialSealer() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1)
    throw std::runtime_error("cannot make a random key for callback credentials");
}

CredentialSealer::CredentialSealer(const std::filesystem::path& key_file) {
  const std::string where = "callbacks.credentials_key_file " + key_file.string();
  std::ifstream in(key_file, std::ios::binary);
  if (!in) throw std::runtime_error(where + " cannot be read");
  const std::string contents{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (contents.empty()) throw std::runtime_error(where + " is empty");
  SHA256(bytes_of(contents), contents.size(), key_.data());
  survives_restart_ = true;
}

std::string CredentialSealer::seal(std::string_view secret) const {
  std::string out(kNonceBytes + secret.size() + kTagBytes, '\0');
  auto* nonce = bytes_of(out);
  if (RAND_bytes(nonce, kNonceBytes) != 1)
    throw Error(ErrorClass::internal, "cannot make a nonce for callback credentials");
  auto ctx = new_context();
  int n = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nonce + kNonceBytes, &n, bytes_of(secret),
                        static_cast<int>(secret.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), nonce + kNonceBytes + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          nonce + kNonceBytes + secret.size()) != 1)
    throw Error(ErrorClass::internal, "cannot seal callback credentials");
  return std::string(kVersion) + base64_encode(out);
}

std::optional<std::string> CredentialSealer::open(std::string_view sealed) const {
  if (!sealed.starts_with(kVersion)) return std::nullopt;
  std::string raw;
  try {
    raw = base64_decode(sealed.substr(kVersion.size()));
  } catch (const Error&) {
    return std::nullopt;
  }
  if (raw.size() < kNonceBytes + kTagBytes) return std::nullopt;
  const std::size_t length = raw.size() - kNonceBytes - kTagBytes;
  auto* nonce = bytes_of(raw);
  std::string plain(length, '\0');
  auto ctx = new_context();
  int n = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), bytes_of(plain), &n, nonce + kNonceBytes,
                        static_cast<int>(length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          nonce + kNonceBytes + length) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), bytes_of(plain) + n, &n) != 1)
    return std::nullopt;
  return plain;
}

void seal_callback_credentials(JobRequest& request, const std::string& callback_header,
                               const CredentialSealer& sealer) {
  const auto it = request.headers.find(ascii_lower(callback_header));
  if (callback_header.empty() || it == request.headers.end()) return;
  const Url url = parse_url(it->second);  // checked already: it parses
  if (url.userinfo.empty()) return;
  request.headers[kSealedCallbackCredentials] = sealer.seal(url.userinfo);
  it->second = url.without_userinfo();
}

void restore_callback_credentials(JobRequest& request, const std::string& callback_header,
                                  const CredentialSealer& sealer) {
  const auto sealed = request.headers.find(kSealedCallbackCredentials);
  if (sealed == request.headers.end()) return;
  const auto it = request.headers.find(ascii_lower(callback_header));
  if (callback_header.empty() || it == request.headers.end()) return;
  const auto userinfo = sealer.open(sealed->second);
  if (!userinfo)
    throw Error(ErrorClass::invalid_input,
                std::string("the callback URL's credentials cannot be read back: ") +
                    (sealer.survives_restart()
                         ? "they were sealed under another callbacks.credentials_key_file"
                         : "they were sealed by an earlier process, and "
                           "callbacks.credentials_key_file is not set"));
  const Url url = parse_url(it->second);
  it->second = url.scheme + "://" + *userinfo + "@" + url.host_header() + url.target;
  request.headers.erase(sealed);
}

}  // namespace imagepipe::serve
