#include "serve_auth_openapi.hpp"

#include <algorithm>

namespace imagepipe::serve {

using nlohmann::json;

namespace {

bool exempt(const AuthConfig& auth, const std::string& path) {
  return std::any_of(auth.exempt.begin(), auth.exempt.end(), [&](const std::string& e) {
    if (!e.empty() && e.back() == '*') return path.rfind(e.substr(0, e.size() - 1), 0) == 0;
    return path == e;
  });
}

const RouteAuth* route_auth(const std::vector<const Pipeline*>& pipelines, const std::string& path,
                            const std::string& method) {
  for (const auto* p : pipelines) {
    const auto& http = p->trigger.http;
    if (!http || http->path != path) continue;
    std::string m = http->method;
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
    if (m == method) return &http->auth;
  }
  return nullptr;
}

json error_answer(const char* description) {
  return {
      {"description", description},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

void document_security(json& document, const AuthConfig& auth,
                       const std::vector<const Pipeline*>& pipelines) {
  if (!auth.enabled) return;
  json schemes = json::object();
  const bool keys = !auth.api_keys.empty();
  const bool tokens = auth.oidc.configured();
  if (keys) {
    schemes["ApiKeyHeader"] = {{"type", "apiKey"}, {"in", "header"}, {"name", auth.api_key_header}};
    schemes["ApiKeyBearer"] = {{"type", "http"},
                               {"scheme", "bearer"},
                               {"description", "An API key sent as a bearer credential"}};
  }
  if (tokens && !auth.oidc.issuer.empty()) {
    std::string issuer = auth.oidc.issuer;
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    schemes["OpenIdConnect"] = {{"type", "openIdConnect"},
                                {"openIdConnectUrl", issuer + "/.well-known/openid-configuration"}};
  } else if (tokens) {
    schemes["BearerJwt"] = {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}};
  }
  document["components"]["securitySchemes"] = schemes;

  if (!document.contains("paths")) return;
  for (auto& [path, operations] : document["paths"].items()) {
    for (auto& [method, operation] : operations.items()) {
      if (!operation.is_object()) continue;
      const auto* route = route_auth(pipelines, path, method);
      if (exempt(auth, path) || (route && route->anonymous)) {
        operation["security"] = json::array();
        continue;
      }
      json alternatives = json::array();
      for (const auto& [name, scheme] : schemes.items()) {
        // Only OAuth2 and OpenID Connect requirements list scopes (OpenAPI 3.0.3 §4.8.30).
        const bool scoped = scheme["type"] == "openIdConnect" && route;
        alternatives.push_back({{name, scoped ? json(route->scopes) : json::array()}});
      }
      operation["security"] = alternatives;
      operation["responses"]["401"] = error_answer("Missing or invalid credentials");
      if (route && route->restricts())
        operation["responses"]["403"] = error_answer("The caller lacks a required role or scope");
    }
  }
}

}  // namespace imagepipe::serve
