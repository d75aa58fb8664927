// Routes as configuration, through the real daemon: a failed sync job answers by its
// error class (never 200), trigger.http.responses shapes every outcome (seed 004's
// {success, error, message, correlation_id} envelope), and paths with typed `{name}`
// parameters route, validate and reach templates as request.path.
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

// A sync route on the slow-echo provider, failing every call with `error_class` (or
// answering when it is empty); one attempt, so retryable classes fail at once.
std::string echo_pipeline(const std::string& name, const std::string& http,
                          const std::string& error_class, const std::string& more = "") {
  return "name: " + name + "\ntrigger:\n  http:\n" + http + more +
         "source: {from: prompt}\nprovider: {use: slow-echo, with: {" +
         (error_class.empty() ? "" : "fail: " + error_class) + "}, retry: {attempts: 1}}\n";
}

class ServeRoutesTest : public ServeTest {
 protected:
  ServeRoutesTest() : dir_(make_temp_dir("imagepipe-routes-")) {}
  ~ServeRoutesTest() override { std::filesystem::remove_all(dir_); }

  void pipeline(const std::string& file, const std::string& yaml) { write_file(dir_ / file, yaml); }

  HttpResponse send(DaemonProcess& daemon, const std::string& method, const std::string& path,
                    const std::string& body, Headers headers = {}) {
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return daemon.request(
        {.method = method, .url = daemon.url(path), .headers = std::move(headers), .body = body});
  }

  std::filesystem::path dir_;
};

TEST_F(ServeRoutesTest, AFailedSyncJobAnswersByItsErrorClass) {
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"invalid_input", 422, ""},    {"content_policy", 422, ""}, {"not_found", 404, ""},
      {"billing_limit", 402, ""},    {"unauthorized", 502, ""},   {"rate_limited", 429, "30"},
      {"quota_exceeded", 429, "60"}, {"unavailable", 503, "30"},  {"timeout", 504, ""},
      {"internal", 500, ""}};
  for (const auto& [cls, status, retry] : cases)
    pipeline(cls + ".yaml",
             echo_pipeline("fail-" + cls,
                           "    {method: POST, path: /fail/" + cls + ", mode: sync}\n", cls));
  DaemonProcess daemon({.pipelines = {dir_.string()}});
  for (const auto& [cls, status, retry] : cases) {
    SCOPED_TRACE(cls);
    auto r =
        daemon.post("/fail/" + cls, R"({"prompt": "a red fox"})", {{"X-Request-ID", "req-" + cls}});
    ASSERT_EQ(r.status, status) << r.body << daemon.log();
    const auto body = json::parse(r.body);
    const std::string id = body.value("job_id", "");
    EXPECT_EQ(body, json({{"error", "generated: slow-echo: slow-echo was told to fail with " + cls},
                          {"error_class", cls},
                          {"job_id", id},
                          {"status_url", "/jobs/" + id}}));
    EXPECT_EQ(r.header("Retry-After").value_or(""), retry);
    EXPECT_EQ(r.header("X-Request-ID").value_or(""), "req-" + cls);
    EXPECT_EQ(r.header("Location").value_or(""), "/jobs/" + id);
    EXPECT_EQ(json::parse(daemon.get("/jobs/" + id).body)["status"], "failed");
  }
  EXPECT_EQ(daemon.get("/health").status, 200);
}

// Seed 004's answers, declared: the success shape, a refusal as a 400, and every error
// of the route (a bad body, a wrong content type) in {success, error, message,
// correlation_id}, the correlation id being the request id.
constexpr const char* kEnvelope = R"(    responses:
      completed:
        body: {success: true, job_id: "${job.id}", status: "${job.status}", images: "${metrics.processed}", correlation_id: "${request.id}", prompt: "${request.body.prompt}"}
      failed:
        by_class: {content_policy: 400}
        body: {success: false, error: "${error.class}", message: "${error.message}", correlation_id: "${request.id}", status: "${error.status}"}
      error:
        body: {success: false, error: "${error.class}", message: "${error.message}", correlation_id: "${request.id}", detail: "${error.detail}"}
  request_schema:
    type: object
    required: [prompt]
    additionalProperties: false
    properties: {prompt: {type: string, minLength: 1}}
)";

