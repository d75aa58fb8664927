// What the async contract promises beyond the happy path: accepted jobs survive SIGKILL,
// callbacks survive a receiver that is down for a while, SIGTERM lets running jobs end.
#include <signal.h>

#include <functional>
#include <thread>

#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

// The b64 tool's shape over the `slow-echo` test provider: a provider latency with no
// image work, so the daemon's own behaviour is what is measured.
std::string slow_pipeline(int delay_ms, const std::string& fail = "") {
  const auto dir = make_temp_dir("imagepipe-slow-");
  const auto file = dir / "slow.yaml";
  std::ofstream(file) << R"(name: slow-b64
trigger:
  http: {method: POST, path: /slow, mode: async, callback_header: callbackUrl}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64, filename_field: filename}
provider: {use: slow-echo, with: {delay_ms: )"
                      << delay_ms << (fail.empty() ? "" : ", fail: " + fail) << R"(}}
sink: {inline: true}
notifier:
  use: http-callback
  with:
    url: "${request.headers.callbackUrl}"
    omit_empty: true
    body: {status: "${job.status}", job_id: "${job.id}", result_image_base64: "${items[0].base64}",
           error: "${metrics.errors[0]:-}"}
)";
  return file.string();
}

// A job's state is only visible through GET /jobs/{id}: ask until `done` holds (a few
// seconds at most), and fail the test with the last answer otherwise.
json wait_for_job(DaemonProcess& daemon, const std::string& id,
                  const std::function<bool(const json&)>& done) {
  json job;
  for (int i = 0; i < 500; ++i) {
    job = json::parse(daemon.get("/jobs/" + id).body);
    if (done(job)) return job;
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "job never reached the expected state: " << job.dump(2);
  return job;
}

TEST_F(ServeTest, TwentyAcceptedJobsSurviveSigkill) {
  const auto pipeline = slow_pipeline(1000);
  std::set<std::string> accepted;
  std::filesystem::path data;
  {
    DaemonProcess first({.pipelines = {pipeline}, .config_yaml = "limits: {jobs_in_flight: 4}\n"});
    for (int i = 0; i < 20; ++i)
      accepted.insert(accept(first, "/slow", {{"image_base64", png_base64(8, 8)}}));
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait().code, SIGKILL);
    first.keep_data_dir();
    data = first.data_dir();
  }
  ASSERT_EQ(accepted.size(), 20u);
  // Whatever the first process delivered before dying counts too; the rest must follow.
  DaemonProcess second(
      {.pipelines = {pipeline}, .data_dir = data, .config_yaml = "limits: {jobs_in_flight: 8}\n"});
  std::set<std::string> called_back;
  for (std::size_t seen = 0; called_back.size() < accepted.size();) {
    ASSERT_TRUE(receiver_.wait_for_requests(seen + 1, 60s))
        << called_back.size() << " of 20 callbacks arrived\n"
        << second.log();
    const auto requests = receiver_.requests();
    for (; seen < requests.size(); ++seen) {
      const auto body = json::parse(requests[seen].body);
      const auto id = body["job_id"].get<std::string>();
      EXPECT_TRUE(accepted.count(id)) << "a callback for a job nobody accepted: " << id;
      EXPECT_EQ(requests[seen].header("Idempotency-Key"), id);
      EXPECT_EQ(body["status"], "completed");
      called_back.insert(id);
    }
  }
  EXPECT_EQ(called_back, accepted);
  std::filesystem::remove_all(data.parent_path());
}

TEST_F(ServeTest, ACallbackRefusedAtFirstArrivesWithTheSameIdempotencyKey) {
  receiver_.refuse_next(2, 503);
  DaemonProcess daemon({.pipelines = {slow_pipeline(0)},
                        .config_yaml = "callbacks: {base_delay_ms: 50, max_delay_ms: 200}\n"});
  const auto id = accept(daemon, "/slow", {{"image_base64", png_base64(8, 8)}});
  ASSERT_TRUE(receiver_.wait_for_requests(3, 30s)) << daemon.log();
  const auto requests = receiver_.requests();
  for (const auto& r : requests) {
    EXPECT_EQ(r.header("Idempotency-Key"), id);
    EXPECT_EQ(json::parse(r.body)["job_id"], id);
  }
  // The attempts, as the job shows them once the last is recorded.
  const auto job = wait_for_job(
      daemon, id, [](const json& j) { return j["callback"]["status"] == "delivered"; });
  const auto& history = job["callback"]["history"];
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0]["outcome"], "retry");
  EXPECT_EQ(history[0]["error"],
            "callback to " + receiver_.url("/callback") + " answered HTTP 503");
  EXPECT_EQ(history[0]["error_class"], "unavailable");
  EXPECT_TRUE(history[0].contains("next_attempt_at"));
  EXPECT_EQ(history[1]["outcome"], "retry");
  EXPECT_EQ(history[2]["outcome"], "delivered");
}

