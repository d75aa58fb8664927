// Authentication and authorisation through the real daemon: API keys (header and bearer,
// from the config and from an API_KEYS-style variable) and JWTs signed by keys OpenSSL
// makes here, checked against a JWKS and a discovery document served on loopback. Every
// refusal is asserted by status, exact body and challenge, and by the job count staying
// where it was.
#include <chrono>
#include <future>

#include "serve_fixture.hpp"
#include "support/jwt_signer.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kClient = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
constexpr const char* kCiKey = "ci-key-0123456789";
constexpr const char* kReaderKey = "reader-key-0123456789";
constexpr const char* kSeedKey = "seed-key-2-abcdef";

// Sync routes over the slow-echo provider: a job that takes no time, so what is measured
// is the gate. /admin wants a role, /scoped a scope, /public nothing.
std::string pipelines_dir() {
  const auto dir = make_temp_dir("imagepipe-auth-");
  auto write = [&](const std::string& name, const std::string& path, const std::string& auth) {
    std::ofstream(dir / (name + ".yaml")) << "name: " << name << R"(
trigger:
  http: {method: POST, path: )" << path << ", mode: sync"
                                          << auth << R"(}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
provider: {use: slow-echo, with: {delay_ms: 0}}
sink: {inline: true}
)";
  };
  write("auth-echo", "/echo", "");
  write("auth-admin", "/admin", ", auth: {roles: [Images.Admin]}");
  write("auth-scoped", "/scoped", ", auth: {scopes: [images.write]}");
  write("auth-public", "/public", ", auth: {anonymous: true}");
  return dir.string();
}

std::string utc(long long seconds) {
  char text[32];
  const std::time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string sha256_hex(const std::string& text) {
  const auto r = run_program({"sha256sum"}, text);
  return r.out.substr(0, 64);
}

class AuthTest : public ServeTest {
 protected:
  AuthTest() : rsa_(TestSigningKey::rsa("rsa-1")), ec_(TestSigningKey::ec("ec-1")) {
    issuer_url_ = issuer_.url("/tenant/v2.0");
    issuer_.on("GET", "/tenant/v2.0/.well-known/openid-configuration",
               TestResponse{.headers = {{"Content-Type", "application/json"}},
                            .body = json({{"issuer", issuer_url_},
                                          {"jwks_uri", issuer_.url("/keys")},
                                          {"id_token_signing_alg_values_supported", {"RS256"}}})
                                        .dump()});
    serve_keys({&rsa_, &ec_});
  }

  void serve_keys(const std::vector<const TestSigningKey*>& keys) {
    issuer_.on(
        "GET", "/keys",
        TestResponse{.headers = {{"Content-Type", "application/json"}}, .body = jwks(keys).dump()});
  }

  std::string config(const std::string& oidc_extra = "") const {
    return "auth:\n"
           "  api_keys:\n"
           "    - {name: ci, key: \"${TEST_CI_KEY}\", roles: [Images.Admin]}\n"
           "    - {name: reader, sha256: " +
           sha256_hex(kReaderKey) +
           "}\n"
           "  api_keys_env: API_KEYS\n"
           "  oidc:\n"
           "    issuer: " +
           issuer_url_ +
           "\n"
           "    audience: " +
           kClient +
           "\n"
           "    fetch_timeout_ms: 1000\n" +
           oidc_extra + "cors: {allow_origins: [https://app.example.com]}\n";
  }

  DaemonOptions options(const std::string& oidc_extra = "") {
    return {.pipelines = {pipelines_dir()},
            .config_yaml = config(oidc_extra),
            .env = {{"TEST_CI_KEY", kCiKey}, {"API_KEYS", std::string("seed-key-1,") + kSeedKey}}};
  }

  json claims() const {
    const auto now = unix_now();
    return {{"iss", issuer_url_},        {"aud", kClient},
            {"sub", "user-42"},          {"exp", now + 600},
            {"nbf", now - 10},           {"iat", now - 10},
            {"roles", {"Images.Admin"}}, {"scp", "images.write images.read"}};
  }

  static HttpResponse call(DaemonProcess& daemon, const std::string& path, Headers headers,
                           const std::string& method = "POST") {
    headers.emplace_back("Content-Type", "application/json");
    return daemon.request(
        {.method = method,
         .url = daemon.url(path),
         .headers = std::move(headers),
         .body = method == "POST" ? json({{"image_base64", png_base64(4, 4)}}).dump() : ""});
  }
  static HttpResponse bearer(DaemonProcess& daemon, const std::string& path,
                             const std::string& credential) {
    return call(daemon, path, {{"Authorization", "Bearer " + credential}});
  }

  // Every job the store holds, whatever its pipeline and status.
  static double jobs(DaemonProcess& daemon) {
    const auto text = daemon.get("/metrics").body;
    double total = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("imagepipe_jobs{", 0) == 0)
        total += std::stod(line.substr(line.rfind(' ') + 1));
    return total;
  }

  std::size_t key_fetches() const {
    std::size_t n = 0;
    for (const auto& r : issuer_.requests()) n += r.path == "/keys";
    return n;
  }

  static void expect_refused(const HttpResponse& r, int status, const std::string& error,
                             const std::string& challenge = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.body, json({{"error", error}}).dump());
    if (!challenge.empty()) {
      EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), challenge);
    }
  }

  static std::string invalid_token(const std::string& description) {
    return "Bearer realm=\"imagepipe\", error=\"invalid_token\", error_description=\"" +
           description + "\"";
  }

  HttpTestServer issuer_;
  std::string issuer_url_;
  TestSigningKey rsa_;
  TestSigningKey ec_;
};

