// Seed 003's pipeline served by the real daemon: POST /avatars is a job whose record
// (GET /jobs/{id}) shows each step, the results land in S3 (s3rver), the step timings
// reach /metrics, and a provider the request schema does not list is a 422.
#include <thread>

#include <gmock/gmock.h>

#include "fakes/fake_upstream.hpp"
#include "serve_fixture.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

const std::string kAvatar = std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/avatar.yaml";

json wait_until_finished(DaemonProcess& daemon, const std::string& id) {
  json job;
  for (int i = 0; i < 1000; ++i) {
    job = json::parse(daemon.get("/jobs/" + id).body);
    const auto status = job.value("status", "");
    if (status != "queued" && status != "running" && status != "accepted") return job;
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "the job did not finish: " << job.dump(2);
  return job;
}

TEST(ServeAvatar, TheDaemonRunsTheStepsAndReportsEach) {
  if (node_tool("s3rver").empty())
    GTEST_SKIP()
        << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  FakeUpstream fake;
  S3rverProcess s3({"avatars"});
  DaemonProcess daemon({.pipelines = {kAvatar},
                        .env = {{"OPENAI_API_KEY", fake.openai_key},
                                {"OPENAI_BASE_URL", fake.openai_base()},
                                {"S3_ENDPOINT", s3.endpoint()},
                                {"S3_ACCESS_KEY", "S3RVER"},
                                {"S3_SECRET_KEY", "S3RVER"},
                                {"S3_BUCKET_NAME", "avatars"}},
                        .test_plugins = false});

  const auto refused =
      daemon.post("/avatars", R"({"bio": "x", "person_id": "p-1", "provider": "dalle"})",
                  {{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_THAT(refused.body, ::testing::HasSubstr("provider"));
  EXPECT_TRUE(fake.received().empty());

  const auto accepted = daemon.post(
      "/avatars", R"({"bio": "a hiker", "gender": "female", "num_images": 8, "person_id": "p-7"})",
      {{"Content-Type", "application/json"}});
  ASSERT_EQ(accepted.status, 202) << accepted.body << daemon.log();
  const auto job = wait_until_finished(daemon, json::parse(accepted.body)["job_id"]);
  ASSERT_EQ(job["status"], "completed") << job.dump(2);
  const auto& item = job["items"][0];
  ASSERT_EQ(item["steps"].size(), 3u);
  EXPECT_EQ(item["steps"][0]["step"], "base");
  EXPECT_EQ(item["steps"][0]["alternative"], "openai");
  EXPECT_EQ(item["steps"][0]["provider"], "openai");
  EXPECT_EQ(item["steps"][1]["step"], "grid");
  EXPECT_EQ(item["steps"][1]["runs"], 2);
  EXPECT_EQ(item["steps"][2]["images"], 8);
  EXPECT_EQ(item["outputs"].size(), 9u);
  EXPECT_EQ(fake.received("/v1/images/generations").size(), 1u);
  EXPECT_EQ(fake.received("/v1/images/edits").size(), 2u);

  auto listing =
      run_program({"curl", "-s", s3.endpoint() + "/avatars?list-type=2&prefix=avatars/p-7/"});
  std::size_t keys = 0;
  for (auto pos = listing.out.find("<Key>"); pos != std::string::npos;
       pos = listing.out.find("<Key>", pos + 1))
    ++keys;
  EXPECT_EQ(keys, 9u) << listing.out;

  const auto metrics = daemon.get("/metrics").body;
  EXPECT_THAT(metrics, ::testing::HasSubstr(
                           R"(imagepipe_step_seconds_count{pipeline="avatar",step="grid"} 1)"));
}

}  // namespace
}  // namespace imagepipe::testing
