// Signed links to `local` storage, answered by the daemon: GET /files/<pipeline>/<key>.
#include <chrono>

#include "imagepipe/signing.hpp"
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

constexpr const char* kSecret = "0123456789abcdef-files";

class ServeFilesTest : public ::testing::Test {
 protected:
  ServeFilesTest() : root_(make_temp_dir("imagepipe-files-")) {
    const auto file = root_ / "files.yaml";
    // The link base is the public address a proxy would give; tests ask the daemon for
    // the path and query only.
    std::ofstream(file)
        << R"(name: files-demo
trigger:
  http: {method: POST, path: /edit, mode: sync}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64, filename_field: filename}
provider: {use: slow-echo, with: {delay_ms: 0}}
sink:
  use: local
  with: {root: ")"
        << (root_ / "out").string()
        << R"(", url_base: "https://images.example.com/files/files-demo/", url_secret: ")"
        << kSecret << R"("}
  key: "results/${item.stem} 1+1=2%.png"
  url: presigned
  expires: 60
)";
    pipeline_ = file.string();
  }
  ~ServeFilesTest() override { std::filesystem::remove_all(root_); }

  // Runs one job and returns its output's link, path and query only.
  std::string link(DaemonProcess& daemon) {
    auto r = daemon.post(
        "/edit", json({{"image_base64", png_base64(8, 8)}, {"filename", "cat.png"}}).dump());
    EXPECT_EQ(r.status, 200) << r.body << daemon.log();
    const auto url = json::parse(r.body)["items"][0]["outputs"][0].value("url", "");
    const std::string origin = "https://images.example.com";
    EXPECT_EQ(url.rfind(origin + "/files/files-demo/results/cat%201%2B1%3D2%25.png?expires=", 0),
              0u)
        << url;
    return url.substr(origin.size());
  }

  std::filesystem::path root_;
  std::string pipeline_;
};

TEST_F(ServeFilesTest, ALinkServesTheStoredBytesUntilItExpires) {
  DaemonProcess daemon({.pipelines = {pipeline_}});
  const auto path = link(daemon);
  auto r = daemon.get(path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, base64_decode(png_base64(8, 8)));
  EXPECT_EQ(r.header("Content-Type"), "image/png");
  EXPECT_THAT(r.header("Cache-Control").value_or(""), ::testing::StartsWith("private, max-age="));
  EXPECT_EQ(r.body, read_file((root_ / "out" / "results" / "cat 1+1=2%.png").string()));
}

TEST_F(ServeFilesTest, TamperedExpiredOrUnknownLinksAreRefused) {
  DaemonProcess daemon({.pipelines = {pipeline_}});
  const auto path = link(daemon);
  const std::string key = "results/cat 1+1=2%.png";
  const std::string encoded = "/files/files-demo/results/cat%201%2B1%3D2%25.png";

  // Another key with the same signature.
  auto other = path;
  other.replace(other.find("cat%20"), 6, "dog%20");
  auto r = daemon.get(other);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["error"], "the link's signature does not match");

  // A later expiry with the old signature.
  const auto sig = path.substr(path.find("&signature="));
  r = daemon.get(encoded + "?expires=99999999999" + sig);
  EXPECT_EQ(r.status, 403);

  // Correctly signed, but past its expiry.
  const auto past = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count() -
                    10;
  r = daemon.get(encoded + "?expires=" + std::to_string(past) +
                 "&signature=" + storage_link_signature(kSecret, key, past));
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(),
              ::testing::MatchesRegex("the link expired 1[0-9] s ago"));

  r = daemon.get(encoded);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["error"], "a file link needs its expires and signature parameters");

  r = daemon.get("/files/another-pipeline/x.png?expires=1&signature=00");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["error"],
            "no signed files are served for pipeline 'another-pipeline'");

  // A signed link to a key that escapes the root is still refused by the storage.
  const std::int64_t later = past + 3600;
  r = daemon.get("/files/files-demo/..%2F..%2Fetc%2Fpasswd?expires=" + std::to_string(later) +
                 "&signature=" + storage_link_signature(kSecret, "../../etc/passwd", later));
  EXPECT_EQ(r.status, 400) << r.body;

  HttpRequest put;
  put.method = "PUT";
  put.url = daemon.url(path);
  EXPECT_EQ(daemon.request(put).status, 405);
  EXPECT_EQ(daemon.get("/health").status, 200);  // still serving
}

}  // namespace
}  // namespace imagepipe::testing