TEST_F(AuthTest, MissingCredentialsAre401WithABearerChallengeAndNoJob) {
  DaemonProcess daemon(options());
  const auto r = call(daemon, "/echo", {});
  expect_refused(r, 401,
                 "credentials are required: send Authorization: Bearer <API key or token> or "
                 "X-API-Key: <API key>",
                 "Bearer realm=\"imagepipe\"");
  EXPECT_FALSE(r.header("X-Request-ID").value_or("").empty());
  EXPECT_EQ(jobs(daemon), 0);
  // Unknown paths and the daemon's own routes are behind the gate too.
  EXPECT_EQ(daemon.get("/nope").status, 401);
  EXPECT_EQ(daemon.get("/openapi.json").status, 401);
}

TEST_F(AuthTest, ApiKeysByHeaderOrBearerAreCountedByNameAndNeverLogged) {
  DaemonProcess daemon(options());
  EXPECT_EQ(call(daemon, "/echo", {{"X-API-Key", kCiKey}}).status, 200) << daemon.log();
  EXPECT_EQ(call(daemon, "/echo", {{"x-api-key", kReaderKey}}).status, 200);
  EXPECT_EQ(bearer(daemon, "/echo", kSeedKey).status, 200);
  EXPECT_EQ(jobs(daemon), 3);

  expect_refused(call(daemon, "/echo", {{"X-API-Key", "ci-key-0123456788"}}), 401,
                 "the API key is not valid", invalid_token("the API key is not valid"));
  expect_refused(bearer(daemon, "/echo", "not-a-key"), 401, "the API key is not valid");
  expect_refused(call(daemon, "/echo", {{"Authorization", "Basic Y2k6a2V5"}}), 401,
                 "the Authorization scheme must be Bearer",
                 "Bearer realm=\"imagepipe\", error=\"invalid_request\", "
                 "error_description=\"the Authorization scheme must be Bearer\"");
  EXPECT_EQ(jobs(daemon), 3);

  const auto metrics = daemon.get("/metrics").body;
  EXPECT_NE(metrics.find("imagepipe_auth_total{key=\"ci\",method=\"api_key\",outcome=\"ok\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find("imagepipe_auth_total{key=\"API_KEYS#2\",method=\"api_key\",outcome=\"ok\"} 1"),
      std::string::npos);
  EXPECT_NE(metrics.find("imagepipe_auth_total{key=\"\",method=\"api_key\",outcome=\"invalid\"} 2"),
            std::string::npos);
  EXPECT_NE(metrics.find("imagepipe_auth_total{key=\"\",method=\"none\",outcome=\"invalid\"} 1"),
            std::string::npos);
  for (const auto* secret : {kCiKey, kReaderKey, kSeedKey, "ci-key-0123456788", "not-a-key"}) {
    EXPECT_EQ(daemon.log().find(secret), std::string::npos) << secret << " is in the log";
    EXPECT_EQ(metrics.find(secret), std::string::npos) << secret << " is in /metrics";
  }
}

TEST_F(AuthTest, JwtsSignedWithRs256AndEs256AreAccepted) {
  DaemonProcess daemon(options());
  EXPECT_EQ(bearer(daemon, "/echo", rsa_.sign(claims())).status, 200) << daemon.log();
  EXPECT_EQ(bearer(daemon, "/echo", ec_.sign(claims())).status, 200) << daemon.log();
  EXPECT_EQ(jobs(daemon), 2);
  EXPECT_NE(daemon.get("/metrics")
                .body.find("imagepipe_auth_total{key=\"\",method=\"jwt\",outcome=\"ok\"} 2"),
            std::string::npos);
  // Keys were fetched once (discovery, then the key set) and then served from the cache.
  EXPECT_EQ(key_fetches(), 1u);
}

TEST_F(AuthTest, RolesAndScopesPerRouteAre403WhenLacking) {
  DaemonProcess daemon(options());
  EXPECT_EQ(bearer(daemon, "/admin", rsa_.sign(claims())).status, 200) << daemon.log();
  EXPECT_EQ(bearer(daemon, "/scoped", rsa_.sign(claims())).status, 200);
  EXPECT_EQ(call(daemon, "/admin", {{"X-API-Key", kCiKey}}).status, 200);

  auto c = claims();
  c["roles"] = {"Images.Reader"};
  c["scp"] = "images.read";
  const auto token = rsa_.sign(c);
  const auto admin = bearer(daemon, "/admin", token);
  expect_refused(admin, 403,
                 "the caller (subject 'user-42') has none of the roles this route requires: "
                 "Images.Admin",
                 "Bearer realm=\"imagepipe\", error=\"insufficient_scope\", "
                 "error_description=\"the caller (subject 'user-42') has none of the roles this "
                 "route requires: Images.Admin\"");
  expect_refused(bearer(daemon, "/scoped", token), 403,
                 "the caller (subject 'user-42') has none of the scopes this route requires: "
                 "images.write");
  expect_refused(call(daemon, "/admin", {{"X-API-Key", kReaderKey}}), 403,
                 "the caller (key 'reader') has none of the roles this route requires: "
                 "Images.Admin");
  EXPECT_EQ(jobs(daemon), 3);
  EXPECT_NE(
      daemon.get("/metrics")
          .body.find(
              "imagepipe_auth_total{key=\"reader\",method=\"api_key\",outcome=\"forbidden\"} 1"),
      std::string::npos);
}

TEST_F(AuthTest, BadTokensAre401WithTheReasonAndTheServerKeepsServing) {
  DaemonProcess daemon(options());
  const auto now = unix_now();
  auto with = [&](const char* claim, json value) {
    auto c = claims();
    c[claim] = std::move(value);
    return c;
  };
  const auto stranger = TestSigningKey::rsa("rsa-1");  // the issuer's kid, another key
  const std::string none =
      base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(claims().dump()) + ".";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {stranger.sign(claims()), "the token's signature does not verify"},
      {none, "the token's algorithm 'none' is not accepted (accepted: RS256, ES256)"},
      {rsa_.sign(with("exp", now - 3600)), "the token expired at " + utc(now - 3600)},
      {rsa_.sign(with("aud", "api://another-service")),
       "the token's audience 'api://another-service' is not an accepted audience (accepted: " +
           std::string(kClient) + ")"},
      {rsa_.sign(with("iss", "https://sts.windows.net/tenant/")),
       "the token's issuer 'https://sts.windows.net/tenant/' is not the accepted issuer '" +
           issuer_url_ + "'"},
      {"eyJhbGciOiJSUzI1NiJ9.e30+.c2ln",
       "the bearer token is not a JWT: a part holds characters outside base64url"},
      {base64url("{not json") + "." + base64url("{}") + ".c2ln",
       "the bearer token is not a JWT: its header is not base64url-encoded JSON"},
      {base64url(R"({"alg":"RS256","kid":"rsa-1"})") + "." + base64url("nope") + ".c2ln",
       "the bearer token is not a JWT: its payload is not base64url-encoded JSON"},
  };
  for (const auto& [token, message] : cases)
    expect_refused(bearer(daemon, "/echo", token), 401, message, invalid_token(message));

  const auto early = rsa_.sign(with("nbf", now + 3600));
  const auto message = "the token is not valid before " + utc(now + 3600);
  expect_refused(bearer(daemon, "/echo", early), 401, message, invalid_token(message));

  const std::string huge(9000, 'a');
  expect_refused(bearer(daemon, "/echo", huge), 401,
                 "the Authorization header is over the limit of 8192 bytes");
  expect_refused(call(daemon, "/echo", {{"X-API-Key", huge}}), 401,
                 "the X-API-Key header is over the limit of 8192 bytes");

  EXPECT_EQ(jobs(daemon), 0);
  EXPECT_EQ(daemon.get("/health").status, 200);
  EXPECT_EQ(bearer(daemon, "/echo", rsa_.sign(claims())).status, 200);
  EXPECT_EQ(daemon.log().find(rsa_.sign(claims()).substr(0, 60)), std::string::npos);
}

