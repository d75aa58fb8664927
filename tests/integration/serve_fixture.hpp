// Shared by the daemon's end-to-end tests: a callback receiver, request bodies with real
// images, and the shipped watsonx Orchestrate pipelines.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "daemon_process.hpp"
#include "imagepipe/image.hpp"
#include "support/http_test_server.hpp"
#include "support/images.hpp"

namespace imagepipe::testing {

using nlohmann::json;

inline const std::string kWxoDir = std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/wxo";
inline std::string wxo(const std::string& file) { return kWxoDir + "/" + file; }
// The same tools on local folders with OpenAI optional: the daemon's own tests need no
// key and no object store (the shipped tools are tested on s3rver in tests/providers).
inline const std::string kWxoOfflineDir = std::string(IMAGEPIPE_SOURCE_DIR) + "/examples/wxo-offline";

// A small PNG, base64: solid colour, so the local fallback's inversion is checkable.
inline std::string png_base64(int width = 64, int height = 48,
                              std::vector<std::uint8_t> color = {200, 30, 60}) {
  return base64_encode(encode(solid(width, height, std::move(color)), ImageFormat::png));
}

inline json b64_request(const std::string& image = png_base64(),
                        const std::string& filename = "burger.jpeg") {
  return {{"prompt", "add a dog to the image"}, {"filename", filename}, {"image_base64", image}};
}

// The callback receiver answers 200 {"ok": true}, like the seeds' test receiver.
class ServeTest : public ::testing::Test {
 protected:
  ServeTest() {
    receiver_.on("POST", "/callback", TestResponse{.status = 200, .body = R"({"ok": true})"});
  }

  Headers callback_header() const { return {{"callbackUrl", receiver_.url("/callback")}}; }

  // Posts and expects a 202 with the seeds' exact body; returns the job id.
  std::string accept(DaemonProcess& daemon, const std::string& path, const json& body) {
    auto r = daemon.post(path, body.dump(), callback_header());
    EXPECT_EQ(r.status, 202) << r.body << "\n" << daemon.log();
    auto j = json::parse(r.body);
    EXPECT_EQ(j.size(), 2u) << r.body;
    EXPECT_EQ(j["accepted"], true);
    EXPECT_THAT(j["job_id"].get<std::string>(),
                ::testing::MatchesRegex(
                    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    return j.value("job_id", "");
  }

  // The callbacks received so far, as JSON bodies.
  std::vector<json> callbacks() const {
    std::vector<json> out;
    for (const auto& r : receiver_.requests())
      if (r.path == "/callback") out.push_back(json::parse(r.body));
    return out;
  }

  HttpTestServer receiver_;
};

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace imagepipe::testing
