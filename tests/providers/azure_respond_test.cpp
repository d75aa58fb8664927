// `azure-openai` (deployment URLs, api-version, api-key or Entra ID token) and `openai`
// respond (the Responses API's image_generation tool).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "provider_harness.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;

std::string azure_yaml(const std::string& with, bool image = false) {
  return std::string("name: azure\n") +
         (image ? "source: {from: request, field: image}\n" : "source: {from: prompt}\n") +
         "provider:\n  use: azure-openai\n  with: {endpoint: \"${FAKE_ROOT}\", " + with +
         "}\n  retry: {attempts: 2}\nsink: {inline: true}\n";
}

JobRequest prompt_request(const std::string& prompt) {
  JobRequest r;
  r.body = {{"prompt", prompt}};
  return r;
}

TEST(AzureOpenAI, GeneratesThroughTheDeploymentUrlWithApiKey) {
  ProviderHarness h;
  auto job = h.run(
      azure_yaml("deployment: images, api_key: \"${AZURE_KEY}\", quality: high, size: 1024x1536"),
      prompt_request("a harbour at dawn"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(job.items[0].provider, "azure-openai");
  EXPECT_EQ(output_image(job.items[0]).height, 1536);
  const auto sent = h.fake().received("/openai/deployments/");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target,
            "/openai/deployments/images/images/generations?api-version=2025-04-01-preview");
  EXPECT_EQ(sent[0].header("api-key"), h.fake().azure_key);
  EXPECT_FALSE(sent[0].header("Authorization").has_value());
  EXPECT_FALSE(sent[0].json.contains("model"));  // the deployment decides
  EXPECT_EQ(sent[0].json["quality"], "high");
  EXPECT_THAT(job.items[0].outputs[0].metadata["request_id"].get<std::string>(),
              MatchesRegex("req_[0-9]+"));
}

TEST(AzureOpenAI, EditsWithAnEntraIdToken) {
  ProviderHarness h;
  const std::string png = encode(gradient(50, 40), ImageFormat::png);
  auto job =
      h.run(azure_yaml("deployment: images, bearer_token: \"${TOKEN}\", operation: edit", true),
            image_request(png, "add snow"), {{"TOKEN", h.fake().azure_token}});
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(output_image(job.items[0]).width, 50);
  const auto sent = h.fake().received("/openai/deployments/");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].path, "/openai/deployments/images/images/edits");
  EXPECT_EQ(sent[0].header("Authorization"), "Bearer " + h.fake().azure_token);
  EXPECT_EQ(sent[0].part("image")->content_type, "image/png");
  EXPECT_EQ(sent[0].part("model"), nullptr);
}

