// Who may call the daemon: every request passes this gate before its route runs, so a
// refused request never reaches a job. In order:
//   1. a CORS preflight is answered (browsers send it without credentials);
//   2. exempt paths (auth.exempt: /health*, /metrics) and anonymous routes pass;
//   3. the credential is read: `X-API-Key: <key>` (header name configurable), or
//      `Authorization: Bearer <credential>`, a JWT when shaped like one and OIDC is on,
//      else an API key;
//   4. the route's roles and scopes (trigger.http.auth) are checked.
// Answers: 401 for missing or bad credentials, with `WWW-Authenticate: Bearer` (RFC 6750);
// 403 for a caller who lacks a role or scope; 503 when tokens cannot be checked because
// the issuer's keys cannot be fetched (the client's token may be fine: it is our side that
// fails, and the client may retry). All in the daemon's error envelope.
// Each decision is counted in imagepipe_auth_total{method, key, outcome}; logs name the
// key or the token's subject, never the credential.
#pragma once

#include <memory>
#include <optional>
#include <set>

#include "imagepipe/metrics.hpp"
#include "imagepipe/pipeline.hpp"
#include "serve_api_keys.hpp"
#include "serve_auth_config.hpp"
#include "serve_cors.hpp"
#include "serve_http.hpp"
#include "serve_jwks.hpp"
#include "serve_pipelines.hpp"

namespace spdlog {
class logger;
}

namespace imagepipe::serve {

struct Principal {
  std::string method;  // api_key | jwt
  std::string name;    // the key's name, or the token's subject
  std::set<std::string> roles;
  std::set<std::string> scopes;
};

class AccessGate {
 public:
  // `issuer_http` fetches the OIDC issuer's keys; it may be null when OIDC is off.
  AccessGate(const AccessConfig& config, Metrics& metrics, std::shared_ptr<spdlog::logger> log,
             HttpClient* issuer_http);

  bool authenticates() const { return config_.enabled; }
  const AuthConfig& config() const { return config_; }
  bool exempt(const std::string& path) const;

  // nullopt: the request may go on to its route. `route` is the matched pipeline route's
  // requirement, or null (the daemon's own routes, unknown paths).
  Task<std::optional<Response>> admit(Request& request, const RouteAuth* route);
  // CORS headers on the answer, whoever produced it.
  void decorate(const Request& request, Response& response) const {
    cors_.decorate(request, response);
  }
  // Fetches the issuer's keys once, at start, so the first caller does not wait for them.
  Task<void> warm_up();

  const JwksCache* jwks() const { return jwks_.get(); }

 private:
  struct Outcome {
    std::optional<Principal> principal;
    std::string method = "none";  // api_key | jwt | none (no credential that could be read)
    int status = 401;
    std::string outcome;  // missing | invalid | unavailable
    std::string message;
    bool invalid_request = false;
  };
  Task<Outcome> authenticate(const Request& request);
  Outcome check_api_key(const std::string& key) const;
  Task<Outcome> check_token(const std::string& token);
  Response refusal(const Outcome& outcome) const;
  void count(const std::string& method, const std::string& key, const std::string& outcome);

  AuthConfig config_;
  Cors cors_;
  std::string api_key_header_;  // lower case
  ApiKeys keys_;
  JwtPolicy policy_;
  std::unique_ptr<JwksCache> jwks_;
  Metrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
};

// Throws ConfigError naming the pipeline when a route asks for roles or scopes that no
// one checks, because the daemon does not authenticate: an open route is not what its
// author wrote.
void check_route_auth(const AuthConfig& auth, const PipelineSet& pipelines);

// One line at start: how callers are identified, or a warning that no one is.
void log_access(spdlog::logger& log, const AccessConfig& access, const std::string& host);

}  // namespace imagepipe::serve