TEST_F(AuthTest, AnUnknownKidRefreshesTheKeysOnceThenIsRefused) {
  DaemonProcess daemon(options());
  ASSERT_EQ(bearer(daemon, "/echo", rsa_.sign(claims())).status, 200) << daemon.log();
  const auto before = key_fetches();
  const auto unknown = TestSigningKey::rsa("rotated-2");
  expect_refused(bearer(daemon, "/echo", unknown.sign(claims())), 401,
                 "the token's key id 'rotated-2' is not in the issuer's key set");
  EXPECT_EQ(key_fetches(), before + 1);
  // A flood of made-up kids: no more requests to the issuer within the interval.
  for (int i = 0; i < 5; ++i)
    expect_refused(
        bearer(daemon, "/echo", unknown.sign(claims(), {{"kid", "made-up-" + std::to_string(i)}})),
        401,
        "the token's key id 'made-up-" + std::to_string(i) + "' is not in the issuer's key set");
  EXPECT_EQ(key_fetches(), before + 1);
  EXPECT_EQ(jobs(daemon), 1);
}

TEST_F(AuthTest, ARotatedKeyIsFetchedWhenATokenNamesIt) {
  DaemonProcess daemon(options("    unknown_kid_interval_seconds: 0\n"));
  ASSERT_EQ(bearer(daemon, "/echo", rsa_.sign(claims())).status, 200) << daemon.log();
  const auto rotated = TestSigningKey::ec("ec-2");
  serve_keys({&rsa_, &ec_, &rotated});
  EXPECT_EQ(bearer(daemon, "/echo", rotated.sign(claims())).status, 200) << daemon.log();
  EXPECT_EQ(jobs(daemon), 2);
}

