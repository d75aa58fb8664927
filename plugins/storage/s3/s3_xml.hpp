// The XML S3 speaks: error bodies, ListObjectsV2 pages and multipart replies. Elements are
// matched by local name, because s3rver's namespace differs from AWS's.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "imagepipe/plugin_interfaces.hpp"

namespace imagepipe::s3 {

struct ServiceError {
  std::string code;  // NoSuchKey, SlowDown...; empty when the body was not S3 XML
  std::string message;
  std::string request_id;  // from the body, else the x-amz-request-id header
};
// Empty code when `body` holds no <Error> element.
ServiceError parse_error(const std::string& body);

// `encoding-type=url` is requested, so keys come back percent-encoded and are decoded
// here: S3 would otherwise put keys with control characters into XML it cannot escape.
ListPage parse_list(const std::string& body);

std::string parse_upload_id(const std::string& body);

// <CompleteMultipartUpload> with parts in ascending order and their ETags verbatim.
std::string complete_body(const std::vector<std::pair<int, std::string>>& parts);

// CreateBucket's body: a LocationConstraint naming the region, or nothing for us-east-1
// (which AWS refuses as a constraint).
std::string create_bucket_body(const std::string& region);

std::chrono::system_clock::time_point parse_iso8601(const std::string& text);

}  // namespace imagepipe::s3
