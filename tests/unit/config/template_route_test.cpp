// Routes that are not jobs (trigger.http.mode: template), the operation_id of a trigger,
// and environment defaults that name other variables ("${A:-${B:-x}}").
#include <gtest/gtest.h>

#include "support/pipeline_parts.hpp"
#include "config_test_util.hpp"
#include "fake_plugins.hpp"

namespace imagepipe {
namespace {

using imagepipe::testing::chain_of;
using imagepipe::testing::transforms_of;
using nlohmann::json;
using testing::error_text;

class TemplateRoute : public ::testing::Test {
 protected:
  TemplateRoute() { testing::register_fake_plugins(registry_); }

  Pipeline load(std::string_view yaml, std::map<std::string, std::string> env = {}) {
    LoadOptions options;
    options.env_overrides = std::move(env);
    return load_pipeline_text(yaml, "test.yaml", registry_, options);
  }
  std::string error(std::string_view yaml) {
    return error_text([&] { load(yaml); });
  }

  PluginRegistry registry_;
};

constexpr std::string_view kConfigView = R"(name: config-view
trigger:
  http: {method: get, path: /config, mode: template, operation_id: getConfig}
  response:
    body:
      bucket: "${TEST_IN_BUCKET:-${TEST_BUCKET:-}}"
      prefix: "${TEST_PREFIX:-results/batch}"
      expires: ${TEST_EXPIRES:-900}
      literal: "$${NOT_EXPANDED}"
  response_schema: {type: object}
)";

TEST_F(TemplateRoute, LoadsWithoutAnyStageAndRendersTypedValues) {
  const Pipeline p = load(kConfigView, {{"TEST_BUCKET", "shared"}});
  ASSERT_TRUE(p.trigger.http.has_value());
  EXPECT_EQ(p.trigger.http->mode, HttpTrigger::Mode::render);
  EXPECT_TRUE(p.trigger.renders_only());
  EXPECT_EQ(p.trigger.http->method, "GET");
  EXPECT_EQ(p.trigger.http->operation_id, "getConfig");
  EXPECT_TRUE(chain_of(p).empty());
  EXPECT_TRUE(p.notifiers.empty());
  EXPECT_FALSE(p.sink.storage.has_value());
  EXPECT_EQ(p.trigger.response_schema, json({{"type", "object"}}));
  // The default names another variable; an unquoted placeholder becomes a number.
  EXPECT_EQ(p.trigger.response_body.render(json::object()), json({{"bucket", "shared"},
                                                                  {"prefix", "results/batch"},
                                                                  {"expires", 900},
                                                                  {"literal", "${NOT_EXPANDED}"}}));
}

TEST_F(TemplateRoute, SetVariablesWinOverTheirDefaults) {
  const Pipeline p = load(kConfigView, {{"TEST_BUCKET", "shared"},
                                        {"TEST_IN_BUCKET", "mine"},
                                        {"TEST_PREFIX", "out"},
                                        {"TEST_EXPIRES", "60"}});
  const json body = p.trigger.response_body.render(json::object());
  EXPECT_EQ(body["bucket"], "mine");
  EXPECT_EQ(body["prefix"], "out");
  EXPECT_EQ(body["expires"], 60);
}

TEST_F(TemplateRoute, JobSectionsAreRefused) {
  const std::string text = error(R"(name: config-view
trigger:
  http: {method: GET, path: /config, mode: template, callback_header: callbackUrl}
  request_schema: {type: object}
  response: {body: {ok: true}}
source: {from: prompt}
provider: {use: echo}
sink: {inline: true}
)");
  EXPECT_NE(text.find("test.yaml:3:54: error: trigger.http: 'callback_header' does not apply when "
                      "mode is 'template': it runs no job"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("test.yaml:4:3: error: trigger: 'request_schema' does not apply"),
            std::string::npos)
      << text;
  for (const char* key : {"6:1: error: pipeline: 'source", "7:1: error: pipeline: 'provider",
                          "8:1: error: pipeline: 'sink"})
    EXPECT_NE(text.find(std::string("test.yaml:") + key +
                        "' does not apply to a template route (trigger.http.mode: template)"),
              std::string::npos)
        << key << "\n"
        << text;
  EXPECT_NE(text.find("5 errors"), std::string::npos) << text;
}

TEST_F(TemplateRoute, TheBodyIsRequiredAndKnowsNoJob) {
  EXPECT_NE(error("name: v\ntrigger:\n  http: {method: GET, path: /v, mode: template}\n")
                .find("trigger: 'response' is required when mode is 'template'"),
            std::string::npos);
  const std::string text = error(
      "name: v\ntrigger:\n  http: {method: GET, path: /v, mode: template}\n"
      "  response:\n    body: {id: \"job ${job.id}\"}\n");
  EXPECT_NE(text.find("test.yaml:5:16: error: trigger.response.body.id: '${job.id}' has no value "
                      "in a template route, which runs no job"),
            std::string::npos)
      << text;
}

TEST_F(TemplateRoute, ResponseOnlyAppliesToTemplateRoutes) {
  const std::string text = error(
      "name: v\ntrigger:\n  http: {path: /v}\n  response: {body: {}}\nsource: {from: prompt}\n");
  EXPECT_NE(text.find("test.yaml:4:3: error: trigger: 'response' only applies when "
                      "trigger.http.mode is 'template'"),
            std::string::npos)
      << text;
}

TEST_F(TemplateRoute, OperationIdMustBeAnIdentifier) {
  const std::string text = error(
      "name: v\ntrigger:\n  http: {path: /v, operation_id: process-image 2}\nsource: {from: "
      "prompt}\n");
  EXPECT_NE(
      text.find("test.yaml:3:34: error: trigger.http.operation_id must be an identifier "
                "(letters, digits and '_', not starting with a digit), got 'process-image 2'"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("hint: try 'process_image_2'"), std::string::npos) << text;
  EXPECT_NE(error("name: v\ntrigger:\n  http: {path: /v, operation_id: 2fast}\nsource: {from: "
                  "prompt}\n")
                .find("hint: try '_2fast'"),
            std::string::npos);
}

TEST_F(TemplateRoute, ADefaultNamesVariablesOnly) {
  const std::string text = error(
      "name: v\nsource: {from: prompt}\ndescription: \"${TEST_UNSET_A:-${request.body.x}}\"\n");
  EXPECT_NE(text.find("test.yaml:3:31: error: a default can name environment variables only, not "
                      "'request.body.x'"),
            std::string::npos)
      << text;
  // A variable named in a default is looked up only when the default is used.
  const Pipeline p = load(
      "name: v\nsource: {from: prompt}\ndescription: "
      "\"${IMAGEPIPE_TEST_A:-${IMAGEPIPE_TEST_B}}\"\n",
      {{"IMAGEPIPE_TEST_A", "set"}});
  EXPECT_EQ(p.description, "set");
  EXPECT_NE(error("name: v\nsource: {from: prompt}\ndescription: "
                  "\"${IMAGEPIPE_TEST_A:-${IMAGEPIPE_TEST_B}}\"\n")
                .find("environment variable IMAGEPIPE_TEST_B is not set"),
            std::string::npos);
}

}  // namespace
}  // namespace imagepipe