TEST(AzureOpenAI, ErrorsMapLikeOpenAI) {
  ProviderHarness h;
  auto job = h.run(azure_yaml("deployment: nope, api_key: \"${AZURE_KEY}\""), prompt_request("x"));
  EXPECT_EQ(job.items[0].error_class, ErrorClass::invalid_input);
  EXPECT_THAT(job.items[0].error,
              HasSubstr("azure-openai: The API deployment for this resource does not exist."));
  EXPECT_THAT(job.items[0].error, HasSubstr("(HTTP 404, DeploymentNotFound)"));
  job = h.run(azure_yaml("deployment: images, api_key: wrong-key-1234"), prompt_request("x"));
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unauthorized);
  EXPECT_EQ(job.items[0].error.find("wrong-key-1234"), std::string::npos);
  job = h.run(azure_yaml("deployment: images, api_key: \"${AZURE_KEY}\", api_version: 2023-01-01"),
              prompt_request("x"));
  EXPECT_THAT(job.items[0].error, HasSubstr("API version not supported (HTTP 400, BadRequest)"));
  h.fake().fail_next(1, Failure::moderation);
  job = h.run(azure_yaml("deployment: images, api_key: \"${AZURE_KEY}\""), prompt_request("x"));
  EXPECT_EQ(job.items[0].error_class, ErrorClass::content_policy);
  EXPECT_THAT(job.items[0].error,
              HasSubstr("(HTTP 400, content_policy_violation, request req_scripted_"));
  // retry-after-ms is honoured.
  h.fake().clear();
  h.fake().fail_next(1, Scripted{Failure::rate_limit, 2500ms});
  job = h.run(azure_yaml("deployment: images, api_key: \"${AZURE_KEY}\""), prompt_request("x"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto sent = h.fake().received("/openai/deployments/");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_GE(sent[1].at_ms - sent[0].at_ms, 2500);
}

TEST(AzureOpenAI, DallEDeploymentsCannotEdit) {
  ProviderHarness h;
  EXPECT_THROW(
      h.run(azure_yaml("deployment: dalle3, model: dall-e-3, api_key: k-123456, operation: edit"),
            prompt_request("x")),
      Error);
}

TEST(AzureOpenAI, RespondsThroughTheV1RouteWithTheImageDeploymentHeader) {
  ProviderHarness h;
  const std::string png = encode(gradient(24, 24), ImageFormat::png);
  auto job =
      h.run(azure_yaml("deployment: images, chat_deployment: chat, api_key: \"${AZURE_KEY}\", "
                       "operation: respond, size: 1536x1024",
                       true),
            image_request(png, "a watercolor of this"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(output_image(job.items[0]).width, 1536);
  const auto sent = h.fake().received("/openai/v1/responses");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].header("x-ms-oai-image-generation-deployment"), "images");
  EXPECT_EQ(sent[0].header("api-key"), h.fake().azure_key);
  EXPECT_EQ(sent[0].json["model"], "chat");
  EXPECT_EQ(sent[0].json["tools"][0]["size"], "1536x1024");
  EXPECT_EQ(sent[0].json["input"][0]["content"][1]["image_url"],
            "data:image/png;base64," + base64_encode(png));
  // Without a chat deployment there is nothing to call the tool.
  EXPECT_THROW(h.run(azure_yaml("deployment: images, api_key: k-123456, operation: respond"),
                     prompt_request("x")),
               Error);
}

TEST(OpenAIRespond, ImageGenerationToolWithInputImagesAsDataUrls) {
  ProviderHarness h;
  const std::string png = encode(gradient(24, 24), ImageFormat::png);
  const char* yaml = R"(name: respond
source: {from: request, field: image}
provider:
  use: openai
  with: {operation: respond, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", chat_model: gpt-5,
         model: gpt-image-1, size: 1024x1536, quality: high, background: transparent, output_format: png,
         image_urls: ["https://example.com/style.png"]}
sink: {inline: true}
)";
  auto job = h.run(yaml, image_request(png, "Turn this sketch into a watercolor poster"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const Image out = output_image(job.items[0]);
  EXPECT_EQ(out.width, 1024);
  EXPECT_EQ(out.height, 1536);
  EXPECT_EQ(pixel(out, 3, 3), (std::vector<std::uint8_t>{60, 180, 90}));
  EXPECT_EQ(job.items[0].outputs[0].metadata["revised_prompt"],
            "A poster: Turn this sketch into a watercolor poster");
  EXPECT_EQ(job.items[0].usage["input_tokens"], 100 + 765 * 2);

  const auto sent = h.fake().received("/v1/responses");
  ASSERT_EQ(sent.size(), 1u);
  const auto& body = sent[0].json;
  EXPECT_EQ(body["model"], "gpt-5");
  const auto& content = body["input"][0]["content"];
  EXPECT_EQ(content[0], (nlohmann::json{{"type", "input_text"},
                                        {"text", "Turn this sketch into a watercolor poster"}}));
  EXPECT_EQ(content[1]["type"], "input_image");
  EXPECT_EQ(content[1]["image_url"], "data:image/png;base64," + base64_encode(png));
  EXPECT_EQ(content[1]["detail"], "auto");
  EXPECT_EQ(content[2]["image_url"], "https://example.com/style.png");
  const nlohmann::json tool = {{"type", "image_generation"},  {"model", "gpt-image-1"},
                               {"size", "1024x1536"},         {"quality", "high"},
                               {"background", "transparent"}, {"output_format", "png"}};
  EXPECT_EQ(body["tools"][0], tool);
  EXPECT_EQ(body["tool_choice"], (nlohmann::json{{"type", "image_generation"}}));
}

TEST(OpenAIRespond, APromptAloneIsEnough) {
  ProviderHarness h;
  auto job = h.run(
      "name: r\nsource: {from: prompt}\nprovider: {use: openai, with: {operation: respond, "
      "base_url: \"${FAKE_OPENAI}\", api_key: \"${OPENAI_KEY}\"}}\nsink: {inline: true}\n",
      prompt_request("a paper crane"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto sent = h.fake().received("/v1/responses");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].json["input"][0]["content"].size(), 1u);
  EXPECT_EQ(output_image(job.items[0]).width, 1024);
}

TEST(OpenAIRespond, ToolHasNoN) {
  ProviderHarness h;
  try {
    h.run(
        "name: r\nsource: {from: prompt}\nprovider: {use: openai, with: {operation: respond, "
        "api_key: k-123456, "
        "n: 2}}\n",
        prompt_request("x"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "provider 'openai': n is not accepted by gpt-image-1 (the image_generation tool has no n)");
  }
}

}  // namespace
}  // namespace imagepipe::testing
