// s3 and azure-blob in both roles of a real pipeline, through the `imagepipe` binary:
// the source lists a prefix and gets each object, the sink puts the results with content
// type and metadata and hands back a presigned (S3) or SAS (Azure) URL that curl fetches.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "storage_host.hpp"
#include "support/cli.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using nlohmann::json;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string sample_jpeg() {
  std::ifstream in(std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/samples/sample.jpg",
                   std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `pipeline` with `env`, returns the --json summary.
json run_pipeline(const std::string& yaml, const std::vector<std::string>& env) {
  auto dir = make_temp_dir("ip-pipe");
  std::ofstream(dir / "pipeline.yaml") << yaml;
  auto r = run_cli({"run", (dir / "pipeline.yaml").string(), "--json"}, dir.string(), env);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return json::parse(r.out, nullptr, false);
}

// Both ends of each output: the key follows the seeds' template and the URL serves a PNG.
void expect_outputs(const json& summary, const std::string& url_pattern) {
  ASSERT_EQ(summary["status"], "completed") << summary.dump(2);
  ASSERT_EQ(summary["items"].size(), 2u) << summary.dump(2);
  const auto job = summary["job_id"].get<std::string>();
  for (const auto& item : summary["items"]) {
    const auto& out = item["outputs"][0];
    EXPECT_THAT(out["key"].get<std::string>(),
                MatchesRegex("results/" + job + "/(cat|dog)_modified\\.png"));
    const auto url = out["url"].get<std::string>();
    EXPECT_THAT(url, MatchesRegex(url_pattern));
    auto fetched = run_program({"curl", "-s", "-w", "\n%{http_code}", url});
    EXPECT_THAT(fetched.out, StartsWith("\x89PNG\r\n"));
    EXPECT_TRUE(fetched.out.ends_with("\n200")) << fetched.out.substr(fetched.out.size() - 300);
  }
}

TEST(StoragePipeline, S3AsSourceAndSink) {
  const auto s3rver = node_tool("s3rver");
  if (find_on_path("curl").empty()) GTEST_SKIP() << "curl missing (Debian package curl)";
  if (s3rver.empty())
    GTEST_SKIP()
        << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  S3rverProcess server({"pipeline"});
  const std::string endpoint = server.endpoint();

  StorageHost host;
  auto s3 = host.make("s3", {{"bucket", "pipeline"},
                             {"endpoint", endpoint},
                             {"access_key_id", "S3RVER"},
                             {"secret_access_key", "S3RVER"}});
  auto jpeg = std::make_shared<const std::string>(sample_jpeg());
  host.run(s3->put("in/cat.jpg", jpeg, {"image/jpeg", {}}));
  host.run(s3->put("in/dog.jpg", jpeg, {"image/jpeg", {}}));
  host.run(s3->put("elsewhere/not-me.jpg", jpeg, {"image/jpeg", {}}));

  const std::string with = R"({bucket: pipeline, endpoint: "${S3_ENDPOINT}", region: us-east-1,
        access_key_id: "${AWS_ACCESS_KEY_ID}", secret_access_key: "${AWS_SECRET_ACCESS_KEY}"})";
  auto summary = run_pipeline(R"(name: s3-both-roles
source: {from: storage, use: s3, with: )" +
                                  with + R"(, prefix: in/}
transforms: [{use: invert}, {use: encode, with: {format: png}}]
sink:
  use: s3
  with: )" + with + R"(
  key: "results/${job.id}/${item.stem}_modified.${output.ext}"
  url: presigned
  expires: 600
  metadata: {job_id: "${job.id}", prompt: "invert it"}
)",
                              {"S3_ENDPOINT=" + endpoint, "AWS_ACCESS_KEY_ID=S3RVER",
                               "AWS_SECRET_ACCESS_KEY=S3RVER"});
  expect_outputs(
      summary,
      "http://127\\.0\\.0\\.1:[0-9]+/pipeline/results/.*_modified\\.png\\?X-Amz-Algorithm=.*"
      "X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}");
  for (const auto& item : summary["items"]) {
    auto info = host.run(s3->head(item["outputs"][0]["key"].get<std::string>()));
    EXPECT_EQ(info.content_type, "image/png");
    EXPECT_EQ(info.metadata.at("job_id"), summary["job_id"].get<std::string>());
    EXPECT_EQ(info.metadata.at("prompt"), "invert it");
  }
}

TEST(StoragePipeline, AzureAsSourceAndSink) {
  const auto azurite = node_tool("azurite-blob");
  if (find_on_path("curl").empty()) GTEST_SKIP() << "curl missing (Debian package curl)";
  if (azurite.empty())
    GTEST_SKIP()
        << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  const auto port = free_loopback_port();
  ServerProcess server({azurite, "--blobHost", "127.0.0.1", "--blobPort", std::to_string(port),
                        "--inMemoryPersistence", "--silent", "--disableTelemetry"},
                       port);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port) + "/devstoreaccount1";
  const std::string conn =
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
      std::string(kDevKey) + ";BlobEndpoint=" + endpoint + ";";
  auto created =
      run_program({"node", std::string(IMAGEPIPE_SOURCE_DIR) + "/tests/servers/azure_check.js",
                   conn, "create-container", "pipeline"});
  ASSERT_EQ(created.exit_code, 0) << created.err;

  StorageHost host;
  auto az = host.make("azure-blob", {{"container", "pipeline"}, {"connection_string", conn}});
  auto jpeg = std::make_shared<const std::string>(sample_jpeg());
  host.run(az->put("in/cat.jpg", jpeg, {"image/jpeg", {}}));
  host.run(az->put("in/dog.jpg", jpeg, {"image/jpeg", {}}));

  const std::string with =
      R"({container: pipeline, connection_string: "${AZURE_STORAGE_CONNECTION_STRING}"})";
  auto summary = run_pipeline(R"(name: azure-both-roles
source: {from: storage, use: azure-blob, with: )" +
                                  with + R"(, prefix: in/}
transforms: [{use: invert}, {use: encode, with: {format: png}}]
sink:
  use: azure-blob
  with: )" + with + R"(
  key: "results/${job.id}/${item.stem}_modified.${output.ext}"
  url: presigned
  expires: 600
  metadata: {job_id: "${job.id}"}
)",
                              {"AZURE_STORAGE_CONNECTION_STRING=" + conn});
  expect_outputs(
      summary,
      "http://127\\.0\\.0\\.1:[0-9]+/devstoreaccount1/pipeline/results/.*_modified\\.png\\?"
      "sv=2021-08-06&.*&sr=b&sp=r&sig=.*");
  for (const auto& item : summary["items"]) {
    auto info = host.run(az->head(item["outputs"][0]["key"].get<std::string>()));
    EXPECT_EQ(info.content_type, "image/png");
    EXPECT_EQ(info.metadata.at("job_id"), summary["job_id"].get<std::string>());
  }
}

}  // namespace
}  // namespace imagepipe::testing
