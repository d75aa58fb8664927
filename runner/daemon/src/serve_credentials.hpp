// Credentials in a callback URL (https://user:secret@hooks.example.com/cb) belong to the
// client: the job store keeps the URL without them, and the credentials sealed with
// AES-256-GCM under a key that is not in the data directory. They are put back into the
// URL only in memory, when a callback is sent; the HTTP client sends them as
// `Authorization: Basic`.
//
// The key comes from `callbacks.credentials_key_file` (its SHA-256), so sealed credentials
// survive a restart. Without that file the key is random per process: a callback still
// pending when the process stops fails after the restart, saying why.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "imagepipe/engine.hpp"

namespace imagepipe::serve {

// Where a job's request keeps its sealed callback credentials. Clients cannot set it: the
// trigger never stores a header of that name from a request.
inline constexpr const char* kSealedCallbackCredentials = "x-imagepipe-sealed-callback-credentials";

class CredentialSealer {
 public:
  // A random key: what this process seals, only this process can open.
  CredentialSealer();
  // The key is the SHA-256 of the file's contents. Throws std::runtime_error naming the file
  // when it cannot be read or is empty.
  explicit CredentialSealer(const std::filesystem::path& key_file);

  bool survives_restart() const { return survives_restart_; }
  // "v1:" + base64(nonce, ciphertext, tag).
  std::string seal(std::string_view secret) const;
  // nullopt when `sealed` was not sealed under this key (or was altered).
  std::optional<std::string> open(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
  bool survives_restart_ = false;
};

// Before a job is stored: the callback header's URL loses its userinfo, which is sealed
// into kSealedCallbackCredentials. Nothing changes when the URL has none.
void seal_callback_credentials(JobRequest& request, const std::string& callback_header,
                               const CredentialSealer& sealer);

// Before a callback is sent: the sealed credentials go back into the URL. Throws
// Error(invalid_input) when they cannot be opened (sealed by an earlier process without a
// key file): sending without them would only earn a 401.
void restore_callback_credentials(JobRequest& request, const std::string& callback_header,
                                  const CredentialSealer& sealer);

}  // namespace imagepipe::serve
