// The dashboard's files as the router serves them: types, versions, and nothing but the
// embedded files (the end-to-end checks are in tests/integration/serve_dashboard_test.cpp).
#include <gtest/gtest.h>

#include "serve_ui.hpp"
#include "serve_ui_assets.hpp"

namespace imagepipe::serve {
namespace {

Response get(const std::string& path, std::map<std::string, std::string> headers = {}) {
  Request r{.method = "GET", .path = path, .headers = std::move(headers)};
  return DashboardPages().handle(r);
}

TEST(DashboardPages, TypesFollowTheExtension) {
  EXPECT_EQ(asset_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(asset_content_type("js/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset_content_type("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(asset_content_type("logo.svg"), "image/svg+xml");
  EXPECT_EQ(asset_content_type("notes"), "application/octet-stream");
  EXPECT_EQ(asset_content_type("x.js.map"), "application/octet-stream");
}

TEST(DashboardPages, EveryEmbeddedFileIsServedWithItsVersion) {
  ASSERT_FALSE(kEmbeddedAssets.empty());
  for (const auto& asset : kEmbeddedAssets) {
    const auto r = get("/ui/" + std::string(asset.name));
    EXPECT_EQ(r.status, 200) << asset.name;
    EXPECT_EQ(r.body, asset.bytes) << asset.name;
    EXPECT_EQ(r.headers.at("ETag"), asset.etag) << asset.name;
    EXPECT_NE(r.content_type, "application/octet-stream") << asset.name << ": a type to add";
  }
}

TEST(DashboardPages, OwnsItsPathsOnly) {
  for (const char* path : {"/ui", "/ui/", "/ui/x", "/docs", "/docs/"})
    EXPECT_TRUE(DashboardPages::owns(path)) << path;
  for (const char* path : {"/", "/uix", "/u", "/docsx", "/docs/x", "/jobs", "/UI"})
    EXPECT_FALSE(DashboardPages::owns(path)) << path;
}

TEST(DashboardPages, IfNoneMatchListsAndWeakTags) {
  const auto etag = get("/ui").headers.at("ETag");
  EXPECT_EQ(get("/ui", {{"if-none-match", etag}}).status, 304);
  EXPECT_EQ(get("/ui", {{"if-none-match", "W/" + etag}}).status, 304);
  EXPECT_EQ(get("/ui", {{"if-none-match", "\"a\",  " + etag + " "}}).status, 304);
  EXPECT_EQ(get("/ui", {{"if-none-match", "*"}}).status, 304);
  EXPECT_EQ(get("/ui", {{"if-none-match", "\"a\", \"b\""}}).status, 200);
  EXPECT_EQ(get("/ui", {{"if-none-match", ""}}).status, 200);
  EXPECT_EQ(get("/ui", {{"if-none-match", ",,,"}}).status, 200);
}

TEST(DashboardPages, OtherPathsAre404AndOtherMethods405) {
  for (const char* path : {"/ui/missing.js", "/ui/../index.html", "/ui/./index.html", "/ui/js",
                           "/ui/%69ndex.html", "/docs/x"})
    EXPECT_EQ(get(path).status, 404) << path;
  Request post{.method = "POST", .path = "/ui"};
  const auto r = DashboardPages().handle(post);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("Allow"), "GET");
  EXPECT_EQ(post.route, "/ui");
}

}  // namespace
}  // namespace imagepipe::serve
