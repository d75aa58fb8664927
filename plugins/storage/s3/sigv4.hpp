// AWS Signature Version 4 for S3, kept apart from HTTP so every stage can be checked
// against AWS's published vectors and against botocore (tests/storage/).
//
// S3 differs from other AWS services in two ways that matter here: the path is encoded
// once (not twice) and never normalised, and every header-signed request carries
// x-amz-content-sha256.
#pragma once

#include "imagepipe/http.hpp"  // url_encode

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imagepipe::s3 {

using Params = std::vector<std::pair<std::string, std::string>>;  // raw (decoded) names and values

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string hex(std::string_view bytes);


// "name=value" pairs, encoded, sorted by encoded name then value, joined by '&'. A
// valueless sub-resource (?uploads) is a pair with an empty value: "uploads=".
std::string canonical_query(const Params& params);

// 20130524T000000Z
std::string amz_timestamp(std::chrono::system_clock::time_point t);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// One request as it goes on the wire. `path` is already URI-encoded (see url_encode);
// `headers` must hold `host` and everything else that is sent and should be signed.
struct SignInput {
  std::string method;
  std::string path;
  Params query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
  std::string region;
  std::string service = "s3";
  std::string timestamp;  // amz_timestamp()
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       // 64 lowercase hex characters
  std::string authorization;   // the Authorization header value
};

std::string scope(const SignInput& in);  // 20130524/us-east-1/s3/aws4_request
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);
// Signs `in` as given: the caller has already put x-amz-date, x-amz-content-sha256 and
// (for temporary credentials) x-amz-security-token into the headers.
Signed sign(const SignInput& in, const Credentials& creds);

// The query string of a presigned URL (SignedHeaders=host, UNSIGNED-PAYLOAD): `in.query`
// plus the X-Amz-* parameters, with X-Amz-Signature last. `in.headers` must hold `host`.
std::string presign_query(SignInput in, const Credentials& creds, std::chrono::seconds expires);

}  // namespace imagepipe::s3
