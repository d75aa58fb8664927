// The dashboard's routes against the real daemon: its files with their types, ETags and
// CSP, 404s for anything that is not one of them (traversal included), the auth gate in
// front of the data and not of the pages, the result thumbnails (small, made once, then
// cached) and the image field marked in /openapi.json for the generated forms.
#include <thread>

#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

const char* kKey = "dashboard-test-key";

// An async route on the local provider (invert): an inline sink, or local storage in `out`.
std::string pipeline(const std::string& name, const std::filesystem::path& out = {}) {
  const auto dir = make_temp_dir("imagepipe-dashboard-");
  std::ofstream(dir / (name + ".yaml"))
      << "name: " << name << R"(
trigger:
  http: {method: POST, path: /)"
      << name << R"(, mode: async}
  request_schema:
    type: object
    required: [image_base64]
    properties:
      image_base64: {type: string}
      filename: {type: string}
source: {from: request, field: image_base64, filename_field: filename}
provider: {use: local, with: {operation: invert}}
)"
      << (out.empty() ? "sink: {inline: true}\n"
                      : "sink: {use: local, with: {root: \"" + out.string() +
                            "\"}, key: \"r/${item.stem}.${output.ext}\"}\n");
  return (dir / (name + ".yaml")).string();
}

HttpResponse get(DaemonProcess& daemon, const std::string& path, Headers headers = {}) {
  return daemon.request(
      {.url = daemon.url(path), .headers = std::move(headers), .max_redirects = 0});
}

std::string header(const HttpResponse& r, const char* name) { return r.header(name).value_or(""); }

json finished(DaemonProcess& daemon, const std::string& id, Headers headers = {}) {
  json job;
  for (int i = 0; i < 1500; ++i) {
    job = json::parse(get(daemon, "/jobs/" + id, headers).body);
    if (job.value("finished_at", json()).is_string()) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "job " << id << " did not finish: " << job.dump();
  return job;
}

double metric(DaemonProcess& daemon, const std::string& series) {
  const auto text = daemon.get("/metrics").body;
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size() + 2));
}

std::string submit(DaemonProcess& daemon, const std::string& path, const std::string& image,
                   Headers headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  const auto r =
      daemon.post(path, json{{"image_base64", image}, {"filename", "cat.png"}}.dump(), headers);
  EXPECT_EQ(r.status, 202) << r.body;
  return json::parse(r.body).value("job_id", "");
}

