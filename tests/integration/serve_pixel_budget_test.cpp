// limits.decoded_pixel_bytes through the real daemon: decodes past the budget wait (on the
// job's strand, so /health keeps answering within 100 ms), complete once pixels are freed,
// the gauge never passes the budget, and an image larger than the whole budget fails with
// the error naming the limit.
#include <algorithm>
#include <fstream>
#include <thread>

#include "raw_connection.hpp"
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::StartsWith;

constexpr int kSide = 64;                            // each image: 64x64 RGB
constexpr std::uint64_t kImage = kSide * kSide * 3;  // 12,288 bytes decoded
constexpr std::uint64_t kBudget = 20'000;            // one image fits, two do not
constexpr int kHoldMs = 1500;                        // how long each job holds its pixels

// Decodes, holds the pixels for `kHoldMs` (the slow-hold test transform), then writes the
// result inline.
std::string holding_pipeline() {
  const auto dir = make_temp_dir("imagepipe-pixels-");
  std::ofstream(dir / "hold.yaml") << R"(name: hold
trigger:
  http: {method: POST, path: /hold, mode: async}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
steps:
  - name: hold
    transforms: [{use: slow-hold, with: {delay_ms: )"
                                   << kHoldMs << R"(}}]
sink: {inline: true}
)";
  return (dir / "hold.yaml").string();
}

std::uint16_t port_of(const DaemonProcess& daemon) {
  const auto url = daemon.url();
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::chrono::milliseconds scaled(std::chrono::milliseconds bound) {
  const char* scale = std::getenv("IMAGEPIPE_TEST_TIME_SCALE");
  return bound * (scale ? std::max(1, std::atoi(scale)) : 1);
}

// The median of five GET /health on fresh raw connections, in ms.
std::chrono::milliseconds health_median(DaemonProcess& daemon) {
  std::vector<std::chrono::milliseconds> took;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    RawConnection c(port_of(daemon));
    c.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.closed_within(5s);
    took.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start));
    EXPECT_THAT(c.received(), StartsWith("HTTP/1.1 200 OK\r\n"));
  }
  std::sort(took.begin(), took.end());
  return took[2];
}

// The gauge's value in the /metrics text; -1 when absent.
double gauge(DaemonProcess& daemon) {
  const std::string text = daemon.get("/metrics").body;
  const std::string name = "\nimagepipe_decoded_pixel_bytes ";
  const auto at = text.find(name);
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size()));
}

json job(DaemonProcess& daemon, const std::string& id) {
  return json::parse(daemon.get("/jobs/" + id).body);
}

std::string accept(DaemonProcess& daemon, const std::string& image) {
  auto r = daemon.post("/hold", json{{"image_base64", image}}.dump(),
                       {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 202) << r.body;
  return json::parse(r.body).value("job_id", "");
}

TEST(ServePixelBudget, DecodesPastTheBudgetWaitThenComplete) {
  DaemonProcess daemon({.pipelines = {holding_pipeline()},
                        .config_yaml = "limits: {decoded_pixel_bytes: " + std::to_string(kBudget) +
                                       ", jobs_in_flight: 4}\n"});
  EXPECT_EQ(gauge(daemon), 0) << "the gauge is there from the start";
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(accept(daemon, png_base64(kSide, kSide)));

  // All three run (jobs_in_flight: 4), one holds its pixels, two wait for them.
  std::this_thread::sleep_for(500ms);
  int running = 0;
  for (const auto& id : ids) running += job(daemon, id)["status"] == "running";
  EXPECT_EQ(running, 3);
  EXPECT_EQ(gauge(daemon), double(kImage));
  EXPECT_LT(health_median(daemon), scaled(100ms)) << "while two decodes wait";

  double highest = 0;
  bool done = false;
  while (!done && std::chrono::steady_clock::now() - start < 30s) {
    highest = std::max(highest, gauge(daemon));
    done = true;
    for (const auto& id : ids) done = done && job(daemon, id)["status"] == "completed";
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(done) << job(daemon, ids.back()).dump(2) << daemon.log();
  // One at a time: the last could only decode after two others had held their pixels.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3 * kHoldMs));
  EXPECT_LE(highest, double(kBudget));
  EXPECT_EQ(gauge(daemon), 0) << "every image freed";
  for (const auto& id : ids) {
    const json j = job(daemon, id);
    ASSERT_EQ(j["items"].size(), 1u) << j.dump(2);
    EXPECT_EQ(j["items"][0]["status"], "completed") << j.dump(2);
  }
}

TEST(ServePixelBudget, AnImageLargerThanTheBudgetFailsNamingIt) {
  DaemonProcess daemon(
      {.pipelines = {holding_pipeline()},
       .config_yaml = "limits: {decoded_pixel_bytes: " + std::to_string(kBudget) + "}\n"});
  const std::string id = accept(daemon, png_base64(100, 100));
  json j = json::object();
  for (int i = 0; i < 500 && j.value("status", "") != "failed"; ++i) {
    std::this_thread::sleep_for(10ms);
    j = job(daemon, id);
  }
  ASSERT_EQ(j["status"], "failed") << j.dump(2);
  EXPECT_EQ(j["items"][0]["error"],
            "image is 100x100 with 3 channels: its 30000 bytes of pixels are over the budget of "
            "20000 bytes for decoded pixels in flight (limits.decoded_pixel_bytes)");
  EXPECT_EQ(gauge(daemon), 0);
  // A small one still runs.
  const std::string small = accept(daemon, png_base64(kSide, kSide));
  j = json::object();
  for (int i = 0; i < 500 && j.value("status", "") != "completed"; ++i) {
    std::this_thread::sleep_for(10ms);
    j = job(daemon, small);
  }
  EXPECT_EQ(j["status"], "completed") << j.dump(2);
}

}  // namespace
}  // namespace imagepipe::testing
