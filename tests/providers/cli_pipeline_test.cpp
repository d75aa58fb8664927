// Shipped pipelines through the real binary, against the fake upstream: what a user runs.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/engine.hpp"
#include "imagepipe/image.hpp"
#include "support/cli.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("ip-providers-" + new_job_id());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  // The local storage keeps object metadata in .imagepipe-meta/ beside the objects.
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().string().find(".imagepipe-meta") == std::string::npos)
      out.push_back(e.path());
  return out;
}

TEST(ShippedProviderPipelines, OpenAIGenerateRunsAgainstTheFake) {
  FakeUpstream fake;
  TempDir out;
  auto r = run_cli(
      {"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/openai-generate.yaml", "-p",
       "a red fox in snow", "--set", "size=1536x1024", "--out", out.path.string(), "--json"},
      {},
      {"OPENAI_API_KEY=" + fake.openai_key, "OPENAI_BASE_URL=" + fake.openai_base(),
       "OPENAI_IMAGE_MODEL=gpt-image-1.5", "OPENAI_IMAGE_QUALITY=medium",
       "OPENAI_IMAGE_OUTPUT_FORMAT=jpeg"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["items"][0]["provider"], "openai");
  EXPECT_EQ(summary["metrics"]["fell_back"], 0);
  EXPECT_EQ(summary["metrics"]["usage"]["output_tokens"], 4160);
  const auto written = files_under(out.path);
  ASSERT_EQ(written.size(), 1u);
  const auto info = probe_image(read_file(written[0].string()));
  EXPECT_EQ(info.format, ImageFormat::jpeg);
  EXPECT_EQ(info.width, 1536);
  const auto sent = fake.received("/v1/images/generations");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].json["model"], "gpt-image-1.5");
  EXPECT_EQ(sent[0].json["quality"], "medium");
  EXPECT_EQ(sent[0].json["output_format"], "jpeg");
  EXPECT_EQ(sent[0].json["prompt"], "a red fox in snow");
  EXPECT_EQ(r.err.find(fake.openai_key), std::string::npos);
}

TEST(ShippedProviderPipelines, OpenAIEditFallsBackOnTheBillingLimit) {
  FakeUpstream fake;
  fake.fail_next(1, Failure::billing_limit);
  TempDir out;
  const auto input = out.path / "in" / "photo.png";
  fs::create_directories(input.parent_path());
  std::ofstream(input, std::ios::binary) << encode(solid(40, 30, {200, 30, 60}), ImageFormat::png);
  auto r =
      run_cli({"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/openai-edit.yaml", "-i",
               input.string(), "-p", "add a dog", "--out", (out.path / "out").string(), "--json"},
              {}, {"OPENAI_API_KEY=" + fake.openai_key, "OPENAI_BASE_URL=" + fake.openai_base()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["metrics"]["fell_back"], 1);
  EXPECT_EQ(summary["items"][0]["provider"], "local");
  EXPECT_THAT(summary["metrics"]["errors"][0].get<std::string>(),
              ::testing::StartsWith(
                  "photo.png: openai billing_limit (Billing hard limit has been reached"));
  const auto written = files_under(out.path / "out");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(pixel(decode_image(read_file(written[0].string())), 0, 0),
            (std::vector<std::uint8_t>{55, 225, 195}));
}

TEST(ShippedProviderPipelines, FluxSchnellOnACompatibleHost) {
  FakeUpstream fake;
  TempDir out;
  auto r = run_cli(
      {"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/flux-schnell.yaml", "-p",
       "isometric tiny house", "--out", out.path.string()},
      {}, {"TOGETHER_API_KEY=" + fake.openai_key, "FLUX_SCHNELL_BASE_URL=" + fake.openai_base()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto written = files_under(out.path);
  ASSERT_EQ(written.size(), 1u);
  const auto info = probe_image(read_file(written[0].string()));
  EXPECT_EQ(info.width, 1024);
  EXPECT_EQ(info.height, 768);
}

TEST(ShippedProviderPipelines, FluxGenerateAgainstTheFakeBfl) {
  FakeUpstream fake;
  fake.flux_pending_polls = 1;
  TempDir out;
  auto r = run_cli({"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/flux-generate.yaml",
                    "-p", "a lighthouse at dusk", "--out", out.path.string()},
                   {}, {"BFL_API_KEY=" + fake.flux_key, "BFL_BASE_URL=" + fake.root()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto written = files_under(out.path);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(probe_image(read_file(written[0].string())).width, 1024);
}

}  // namespace
}  // namespace imagepipe::testing
