// Golden files for the loader's messages. Each tests/data/config/NAME.yaml must fail to
// load with exactly the text in NAME.expected; NAME.env, when present, supplies the
// environment (read with read_dotenv, as the runner reads .env). To add a case, add the
// two files. IMAGEPIPE_UPDATE_GOLDEN=1 rewrites the .expected files from the current
// output: review the diff before committing it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config_test_util.hpp"
#include "fake_plugins.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(IMAGEPIPE_TEST_DATA) / "config";

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> golden_cases() {
  std::vector<std::string> names;
  if (!fs::exists(kGoldenDir)) return names;
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class GoldenPipeline : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenPipeline, FailsWithTheExpectedMessage) {
  const std::string name = GetParam();
  const fs::path yaml = kGoldenDir / (name + ".yaml");
  const fs::path expected_file = kGoldenDir / (name + ".expected");
  const fs::path env_file = kGoldenDir / (name + ".env");

  PluginRegistry registry;
  testing::register_fake_plugins(registry);
  LoadOptions options;
  if (fs::exists(env_file)) options.env_overrides = read_dotenv(env_file);

  const std::string actual = testing::error_text(
      [&] { load_pipeline_text(slurp(yaml), name + ".yaml", registry, options); });
  if (std::getenv("IMAGEPIPE_UPDATE_GOLDEN")) {
    std::ofstream(expected_file, std::ios::binary) << actual << "\n";
    return;
  }
  ASSERT_TRUE(fs::exists(expected_file)) << "no " << expected_file << "; the output was:\n"
                                         << actual;
  std::string expected = slurp(expected_file);
  if (!expected.empty() && expected.back() == '\n') expected.pop_back();
  EXPECT_EQ(actual, expected);
}

INSTANTIATE_TEST_SUITE_P(Config, GoldenPipeline, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string id = info.param;
                           std::replace_if(
                               id.begin(), id.end(),
                               [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
                               '_');
                           return id;
                         });

TEST(GoldenFiles, EveryCaseHasItsExpectedText) {
  const auto names = golden_cases();
  EXPECT_GE(names.size(), 15u) << "golden cases are missing from " << kGoldenDir;
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    const fs::path& file = entry.path();
    if (file.extension() == ".expected" || file.extension() == ".env") {
      EXPECT_TRUE(fs::exists(fs::path(file).replace_extension(".yaml")))
          << file << " has no matching .yaml";
    }
  }
}

}  // namespace
}  // namespace imagepipe
