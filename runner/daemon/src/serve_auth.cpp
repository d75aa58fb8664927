#include "serve_auth.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "imagepipe/error.hpp"
#include "serve_responses.hpp"
#include "imagepipe/ascii.hpp"

namespace imagepipe::serve {

namespace {

// A quoted-string of a WWW-Authenticate parameter (RFC 9110 §5.6.4) holds no '"' or '\'.
std::string quoted_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"' || c == '\\') ? '\'' : c;
  return out + "\"";
}

bool any_of(const std::vector<std::string>& wanted, const std::set<std::string>& held) {
  return std::any_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return held.count(w) > 0; });
}

}  // namespace

AccessGate::AccessGate(const AccessConfig& config, Metrics& metrics,
                       std::shared_ptr<spdlog::logger> log, HttpClient* issuer_http)
    : config_(config.auth),
      cors_(config.cors),
      api_key_header_(ascii_lower(config.auth.api_key_header)),
      metrics_(metrics),
      log_(std::move(log)) {
  for (const auto& key : config_.api_keys) {
    if (!key.key.empty())
      keys_.add(key.name, key.key, key.roles, key.scopes);
    else
      keys_.add_digest(key.name, key.sha256, key.roles, key.scopes);
  }
  forget_api_keys(config_);  // only the digests are kept from here on
  const auto& oidc = config_.oidc;
  policy_ = {oidc.issuer,     oidc.audiences,   oidc.algorithms,
             oidc.clock_skew, oidc.roles_claim, oidc.scopes_claims};
  if (config_.enabled && oidc.configured() && issuer_http)
    jwks_ =
        std::make_unique<JwksCache>(*issuer_http,
                                    JwksSource{oidc.issuer, oidc.jwks_uri, oidc.fetch_timeout,
                                               oidc.refresh_interval, oidc.unknown_kid_interval},
                                    log_);
  metrics_.describe("imagepipe_auth_total",
                    "Authentication decisions, by method (api_key, jwt, none), API key name and "
                    "outcome (ok, missing, invalid, forbidden, unavailable)");
}

bool AccessGate::exempt(const std::string& path) const {
  return std::any_of(config_.exempt.begin(), config_.exempt.end(), [&](const std::string& e) {
    if (!e.empty() && e.back() == '*') return path.rfind(e.substr(0, e.size() - 1), 0) == 0;
    return path == e;
  });
}

Task<void> AccessGate::warm_up() {
  if (!jwks_) co_return;
  try {
    co_await jwks_->keys();
  } catch (const std::exception&) {
    // Logged by the cache; requests will try again.
  }
}

void AccessGate::count(const std::string& method, const std::string& key,
                       const std::string& outcome) {
  metrics_.inc("imagepipe_auth_total", {{"method", method}, {"key", key}, {"outcome", outcome}});
}

AccessGate::Outcome AccessGate::check_api_key(const std::string& key) const {
  Outcome out;
  out.method = "api_key";
  if (const auto* found = keys_.match(key)) {
    out.principal = Principal{"api_key",
                              found->name,
                              {found->roles.begin(), found->roles.end()},
                              {found->scopes.begin(), found->scopes.end()}};
    return out;
  }
  out.outcome = "invalid";
  out.message = "the API key is not valid";
  return out;
}

Task<AccessGate::Outcome> AccessGate::check_token(const std::string& token) {
  Outcome out;
  out.method = "jwt";
  std::shared_ptr<const JwtKeySet> keys;
  try {
    keys = co_await jwks_->keys();
  } catch (const std::exception& e) {
    out.status = 503;
    out.outcome = "unavailable";
    out.message = std::string("cannot check the bearer token now: ") + e.what();
    co_return out;
  }
  auto check = check_jwt(token, *keys, policy_, std::chrono::system_clock::now());
  if (check.problem == JwtProblem::unknown_key) {
    // The issuer may have rotated its keys since they were fetched.
    keys = co_await jwks_->refresh_for_unknown_kid();
    check = check_jwt(token, *keys, policy_, std::chrono::system_clock::now());
  }
  if (!check.ok()) {
    out.outcome = "invalid";
    out.message = check.message;
    co_return out;
  }
  out.principal = Principal{"jwt", check.identity.subject, std::move(check.identity.roles),
                            std::move(check.identity.scopes)};
  co_return out;
}

Task<AccessGate::Outcome> AccessGate::authenticate(const Request& request) {
  Outcome out;
  const auto* api_key = request.header(api_key_header_);
  const auto* authorization = request.header("authorization");
  const auto limit = config_.max_credential_bytes;
  if (api_key) {
    if (api_key->size() > limit) {
      out.method = "api_key";
      out.outcome = "invalid";
      out.invalid_request = true;
      out.message = "the " + config_.api_key_header + " header is over the limit of " +
                    std::to_string(limit) + " bytes";
      co_return out;
    }
    co_return check_api_key(trimmed(*api_key));
  }
  if (!authorization) {
    out.outcome = "missing";
    const bool keys = !keys_.empty(), tokens = jwks_ != nullptr;
    out.message = std::string("credentials are required: send Authorization: Bearer <") +
                  (keys && tokens ? "API key or token"
                   : keys         ? "API key"
                                  : "token") +
                  ">" + (keys ? " or " + config_.api_key_header + ": <API key>" : "");
    co_return out;
  }
  if (authorization->size() > limit) {
    out.outcome = "invalid";
    out.invalid_request = true;
    out.message =
        "the Authorization header is over the limit of " + std::to_string(limit) + " bytes";
    co_return out;
  }
  const auto space = authorization->find(' ');
  if (space == std::string::npos || ascii_lower(authorization->substr(0, space)) != "bearer") {
    out.outcome = "invalid";
    out.invalid_request = true;
    out.message = "the Authorization scheme must be Bearer";
    co_return out;
  }
  const auto credential = trimmed(std::string_view(*authorization).substr(space + 1));
  if (credential.empty()) {
    out.outcome = "invalid";
    out.invalid_request = true;
    out.message = "the Authorization header has no bearer credential";
    co_return out;
  }
  if (jwks_ && (looks_like_jwt(credential) || keys_.empty()))
    co_return co_await check_token(credential);
  co_return check_api_key(credential);
}

