// Guards run on every prompt before a provider is called with it: a refusal fails the item
// as content_policy, names the guard and the term, is counted, and costs no provider call.
#include <gtest/gtest.h>

#include "support/engine_harness.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
using testing::EngineHarness;
using testing::script_stats;

std::string guarded(const std::string& words, const std::string& patterns = "[]") {
  return R"(
name: guarded
source: {from: prompt}
guard:
  - use: blocklist
    with: {words: ")" +
         words + R"(", patterns: )" + patterns + R"(}
provider: {use: test-script}
sink: {inline: true}
)";
}

JobRequest prompt(const std::string& text) {
  JobRequest r;
  r.body = {{"prompt", text}};
  return r;
}

TEST(Guards, ABlockedWordStopsTheItemBeforeAnyProviderCall) {
  EngineHarness h;
  auto job = h.run(guarded("gore, hate speech"), prompt("a scene full of gore"));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::content_policy);
  EXPECT_EQ(job.items[0].error, "refused by guard 'blocklist': blocked term 'gore'");
  EXPECT_EQ(script_stats().calls, 0);
  EXPECT_EQ(h.metrics().value("imagepipe_guard_refusals_total",
                              {{"pipeline", "guarded"}, {"guard", "blocklist"}}),
            1);
}

TEST(Guards, CaseAccentsFullwidthAndPunctuationDoNotHideATerm) {
  for (const std::string text :
       {"GORE everywhere", "gÓre",
        "\xEF\xBC\xA7\xEF\xBC\xAF\xEF\xBC\xB2\xEF\xBC\xA5 here",  // ＧＯＲＥ
        "some Hate-Speech", "hate\n  speech!"}) {
    EngineHarness h;
    auto job = h.run(guarded("gore, hate speech"), prompt(text));
    EXPECT_EQ(job.status, "failed") << text;
    EXPECT_EQ(job.items[0].error_class, ErrorClass::content_policy) << text;
    EXPECT_EQ(script_stats().calls, 0) << text;
  }
}

TEST(Guards, OnlyWholeWordsMatch) {
  EngineHarness h;
  auto job = h.run(guarded("ass, hate speech"), prompt("a classic hateful speechless bass"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(script_stats().calls, 1);
}

TEST(Guards, PatternsRefuseToo) {
  EngineHarness h;
  auto job =
      h.run(guarded("", R"(["\\b\\d{3}-\\d{2}-\\d{4}\\b"])"), prompt("my ssn is 123-45-6789"));
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error,
            "refused by guard 'blocklist': matches blocked pattern '\\b\\d{3}-\\d{2}-\\d{4}\\b'");
  EXPECT_EQ(script_stats().calls, 0);
}

TEST(Guards, EachStepsPromptIsCheckedBeforeItsCall) {
  EngineHarness h;
  auto job = h.run(R"(
name: two-prompts
source: {from: prompt}
guard: {use: blocklist, with: {words: [gore]}}
steps:
  - name: base
    prompt: "a portrait"
    provider: {use: test-script}
  - name: edit
    prompt: "add ${request.body.extra}"
    provider: {use: test-script}
sink: {inline: true}
)",
                   [] {
                     JobRequest r;
                     r.body = {{"extra", "gore"}};
                     return r;
                   }());
  ASSERT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error, "refused by guard 'blocklist': blocked term 'gore'");
  EXPECT_EQ(script_stats().calls, 1);  // the base only
}

TEST(Guards, AnEmptyListLetsEverythingThrough) {
  EngineHarness h;
  auto job = h.run(guarded(""), prompt("anything at all"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(script_stats().calls, 1);
}

}  // namespace
}  // namespace imagepipe
