// The runner as a user meets it: exit codes, --json, outputs on disk, diagnostics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "imagepipe/image.hpp"
#include "support/cli.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

const std::string kSource = IMAGEPIPE_SOURCE_DIR;
const std::string kSample = kSource + "/pipelines/samples/sample.jpg";
const std::string kGrid = kSource + "/pipelines/samples/grid-2x2.png";

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("ip-runner-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Cli, LocalEditWritesTheFallbackAndExitsZero) {
  TempDir out;
  auto r = run_cli({"run", kSource + "/pipelines/local-edit.yaml", "--input", kSample, "--out", out.path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto result = out.path / "local-edit/sample_modified.png";
  ASSERT_TRUE(fs::exists(result)) << r.out;
  auto info = probe_image(slurp(result));
  EXPECT_EQ(info.format, ImageFormat::png);
  auto input = probe_image(slurp(kSample));
  EXPECT_EQ(info.width, input.width);
  EXPECT_EQ(info.height, input.height);
  EXPECT_NE(r.out.find("local-edit: completed"), std::string::npos) << r.out;
}

TEST(Cli, JsonSummaryOnStdout) {
  TempDir out;
  auto r = run_cli({"run", kSource + "/pipelines/grid-split.yaml", "--input", kGrid, "--out", out.path.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["status"], "completed");
  EXPECT_EQ(summary["metrics"]["total_files"], 1);
  EXPECT_EQ(summary["metrics"]["outputs"], 4);
  ASSERT_EQ(summary["items"][0]["outputs"].size(), 4u);
  for (int i = 1; i <= 4; ++i)
    EXPECT_TRUE(fs::exists(out.path / ("grid/grid-2x2_" + std::to_string(i) + ".png"))) << i;
}

TEST(Cli, JsonSummaryOfALargeBatchListsEveryItemInIndexOrder) {
  // More items than a result keeps: the rest come back from run's temporary file.
  TempDir dir;
  fs::create_directories(dir.path / "in" / "batch");
  const auto png = encode_image(Image(8, 8, 3), EncodeSpec{ImageFormat::png});
  constexpr int kItems = 1050;
  for (int i = 0; i < kItems; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "i%05d.png", i);
    std::ofstream(dir.path / "in" / "batch" / name, std::ios::binary) << (i == 1030 ? "bad" : png);
  }
  std::ofstream(dir.path / "batch.yaml")
      << "name: big\nsource: {from: storage, use: local, with: {root: \""
      << (dir.path / "in").string()
      << "\"}, prefix: batch/}\ntransforms: [{use: resize, with: {mode: fit, width: 4, height: "
         "4}}]\n"
         "sink: {use: local, with: {root: \""
      << (dir.path / "out").string() << "\"}, key: \"${item.stem}.${output.ext}\"}\n";
  auto r = run_cli({"run", (dir.path / "batch.yaml").string(), "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["status"], "completed_with_errors");
  EXPECT_EQ(summary["metrics"]["total_files"], kItems);
  EXPECT_EQ(summary["metrics"]["failed"], 1);
  ASSERT_EQ(summary["items"].size(), static_cast<std::size_t>(kItems));
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(summary["items"][i]["index"], i);
  EXPECT_EQ(summary["items"][1030]["status"], "failed");
  EXPECT_EQ(summary["items"][1049]["name"], "batch/i01049.png");
  EXPECT_EQ(summary["items"][1049]["outputs"][0]["width"], 4);
}

TEST(Cli, FailedItemGivesExitOne) {
  TempDir in, out;
  fs::copy_file(kSample, in.path / "good.jpg");
  std::ofstream(in.path / "broken.jpg") << "not a jpeg";
  auto r = run_cli({"run", kSource + "/pipelines/thumbnails.yaml", "--input", in.path.string(), "--out",
                    out.path.string(), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["status"], "completed_with_errors");
  EXPECT_EQ(summary["metrics"]["processed"], 1);
  EXPECT_EQ(summary["metrics"]["failed"], 1);
  EXPECT_TRUE(fs::exists(out.path / "thumbnails/good.jpg"));
}

TEST(Cli, InvalidPipelineGivesExitTwoWithLocation) {
  TempDir dir;
  auto file = dir.path / "bad.yaml";
  std::ofstream(file) << "name: bad\nsource: {from: prompt}\nconcurency: 4\n";
  auto r = run_cli({"run", file.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(file.string() + ":3:1: error: unknown key 'concurency'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'concurrency'?"), std::string::npos) << r.err;

  auto v = run_cli({"validate", file.string(), kSource + "/pipelines/local-edit.yaml"});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.out.find("local-edit.yaml: ok (local-edit)"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("1 of 2 pipeline(s) valid"), std::string::npos) << v.out;
}

TEST(Cli, UsageErrorsGiveExitTwo) {
  EXPECT_EQ(run_cli({"run", "/no/such/file.yaml"}).exit_code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
  auto r = run_cli({"run", kSource + "/pipelines/local-edit.yaml", "--set", "novalue"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--set expects KEY=VALUE, got 'novalue'"), std::string::npos) << r.err;
}

TEST(Cli, PluginsDescribeComesFromTheDescriptor) {
  auto r = run_cli({"plugins", "describe", "storage/local", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["kind"], "storage");
  EXPECT_EQ(j["options_schema"]["required"][0], "root");
  auto unknown = run_cli({"plugins", "describe", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no plugin named 'nope'"), std::string::npos);
  auto list = run_cli({"plugins", "list"});
  EXPECT_NE(list.out.find("notifier/log"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace imagepipe
