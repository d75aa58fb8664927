#include "serve_cors.hpp"

#include <algorithm>

#include "serve_responses.hpp"
#include "imagepipe/ascii.hpp"

namespace imagepipe::serve {

namespace {

std::string shown(const std::string& text) {
  return text.size() > 100 ? text.substr(0, 100) + "..." : text;
}

}  // namespace

Cors::Cors(CorsConfig config)
    : config_(std::move(config)),
      methods_(join_list(config_.allow_methods)),
      headers_(join_list(config_.allow_headers)),
      exposed_(join_list(config_.expose_headers)) {}

bool Cors::is_preflight(const Request& request) const {
  return enabled() && request.method == "OPTIONS" && request.header("origin") &&
         request.header("access-control-request-method");
}

bool Cors::origin_allowed(const std::string& origin) const {
  return std::any_of(config_.allow_origins.begin(), config_.allow_origins.end(),
                     [&](const std::string& allowed) {
                       // Scheme and host are case-insensitive (RFC 6454 §4).
                       return allowed == "*" || ascii_lower(allowed) == ascii_lower(origin);
                     });
}

std::string Cors::allow_origin_value(const std::string& origin) const {
  const bool any = std::find(config_.allow_origins.begin(), config_.allow_origins.end(), "*") !=
                   config_.allow_origins.end();
  return any && !config_.allow_credentials ? "*" : origin;
}

Response Cors::preflight(const Request& request) const {
  const std::string origin = *request.header("origin");
  const std::string method = trimmed(*request.header("access-control-request-method"));
  if (!origin_allowed(origin))
    return error_response(403,
                          "origin '" + shown(origin) + "' is not allowed (cors.allow_origins)");
  if (std::find(config_.allow_methods.begin(), config_.allow_methods.end(), method) ==
      config_.allow_methods.end())
    return error_response(
        403, "method '" + shown(method) +
                 "' is not allowed for cross-origin requests (allowed: " + methods_ + ")");
  if (const auto* asked = request.header("access-control-request-headers")) {
    std::size_t start = 0;
    while (start <= asked->size()) {
      const auto comma = asked->find(',', start);
      const auto name = ascii_lower(trimmed(asked->substr(start, comma - start)));
      const bool allowed =
          name.empty() || std::any_of(config_.allow_headers.begin(), config_.allow_headers.end(),
                                      [&](const std::string& h) { return ascii_lower(h) == name; });
      if (!allowed)
        return error_response(
            403, "header '" + shown(name) +
                     "' is not allowed for cross-origin requests (allowed: " + headers_ + ")");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  Response response{.status = 204, .content_type = "text/plain"};
  response.headers["Access-Control-Allow-Origin"] = allow_origin_value(origin);
  response.headers["Access-Control-Allow-Methods"] = methods_;
  if (!headers_.empty()) response.headers["Access-Control-Allow-Headers"] = headers_;
  response.headers["Access-Control-Max-Age"] = std::to_string(config_.max_age.count());
  if (config_.allow_credentials) response.headers["Access-Control-Allow-Credentials"] = "true";
  response.headers["Vary"] = "Origin";
  return response;
}

void Cors::decorate(const Request& request, Response& response) const {
  if (!enabled()) return;
  response.headers["Vary"] = "Origin";
  const auto* origin = request.header("origin");
  if (!origin || !origin_allowed(*origin)) return;
  response.headers["Access-Control-Allow-Origin"] = allow_origin_value(*origin);
  if (!exposed_.empty()) response.headers["Access-Control-Expose-Headers"] = exposed_;
  if (config_.allow_credentials) response.headers["Access-Control-Allow-Credentials"] = "true";
}

}  // namespace imagepipe::serve