TEST_F(AuthTest, KeysThatCannotBeFetchedAre503QuicklyWhileApiKeysStillWork) {
  issuer_.on("GET", "/keys", TestResponse{.status = 500, .body = "down"});
  DaemonProcess daemon(options());
  const auto started = std::chrono::steady_clock::now();
  const auto r = bearer(daemon, "/echo", rsa_.sign(claims()));
  expect_refused(r, 503,
                 "cannot check the bearer token now: cannot fetch the issuer's keys: the key set " +
                     issuer_.url("/keys") + " answered HTTP 500");
  EXPECT_EQ(r.header("Retry-After").value_or(""), "5");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(call(daemon, "/echo", {{"X-API-Key", kCiKey}}).status, 200);
  EXPECT_EQ(jobs(daemon), 1);
}

TEST_F(AuthTest, ASlowIssuerHoldsARequestNoLongerThanTheFetchTimeout) {
  issuer_.on("GET", "/keys", TestResponse{.body = jwks({&rsa_}).dump(), .delay = 10s});
  DaemonProcess daemon(options());
  const auto started = std::chrono::steady_clock::now();
  const auto r = bearer(daemon, "/echo", rsa_.sign(claims()));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(jobs(daemon), 0);
}

TEST_F(AuthTest, RequestsDuringAFetchWaitForItInsteadOfStartingMore) {
  issuer_.on("GET", "/keys", TestResponse{.body = jwks({&rsa_}).dump(), .delay = 600ms});
  DaemonProcess daemon(options());
  std::vector<std::future<int>> answers;
  for (int i = 0; i < 8; ++i)
    answers.push_back(std::async(
        std::launch::async, [&] { return bearer(daemon, "/echo", rsa_.sign(claims())).status; }));
  for (auto& answer : answers) EXPECT_EQ(answer.get(), 200) << daemon.log();
  EXPECT_EQ(key_fetches(), 1u);
}

TEST_F(AuthTest, ExemptPathsAndAnonymousRoutesNeedNoCredentials) {
  DaemonProcess daemon(options());
  EXPECT_EQ(daemon.get("/health").status, 200);
  EXPECT_EQ(daemon.get("/health/ready").status, 200);
  EXPECT_EQ(daemon.get("/metrics").status, 200);
  EXPECT_EQ(call(daemon, "/public", {}).status, 200);
  EXPECT_EQ(jobs(daemon), 1);
}

