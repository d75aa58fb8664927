// The dashboard in headless Chromium (tests/ui/dashboard_browser.mjs) against the real
// daemon with auth on: the form makes a job from an uploaded image, the job completes, its
// thumbnail loads, a queued job is cancelled from its page, /docs tries the route. Then
// the daemon itself is asked, so a page that only looked right cannot pass: the job must
// be completed and its thumbnail made. Screenshots are kept in build/test-artifacts/ui/.
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

// Every kind of field the form makes: text, number, enum, boolean, and the image file.
constexpr const char* kPipeline = R"(name: edit
description: Invert an image (the dashboard's browser test).
trigger:
  http: {method: POST, path: /edit, mode: async, summary: Invert an image}
  request_schema:
    type: object
    required: [image_base64]
    properties:
      image_base64: {type: string, description: The image}
      filename: {type: string, description: Its file name}
      caption: {type: string, description: A caption, kept with the job}
      strength: {type: number, minimum: 0, maximum: 1}
      style: {type: string, enum: [plain, bold]}
      sharpen: {type: boolean}
source: {from: request, field: image_base64, filename_field: filename}
provider: {use: local, with: {operation: invert}}
sink: {use: local, with: {root: "${DASHBOARD_OUT}"}, key: "edit/${item.stem}.${output.ext}"}
)";

// Slow enough to hold the one job slot while another waits to be cancelled.
constexpr const char* kSlowPipeline = R"(name: slow
trigger:
  http: {method: POST, path: /slow, mode: async, summary: Echo an image after a minute}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
provider: {use: slow-echo, with: {delay_ms: 60000}}
sink: {inline: true}
)";

TEST(DashboardBrowser, FormJobCompletesWithThumbnailAndDocsTryIt) {
  const std::string chromium = find_on_path("chromium");
  const auto script =
      std::filesystem::path(IMAGEPIPE_SOURCE_DIR) / "tests/ui/dashboard_browser.mjs";
  const auto playwright =
      std::filesystem::path(IMAGEPIPE_SOURCE_DIR) / "tests/servers/node_modules/playwright-core";
  if (chromium.empty() || find_on_path("node").empty() || !std::filesystem::exists(playwright))
    GTEST_SKIP() << "chromium, node or tests/servers/node_modules/playwright-core missing: "
                    "apt-get install chromium; npm ci --prefix tests/servers";

  const auto dir = make_temp_dir("imagepipe-dashboard-browser-");
  write_file(dir / "pipelines" / "edit.yaml", kPipeline);
  write_file(dir / "pipelines" / "slow.yaml", kSlowPipeline);
  const std::string photo = encode(photo_like(900, 600), ImageFormat::png);
  write_file(dir / "photo.png", photo);
  write_file(dir / "body.json",
             json{{"image_base64", base64_encode(encode(gradient(64, 48), ImageFormat::png))},
                  {"filename", "tried.png"}}
                 .dump());
  const std::string key = "browser-test-key";
  DaemonProcess daemon({.pipelines = {(dir / "pipelines").string()},
                        .config_yaml = "auth: {api_keys: [{name: browser, key: " + key +
                                       "}]}\nlimits: {jobs_in_flight: 1}\n",
                        .env = {{"DASHBOARD_OUT", (dir / "out").string()}}});

  const auto artifacts = std::filesystem::path(IMAGEPIPE_BINARY_DIR) / "test-artifacts" / "ui";
  const auto run = run_program({"node", script.string()}, {},
                               {{"DASHBOARD_URL", daemon.url()},
                                {"DASHBOARD_KEY", key},
                                {"DASHBOARD_IMAGE", (dir / "photo.png").string()},
                                {"DASHBOARD_OPERATION", "edit"},
                                {"DASHBOARD_BODY", (dir / "body.json").string()},
                                {"ARTIFACTS", artifacts.string()},
                                {"CHROMIUM", chromium}});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << "\n--- daemon:\n" << daemon.log();

  // Its last line: {"job_id": ..., "thumbnail": {"w", "h"}, ...}.
  const auto end = run.out.find_last_not_of('\n');
  const auto start = run.out.rfind('\n', end);
  const auto seen = json::parse(run.out.substr(start == std::string::npos ? 0 : start + 1));
  const std::string id = seen.value("job_id", "");
  const Headers bearer = {{"Authorization", "Bearer " + key}};
  const auto job = daemon.request({.url = daemon.url("/jobs/" + id), .headers = bearer});
  ASSERT_EQ(job.status, 200) << job.body;
  const auto record = json::parse(job.body);
  EXPECT_EQ(record["status"], "completed") << job.body;
  // What the form sent is what the job holds: the file's bytes, its name from the file.
  EXPECT_EQ(record["items"][0]["name"], "photo.png");
  EXPECT_EQ(record["items"][0]["width"], 900);
  const auto thumb =
      daemon.request({.url = daemon.url("/jobs/" + id + "/items/0/thumbnail"), .headers = bearer});
  ASSERT_EQ(thumb.status, 200);
  EXPECT_EQ(thumb.header("X-Thumbnail-Cache").value_or(""), "hit") << "the page made it";
  EXPECT_LE(probe_image(thumb.body).width, 256);
  EXPECT_EQ(seen["thumbnail"]["w"], probe_image(thumb.body).width);
  const auto cancelled = daemon.request(
      {.url = daemon.url("/jobs/" + seen.value("cancelled_job_id", "")), .headers = bearer});
  EXPECT_EQ(json::parse(cancelled.body)["status"], "cancelled") << cancelled.body;
  for (const auto* shot : {"01-key", "02-form", "03-job", "04-jobs", "05-docs", "06-cancel"})
    EXPECT_TRUE(std::filesystem::exists(artifacts / (std::string(shot) + ".png"))) << shot;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace imagepipe::testing
