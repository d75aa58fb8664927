// The openai-moderation guard against the strict fake: a flagged prompt never reaches the
// image endpoint, a clean one does, and a moderation endpoint that cannot answer fails
// the item rather than letting the prompt through.
#include <gtest/gtest.h>

#include "provider_harness.hpp"

namespace imagepipe::testing {
namespace {

const char* kModerated = R"yaml(name: moderated
source: {from: prompt}
guard:
  - use: blocklist
    with: {words: "forbidden"}
  - use: openai-moderation
    with: {base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}"}
provider:
  use: openai
  with: {operation: generate, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", model: gpt-image-1}
sink: {inline: true}
)yaml";

JobRequest prompt(const std::string& text) {
  JobRequest r;
  r.body = {{"prompt", text}};
  return r;
}

TEST(Moderation, AFlaggedPromptIsRefusedBeforeAnyImageRequest) {
  ProviderHarness h;
  auto job = h.run(kModerated, prompt("an attack on the castle"));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::content_policy);
  EXPECT_EQ(job.items[0].error,
            "refused by guard 'openai-moderation': flagged by OpenAI moderation (violence)");
  const auto sent = h.fake().received();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].path, "/v1/moderations");
  EXPECT_EQ(sent[0].json["input"], "an attack on the castle");
  EXPECT_EQ(sent[0].json["model"], "omni-moderation-latest");
}

TEST(Moderation, TheBlocklistRunsFirstAndCostsNoRequest) {
  ProviderHarness h;
  auto job = h.run(kModerated, prompt("something Forbidden"));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error, "refused by guard 'blocklist': blocked term 'forbidden'");
  EXPECT_TRUE(h.fake().received().empty());
}

TEST(Moderation, ACleanPromptIsGenerated) {
  ProviderHarness h;
  auto job = h.run(kModerated, prompt("a castle at dawn"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(h.fake().received("/v1/moderations").size(), 1u);
  EXPECT_EQ(h.fake().received("/v1/images/generations").size(), 1u);
}

TEST(Moderation, AnEndpointThatCannotAnswerFailsTheItem) {
  ProviderHarness h;
  h.fake().fail_next(1, Failure::server_error);
  auto job = h.run(kModerated, prompt("a castle at dawn"));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unavailable);
  EXPECT_EQ(job.items[0].error.rfind("guard 'openai-moderation': ", 0), 0u) << job.items[0].error;
  EXPECT_TRUE(h.fake().received("/v1/images/generations").empty());
}

}  // namespace
}  // namespace imagepipe::testing
