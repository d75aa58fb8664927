// What seed 004's pipelines rely on in the loader: `select:` (a block chosen by a variable),
// a step's `enabled:` alternatives, `accepts:` narrowed by the plugins' declared model
// limits and judged per request, the batch and catalogue routes, deployment defaults
// inside runtime placeholders, and text slices.
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "imagepipe/registry.hpp"
#include "imagepipe/template.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
using testing::error_text;

class GeneratorConfig : public ::testing::Test {
 protected:
  GeneratorConfig() { register_builtin_plugins(registry_); }

  Pipeline load(std::string_view yaml, std::map<std::string, std::string> env = {}) {
    LoadOptions options;
    options.env_overrides = std::move(env);
    options.allow_missing_env = true;
    return load_pipeline_text(yaml, "test.yaml", registry_, options);
  }
  std::string error(std::string_view yaml, std::map<std::string, std::string> env = {}) {
    return error_text([&] { load(yaml, std::move(env)); });
  }

  PluginRegistry registry_;
};

const std::string kChoosing = R"(name: gen
trigger:
  http: {method: POST, path: /gen, mode: sync}
  request_schema:
    type: object
    properties:
      prompt: {type: string}
      size: {type: string}
      num_images: {type: integer}
source: {from: prompt}
steps:
  - name: generate
    choose: "${request.body.provider:-${DEFAULT_PROVIDER:-dalle3}}"
    enabled: "${ENABLED_PROVIDERS:-dalle3,flux}"
    runs: "${request.body.num_images:-1}"
    alternatives:
      dalle3:
        describe: {name: DALL-E 3}
        provider:
          use: openai
          with: {operation: generate, api_key: k, model: dall-e-3}
          params: {size: "${request.body.size:-1024x1024}"}
      flux:
        accepts: {sizes: [512x512, 1024x1024], max_images: 4}
        provider:
          use: local
          with: {operation: placeholder}
          params: {size: "${request.body.size:-1024x1024}"}
)";

json request(json body) { return {{"request", {{"body", std::move(body)}}}}; }

TEST_F(GeneratorConfig, AcceptsIsNarrowedByWhatThePluginDeclaresForItsModel) {
  const auto p = load(kChoosing);
  const auto& step = p.steps.at(0);
  ASSERT_EQ(step.alternatives.size(), 2u);
  EXPECT_EQ(*step.alternatives[0].limits.sizes,
            (std::vector<std::string>{"1024x1024", "1792x1024", "1024x1792"}));
  EXPECT_EQ(*step.alternatives[0].limits.max_images, 1);
  EXPECT_EQ(step.alternatives[0].describe["name"], "DALL-E 3");
  EXPECT_EQ(*step.alternatives[1].limits.max_images, 4);

  EXPECT_TRUE(check_request_limits(p, request({{"prompt", "x"}})).empty());
  auto problems = check_request_limits(p, request({{"num_images", 2}}));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].loc, (std::vector<std::string>{"body", "num_images"}));
  EXPECT_EQ(problems[0].message, "dalle3 makes at most 1 image per request, got 2");
  problems = check_request_limits(p, request({{"provider", "flux"}, {"size", "1792x1024"}}));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].loc, (std::vector<std::string>{"body", "size"}));
  EXPECT_EQ(problems[0].message, "flux makes the sizes 512x512, 1024x1024, got 1792x1024");
  EXPECT_TRUE(check_request_limits(p, request({{"provider", "flux"}, {"num_images", 4}})).empty());
}