TEST(Dashboard, ServesItsFilesWithTypesCachingAndPolicy) {
  DaemonProcess daemon({.pipelines = {pipeline("inv")}});
  const auto page = get(daemon, "/ui");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page.body, ::testing::HasSubstr("/ui/js/app.js"));
  const auto csp = header(page, "Content-Security-Policy");
  EXPECT_THAT(csp, ::testing::HasSubstr("default-src 'none'"));
  EXPECT_THAT(csp, ::testing::HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, ::testing::Not(::testing::HasSubstr("unsafe")));
  EXPECT_EQ(header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(page, "Cache-Control"), "no-cache");
  EXPECT_EQ(get(daemon, "/ui/").body, page.body);

  for (const auto& [path, type] : std::vector<std::pair<std::string, std::string>>{
           {"/ui/js/app.js", "text/javascript; charset=utf-8"},
           {"/ui/js/api.js", "text/javascript; charset=utf-8"},
           {"/ui/style.css", "text/css; charset=utf-8"},
           {"/docs", "text/html; charset=utf-8"}}) {
    const auto r = get(daemon, path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(header(r, "Content-Type"), type) << path;
    EXPECT_FALSE(r.body.empty()) << path;
  }

  // The same version again: 304 and no body; another version: the file.
  const auto etag = header(page, "ETag");
  ASSERT_FALSE(etag.empty());
  const auto again = get(daemon, "/ui", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get(daemon, "/ui", {{"If-None-Match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(get(daemon, "/ui", {{"If-None-Match", "\"other\""}}).status, 200);

  // Only the embedded files: no file system behind these paths.
  for (const auto* path :
       {"/ui/nope.js", "/ui/../jobs", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/js/", "/ui//index.html",
        "/ui/index.html/", "/docs/x", "/ui/js/../../../../etc/passwd"}) {
    const auto r = get(daemon, path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
    EXPECT_EQ(header(r, "Content-Type"), "application/json") << path;
  }
  const auto post = daemon.post("/ui", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow").value_or(""), "GET");

  // A browser pointed at the daemon lands on the dashboard.
  const auto root = get(daemon, "/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(header(root, "Location"), "/ui/");
}

TEST(Dashboard, PagesAreOpenAndTheirDataBehindAuth) {
  const auto out = make_temp_dir("imagepipe-dashboard-out-");
  DaemonProcess daemon(
      {.pipelines = {pipeline("inv", out)},
       .config_yaml = std::string("auth: {api_keys: [{name: ui, key: ") + kKey + "}]}\n"});
  EXPECT_EQ(get(daemon, "/ui").status, 200);
  EXPECT_EQ(get(daemon, "/ui/js/jobs.js").status, 200);
  EXPECT_EQ(get(daemon, "/docs").status, 200);
  EXPECT_EQ(get(daemon, "/").status, 302);
  EXPECT_EQ(get(daemon, "/ui/nope.js").status, 404);

  EXPECT_EQ(get(daemon, "/jobs").status, 401);
  EXPECT_EQ(get(daemon, "/openapi.json").status, 401);
  const Headers bearer = {{"Authorization", std::string("Bearer ") + kKey}};
  const auto id =
      submit(daemon, "/inv", base64_encode(encode(gradient(300, 200), ImageFormat::png)), bearer);
  EXPECT_EQ(finished(daemon, id, bearer)["status"], "completed");
  const auto thumb = "/jobs/" + id + "/items/0/thumbnail";
  EXPECT_EQ(get(daemon, thumb).status, 401);
  EXPECT_EQ(get(daemon, thumb, {{"X-API-Key", "wrong"}}).status, 401);
  const auto ok = get(daemon, thumb, bearer);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(header(ok, "Content-Type"), "image/jpeg");
  std::filesystem::remove_all(out);
}

// Storage (local, the output's key) and inline results (the job store) alike.
TEST(Dashboard, ThumbnailsAreSmallMadeOnceThenCached) {
  const auto out = make_temp_dir("imagepipe-dashboard-out-");
  DaemonProcess daemon({.pipelines = {pipeline("stored", out), pipeline("inline")}});
  const std::string original = encode(photo_like(1200, 800), ImageFormat::png);
  int made = 0;
  for (const auto* route : {"/stored", "/inline"}) {
    SCOPED_TRACE(route);
    const auto id = submit(daemon, route, base64_encode(original));
    const auto job = finished(daemon, id);
    ASSERT_EQ(job["status"], "completed") << job.dump();
    const auto path = "/jobs/" + id + "/items/0/thumbnail";

    const auto first = get(daemon, path);
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(header(first, "Content-Type"), "image/jpeg");
    EXPECT_EQ(header(first, "X-Thumbnail-Cache"), "miss");
    const auto info = probe_image(first.body);
    EXPECT_EQ(info.format, ImageFormat::jpeg);
    EXPECT_EQ(info.width, 256);
    EXPECT_NEAR(info.height, 171, 1);  // 800 * 256 / 1200
    EXPECT_LT(first.body.size(), original.size() / 10);
    ++made;
    EXPECT_EQ(metric(daemon, "imagepipe_thumbnails_total{outcome=\"made\"}"), made);

    const auto second = get(daemon, path + "?output=0");
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(header(second, "X-Thumbnail-Cache"), "hit");
    EXPECT_EQ(second.body, first.body);
    EXPECT_EQ(metric(daemon, "imagepipe_thumbnails_total{outcome=\"made\"}"), made)
        << "the second request made it again";
    EXPECT_GE(metric(daemon, "imagepipe_thumbnails_total{outcome=\"cached\"}"), made);

    // What is not there is a 4xx naming it, never a crash.
    EXPECT_EQ(get(daemon, "/jobs/" + id + "/items/1/thumbnail").status, 404);
    EXPECT_EQ(get(daemon, "/jobs/" + id + "/items/-1/thumbnail").status, 404);
    EXPECT_EQ(get(daemon, "/jobs/" + id + "/items/99999999999999/thumbnail").status, 404);
    EXPECT_EQ(get(daemon, "/jobs/" + id + "/items/x/thumbnail").status, 404);
    EXPECT_EQ(get(daemon, "/jobs/" + id + "/items//thumbnail").status, 404);
    EXPECT_EQ(get(daemon, "/jobs/" + id + "/items/0/1/thumbnail").status, 404);
    EXPECT_EQ(get(daemon, path + "?output=7").status, 404);
    EXPECT_EQ(get(daemon, path + "?output=a").status, 400);
    EXPECT_EQ(daemon.post(path, "").status, 405);
  }
  EXPECT_EQ(get(daemon, "/jobs/not-a-job/items/0/thumbnail").status, 400);
  EXPECT_EQ(get(daemon, "/jobs/0b6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9b/items/0/thumbnail").status,
            404);
  std::filesystem::remove_all(out);
}

TEST(Dashboard, OpenApiMarksTheImageFieldForForms) {
  DaemonProcess daemon({.pipelines = {pipeline("inv")}});
  const auto doc = json::parse(daemon.get("/openapi.json").body);
  const auto& properties = doc["paths"]["/inv"]["post"]["requestBody"]["content"]
                              ["application/json"]["schema"]["properties"];
  EXPECT_EQ(properties["image_base64"]["x-imagepipe-image"], "base64");
  EXPECT_EQ(properties["filename"]["x-imagepipe-filename"], true);
}

}  // namespace
}  // namespace imagepipe::testing
