// Every shipped pipeline and every plugin example is valid: examples are executable.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "support/pipeline_parts.hpp"
#include "imagepipe/pipeline.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;
using testing::chain_of;

// A shipped file as `serve` loads it: unset variables allowed (keys are a deployment matter).
Pipeline load_shipped(const fs::path& file, std::map<std::string, std::string> env = {}) {
  PluginRegistry registry;
  register_builtin_plugins(registry);
  LoadOptions options;
  options.allow_missing_env = true;
  options.env_overrides = std::move(env);
  return load_pipeline(file, registry, options);
}

TEST(ShippedPipelines, EveryFileLoads) {
  std::size_t count = 0;
  for (const char* folder : {"pipelines", "examples"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(IMAGEPIPE_SOURCE_DIR) / folder)) {
      if (entry.path().extension() != ".yaml") continue;
      ++count;
      try {
        load_shipped(entry.path());
      } catch (const PipelineError& e) {
        ADD_FAILURE() << e.format();
      }
    }
  }
  EXPECT_GE(count, 19u);
}

// The shipped watsonx Orchestrate tools never fall back to a stand-in: their storage is
// the s3 plugin and their OpenAI entry is not optional; the demo that does both is apart.
TEST(ShippedPipelines, WatsonxToolsUseCosAndRequireTheirKeys) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(IMAGEPIPE_SOURCE_DIR) / "pipelines" / "wxo")) {
    const auto pipeline = load_shipped(entry.path());
    if (chain_of(pipeline).empty()) continue;  // not a tool that runs jobs
    ++count;
    for (const auto& provider : chain_of(pipeline)) EXPECT_FALSE(provider.optional) << entry.path();
    if (pipeline.sink.storage) {
      EXPECT_EQ(pipeline.sink.storage->use, "s3") << entry.path();
    }
    if (pipeline.source.storage) {
      EXPECT_EQ(pipeline.source.storage->use, "s3") << entry.path();
    }
    EXPECT_FALSE(pipeline.requirements.empty()) << entry.path();
  }
  EXPECT_EQ(count, 3u);
}

// Seed 001 part 4: the batch tool's schedule is off by default and on with WXO_BATCH_CRON.
TEST(ShippedPipelines, TheBatchToolRunsOnATimetableWhenAsked) {
  const auto file = fs::path(IMAGEPIPE_SOURCE_DIR) / "pipelines" / "wxo" / "batch.yaml";
  EXPECT_TRUE(load_shipped(file).trigger.schedules.empty());
  const auto on =
      load_shipped(file, {{"WXO_BATCH_CRON", "0 2 * * 1-5"}, {"WXO_BATCH_TIMEZONE", "Europe/Paris"}});
  ASSERT_EQ(on.trigger.schedules.size(), 1u);
  EXPECT_EQ(on.trigger.schedules[0].cron.expression(), "0 2 * * 1-5");
  EXPECT_EQ(on.trigger.schedules[0].body, nlohmann::json({{"prompt", "make the image more beautiful"}}));
  EXPECT_TRUE(on.trigger.http.has_value());  // and still on demand
}

TEST(PluginExamples, EveryExampleValidates) {
  PluginRegistry registry;
  register_builtin_plugins(registry);
  for (const auto& plugin : registry.all()) {
    const auto& d = *plugin.descriptor;
    EXPECT_FALSE(d.summary.empty()) << d.name;
    EXPECT_FALSE(d.examples.empty()) << d.name << " has no example";
    EXPECT_EQ(d.options_schema.value("type", ""), "object") << d.name;
    for (const auto& example : d.examples) {
      auto check = check_options(d, example);
      for (const auto& issue : check.issues)
        ADD_FAILURE() << to_string(d.kind()) << " " << d.name << " example " << example.dump() << ": "
                      << issue.pointer << " " << issue.message;
    }
    const auto properties = d.options_schema.value("properties", nlohmann::json::object());
    for (const auto& [name, option] : properties.items())
      EXPECT_TRUE(option.contains("description")) << d.name << "." << name << " has no description";
  }
}

}  // namespace
}  // namespace imagepipe