TEST_F(GeneratorConfig, EnabledAlternativesAndTheDeploymentsDefaultShapeTheRequestSchema) {
  auto p = load(kChoosing);
  EXPECT_EQ(p.trigger.request_schema["properties"]["provider"]["enum"], json({"dalle3", "flux"}));
  EXPECT_EQ(p.trigger.request_schema["properties"]["provider"]["default"], "dalle3");

  p = load(kChoosing, {{"ENABLED_PROVIDERS", "flux"}, {"DEFAULT_PROVIDER", "flux"}});
  EXPECT_EQ(p.trigger.request_schema["properties"]["provider"]["enum"], json({"flux"}));
  EXPECT_EQ(p.trigger.request_schema["properties"]["provider"]["default"], "flux");
  EXPECT_EQ(p.steps[0].choose->render_string(request(json::object())), "flux");
  EXPECT_EQ(p.steps[0].choose->render_string(request({{"provider", "dalle3"}})), "dalle3");

  EXPECT_NE(error(kChoosing, {{"ENABLED_PROVIDERS", "flux"}})
                .find("the default 'dalle3' is not an enabled alternative of step 'generate'"),
            std::string::npos);
  EXPECT_NE(error(kChoosing, {{"ENABLED_PROVIDERS", "dalle3,midjourney"}})
                .find("enabled names 'midjourney', which is not an alternative of step 'generate'"),
            std::string::npos);
}

TEST_F(GeneratorConfig, SelectChoosesABlockAndOnlyItsVariablesAreAskedFor) {
  const std::string yaml = R"(name: stored
source: {from: prompt}
provider: {use: local, with: {operation: placeholder}}
sink:
  select: "${STORAGE_BACKEND:-local}"
  cases:
    local: {use: local, with: {root: /tmp}, key: "a/${output.id}.png"}
    s3: {use: s3, with: {bucket: "${S3_BUCKET}"}, key: "a/${output.id}.png"}
)";
  auto p = load(yaml);
  EXPECT_EQ(p.sink.storage->use, "local");
  EXPECT_TRUE(p.missing_env.empty());
  p = load(yaml, {{"STORAGE_BACKEND", "s3"}});
  EXPECT_EQ(p.sink.storage->use, "s3");
  EXPECT_EQ(p.missing_env, std::vector<std::string>{"S3_BUCKET"});
  const auto text = error(yaml, {{"STORAGE_BACKEND", "gcs"}});
  EXPECT_NE(text.find("test.yaml:5:11: error: select chose 'gcs', which is not one of its cases "
                      "(local, s3)"),
            std::string::npos)
      << text;
  // A mistake inside the chosen case keeps its own line.
  const auto inner = error(yaml.substr(0, yaml.find("    local:")) +
                           "    local: {use: local, with: {rot: /tmp}, key: k}\n");
  EXPECT_NE(inner.find("test.yaml:7:32: error: unknown option 'rot'"), std::string::npos) << inner;
}

TEST_F(GeneratorConfig, BatchAndCatalogueRoutesAreCheckedAtLoad) {
  auto with_http = [&](const std::string& extra) {
    std::string yaml = kChoosing;
    yaml.replace(yaml.find("mode: sync}"), 11, "mode: sync, " + extra + "}");
    return yaml;
  };
  const auto p = load(with_http(
      "batch: {path: /gen/batch, max_items: 5}, catalogue: {path: /gen/choices, step: generate}"));
  EXPECT_EQ(p.trigger.http->batch->path, "/gen/batch");
  EXPECT_EQ(p.trigger.http->batch->max_items, 5u);
  EXPECT_EQ(p.trigger.http->catalogue->step, "generate");
  EXPECT_EQ(p.trigger.http->catalogue->list_key, "alternatives");

  EXPECT_NE(error(with_http("batch: {path: /gen}")).find("is the route's own path"),
            std::string::npos);
  EXPECT_NE(error(with_http("batch: {path: /b, max_items: 1000}"))
                .find("max_items must be an integer between 1 and 100"),
            std::string::npos);
  EXPECT_NE(error(with_http("catalogue: {path: /c, step: generat}"))
                .find("'generat' is not a step with alternatives"),
            std::string::npos);
}

TEST(TemplateSlices, TextIsSlicedByBytes) {
  const json scope = {{"id", "20261205-0aa4ce59"}, {"list", {1, 2, 3}}};
  EXPECT_EQ(Template::compile_string("${id[0:4]}/${id[4:6]}/${id[6:8]}").render(scope),
            "2026/12/05");
  EXPECT_EQ(Template::compile_string("${id[9:]}").render(scope), "0aa4ce59");
  EXPECT_EQ(Template::compile_string("${id[40:50]}").render(scope), "");
  EXPECT_EQ(Template::compile_string("${list[1:]}").render(scope), json({2, 3}));
}

}  // namespace
}  // namespace imagepipe
