// Azure Storage Shared Key and service SAS signing, kept apart from HTTP so both can be
// checked against worked examples (shared_key_test.cpp) and against Azurite.
#pragma once

#include "imagepipe/http.hpp"  // url_encode

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imagepipe::azure {

// The x-ms-version every request sends and every SAS is signed for. Its SAS layout is the
// 16-field one (sv >= 2020-12-06).
inline constexpr const char* kApiVersion = "2021-08-06";

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string rfc1123(std::chrono::system_clock::time_point t);  // Mon, 01 Jan 2024 00:00:00 GMT
std::string iso8601(std::chrono::system_clock::time_point t);  // 2024-01-01T00:00:00Z

struct SharedKeyInput {
  std::string method;
  std::string account;
  std::string path;  // the URL path exactly as sent (percent-encoded), e.g. /devstoreaccount1/c/b
  Pairs query;       // decoded names and values
  Pairs headers;     // every header sent, Content-Length included when there is a body
};

// The string the MAC covers: 12 standard header lines, x-ms-* headers, then the resource.
std::string string_to_sign(const SharedKeyInput& in);
// Base64(HMAC-SHA256(Base64Decode(key), string)).
std::string signature(std::string_view base64_key, std::string_view string_to_sign);
// The Authorization header value: "SharedKey account:signature".
std::string authorization(const SharedKeyInput& in, std::string_view base64_key);

struct SasInput {
  std::string account;
  std::string container;
  std::string blob;  // raw name
  std::string permissions = "r";
  std::string expiry;              // iso8601()
  std::string protocol = "https";  // spr: "https" or "https,http"
};
// The 16-line service SAS string-to-sign for sr=b.
std::string sas_string_to_sign(const SasInput& in);
// The query string to append to the blob URL (sig URL-encoded).
std::string sas_query(const SasInput& in, std::string_view base64_key);

}  // namespace imagepipe::azure
