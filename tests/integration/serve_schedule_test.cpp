// Schedules through the real daemon: a schedule-only pipeline fires at its due time and
// its job runs to the callback; a restart after an outage runs the missed period once.
// The schedules' clock is set with the hidden --test-schedule-clock flag a second or two
// before a due time, so nothing waits for a real 02:00.
#include <signal.h>

#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

class ServeScheduleTest : public ServeTest {
 protected:
  std::string nightly_pipeline() {
    const auto file = make_temp_dir("imagepipe-schedule-") / "nightly.yaml";
    std::ofstream(file) << R"(name: nightly
trigger:
  request_schema: {type: object, required: [prompt], properties: {prompt: {type: string}}}
  schedule: {cron: "0 2 * * *", timezone: Europe/Paris, body: {prompt: "nightly run"}}
source: {from: prompt}
provider: {use: slow-echo, with: {delay_ms: 0}}
sink: {inline: true}
notifier:
  use: http-callback
  with:
    url: ")" << receiver_.url("/callback")
                        << R"("
    body: {status: "${job.status}", job_id: "${job.id}", prompt: "${request.body.prompt}"}
)";
    return file.string();
  }

  json schedule_status(DaemonProcess& daemon) {
    const auto ready = json::parse(daemon.get("/health/ready").body);
    return ready["pipelines"]["nightly"]["schedules"][0];
  }
};

TEST_F(ServeScheduleTest, FiresAtTheDueTimeAndCatchesUpOnceAfterAnOutage) {
  const auto pipeline = nightly_pipeline();
  std::filesystem::path data;
  {
    // 02:00 in Paris on 1 January is 01:00 UTC: due two seconds after start.
    DaemonProcess first(
        {.pipelines = {pipeline}, .args = {"--test-schedule-clock", "2026-01-01T00:59:58Z"}});
    ASSERT_TRUE(receiver_.wait_for_requests(1, 30s)) << first.log();
    const auto callback = callbacks().at(0);
    EXPECT_EQ(callback["status"], "completed");
    EXPECT_EQ(callback["prompt"], "nightly run");
    const auto status = schedule_status(first);
    EXPECT_EQ(status["cron"], "0 2 * * *");
    EXPECT_EQ(status["timezone"], "Europe/Paris");
    EXPECT_EQ(status["last_run"], "2026-01-01T01:00:00.000Z");
    EXPECT_EQ(status["last_job_id"], callback["job_id"]);
    EXPECT_EQ(status["next_run"], "2026-01-02T01:00:00.000Z");
    // A schedule has no route, so nothing of it is in the OpenAPI document.
    EXPECT_EQ(json::parse(first.get("/openapi.json").body)["paths"], json::object());
    first.signal(SIGTERM);
    EXPECT_EQ(first.wait().code, 0) << first.log();
    first.keep_data_dir();
    data = first.data_dir();
  }
  // Down for three nights: the last of them runs once, at start.
  DaemonProcess second({.pipelines = {pipeline},
                        .data_dir = data,
                        .args = {"--test-schedule-clock", "2026-01-04T05:00:00Z"}});
  ASSERT_TRUE(receiver_.wait_for_requests(2, 30s)) << second.log();
  const auto status = schedule_status(second);
  EXPECT_EQ(status["last_run"], "2026-01-04T01:00:00.000Z");
  EXPECT_EQ(status["next_run"], "2026-01-05T01:00:00.000Z");
  EXPECT_EQ(status["last_job_id"], callbacks().at(1)["job_id"]);
  EXPECT_NE(callbacks().at(0)["job_id"], callbacks().at(1)["job_id"]);
  EXPECT_NE(second.log().find("missed its runs"), std::string::npos) << second.log();
}

}  // namespace
}  // namespace imagepipe::testing
