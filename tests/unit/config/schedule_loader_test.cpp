// trigger.schedule as loaded: alone, beside http, several of them; defaults; the body.
// Mistakes are golden files (tests/data/config/schedule_*.yaml).
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "fake_plugins.hpp"
#include "imagepipe/engine.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

Pipeline load(std::string_view yaml) {
  PluginRegistry registry;
  testing::register_fake_plugins(registry);
  return load_pipeline_text(yaml, "test.yaml", registry, {});
}

TEST(ScheduleTrigger, AloneWithDefaults) {
  const auto p = load(R"(name: nightly
source: {from: prompt}
trigger:
  schedule: {cron: "0 2 * * *"}
)");
  EXPECT_FALSE(p.trigger.http);
  ASSERT_EQ(p.trigger.schedules.size(), 1u);
  const auto& s = p.trigger.schedules[0];
  EXPECT_EQ(s.cron.expression(), "0 2 * * *");
  EXPECT_EQ(s.timezone, "UTC");
  EXPECT_EQ(s.body, json::object());
  EXPECT_EQ(s.mark.line, 4);
  EXPECT_EQ(s.mark.column, 20);  // the opening quote
  const auto from = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  EXPECT_EQ(iso8601(*s.cron.next_after(from)), "2026-01-01T02:00:00.000Z");
}

TEST(ScheduleTrigger, BesideHttpAndSeveralWithBodiesCheckedAgainstTheSchema) {
  const auto p = load(R"(name: batch
source: {from: prompt}
trigger:
  http: {method: POST, path: /batch}
  request_schema:
    type: object
    required: [prompt]
    properties: {prompt: {type: string}}
  schedule:
    - cron: "0 2 * * *"
      timezone: Europe/Paris
      body: {prompt: "nightly"}
    - cron: "@weekly"
      body: {prompt: "weekly"}
)");
  ASSERT_TRUE(p.trigger.http);
  EXPECT_EQ(p.trigger.http->path, "/batch");
  ASSERT_EQ(p.trigger.schedules.size(), 2u);
  EXPECT_EQ(p.trigger.schedules[0].timezone, "Europe/Paris");
  EXPECT_EQ(p.trigger.schedules[0].body, (json{{"prompt", "nightly"}}));
  EXPECT_EQ(p.trigger.schedules[1].cron.expression(), "@weekly");
  const auto from = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  EXPECT_EQ(iso8601(*p.trigger.schedules[0].cron.next_after(from)), "2026-01-01T01:00:00.000Z");
}

TEST(ScheduleTrigger, CronFromTheEnvironment) {
  setenv("IMAGEPIPE_TEST_CRON", "15 3 * * *", 1);
  const auto p = load(R"(name: nightly
source: {from: prompt}
trigger:
  schedule: {cron: "${IMAGEPIPE_TEST_CRON}"}
)");
  unsetenv("IMAGEPIPE_TEST_CRON");
  ASSERT_EQ(p.trigger.schedules.size(), 1u);
  EXPECT_EQ(p.trigger.schedules[0].cron.expression(), "15 3 * * *");
}

// A shipped pipeline offers a schedule its deployment switches on: empty means off, and
// an unset variable without a default leaves the pipeline unavailable, not unloadable.
TEST(ScheduleTrigger, AnEmptyOrUnsetCronIsNoSchedule) {
  const auto off = load(R"(name: nightly
source: {from: prompt}
trigger:
  schedule: {cron: "${IMAGEPIPE_TEST_UNSET_CRON:-}"}
)");
  EXPECT_TRUE(off.trigger.schedules.empty());
  LoadOptions options;
  options.allow_missing_env = true;
  PluginRegistry registry;
  testing::register_fake_plugins(registry);
  const auto unset = load_pipeline_text(R"(name: nightly
source: {from: prompt}
trigger:
  schedule: {cron: "${IMAGEPIPE_TEST_UNSET_CRON}"}
)",
                                        "test.yaml", registry, options);
  EXPECT_TRUE(unset.trigger.schedules.empty());
  EXPECT_EQ(unset.missing_env, std::vector<std::string>{"IMAGEPIPE_TEST_UNSET_CRON"});
}

TEST(ScheduleTrigger, EveryProblemOfOneFileAtOnce) {
  const auto text = testing::error_text([] {
    load(R"(name: nightly
source: {from: prompt}
trigger:
  schedule:
    - {cron: "61 2 * * *"}
    - {timezone: Mars/Olympus}
)");
  });
  EXPECT_NE(text.find("test.yaml:5:15: error: trigger.schedule[0].cron: minute 61 is out of range"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("'cron' is required"), std::string::npos) << text;
  EXPECT_NE(text.find("'Mars/Olympus' is not a time zone"), std::string::npos) << text;
}

}  // namespace
}  // namespace imagepipe