TEST_F(ServeTest, ConnectionResetsAreRetriedToo) {
  receiver_.drop_next(2);  // read the request, then reset the connection
  DaemonProcess daemon({.pipelines = {slow_pipeline(0)},
                        .config_yaml = "callbacks: {base_delay_ms: 50, max_delay_ms: 200}\n"});
  const auto id = accept(daemon, "/slow", {{"image_base64", png_base64(8, 8)}});
  ASSERT_TRUE(receiver_.wait_for_requests(3, 30s)) << daemon.log();
  for (const auto& r : receiver_.requests()) EXPECT_EQ(r.header("Idempotency-Key"), id);
  const auto job = wait_for_job(
      daemon, id, [](const json& j) { return j["callback"]["status"] == "delivered"; });
  EXPECT_EQ(job["callback"]["attempts"], 3) << job.dump(2);
  EXPECT_EQ(job["callback"]["history"][0]["error_class"], "unavailable");
}

TEST_F(ServeTest, AFailedJobStillCallsBackWithItsError) {
  DaemonProcess daemon({.pipelines = {slow_pipeline(0, "content_policy")}});
  const auto id =
      accept(daemon, "/slow", {{"image_base64", png_base64(8, 8)}, {"filename", "cat.png"}});
  ASSERT_TRUE(receiver_.wait_for_requests(1, 30s)) << daemon.log();
  EXPECT_EQ(
      callbacks()[0],
      json({{"status", "failed"},
            {"job_id", id},
            {"error", "cat.png: slow-echo: slow-echo was told to fail with content_policy"}}));
}

TEST_F(ServeTest, AJobWhoseStoredImageIsGoneFailsWithTheReasonAndTheQueueMovesOn) {
  std::string lost;
  std::filesystem::path data;
  {
    DaemonProcess first({.pipelines = {slow_pipeline(60000)}});
    lost = accept(first, "/slow", {{"image_base64", png_base64(8, 8)}});
    first.signal(SIGKILL);
    first.wait();
    first.keep_data_dir();
    data = first.data_dir();
  }
  // An operator "cleaning up" while the daemon is down.
  std::vector<std::filesystem::path> segments;
  for (const auto& entry : std::filesystem::directory_iterator(data / "inputs"))
    segments.push_back(entry.path());
  ASSERT_EQ(segments.size(), 1u);
  std::filesystem::remove(segments[0]);

  DaemonProcess second({.pipelines = {slow_pipeline(0)}, .data_dir = data});
  const auto job =
      wait_for_job(second, lost, [](const json& j) { return j["status"] == "failed"; });
  EXPECT_EQ(job["error"], "the job's stored images cannot be read: job store: missing file " +
                              segments[0].string())
      << job.dump(2);
  ASSERT_TRUE(receiver_.wait_for_requests(1, 30s)) << second.log();
  EXPECT_EQ(callbacks()[0]["job_id"], lost);
  EXPECT_EQ(callbacks()[0]["status"], "failed");

  const auto next = accept(second, "/slow", {{"image_base64", png_base64(8, 8)}});
  ASSERT_TRUE(receiver_.wait_for_requests(2, 30s)) << second.log();
  EXPECT_EQ(callbacks()[1]["job_id"], next);
  EXPECT_EQ(callbacks()[1]["status"], "completed");
}

TEST_F(ServeTest, SigtermLetsTheRunningJobFinishAndItsCallbackGoOut) {
  DaemonProcess daemon({.pipelines = {slow_pipeline(800)}});
  const auto id = accept(daemon, "/slow", {{"image_base64", png_base64(8, 8)}});
  wait_for_job(daemon, id, [](const json& j) { return j["status"] == "running"; });
  daemon.signal(SIGTERM);
  const auto exit = daemon.wait(30s);
  EXPECT_TRUE(exit.exited) << daemon.log();
  EXPECT_EQ(exit.code, 0);
  ASSERT_EQ(receiver_.request_count(), 1u) << daemon.log();
  EXPECT_EQ(json::parse(receiver_.requests()[0].body)["job_id"], id);
}

}  // namespace
}  // namespace imagepipe::testing
