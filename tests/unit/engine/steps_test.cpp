// Steps: images flowing between named steps, several calls of one step, alternatives
// chosen per request, and the per-step records.
#include <gtest/gtest.h>

#include "imagepipe/http.hpp"
#include "imagepipe/image.hpp"
#include "support/engine_harness.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
using testing::EngineHarness;
using testing::script_stats;

// A base image (32x32) from text, an edit that gets the base, then a 2x2 split; the base
// and the tiles are the results.
const char* kAvatarLike = R"(
name: avatar-like
source: {from: prompt}
steps:
  - name: base
    prompt: "a selfie of ${request.body.bio}"
    provider: {use: test-script, with: {side: 32}}
  - name: grid
    images: [base]
    prompt: "grid of ${request.body.bio} after ${steps.base.provider}"
    runs: {images: "${request.body.num_images:-4}", per_run: 4}
    provider: {use: test-script, with: {delay_ms: 1000}}
  - name: image
    transforms: [{use: grid-split, with: {rows: 2, cols: 2}}]
sink: {inline: true, images: [base, image]}
)";

JobRequest body(json fields) {
  JobRequest r;
  r.body = std::move(fields);
  return r;
}

TEST(Steps, ImagesFlowFromEarlierStepsToTheResults) {
  EngineHarness h;
  auto job = h.run(kAvatarLike, body({{"bio", "a hiker"}}));
  ASSERT_EQ(job.status, "completed") << job.items.at(0).error;
  auto& stats = script_stats();
  ASSERT_EQ(stats.calls, 2);
  EXPECT_EQ(stats.prompts,
            (std::vector<std::string>{"a selfie of a hiker", "grid of a hiker after test-script"}));
  EXPECT_EQ(stats.image_counts, (std::vector<std::size_t>{0, 1}));  // text, then the base
  const auto& item = job.items[0];
  ASSERT_EQ(item.outputs.size(), 5u);  // the base and four tiles
  EXPECT_EQ(item.outputs[0].step, "base");
  EXPECT_EQ(item.outputs[0].width, 32);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(item.outputs[i].step, "image");
    EXPECT_EQ(item.outputs[i].width, 16);
    EXPECT_EQ(item.outputs[i].height, 16);
  }
  ASSERT_EQ(item.steps.size(), 3u);
  EXPECT_EQ(item.steps[0]["step"], "base");
  EXPECT_EQ(item.steps[0]["provider"], "test-script");
  EXPECT_EQ(item.steps[0]["attempts"], 1);
  EXPECT_EQ(item.steps[0]["images"], 1);
  EXPECT_EQ(item.steps[1]["images"], 1);
  EXPECT_EQ(item.steps[2]["images"], 4);
  EXPECT_FALSE(item.steps[2].contains("provider"));
  // Usage summed over the provider steps; each answer counted for its provider.
  EXPECT_EQ(item.usage["calls"], 2);
  EXPECT_EQ(job.metrics()["providers"]["test-script"], 2);
  // The summary (GET /jobs/{id}, run --json) carries the records and each output's step.
  const auto summary = job_summary(job);
  EXPECT_EQ(summary["items"][0]["steps"].size(), 3u);
  EXPECT_EQ(summary["items"][0]["outputs"][1]["step"], "image");
}

TEST(Steps, EightImagesMakeTwoCallsAtOnce) {
  EngineHarness h;
  auto job = h.run(kAvatarLike, body({{"bio", "a hiker"}, {"num_images", 8}}));
  ASSERT_EQ(job.status, "completed") << job.items.at(0).error;
  EXPECT_EQ(script_stats().calls, 3);           // one base, two grids
  EXPECT_EQ(script_stats().peak_in_flight, 2);  // the grids overlapped
  EXPECT_EQ(job.items[0].outputs.size(), 9u);   // the base and eight tiles
  EXPECT_EQ(job.items[0].steps[1]["runs"], 2);
  EXPECT_EQ(job.items[0].steps[1]["attempts"], 2);
}

TEST(Steps, ImagesWantedMustBeAWholeNumber) {
  EngineHarness h;
  auto job = h.run(kAvatarLike, body({{"bio", "x"}, {"num_images", "many"}}));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error, "step 'grid': images wanted must be an integer, got 'many'");
  EXPECT_EQ(script_stats().calls, 1);  // the base was made; no grid was paid for
}

