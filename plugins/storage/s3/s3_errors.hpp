// S3 error replies to imagepipe error classes. The class decides retries; the message
// keeps the service's code and request id for whoever reads the log, and never a secret
// (no URL query, no header values).
#pragma once

#include <string>
#include <string_view>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe::s3 {

// `operation` is S3's name for the call (GetObject...), `key` empty for bucket calls.
Error to_error(const HttpResponse& response, std::string_view operation, const std::string& bucket,
               const std::string& key);

ErrorClass class_for(std::string_view code, int status);

}  // namespace imagepipe::s3
