// Every shipped pipeline and every plugin example is valid: examples are executable.
#include <gtest/gtest.h>

#include <filesystem>

#include "imagepipe/pipeline.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;

TEST(ShippedPipelines, EveryFileLoads) {
  PluginRegistry registry;
  register_builtin_plugins(registry);
  LoadOptions options;
  options.allow_missing_env = true;  // API keys are a deployment matter
  std::size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(IMAGEPIPE_SOURCE_DIR) / "pipelines")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    try {
      load_pipeline(entry.path(), registry, options);
    } catch (const PipelineError& e) {
      ADD_FAILURE() << e.format();
    }
  }
  EXPECT_GE(count, 3u);
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
