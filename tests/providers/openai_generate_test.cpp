// `openai` generate against the fake: GPT image models (b64_json), dall-e (URLs downloaded
// through the host client), options checked at start-up, the fake's strictness.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "provider_harness.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string generate_yaml(const std::string& with) {
  return "name: gen\nsource: {from: prompt}\nprovider:\n  use: openai\n  with: {operation: "
         "generate, "
         "base_url: \"${FAKE_OPENAI}\", api_key: \"${OPENAI_KEY}\", " +
         with + "}\n";
}

JobRequest prompt_request(const std::string& prompt) {
  JobRequest r;
  r.body = {{"prompt", prompt}};
  return r;
}

TEST(OpenAIGenerate, GptImageAnswersBase64WithUsage) {
  ProviderHarness h;
  auto job = h.run(
      generate_yaml("model: gpt-image-1, size: 1536x1024, quality: medium, output_format: webp, "
                    "output_compression: 80, background: opaque, moderation: low, user: job-1, "
                    "organization: org-test, project: proj_test"),
      prompt_request("A red fox in snow"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto& item = job.items[0];
  EXPECT_EQ(item.provider, "openai");
  EXPECT_EQ(item.attempts, 1);
  EXPECT_EQ(item.outputs[0].mime, "image/webp");
  const Image out = output_image(item);
  EXPECT_EQ(out.width, 1536);
  EXPECT_EQ(out.height, 1024);
  EXPECT_NEAR(pixel(out, 700, 500)[2], 200, 6);
  EXPECT_EQ(item.usage["total_tokens"], 4165);
  EXPECT_EQ(item.usage["output_tokens_details"]["image_tokens"], 4160);
  EXPECT_THAT(item.outputs[0].metadata["request_id"].get<std::string>(),
              MatchesRegex("req_[0-9]+"));
  EXPECT_EQ(item.outputs[0].metadata["size"], "1536x1024");

  const auto sent = h.fake().received("/v1/images/generations");
  ASSERT_EQ(sent.size(), 1u);
  const nlohmann::json expected = {
      {"model", "gpt-image-1"},   {"prompt", "A red fox in snow"}, {"n", 1},
      {"size", "1536x1024"},      {"quality", "medium"},           {"output_format", "webp"},
      {"output_compression", 80}, {"background", "opaque"},        {"moderation", "low"},
      {"user", "job-1"}};
  EXPECT_EQ(sent[0].json, expected);
  EXPECT_EQ(sent[0].header("Authorization"), "Bearer " + h.fake().openai_key);
  EXPECT_EQ(sent[0].header("OpenAI-Organization"), "org-test");
  EXPECT_EQ(sent[0].header("OpenAI-Project"), "proj_test");
  EXPECT_EQ(sent[0].header("Content-Type"), "application/json");
  EXPECT_EQ(job.metrics()["usage"]["total_tokens"], 4165);
  EXPECT_EQ(h.metrics().value("imagepipe_provider_usage_total",
                              {{"provider", "openai"}, {"kind", "total_tokens"}}),
            4165);
  EXPECT_EQ(h.metrics().value("imagepipe_provider_calls_total",
                              {{"provider", "openai"}, {"outcome", "ok"}}),
            1);
  EXPECT_EQ(job.metrics()["providers"]["openai"], 1);
}

TEST(OpenAIGenerate, DallE3UrlIsDownloadedWithoutTheKeyAndRevisedPromptKept) {
  ProviderHarness h;
  auto job = h.run(generate_yaml("model: dall-e-3, size: 1792x1024, quality: hd, style: natural"),
                   prompt_request("a lighthouse"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const Image out = output_image(job.items[0]);
  EXPECT_EQ(out.width, 1792);
  EXPECT_EQ(out.height, 1024);
  EXPECT_EQ(job.items[0].outputs[0].metadata["revised_prompt"],
            "A detailed rendering of: a lighthouse");
  const auto sent = h.fake().received("/v1/images/generations");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].json["style"], "natural");
  EXPECT_FALSE(sent[0].json.contains("response_format"));  // the default: url
  const auto downloads = h.fake().received("/files/");
  ASSERT_EQ(downloads.size(), 0u);  // downloads are not API calls: not recorded as such
  for (const auto& r : h.fake().server().requests())
    if (r.path.rfind("/files/", 0) == 0) {
      EXPECT_FALSE(r.header("Authorization").has_value());
    }
}

TEST(OpenAIGenerate, DallE2SeveralImagesAsBase64) {
  ProviderHarness h;
  auto job = h.run(generate_yaml("model: dall-e-2, size: 256x256, n: 3, response_format: b64_json"),
                   prompt_request("three cats"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  ASSERT_EQ(job.items[0].outputs.size(), 3u);
  EXPECT_EQ(output_image(job.items[0], 2).width, 256);
}

TEST(OpenAIGenerate, MisconfiguredModelOptionsFailAtStartUp) {
  ProviderHarness h;
  try {
    h.run(generate_yaml("model: gpt-image-1, response_format: url"), prompt_request("x"));
    FAIL() << "expected a start-up error";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_STREQ(e.what(),
                 "provider 'openai': response_format is not accepted by gpt-image-1 (GPT image "
                 "models always return b64_json)");
  }
  EXPECT_THROW(h.run(generate_yaml("model: dall-e-3, n: 2"), prompt_request("x")), Error);
  EXPECT_THROW(h.run(generate_yaml("model: gpt-image-1, size: 1792x1024"), prompt_request("x")),
               Error);
  EXPECT_THROW(h.run(generate_yaml("model: gpt-image-1, style: vivid"), prompt_request("x")),
               Error);
  EXPECT_EQ(h.fake().received().size(), 0u);
}

TEST(OpenAIGenerate, ItemParamsOverrideOptionsAndAreChecked) {
  ProviderHarness h;
  const std::string yaml =
      generate_yaml("model: gpt-image-1") + "  params: {size: \"${request.body.size}\"}\n";
  JobRequest ok = prompt_request("a boat");
  ok.body["size"] = "1024x1536";
  auto job = h.run(yaml, ok);
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(output_image(job.items[0]).height, 1536);
  JobRequest bad = prompt_request("a boat");
  bad.body["size"] = "640x480";
  job = h.run(yaml, bad);
  EXPECT_EQ(job.items[0].error_class, ErrorClass::invalid_input);
  EXPECT_EQ(job.items[0].error,
            "openai: size '640x480' is not accepted by gpt-image-1 (allowed: auto, "
            "1024x1024, 1536x1024, 1024x1536)");
}

// What the fake refuses, it refuses with OpenAI's status and envelope; the provider keeps
// the message, the code and the request id.
TEST(OpenAIGenerate, FakeRejectsUnknownParametersAndBadSizes) {
  ProviderHarness h;
  auto job = h.run(generate_yaml("model: gpt-image-1, extra_body: {seed: 7}"), prompt_request("x"));
  EXPECT_EQ(job.items[0].error_class, ErrorClass::invalid_input);
  EXPECT_THAT(job.items[0].error, MatchesRegex("openai: Unknown parameter: 'seed'\\. \\(HTTP 400, "
                                               "unknown_parameter, request req_[0-9]+\\)"));
  job =
      h.run(generate_yaml("model: gpt-image-1, extra_body: {size: 999x999}"), prompt_request("x"));
  EXPECT_THAT(
      job.items[0].error,
      HasSubstr(
          "Invalid value: '999x999'. Supported values are: '1024x1024', '1024x1536', '1536x1024', "
          "and 'auto'. (HTTP 400, invalid_value"));
  job = h.run(generate_yaml("model: gpt-image-1, extra_body: {response_format: b64_json}"),
              prompt_request("x"));
  EXPECT_THAT(job.items[0].error, HasSubstr("Unknown parameter: 'response_format'."));
  job = h.run(generate_yaml("model: dall-e-3, extra_body: {n: 2}"), prompt_request("x"));
  EXPECT_THAT(job.items[0].error, HasSubstr("dall-e-3 only supports n=1"));
  job = h.run(generate_yaml("model: gpt-image-9"), prompt_request("x"));
  EXPECT_THAT(job.items[0].error, HasSubstr("The model 'gpt-image-9' does not exist"));
  // A missing prompt never leaves the provider; the fake would answer 400 for it.
  job = h.run(generate_yaml("model: gpt-image-1"), prompt_request(""));
  EXPECT_EQ(job.items[0].error, "openai: generate needs a prompt");
  EXPECT_EQ(h.fake().received().size(), 5u);
}

TEST(OpenAIGenerate, CompatibleHostServesFluxSchnell) {
  ProviderHarness h;
  auto job =
      h.run(generate_yaml(
                "model: black-forest-labs/FLUX.1-schnell, response_format: base64, "
                "extra_body: {width: 1024, height: 768, steps: 4, seed: 42, output_format: png}"),
            prompt_request("isometric tiny house"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const Image out = output_image(job.items[0]);
  EXPECT_EQ(out.width, 1024);
  EXPECT_EQ(out.height, 768);
  const auto sent = h.fake().received("/v1/images/generations");
  EXPECT_EQ(sent[0].json["steps"], 4);
  EXPECT_EQ(sent[0].json["seed"], 42);
  EXPECT_EQ(sent[0].json["response_format"], "base64");
}

}  // namespace
}  // namespace imagepipe::testing