TEST_F(ServeRoutesTest, DeclaredResponsesShapeEveryOutcome) {
  pipeline("generate.yaml", std::string("name: generate\ntrigger:\n  http:\n    method: POST\n"
                                        "    path: /api/v1/generate\n    mode: sync\n") +
                                kEnvelope + "source: {from: prompt}\nprovider: {use: slow-echo}\n");
  pipeline(
      "blocked.yaml",
      std::string("name: blocked\ntrigger:\n  http:\n    method: POST\n"
                  "    path: /api/v1/generate-blocked\n    mode: sync\n") +
          kEnvelope +
          "source: {from: prompt}\nprovider: {use: slow-echo, with: {fail: content_policy}}\n");
  DaemonProcess daemon({.pipelines = {dir_.string()}});

  auto ok =
      daemon.post("/api/v1/generate", R"({"prompt": "a red fox"})", {{"X-Request-ID", "corr-1"}});
  ASSERT_EQ(ok.status, 200) << ok.body << daemon.log();
  auto body = json::parse(ok.body);
  EXPECT_EQ(body, json({{"success", true},
                        {"job_id", body.value("job_id", "")},
                        {"status", "completed"},
                        {"images", 1},
                        {"correlation_id", "corr-1"},
                        {"prompt", "a red fox"}}));
  EXPECT_EQ(ok.header("X-Request-ID").value_or(""), "corr-1");

  auto refused = daemon.post("/api/v1/generate-blocked", R"({"prompt": "a red fox"})",
                             {{"X-Request-ID", "corr-2"}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(
      json::parse(refused.body),
      json({{"success", false},
            {"error", "content_policy"},
            {"message", "generated: slow-echo: slow-echo was told to fail with content_policy"},
            {"correlation_id", "corr-2"},
            {"status", 400}}));

  auto missing = daemon.post("/api/v1/generate", R"({"promt": "x"})", {{"X-Request-ID", "corr-3"}});
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(json::parse(missing.body),
            json({{"success", false},
                  {"error", "invalid_input"},
                  {"message", "body.prompt: field required; body.promt: unknown field"},
                  {"correlation_id", "corr-3"},
                  {"detail",
                   {{{"loc", {"body", "prompt"}}, {"msg", "field required"}, {"type", "missing"}},
                    {{"loc", {"body", "promt"}},
                     {"msg", "unknown field"},
                     {"type", "extra_forbidden"}}}}}))
      << missing.body;

  auto malformed = daemon.post("/api/v1/generate", R"({"prompt": )", {{"X-Request-ID", "corr-4"}});
  EXPECT_EQ(malformed.status, 422);
  auto m = json::parse(malformed.body);
  EXPECT_EQ(m["success"], false);
  EXPECT_EQ(m["correlation_id"], "corr-4");
  EXPECT_EQ(m["detail"][0]["type"], "json_invalid");
  EXPECT_THAT(m["message"].get<std::string>(), ::testing::StartsWith("body: malformed JSON: "));

  auto wrong_type = daemon.post("/api/v1/generate", R"({"prompt": 42})");
  EXPECT_EQ(wrong_type.status, 422);
  EXPECT_EQ(json::parse(wrong_type.body)["detail"][0],
            json({{"loc", {"body", "prompt"}},
                  {"msg", "must be a string, got number 42"},
                  {"type", "type_error"}}))
      << wrong_type.body;
  // The request id the daemon made up is the correlation id as well.
  EXPECT_EQ(json::parse(wrong_type.body)["correlation_id"],
            wrong_type.header("X-Request-ID").value_or("?"));

  auto plain =
      daemon.request({.method = "POST",
                      .url = daemon.url("/api/v1/generate"),
                      .headers = {{"Content-Type", "text/plain"}, {"X-Request-ID", "corr-5"}},
                      .body = "a red fox"});
  EXPECT_EQ(plain.status, 415);
  EXPECT_EQ(json::parse(plain.body),
            json({{"success", false},
                  {"error", "invalid_input"},
                  {"message",
                   "Content-Type 'text/plain' is not accepted here; send application/json (or "
                   "application/*+json)"},
                  {"correlation_id", "corr-5"},
                  {"detail", json::array()}}));
  EXPECT_EQ(daemon.get("/health").status, 200);
}

TEST_F(ServeRoutesTest, PathParametersAreTypedCheckedAndInScope) {
  const std::string params = R"(    path_params:
      image_id: {type: string, pattern: "^[a-z0-9-]{3,36}$"}
      version: {type: integer, minimum: 1}
)";
  pipeline("put.yaml",
           echo_pipeline(
               "version-put",
               "    method: PUT\n    path: /api/v1/images/{image_id}/versions/{version}\n"
               "    mode: sync\n" +
                   params +
                   "    responses:\n      completed:\n        status: 201\n        body: "
                   "{image: \"${request.path.image_id}\", version: \"${request.path.version}\", "
                   "tag: \"${request.query.tag:-none}\", status: \"${job.status}\"}\n",
               ""));
  pipeline(
      "delete.yaml",
      echo_pipeline("version-delete",
                    "    method: DELETE\n    path: /api/v1/images/{image_id}/versions/{version}\n"
                    "    mode: sync\n" +
                        params +
                        "    responses:\n      completed: {status: 200, body: {deleted: "
                        "\"${request.path.image_id}\"}}\n",
                    "", "prompt: \"delete ${request.path.image_id}\"\n"));
  DaemonProcess daemon({.pipelines = {dir_.string()}});

  auto put =
      send(daemon, "PUT", "/api/v1/images/fox-01/versions/2?tag=spring", R"({"prompt": "a fox"})");
  ASSERT_EQ(put.status, 201) << put.body << daemon.log();
  EXPECT_EQ(
      json::parse(put.body),
      json({{"image", "fox-01"}, {"version", 2}, {"tag", "spring"}, {"status", "completed"}}));

  auto del = send(daemon, "DELETE", "/api/v1/images/fox%2D02/versions/7", "");
  ASSERT_EQ(del.status, 200) << del.body << daemon.log();
  EXPECT_EQ(json::parse(del.body), json({{"deleted", "fox-02"}}));

  auto zero = send(daemon, "PUT", "/api/v1/images/fox-01/versions/0", R"({"prompt": "a fox"})");
  EXPECT_EQ(zero.status, 422);
  EXPECT_EQ(json::parse(zero.body)["detail"], json::array({{{"loc", {"path", "version"}},
                                                            {"msg", "must be >= 1, got 0"},
                                                            {"type", "value_error"}}}))
      << zero.body;

  auto word =
      send(daemon, "PUT", "/api/v1/images/fox-01/versions/latest", R"({"prompt": "a fox"})");
  EXPECT_EQ(word.status, 422);
  EXPECT_EQ(json::parse(word.body)["detail"][0]["loc"], json({"path", "version"})) << word.body;
  EXPECT_EQ(json::parse(word.body)["detail"][0]["type"], "type_error") << word.body;

  auto bad_id = send(daemon, "PUT", "/api/v1/images/Fox!/versions/1", R"({"prompt": "a fox"})");
  EXPECT_EQ(bad_id.status, 422);
  EXPECT_EQ(json::parse(bad_id.body)["detail"][0]["loc"], json({"path", "image_id"}))
      << bad_id.body;

  // A segment missing or one too many is another path: no route.
  auto short_path = send(daemon, "PUT", "/api/v1/images/fox-01/versions", R"({"prompt": "a fox"})");
  EXPECT_EQ(short_path.status, 404);
  EXPECT_EQ(json::parse(short_path.body),
            json({{"error", "no route for PUT /api/v1/images/fox-01/versions"}}));
  EXPECT_EQ(send(daemon, "PUT", "/api/v1/images/fox-01/versions/1/x", R"({"prompt": "a"})").status,
            404);
  EXPECT_EQ(send(daemon, "PUT", "/api/v1/images//versions/1", R"({"prompt": "a"})").status, 404);

  auto get = daemon.get("/api/v1/images/fox-01/versions/2");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("Allow").value_or(""), "DELETE, PUT");
  EXPECT_EQ(json::parse(get.body),
            json({{"error",
                   "method GET is not allowed on /api/v1/images/fox-01/versions/2; allowed: "
                   "DELETE, PUT"}}));

  const auto doc = json::parse(daemon.get("/openapi.json").body);
  const auto& op = doc["paths"]["/api/v1/images/{image_id}/versions/{version}"]["put"];
  EXPECT_EQ(op["parameters"],
            json::array({{{"in", "path"},
                          {"name", "image_id"},
                          {"required", true},
                          {"schema", {{"type", "string"}, {"pattern", "^[a-z0-9-]{3,36}$"}}}},
                         {{"in", "path"},
                          {"name", "version"},
                          {"required", true},
                          {"schema", {{"type", "integer"}, {"minimum", 1}}}}}))
      << op.dump(2);
  // The declared 201 replaces the summary's 200; a failure is documented as the default.
  EXPECT_FALSE(op["responses"].contains("200"));
  EXPECT_EQ(op["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["tag"],
            json({{"description", "${request.query.tag}"}}))
      << op["responses"].dump(2);
  EXPECT_TRUE(op["responses"].contains("default"));
  const auto metrics = daemon.get("/metrics").body;
  EXPECT_THAT(metrics,
              ::testing::HasSubstr("route=\"/api/v1/images/{image_id}/versions/{version}\""));
  EXPECT_EQ(daemon.get("/health").status, 200);
}

}  // namespace
}  // namespace imagepipe::testing
