// The host's outbound HTTP client. Plugins never open sockets: they describe a request
// and the host sends it with pooling, TLS, timeouts and the egress policy applied.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "imagepipe/asio.hpp"

namespace imagepipe {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup; empty optional when absent.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{std::chrono::seconds(600)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  int max_redirects = 5;  // 0: return 3xx as-is
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Completes with any HTTP status. Throws Error(unavailable) when the peer cannot be
  // reached or resets, Error(timeout) past the deadline, and Error(invalid_input) when
  // the URL is malformed or refused by the egress policy (the message says which).
  virtual Task<HttpResponse> send(HttpRequest request) = 0;
};

// multipart/form-data bodies for providers' upload endpoints.
struct MultipartPart {
  std::string name;
  std::string value;
  std::string filename;      // empty: a plain field
  std::string content_type;  // empty: none sent
};
struct MultipartBody {
  std::string content_type;  // "multipart/form-data; boundary=..."
  std::string body;
};
MultipartBody encode_multipart(const std::vector<MultipartPart>& parts);

std::string base64_encode(std::string_view bytes);
// Accepts standard and URL-safe alphabets, with or without padding, ignoring whitespace.
// Throws Error(invalid_input) on any other character.
std::string base64_decode(std::string_view text);
std::string url_encode(std::string_view s, bool keep_slash = false);

}  // namespace imagepipe
