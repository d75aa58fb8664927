// The daemon's API keys, kept only as SHA-256 digests: a memory dump or a debug print of
// the config shows no key. A presented key is hashed and compared with every stored digest
// in constant time, so neither the time taken nor the order of the keys tells how close a
// guess came.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace imagepipe::serve {

struct ApiKey {
  std::string name;  // for logs and metrics; never the key
  std::array<unsigned char, 32> digest{};
  std::vector<std::string> roles;
  std::vector<std::string> scopes;
};

class ApiKeys {
 public:
  // The key itself; only its digest is kept.
  void add(std::string name, std::string_view key, std::vector<std::string> roles = {},
           std::vector<std::string> scopes = {});
  // Its SHA-256 as 64 hex digits (checked by the config reader).
  void add_digest(std::string name, std::string_view hex, std::vector<std::string> roles = {},
                  std::vector<std::string> scopes = {});

  // The key `presented` is, or null.
  const ApiKey* match(std::string_view presented) const;
  bool empty() const { return keys_.empty(); }
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<ApiKey> keys_;
};

std::array<unsigned char, 32> sha256(std::string_view bytes);

}  // namespace imagepipe::serve
