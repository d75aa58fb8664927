// Storage routes (trigger.http.mode: storage) through the real daemon, on `local` and on
// s3rver: a sync job stores an image under a key made from a path parameter, then routes
// that run no job describe it, send its bytes (whole, and by Range), and delete it.
#include "serve_fixture.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

constexpr const char* kBucket = "route-images";

// Four pipelines over one storage (`use: NAME, with: {...}`, in flow style): upload (a
// job), info, download and delete.
void write_pipelines(const std::filesystem::path& dir, const std::string& storage) {
  const std::string id_param =
      "    path_params: {image_id: {type: string, pattern: \"^[a-z0-9-]+$\"}}\n";
  const std::string key = "images/${request.path.image_id}.png";
  write_file(dir / "upload.yaml",
             "name: upload\ntrigger:\n  http:\n    method: POST\n"
             "    path: /api/v1/images/{image_id}\n    mode: sync\n" +
                 id_param +
                 "  request_schema: {type: object, required: [image_base64], properties: "
                 "{image_base64: {type: string}}}\n"
                 "source: {from: request, field: image_base64}\n"
                 "provider: {use: slow-echo}\n"
                 "sink: {" +
                 storage + ", key: \"" + key + "\"}\n");
  const std::vector<std::tuple<std::string, std::string, std::string>> routes = {
      {"info", "GET", "/api/v1/images/{image_id}"},
      {"download", "GET", "/api/v1/images/{image_id}/download"},
      {"delete", "DELETE", "/api/v1/images/{image_id}"}};
  for (const auto& [action, method, path] : routes)
    write_file(dir / (action + ".yaml"),
               "name: image-" + action + "\ntrigger:\n  http:\n    method: " + method +
                   "\n    path: " + path + "\n    mode: storage\n" + id_param + "    storage: {" +
                   storage + ", action: " + action + ", key: \"" + key + "\"}\n");
}

HttpResponse get_range(DaemonProcess& daemon, const std::string& path, const std::string& range) {
  return daemon.request({.url = daemon.url(path), .headers = {{"Range", range}}});
}

// Everything the routes promise, on whichever storage the pipelines name.
void expect_storage_routes(DaemonProcess& daemon, const std::string& stored_path = "") {
  const std::string image = base64_decode(png_base64(16, 12));
  auto upload =
      daemon.post("/api/v1/images/fox-1", json({{"image_base64", base64_encode(image)}}).dump());
  ASSERT_EQ(upload.status, 200) << upload.body << daemon.log();

  auto info = daemon.get("/api/v1/images/fox-1");
  ASSERT_EQ(info.status, 200) << info.body << daemon.log();
  const auto meta = json::parse(info.body);
  EXPECT_EQ(meta["key"], "images/fox-1.png");
  EXPECT_EQ(meta["size"], image.size());
  EXPECT_EQ(meta["content_type"], "image/png");
  EXPECT_TRUE(meta["metadata"].is_object()) << info.body;
  EXPECT_TRUE(meta["last_modified"].is_string()) << info.body;

  auto whole = daemon.get("/api/v1/images/fox-1/download");
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(whole.body, image);
  if (!stored_path.empty()) {
    EXPECT_EQ(whole.body, read_file(stored_path));
  }
  EXPECT_EQ(whole.header("Content-Type").value_or(""), "image/png");
  EXPECT_EQ(whole.header("Accept-Ranges").value_or(""), "bytes");
  EXPECT_EQ(whole.header("ETag").value_or(""), meta["etag"].get<std::string>());

  const std::string size = std::to_string(image.size());
  auto head = get_range(daemon, "/api/v1/images/fox-1/download", "bytes=0-9");
  EXPECT_EQ(head.status, 206);
  EXPECT_EQ(head.body, image.substr(0, 10));
  EXPECT_EQ(head.header("Content-Range").value_or(""), "bytes 0-9/" + size);
  auto tail = get_range(daemon, "/api/v1/images/fox-1/download", "bytes=-5");
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, image.substr(image.size() - 5));
  EXPECT_EQ(tail.header("Content-Range").value_or(""), "bytes " + std::to_string(image.size() - 5) +
                                                           "-" + std::to_string(image.size() - 1) +
                                                           "/" + size);
  auto beyond = get_range(daemon, "/api/v1/images/fox-1/download", "bytes=" + size + "-");
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("Content-Range").value_or(""), "bytes */" + size);
  EXPECT_EQ(
      json::parse(beyond.body),
      json({{"error", "range 'bytes=" + size + "-' is outside the object's " + size + " bytes"}}));

  auto missing = daemon.get("/api/v1/images/no-such");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body), json({{"error", "no object 'images/no-such.png'"}}));
  auto bad = daemon.get("/api/v1/images/Fox!");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(json::parse(bad.body)["detail"][0]["loc"], json({"path", "image_id"})) << bad.body;
  auto put = daemon.request({.method = "PUT", .url = daemon.url("/api/v1/images/fox-1")});
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.header("Allow").value_or(""), "DELETE, GET, POST");

  auto removed = daemon.request({.method = "DELETE", .url = daemon.url("/api/v1/images/fox-1")});
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(json::parse(removed.body), json({{"deleted", "images/fox-1.png"}}));
  EXPECT_EQ(daemon.get("/api/v1/images/fox-1").status, 404);
  EXPECT_EQ(daemon.get("/api/v1/images/fox-1/download").status, 404);
  EXPECT_EQ(daemon.request({.method = "DELETE", .url = daemon.url("/api/v1/images/fox-1")}).status,
            404);
  if (!stored_path.empty()) {
    EXPECT_FALSE(std::filesystem::exists(stored_path));
  }
  EXPECT_EQ(daemon.get("/health").status, 200);
}

TEST(ServeStorageRoutes, InfoDownloadRangeAndDeleteOnLocalStorage) {
  const auto dir = make_temp_dir("imagepipe-storage-routes-");
  const auto root = dir / "store";
  write_pipelines(dir / "pipelines", "use: local, with: {root: \"" + root.string() + "\"}");
  {
    DaemonProcess daemon({.pipelines = {(dir / "pipelines").string()}});
    expect_storage_routes(daemon, (root / "images" / "fox-1.png").string());
    const auto doc = json::parse(daemon.get("/openapi.json").body);
    const auto& download = doc["paths"]["/api/v1/images/{image_id}/download"]["get"];
    EXPECT_EQ(download["parameters"][0]["name"], "image_id");
    EXPECT_TRUE(download["responses"].contains("206"));
  }
  std::filesystem::remove_all(dir);
}

TEST(ServeStorageRoutes, InfoDownloadRangeAndDeleteOnS3rver) {
  if (node_tool("s3rver").empty())
    GTEST_SKIP()
        << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  S3rverProcess server({kBucket});
  const auto dir = make_temp_dir("imagepipe-storage-routes-");
  write_pipelines(dir,
                  "use: s3, with: {bucket: " + std::string(kBucket) + ", endpoint: \"" +
                      server.endpoint() +
                      "\", region: us-east-1, access_key_id: S3RVER, secret_access_key: S3RVER}");
  {
    DaemonProcess daemon({.pipelines = {dir.string()}});
    expect_storage_routes(daemon);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace imagepipe::testing
