#include "s3_errors.hpp"

#include "s3_xml.hpp"

#include "imagepipe/retry.hpp"

namespace imagepipe::s3 {

ErrorClass class_for(std::string_view code, int status) {
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload")
    return ErrorClass::not_found;
  if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied" ||
      code == "ExpiredToken" || code == "InvalidToken" || code == "RequestTimeTooSkewed" ||
      code == "AuthorizationHeaderMalformed" || code == "InvalidSecurity")
    return ErrorClass::unauthorized;
  if (code == "SlowDown" || code == "TooManyRequests" || status == 429)
    return ErrorClass::rate_limited;
  if (code == "RequestTimeout") return ErrorClass::timeout;
  if (code == "InternalError" || code == "ServiceUnavailable" || status >= 500)
    return ErrorClass::unavailable;
  if (status == 404) return ErrorClass::not_found;
  if (status == 401 || status == 403) return ErrorClass::unauthorized;
  return ErrorClass::invalid_input;
}

Error to_error(const HttpResponse& response, std::string_view operation, const std::string& bucket,
               const std::string& key) {
  auto e = parse_error(response.body);
  if (e.request_id.empty()) e.request_id = response.header("x-amz-request-id").value_or("");
  // HEAD replies carry no body: the status is all there is.
  if (e.code.empty()) {
    if (response.status == 404) e.code = key.empty() ? "NoSuchBucket" : "NotFound";
    if (response.status == 403) e.code = "AccessDenied";
    if (response.status == 503) e.code = "ServiceUnavailable";
  }
  const auto cls = class_for(e.code, response.status);
  std::string what;
  if (e.code == "NoSuchBucket") {
    what = "bucket '" + bucket + "' does not exist";
  } else if (e.code == "NoSuchKey" || e.code == "NotFound") {
    what = "no object '" + key + "' in bucket '" + bucket + "'";
  } else {
    what = e.message.empty() ? "request failed" : e.message;
    if (!key.empty())
      what += " (object '" + key + "' in bucket '" + bucket + "')";
    else
      what += " (bucket '" + bucket + "')";
  }
  std::string msg = "S3 " + std::string(operation) + ": " + what + " [" +
                    (e.code.empty() ? "" : e.code + ", ") + "HTTP " +
                    std::to_string(response.status);
  if (!e.request_id.empty()) msg += ", request id " + e.request_id;
  msg += "]";
  std::optional<std::chrono::milliseconds> retry_after;
  if (auto ra = response.header("retry-after")) retry_after = parse_retry_after(*ra);
  return Error(cls, msg, retry_after);
}

}  // namespace imagepipe::s3
