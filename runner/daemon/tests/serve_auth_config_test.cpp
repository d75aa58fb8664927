// The serve config's auth: and cors: sections: variables, defaults, and errors at file:line.
#include "serve_auth_config.hpp"

#include <gtest/gtest.h>

namespace imagepipe::serve {
namespace {

AccessConfig read(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  const auto root = YAML::Load(yaml);
  AccessSection section{"serve.yaml", root["auth"], root["cors"]};
  return read_access_config(section, [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

std::string error_of(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  try {
    read(yaml, std::move(env));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(AuthConfigTest, NoSectionMeansNoAuth) {
  const auto config = read("listen: 8000\n");
  EXPECT_FALSE(config.auth.enabled);
  EXPECT_FALSE(config.cors.enabled());
}

TEST(AuthConfigTest, Seed004SettingsFromVariables) {
  const std::string yaml =
      "auth:\n"
      "  enabled: ${ENABLE_AUTHENTICATION:-false}\n"
      "  api_keys_env: API_KEYS\n"
      "  oidc: {issuer: \"${OIDC_ISSUER:-}\", audience: \"${OIDC_AUDIENCE:-}\"}\n";
  EXPECT_FALSE(read(yaml).auth.enabled);
  const auto on = read(yaml, {{"ENABLE_AUTHENTICATION", "true"}, {"API_KEYS", "k1, k2,,"}});
  EXPECT_TRUE(on.auth.enabled);
  ASSERT_EQ(on.auth.api_keys.size(), 2u);
  EXPECT_EQ(on.auth.api_keys[0].name, "API_KEYS#1");
  EXPECT_EQ(on.auth.api_keys[0].key, "k1");
  EXPECT_EQ(on.auth.api_keys[1].name, "API_KEYS#2");
  EXPECT_FALSE(on.auth.oidc.configured());
  EXPECT_EQ(on.auth.exempt, (std::vector<std::string>{"/health*", "/metrics"}));

  const auto oidc = read(yaml, {{"ENABLE_AUTHENTICATION", "true"},
                                {"OIDC_ISSUER", "https://login.microsoftonline.com/t/v2.0"},
                                {"OIDC_AUDIENCE", "client-a,api://client-a"}});
  EXPECT_TRUE(oidc.auth.oidc.configured());
  EXPECT_EQ(oidc.auth.oidc.audiences, (std::vector<std::string>{"client-a", "api://client-a"}));
}

TEST(AuthConfigTest, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("auth:\n  enabled: true\n"),
            "serve.yaml:2:3: auth is enabled but has no API keys and no OIDC issuer, so every "
            "request would be refused");
  EXPECT_EQ(error_of("auth:\n  api_keys_env: API_KEYS\n"),
            "serve.yaml:2:3: auth is enabled but has no API keys and no OIDC issuer, so every "
            "request would be refused (API_KEYS is empty)");
  EXPECT_EQ(error_of("auth:\n  api_keys: [{name: a, key: \"${NOPE}\"}]\n"),
            "serve.yaml:2:29: auth.api_keys[0].key: the variable NOPE is not set (write ${NOPE:-} "
            "to allow that)");
  EXPECT_EQ(error_of("auth:\n  api_keys: [{key: x}]\n"),
            "serve.yaml:2:14: auth.api_keys[0] needs a name (it goes to logs and metrics)");
  EXPECT_EQ(error_of("auth:\n  api_keys: [{name: a, sha256: abc}]\n"),
            "serve.yaml:2:32: auth.api_keys[0].sha256 must be 64 hex digits (printf %s KEY | "
            "sha256sum)");
  EXPECT_EQ(error_of("auth:\n  api_keys: [{name: a, key: x}, {name: a, key: y}]\n"),
            "serve.yaml:2:3: auth.api_keys: the name 'a' is used twice");
  EXPECT_EQ(error_of("auth:\n  oidc: {issuer: http://idp.example.com, audience: x}\n"),
            "serve.yaml:2:18: auth.oidc.issuer must be an https:// URL (plain http only on "
            "loopback), got 'http://idp.example.com'");
  EXPECT_EQ(error_of("auth:\n  oidc: {issuer: https://idp.example.com}\n"),
            "serve.yaml:2:9: auth.oidc needs an audience: a token for another service must not "
            "pass");
  EXPECT_EQ(error_of("auth:\n  oidc: {issuer: https://i, audience: x, algorithms: [HS256]}\n"),
            "serve.yaml:2:54: auth.oidc.algorithms: 'HS256' is not supported (supported: RS256, "
            "ES256)");
  EXPECT_EQ(error_of("auth:\n  api_keys: [{name: a, key: x}]\n  exmept: []\n"),
            "serve.yaml:3:3: unknown key 'exmept' in auth (allowed: api_key_header, api_keys, "
            "api_keys_env, enabled, exempt, max_credential_bytes, oidc, realm)");
}

TEST(AuthConfigTest, CorsRefusesAWildcardWithCredentials) {
  EXPECT_EQ(error_of("cors: {allow_origins: ['*'], allow_credentials: true}\n"),
            "serve.yaml:1:23: cors.allow_origins: '*' cannot be combined with allow_credentials: "
            "list the origins");
  EXPECT_EQ(error_of("cors: {allow_origins: [app.example.com]}\n"),
            "serve.yaml:1:23: cors.allow_origins: 'app.example.com' must be '*' or "
            "scheme://host[:port]");
  const auto cors =
      read("cors: {allow_origins: ['https://app.example.com/'], allow_methods: [get]}\n").cors;
  EXPECT_EQ(cors.allow_origins, std::vector<std::string>{"https://app.example.com"});
  EXPECT_EQ(cors.allow_methods, std::vector<std::string>{"GET"});
}

}  // namespace
}  // namespace imagepipe::serve
