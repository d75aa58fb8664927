// The daemon's access settings, typed: who may call it (API keys, OIDC bearer tokens),
// which paths need no credentials, and which browser origins may call it (CORS).
//
//   auth:
//     enabled: ${ENABLE_AUTHENTICATION:-true}
//     api_keys:
//       - {name: ci, sha256: 5e88...}          # SHA-256 of the key, hex: no secret in the file
//       - {name: ops, key: "${OPS_API_KEY}", roles: [admin]}
//     api_keys_env: API_KEYS                   # comma-separated keys, named API_KEYS#1, #2, ...
//     oidc: {issuer: "${OIDC_ISSUER:-}", audience: "${OIDC_AUDIENCE:-}"}
//     exempt: ["/health*", "/metrics"]
//   cors: {allow_origins: [https://app.example.com]}
//
// Every string may use ${VAR} and ${VAR:-default}, looked up in the .env file first and
// then in the process environment. docs/auth.md is the reference.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "serve_config.hpp"

namespace imagepipe::serve {

struct ApiKeySpec {
  std::string name;    // for logs and metrics
  std::string key;     // the key itself (from `key:` or api_keys_env), or empty
  std::string sha256;  // its SHA-256 in hex (from `sha256:`), or empty
  std::vector<std::string> roles;
  std::vector<std::string> scopes;
};

struct OidcSpec {
  std::string issuer;    // discovery at issuer + /.well-known/openid-configuration
  std::string jwks_uri;  // given: no discovery
  std::vector<std::string> audiences;
  std::vector<std::string> algorithms{"RS256", "ES256"};
  std::chrono::seconds clock_skew{60};
  std::string roles_claim = "roles";  // a dotted path reaches nested claims (realm_access.roles)
  std::vector<std::string> scopes_claims{"scp", "scope"};
  std::chrono::milliseconds fetch_timeout{5000};
  std::chrono::seconds refresh_interval{3600};    // keys older than this are fetched again
  std::chrono::seconds unknown_kid_interval{60};  // at most one refresh per unknown kid flood
  std::string ca_file;                            // more trusted CAs for the issuer (PEM)

  bool configured() const { return !issuer.empty() || !jwks_uri.empty(); }
};

struct AuthConfig {
  bool enabled = false;
  std::string api_key_header = "X-API-Key";  // as written; matched case-insensitively
  std::vector<ApiKeySpec> api_keys;
  OidcSpec oidc;
  // Paths that need no credentials: exact, or a prefix when ending in '*'.
  std::vector<std::string> exempt{"/health*", "/metrics"};
  std::size_t max_credential_bytes = 8192;
  std::string realm = "imagepipe";
};

struct CorsConfig {
  std::vector<std::string> allow_origins;  // empty: no CORS headers at all
  std::vector<std::string> allow_methods{"GET", "POST", "PUT", "DELETE"};
  std::vector<std::string> allow_headers{"Authorization", "Content-Type", "X-API-Key",
                                         "X-Request-ID"};
  std::vector<std::string> expose_headers{"X-Request-ID"};
  bool allow_credentials = false;
  std::chrono::seconds max_age{600};

  bool enabled() const { return !allow_origins.empty(); }
};

struct AccessConfig {
  AuthConfig auth;
  CorsConfig cors;
};

// A variable's value: the .env file's first, then the process environment's.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup env_lookup(const std::map<std::string, std::string>& env_file);

// Types the sections. Throws ConfigError naming file:line:column and the key: unknown keys,
// wrong types, an unset variable, auth enabled with no way to authenticate, a plain-http
// issuer that is not on loopback, '*' among the origins with allow_credentials.
AccessConfig read_access_config(const AccessSection& section, const EnvLookup& env);

// Overwrites the API keys' text (their digests are what the gate keeps), so that no copy
// of the settings holds a key for the life of the process.
void forget_api_keys(AuthConfig& auth);

}  // namespace imagepipe::serve
