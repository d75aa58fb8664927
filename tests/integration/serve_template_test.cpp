// Template routes (trigger.http.mode: template) through the real daemon, beyond the
// shipped /cos/config: a variable left unset makes the route answer 503 naming it, and
// a body without a response_schema is documented by its own shape.
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

TEST_F(ServeTest, ATemplateRouteMissingAVariableAnswers503AndIsNotReady) {
  const auto dir = make_temp_dir("imagepipe-template-");
  write_file(dir / "catalogue.yaml", R"(name: catalogue
trigger:
  http: {method: GET, path: /catalogue, mode: template}
  response:
    body:
      owner: "${IMAGEPIPE_TEST_CATALOGUE_OWNER}"
      sizes: [256, 512]
      count: ${IMAGEPIPE_TEST_CATALOGUE_COUNT:-2}
)");
  {
    DaemonProcess daemon({.pipelines = {dir.string()}});
    auto r = daemon.get("/catalogue");
    EXPECT_EQ(r.status, 503) << daemon.log();
    EXPECT_EQ(json::parse(r.body)["error"],
              "pipeline 'catalogue' cannot answer: IMAGEPIPE_TEST_CATALOGUE_OWNER is not set");
    EXPECT_EQ(json::parse(daemon.get("/health/ready").body)["pipelines"]["catalogue"],
              json({{"ready", false}, {"reason", "IMAGEPIPE_TEST_CATALOGUE_OWNER is not set"}}));

    const auto doc = json::parse(daemon.get("/openapi.json").body);
    const auto& op = doc["paths"]["/catalogue"]["get"];
    EXPECT_EQ(op["operationId"], "catalogue");
    const auto& schema = op["responses"]["200"]["content"]["application/json"]["schema"];
    EXPECT_EQ(schema["properties"]["sizes"]["type"], "array");
    EXPECT_EQ(schema["properties"]["count"]["type"], "integer");
  }
  DaemonProcess daemon(
      {.pipelines = {dir.string()}, .env = {{"IMAGEPIPE_TEST_CATALOGUE_OWNER", "studio"}}});
  auto r = daemon.get("/catalogue");
  EXPECT_EQ(r.status, 200) << daemon.log();
  EXPECT_EQ(json::parse(r.body), json({{"owner", "studio"}, {"sizes", {256, 512}}, {"count", 2}}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace imagepipe::testing
