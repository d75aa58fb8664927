// Prompt enhancement as a step (seed 004's ENABLE_PROMPT_ENHANCEMENT): the openai provider's
// text operation rewrites the prompt through Chat Completions, the generation gets the
// rewrite, and both prompts are kept; with the switch off no text call is made.
#include <gtest/gtest.h>

#include "provider_harness.hpp"

namespace imagepipe::testing {
namespace {

const char* kEnhanced = R"yaml(name: enhanced
source: {from: prompt}
steps:
  - name: enhance
    when: "${ENHANCE}"
    provider:
      use: openai
      with: {operation: text, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", chat_model: gpt-4.1-mini}
  - name: generate
    prompt: "${steps.enhance.text:-${request.body.prompt}}"
    provider:
      use: openai
      with: {operation: generate, base_url: "${FAKE_OPENAI}", api_key: "${OPENAI_KEY}", model: dall-e-3}
sink:
  inline: true
)yaml";

JobRequest prompt(const std::string& text) {
  JobRequest r;
  r.body = {{"prompt", text}};
  return r;
}

TEST(PromptEnhancement, TheRewriteReachesTheGeneration) {
  ProviderHarness h;
  auto job = h.run(kEnhanced, prompt("a cat"), {{"ENHANCE", "true"}});
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto chat = h.fake().received("/v1/chat/completions");
  ASSERT_EQ(chat.size(), 1u);
  EXPECT_EQ(chat[0].json["model"], "gpt-4.1-mini");
  EXPECT_EQ(chat[0].json["messages"][0]["role"], "system");
  EXPECT_EQ(chat[0].json["messages"][1], (nlohmann::json{{"role", "user"}, {"content", "a cat"}}));
  const auto generations = h.fake().received("/v1/images/generations");
  ASSERT_EQ(generations.size(), 1u);
  EXPECT_EQ(generations[0].json["prompt"], "Enhanced: a cat");
  const auto& steps = job.items[0].steps;
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0]["text"], "Enhanced: a cat");
  EXPECT_EQ(steps[0]["usage"]["total_tokens"], 59);
  // DALL-E 3's own revised prompt stays on the image, beside the rewrite in the record.
  EXPECT_TRUE(job.items[0].outputs.at(0).metadata.contains("revised_prompt"));
  EXPECT_EQ(job.items[0].usage["total_tokens"], 59);
}

TEST(PromptEnhancement, SwitchedOffNoTextCallIsMade) {
  ProviderHarness h;
  auto job = h.run(kEnhanced, prompt("a cat"), {{"ENHANCE", "false"}});
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_TRUE(h.fake().received("/v1/chat/completions").empty());
  const auto generations = h.fake().received("/v1/images/generations");
  ASSERT_EQ(generations.size(), 1u);
  EXPECT_EQ(generations[0].json["prompt"], "a cat");
  EXPECT_EQ(job.items[0].steps[0]["skipped"], true);
}

}  // namespace
}  // namespace imagepipe::testing
