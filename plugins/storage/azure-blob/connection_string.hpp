// Azure Storage connection strings: "AccountName=...;AccountKey=...;EndpointSuffix=..." or
// "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;..." or Azurite's shorthand
// "UseDevelopmentStorage=true".
#pragma once

#include <string>

namespace imagepipe::azure {

struct Account {
  std::string name;
  std::string key;  // base64
  std::string
      endpoint;  // blob service URL without a trailing '/', e.g. https://acct.blob.core.windows.net
};

// Azurite's well-known development account (public, emulator only).
inline constexpr const char* kDevAccount = "devstoreaccount1";
inline constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// Throws Error(invalid_input) naming what is missing; the message never repeats the key.
Account parse_connection_string(const std::string& text);

std::string default_endpoint(
    const std::string& account);  // https://{account}.blob.core.windows.net

}  // namespace imagepipe::azure