TEST(Steps, SeveralInputsReachOneCall) {
  EngineHarness h;
  auto job = h.run(
      R"(
name: refs
source: {from: request, field: image}
steps:
  - name: base
    images: []
    provider: {use: test-script}
  - name: edit
    images: [base, item]
    provider: {use: test-script}
sink: {inline: true}
)",
      [] {
        Image image(4, 4, 3);
        JobRequest r;
        r.body = {{"image", base64_encode(encode_image(image, EncodeSpec{ImageFormat::png}))}};
        return r;
      }());
  ASSERT_EQ(job.status, "completed") << job.items.at(0).error;
  EXPECT_EQ(script_stats().image_counts, (std::vector<std::size_t>{0, 2}));
  ASSERT_EQ(job.items[0].outputs.size(), 1u);
  EXPECT_EQ(job.items[0].outputs[0].width, 8);  // the echo of its first input, the base
}

const char* kChoice = R"(
name: choice
trigger:
  http: {path: /gen}
  request_schema:
    type: object
    properties: {prompt: {type: string}}
source: {from: prompt}
steps:
  - name: generate
    choose: "${request.body.provider:-small}"
    alternatives:
      small: {provider: {use: test-script, with: {side: 8}}}
      large: {provider: {use: test-script, with: {side: 64}}}
sink: {inline: true}
)";

TEST(Steps, AnAlternativeIsChosenPerRequest) {
  EngineHarness h;
  auto large = h.run(kChoice, body({{"prompt", "p"}, {"provider", "large"}}));
  ASSERT_EQ(large.status, "completed") << large.items.at(0).error;
  EXPECT_EQ(large.items[0].outputs[0].width, 64);
  EXPECT_EQ(large.items[0].steps[0]["alternative"], "large");
  auto fallback = h.run(kChoice, body({{"prompt", "p"}}));
  EXPECT_EQ(fallback.items[0].outputs[0].width, 8);
  EXPECT_EQ(fallback.items[0].steps[0]["alternative"], "small");
}

TEST(Steps, AnUnknownAlternativeFailsTheItemBeforeAnyCall) {
  EngineHarness h;
  auto job = h.run(kChoice, body({{"prompt", "p"}, {"provider", "huge"}}));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error,
            "step 'generate': 'huge' is not one of its alternatives (large, small)");
  EXPECT_EQ(script_stats().calls, 0);
}

TEST(Steps, TheRequestSchemaListsTheAlternatives) {
  PluginRegistry registry;
  register_builtin_plugins(registry);
  registry.add(testing::script_provider_descriptor(), "test");
  const auto pipeline = load_pipeline_text(kChoice, "choice.yaml", registry);
  const auto& provider = pipeline.trigger.request_schema["properties"]["provider"];
  EXPECT_EQ(provider["enum"], json({"large", "small"}));
  EXPECT_EQ(provider["default"], "small");
  EXPECT_EQ(provider["type"], "string");
}

TEST(Steps, TheFiveStageFormIsTwoSteps) {
  EngineHarness h;
  auto job = h.run(R"(
name: classic
source: {from: prompt}
provider: {use: test-script, with: {side: 16}}
transforms: [{use: grid-split, with: {rows: 1, cols: 2}}]
sink: {inline: true}
)");
  ASSERT_EQ(job.status, "completed") << job.items.at(0).error;
  ASSERT_EQ(job.items[0].steps.size(), 2u);
  EXPECT_EQ(job.items[0].steps[0]["step"], "provider");
  EXPECT_EQ(job.items[0].steps[1]["step"], "transforms");
  ASSERT_EQ(job.items[0].outputs.size(), 2u);
  EXPECT_EQ(job.items[0].outputs[0].width, 8);
  EXPECT_EQ(job.items[0].chain[0]["step"], "provider");
}

TEST(Steps, AFailedStepStopsTheItemAndNamesTheProvider) {
  EngineHarness h;
  auto job = h.run(R"(
name: stop
source: {from: prompt}
steps:
  - name: base
    provider: {use: test-script}
  - name: edit
    provider: {use: test-script, with: {fail: [unauthorized, unauthorized], fail_always: true}}
sink: {inline: true}
)");
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error, "test-script: scripted unauthorized (request id req_123)");
  EXPECT_TRUE(job.items[0].outputs.empty());
  EXPECT_EQ(job.items[0].steps.size(), 1u);  // only the step that finished has a record
}

}  // namespace
}  // namespace imagepipe