TEST_F(AuthTest, CorsPreflightAndHeadersFollowTheAllowList) {
  DaemonProcess daemon(options());
  const auto preflight = daemon.request(
      {.method = "OPTIONS",
       .url = daemon.url("/echo"),
       .headers = {{"Origin", "https://app.example.com"},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "authorization, content-type"}}});
  EXPECT_EQ(preflight.status, 204) << preflight.body;
  EXPECT_EQ(preflight.header("Access-Control-Allow-Origin").value_or(""),
            "https://app.example.com");
  EXPECT_EQ(preflight.header("Access-Control-Allow-Methods").value_or(""),
            "GET, POST, PUT, DELETE");
  EXPECT_EQ(preflight.header("Access-Control-Allow-Headers").value_or(""),
            "Authorization, Content-Type, X-API-Key, X-Request-ID");
  EXPECT_EQ(preflight.header("Vary").value_or(""), "Origin");

  const auto evil = daemon.request(
      {.method = "OPTIONS",
       .url = daemon.url("/echo"),
       .headers = {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}}});
  expect_refused(evil, 403, "origin 'https://evil.example' is not allowed (cors.allow_origins)");
  EXPECT_FALSE(evil.header("Access-Control-Allow-Origin"));

  // A refused request from an allowed origin can still be read by the page.
  const auto r = call(daemon, "/echo", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin").value_or(""), "https://app.example.com");
  EXPECT_EQ(r.header("Access-Control-Expose-Headers").value_or(""), "X-Request-ID");
  EXPECT_FALSE(call(daemon, "/echo", {{"Origin", "https://evil.example"}})
                   .header("Access-Control-Allow-Origin"));
  EXPECT_EQ(jobs(daemon), 0);
}

TEST_F(AuthTest, TheOpenApiDocumentDeclaresItsSecuritySchemes) {
  DaemonProcess daemon(options());
  const auto r =
      daemon.request({.url = daemon.url("/openapi.json"), .headers = {{"X-API-Key", kCiKey}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = json::parse(r.body);
  EXPECT_EQ(doc["components"]["securitySchemes"],
            json({{"ApiKeyHeader", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}},
                  {"ApiKeyBearer",
                   {{"type", "http"},
                    {"scheme", "bearer"},
                    {"description", "An API key sent as a bearer credential"}}},
                  {"OpenIdConnect",
                   {{"type", "openIdConnect"},
                    {"openIdConnectUrl", issuer_url_ + "/.well-known/openid-configuration"}}}}));
  EXPECT_EQ(doc["paths"]["/public"]["post"]["security"], json::array());
  EXPECT_EQ(doc["paths"]["/scoped"]["post"]["security"],
            json({{{"ApiKeyBearer", json::array()}},
                  {{"ApiKeyHeader", json::array()}},
                  {{"OpenIdConnect", {"images.write"}}}}));
  EXPECT_TRUE(doc["paths"]["/scoped"]["post"]["responses"].contains("401"));
  EXPECT_TRUE(doc["paths"]["/scoped"]["post"]["responses"].contains("403"));
  EXPECT_FALSE(doc["paths"]["/echo"]["post"]["responses"].contains("403"));
}

TEST_F(AuthTest, AConfigThatWouldRefuseEverythingOrLeaveARoleUncheckedStopsTheStart) {
  const auto dir = make_temp_dir("imagepipe-auth-config-");
  write_file(dir / "serve.yaml", "auth:\n  api_keys_env: API_KEYS\n");
  auto r = run_program({IMAGEPIPE_EXECUTABLE, "--plugin-dir", IMAGEPIPE_TEST_PLUGIN_DIR, "serve",
                        "--config", (dir / "serve.yaml").string(), "--listen", "127.0.0.1:0",
                        "--data", (dir / "data").string(), pipelines_dir()},
                       "", {{"API_KEYS", ""}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find((dir / "serve.yaml").string() +
                       ":2:3: auth is enabled but has no API keys and no OIDC issuer, so every "
                       "request would be refused (API_KEYS is empty)"),
            std::string::npos)
      << r.err;

  write_file(dir / "open.yaml", "listen: 127.0.0.1:0\n");
  r = run_program({IMAGEPIPE_EXECUTABLE, "--plugin-dir", IMAGEPIPE_TEST_PLUGIN_DIR, "serve",
                   "--config", (dir / "open.yaml").string(), "--data", (dir / "data").string(),
                   pipelines_dir()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("pipeline 'auth-admin' requires roles on POST /admin, but the daemon does "
                       "not authenticate: add an auth: section to the serve config"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace imagepipe::testing