Response AccessGate::refusal(const Outcome& outcome) const {
  Response response = error_response(outcome.status, outcome.message);
  if (outcome.status == 401) {
    std::string challenge = "Bearer realm=" + quoted_string(config_.realm);
    if (outcome.outcome != "missing")
      challenge += std::string(", error=") +
                   (outcome.invalid_request ? "\"invalid_request\"" : "\"invalid_token\"") +
                   ", error_description=" + quoted_string(outcome.message);
    response.headers["WWW-Authenticate"] = challenge;
  } else if (outcome.status == 503) {
    response.headers["Retry-After"] = "5";
  }
  return response;
}

Task<std::optional<Response>> AccessGate::admit(Request& request, const RouteAuth* route) {
  if (cors_.is_preflight(request)) co_return cors_.preflight(request);
  if (!config_.enabled || exempt(request.path) || (route && route->anonymous))
    co_return std::nullopt;

  const auto* id_header = request.header("x-request-id");
  const std::string id = id_header ? *id_header : "-";
  const auto outcome = co_await authenticate(request);
  if (!outcome.principal) {
    const auto& method = outcome.method;
    count(method, "", outcome.outcome);
    if (log_)
      log_->info("auth: refused {} {} ({} {}): {}; request {}", request.method, request.path,
                 method, outcome.outcome, outcome.message, id);
    co_return refusal(outcome);
  }

  const auto& who = *outcome.principal;
  const std::string key_label = who.method == "api_key" ? who.name : "";
  const std::string named = (who.method == "api_key" ? "key '" : "subject '") + who.name + "'";
  std::string lacking;
  if (route && !route->roles.empty() && !any_of(route->roles, who.roles))
    lacking = "the caller (" + named +
              ") has none of the roles this route requires: " + join_list(route->roles);
  else if (route && !route->scopes.empty() && !any_of(route->scopes, who.scopes))
    lacking = "the caller (" + named +
              ") has none of the scopes this route requires: " + join_list(route->scopes);
  if (!lacking.empty()) {
    count(who.method, key_label, "forbidden");
    if (log_)
      log_->info("auth: forbidden {} {} ({}): {}; request {}", request.method, request.path,
                 who.method, lacking, id);
    Response response = error_response(403, lacking);
    std::string challenge =
        "Bearer realm=" + quoted_string(config_.realm) +
        ", error=\"insufficient_scope\", error_description=" + quoted_string(lacking);
    if (!route->scopes.empty()) challenge += ", scope=" + quoted_string(join_list(route->scopes, " "));
    response.headers["WWW-Authenticate"] = challenge;
    co_return response;
  }
  count(who.method, key_label, "ok");
  if (log_)
    log_->debug("auth: {} {} by {} ({}); request {}", request.method, request.path, named,
                who.method, id);
  co_return std::nullopt;
}

void check_route_auth(const AuthConfig& auth, const PipelineSet& pipelines) {
  if (auth.enabled) return;
  for (const auto& served : pipelines.all) {
    const auto& http = served->pipeline->trigger.http;
    if (http && http->auth.restricts())
      throw ConfigError(served->pipeline->file.string() + ": pipeline '" + served->pipeline->name +
                        "' requires " + (http->auth.roles.empty() ? "scopes" : "roles") + " on " +
                        http->method + " " + http->path +
                        ", but the daemon does not authenticate: add an auth: section to the "
                        "serve config");
  }
}

void log_access(spdlog::logger& log, const AccessConfig& access, const std::string& host) {
  const auto& auth = access.auth;
  if (!auth.enabled) {
    const bool loopback = host == "127.0.0.1" || host == "::1";
    if (loopback)
      log.info("auth: off (no auth: section in the serve config)");
    else
      log.warn("auth: off, and listening on {}: anyone who can reach it may start jobs", host);
  } else {
    std::string how;
    if (!auth.api_keys.empty()) how = std::to_string(auth.api_keys.size()) + " API key(s)";
    if (auth.oidc.configured())
      how += (how.empty() ? "" : " and ") + std::string("tokens from ") +
             (auth.oidc.issuer.empty() ? auth.oidc.jwks_uri : auth.oidc.issuer);
    log.info("auth: {}; exempt: {}", how, join_list(auth.exempt));
  }
  if (access.cors.enabled()) log.info("cors: origins {}", join_list(access.cors.allow_origins));
}

}  // namespace imagepipe::serve
