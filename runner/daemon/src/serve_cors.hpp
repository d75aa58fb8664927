// Cross-origin requests from browsers: an allow-list of origins, methods and headers.
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here,
// before authentication, since browsers send it without credentials. Answers to allowed
// origins name that origin (never `*` when credentials are allowed) and say `Vary: Origin`
// so caches keep one answer per origin; other origins get no CORS headers, so the browser
// keeps the answer from the page.
#pragma once

#include "serve_auth_config.hpp"
#include "serve_http.hpp"

namespace imagepipe::serve {

class Cors {
 public:
  explicit Cors(CorsConfig config);

  bool enabled() const { return config_.enabled(); }
  bool is_preflight(const Request& request) const;
  // 204 with the allowances, or 403 naming what is not allowed.
  Response preflight(const Request& request) const;
  // The headers an actual request's answer carries for an allowed origin.
  void decorate(const Request& request, Response& response) const;

 private:
  bool origin_allowed(const std::string& origin) const;
  std::string allow_origin_value(const std::string& origin) const;

  CorsConfig config_;
  std::string methods_;
  std::string headers_;
  std::string exposed_;
};

}  // namespace imagepipe::serve
