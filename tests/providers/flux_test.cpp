// `flux` against the fake BFL API: submit, polling with growing waits on the fake clock,
// the sample downloaded without the key, moderation and failures, the deadline.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "provider_harness.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string flux_yaml(const std::string& with, bool image = false) {
  return std::string("name: flux\n") +
         (image ? "source: {from: request, field: image}\n" : "source: {from: prompt}\n") +
         "provider:\n  use: flux\n  with: {base_url: \"${FAKE_ROOT}\", api_key: \"${FLUX_KEY}\", " +
         with + "}\n  retry: {attempts: 1}\nsink: {inline: true}\n";
}

JobRequest prompt_request(const std::string& prompt) {
  JobRequest r;
  r.body = {{"prompt", prompt}};
  return r;
}

TEST(Flux, SubmitPollUntilReadyAndDownloadTheSample) {
  ProviderHarness h;
  auto job = h.run(
      flux_yaml("model: flux-pro-1.1, width: 1024, height: 768, seed: 42, safety_tolerance: 2, "
                "output_format: png"),
      prompt_request("a red car"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto& item = job.items[0];
  const Image out = output_image(item);
  EXPECT_EQ(out.width, 1024);
  EXPECT_EQ(out.height, 768);
  EXPECT_EQ(pixel(out, 5, 5), (std::vector<std::uint8_t>{90, 60, 200}));
  EXPECT_EQ(item.outputs[0].metadata["seed"], 42);
  EXPECT_THAT(item.outputs[0].metadata["task_id"].get<std::string>(), HasSubstr("task-"));
  EXPECT_EQ(item.usage["credits"], 4.0);

  const auto submits = h.fake().received("/v1/flux-pro-1.1");
  ASSERT_EQ(submits.size(), 1u);
  const nlohmann::json expected = {{"prompt", "a red car"}, {"width", 1024},
                                   {"height", 768},         {"seed", 42},
                                   {"safety_tolerance", 2}, {"output_format", "png"}};
  EXPECT_EQ(submits[0].json, expected);
  EXPECT_EQ(submits[0].header("x-key"), h.fake().flux_key);
  EXPECT_FALSE(submits[0].header("Authorization").has_value());
  const auto polls = h.fake().received("/v1/get_result");
  ASSERT_EQ(polls.size(), 3u);  // Pending, Pending, Ready
  for (const auto& p : polls) EXPECT_EQ(p.header("x-key"), h.fake().flux_key);
  // Waits grow by half: 500, 750, 1125 ms of fake time.
  EXPECT_EQ(polls[0].at_ms, 500);
  EXPECT_EQ(polls[1].at_ms, 1250);
  EXPECT_EQ(polls[2].at_ms, 2375);
  for (const auto& r : h.fake().server().requests())
    if (r.path.rfind("/delivery/", 0) == 0) {
      EXPECT_FALSE(r.header("x-key").has_value());
    }
}

TEST(Flux, KontextEditsTheItemImage) {
  ProviderHarness h;
  const std::string png = encode(gradient(96, 64), ImageFormat::png);
  auto job = h.run(flux_yaml("model: flux-kontext-pro, operation: edit", true),
                   image_request(png, "make it red"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const Image out = output_image(job.items[0]);
  EXPECT_EQ(out.width, 96);  // no aspect_ratio: the input image's
  EXPECT_EQ(out.height, 64);
  const auto submits = h.fake().received("/v1/flux-kontext-pro");
  ASSERT_EQ(submits.size(), 1u);
  EXPECT_EQ(base64_decode(submits[0].json["input_image"].get<std::string>()), png);
  EXPECT_EQ(submits[0].json["prompt"], "make it red");
}

TEST(Flux, AspectRatioSizesUltra) {
  ProviderHarness h;
  auto job = h.run(flux_yaml("model: flux-pro-1.1-ultra, aspect_ratio: \"16:9\", raw: true"),
                   prompt_request("x"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(output_image(job.items[0]).width, 1376);
}

struct Outcome {
  Failure failure;
  ErrorClass cls;
  const char* message;
};

TEST(Flux, TerminalStatusesMapToClasses) {
  const Outcome cases[] = {
      {Failure::flux_request_moderated, ErrorClass::content_policy,
       R"(flux: task task-[0-9]+-b9b172a8: Request Moderated \{"Moderation Reasons":\["Derivative Works Filter"\]\})"},
      {Failure::flux_content_moderated, ErrorClass::content_policy,
       R"(flux: task task-[0-9]+-b9b172a8: Content Moderated .*)"},
      {Failure::flux_error, ErrorClass::unavailable,
       R"(flux: task task-[0-9]+-b9b172a8 ended with status Error)"},
      {Failure::flux_not_found, ErrorClass::unavailable,
       R"(flux: task task-[0-9]+-b9b172a8: Task not found)"},
      {Failure::flux_credits, ErrorClass::quota_exceeded,
       R"(flux: submit to flux-dev: Insufficient credits \(HTTP 402\))"},
      {Failure::rate_limit, ErrorClass::rate_limited,
       R"(flux: submit to flux-dev: Too many active tasks \(HTTP 429\))"},
      {Failure::server_error, ErrorClass::unavailable,
       R"(flux: submit to flux-dev: Internal Server Error \(HTTP 500\))"},
  };
  for (const auto& c : cases) {
    ProviderHarness h;
    h.fake().fail_next(1, c.failure);
    auto job = h.run(flux_yaml("model: flux-dev"), prompt_request("x"));
    EXPECT_EQ(job.items[0].error_class, c.cls) << job.items[0].error;
    EXPECT_THAT(job.items[0].error, MatchesRegex(c.message));
  }
}

TEST(Flux, ValidationAndAuthErrors) {
  ProviderHarness h;
  auto job = h.run(flux_yaml("model: flux-dev, width: 1000"), prompt_request("x"));
  EXPECT_EQ(job.items[0].error_class, ErrorClass::invalid_input);
  EXPECT_EQ(job.items[0].error,
            "flux: submit to flux-dev: body.width: Input should be a multiple of 32 (HTTP 422)");
  job = h.run(flux_yaml("model: flux-pro-1.1, steps: 20"), prompt_request("x"));
  EXPECT_EQ(job.items[0].error,
            "flux: submit to flux-pro-1.1: body.steps: Extra inputs are not permitted (HTTP 422)");
  job =
      h.run(flux_yaml("model: flux-dev"), prompt_request("x"), {{"FLUX_KEY", "bfl-wrong-key-123"}});
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unauthorized);
  EXPECT_EQ(job.items[0].error, "flux: submit to flux-dev: Invalid key (HTTP 403)");
  EXPECT_EQ(h.log_text().find("bfl-wrong-key-123"), std::string::npos);
  EXPECT_THROW(h.run(flux_yaml("model: flux-dev, operation: edit"), prompt_request("x")), Error);
}

TEST(Flux, ATaskNotReadyByTheDeadlineIsATimeout) {
  ProviderHarness h;
  h.fake().flux_pending_polls = 1000;
  auto job = h.run(flux_yaml("model: flux-dev, deadline: 5"), prompt_request("x"));
  EXPECT_EQ(job.items[0].error_class, ErrorClass::timeout);
  EXPECT_THAT(
      job.items[0].error,
      MatchesRegex(
          R"(flux: task task-[0-9]+-b9b172a8 not ready after 5 s \(last status: Pending\))"));
  EXPECT_LE(h.clock().elapsed().count(), 5000);
}

}  // namespace
}  // namespace imagepipe::testing
