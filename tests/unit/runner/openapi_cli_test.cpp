// `imagepipe openapi`: one importable document per tool with --out, the seeds' operationIds,
// and the refusals a user meets (two tools with one operationId, running a template route).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support/cli.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_cli;

const std::string kWxo = std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/wxo";

struct Dir {
  fs::path path = testing::make_temp_dir("ip-openapi-");
  ~Dir() { fs::remove_all(path); }
};

TEST(OpenapiCli, WritesOneCompleteDocumentPerTool) {
  Dir out;
  auto r = run_cli({"openapi", "--server", "https://tools.example.com", "--out",
                    (out.path / "tools").string(), kWxo});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"wxo-edit-b64", {"/process-image-async-b64", "processImageAsyncToBase64"}},
      {"wxo-edit-cos", {"/process-image-async", "processImageAsyncToCos"}},
      {"wxo-batch", {"/batch-process-images", "batchProcessImages"}},
      {"wxo-cos-config", {"/cos/config", "getCosConfig"}}};
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(out.path / "tools")) {
    ++files;
    const std::string name = entry.path().stem().string();
    ASSERT_EQ(entry.path().extension(), ".json");
    ASSERT_TRUE(expected.count(name)) << name;
    EXPECT_NE(r.out.find(entry.path().string()), std::string::npos) << r.out;
    const auto doc = json::parse(testing::read_file(entry.path().string()));
    const auto& [path, operation_id] = expected.at(name);
    EXPECT_EQ(doc["openapi"], "3.0.3");
    EXPECT_EQ(doc["servers"], json::parse(R"([{"url": "https://tools.example.com"}])"));
    ASSERT_EQ(doc["paths"].size(), 1u) << name << ": just that tool";
    ASSERT_TRUE(doc["paths"].contains(path)) << name;
    const auto& item = doc["paths"][path];
    ASSERT_EQ(item.size(), 1u);
    const json& op = item.begin().value();
    EXPECT_EQ(op["operationId"], operation_id);
    EXPECT_FALSE(op["description"].get<std::string>().empty());
    // Orchestrate makes a tool asynchronous when its operation has callbacks.
    EXPECT_EQ(op.contains("callbacks"), name != "wxo-cos-config") << name;
    // Every $ref resolves inside the file itself.
    EXPECT_TRUE(doc["components"]["schemas"].contains("Error")) << name;
  }
  EXPECT_EQ(files, expected.size());
}

TEST(OpenapiCli, PipelineIsRepeatable) {
  Dir out;
  auto r = run_cli({"openapi", "--pipeline", "wxo-batch", "--pipeline", "wxo-cos-config", "--out",
                    out.path.string(), kWxo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out.path / "wxo-batch.json"));
  EXPECT_TRUE(fs::exists(out.path / "wxo-cos-config.json"));
  EXPECT_FALSE(fs::exists(out.path / "wxo-edit-b64.json"));

  auto one = run_cli({"openapi", "--pipeline", "wxo-edit-b64", kWxo});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto doc = json::parse(one.out);
  EXPECT_EQ(doc["paths"].size(), 1u);

  auto unknown = run_cli({"openapi", "--pipeline", "wxo-nope", kWxo});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no served pipeline is named 'wxo-nope'"), std::string::npos)
      << unknown.err;
}

TEST(OpenapiCli, TwoToolsWithOneOperationIdAreRefused) {
  Dir dir;
  for (const char* name : {"first", "second"})
    std::ofstream(dir.path / (std::string(name) + ".yaml"))
        << "name: " << name << "\ntrigger:\n  http: {path: /" << name
        << ", operation_id: editImage}\nsource: {from: prompt}\n";
  auto r = run_cli({"openapi", dir.path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("second.yaml: operation_id 'editImage' is already used by pipeline "
                       "'first'; each served pipeline needs its own"),
            std::string::npos)
      << r.err;
}

// A pipeline on GET /health would answer instead of the daemon's own health check.
TEST(OpenapiCli, ARouteThatHidesADaemonRouteIsRefused) {
  for (const char* path :
       {"/health", "/metrics", "/jobs/mine", "/files", "/ui", "/ui/x", "/docs"}) {
    Dir dir;
    std::ofstream(dir.path / "shadow.yaml")
        << "name: shadow\ntrigger:\n  http: {method: GET, path: " << path
        << ", mode: sync}\nsource: {from: prompt}\n";
    auto r = run_cli({"openapi", dir.path.string()});
    EXPECT_EQ(r.exit_code, 2) << path;
    EXPECT_NE(r.err.find("shadow.yaml: route GET " + std::string(path) +
                         " would hide the daemon's own"),
              std::string::npos)
        << r.err;
  }
}

TEST(OpenapiCli, ATemplateRouteIsNotRun) {
  auto r = run_cli({"run", kWxo + "/cos-config.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a template route (trigger.http.mode: template) runs no job"),
            std::string::npos)
      << r.err;
  auto v = run_cli({"validate", kWxo + "/cos-config.yaml"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace imagepipe
