// trigger.http.responses, path_params and mode: storage as the loader reads them, and the
// mistakes it names at their line: a parameter the path lacks, a class that does not
// exist, a success answered with an error status, a storage route without its storage.
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "fake_plugins.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
using testing::error_text;

class RouteConfig : public ::testing::Test {
 protected:
  RouteConfig() { testing::register_fake_plugins(registry_); }

  Pipeline load(std::string_view yaml) {
    return load_pipeline_text(yaml, "test.yaml", registry_, {});
  }
  std::string error(std::string_view yaml) {
    return error_text([&] { load(yaml); });
  }

  PluginRegistry registry_;
};

std::string job_route(const std::string& http) {
  return "name: route\ntrigger:\n  http:\n" + http +
         "source: {from: prompt}\nprovider: {use: echo, with: {operation: edit}}\n";
}

TEST_F(RouteConfig, ReadsResponsesAndPathParameters) {
  const auto p = load(job_route(R"(    method: PUT
    path: /images/{image_id}/v/{n}
    mode: sync
    path_params: {n: {type: integer, minimum: 1}}
    responses:
      completed: {status: 201, body: {id: "${request.path.image_id}"}}
      failed: {by_class: {content_policy: 400}, body: {message: "${error.message}"}}
      error: {body: {success: false, correlation_id: "${request.id}"}}
)"));
  const auto& http = *p.trigger.http;
  EXPECT_EQ(http.path_params.at("n"), json({{"type", "integer"}, {"minimum", 1}}));
  EXPECT_EQ(http.path_params.at("image_id"), json({{"type", "string"}, {"minLength", 1}}));
  EXPECT_EQ(http.responses.completed->status, 201);
  EXPECT_EQ(http.responses.completed->body->render({{"request", {{"path", {{"image_id", "a"}}}}}}),
            json({{"id", "a"}}));
  EXPECT_FALSE(http.responses.failed->status);
  EXPECT_EQ(http.responses.failed->by_class, (std::map<std::string, int>{{"content_policy", 400}}));
  EXPECT_TRUE(http.responses.error);
  EXPECT_FALSE(http.responses.invalid_request);
}

TEST_F(RouteConfig, MistakesAreNamedAtTheirLine) {
  auto text =
      error(job_route("    path: /images/{id}\n    path_params: {image_id: {type: string}}\n"));
  EXPECT_NE(text.find("test.yaml:5:19: error: trigger.http.path_params: 'image_id' is not a "
                      "parameter of the path"),
            std::string::npos)
      << text;

  text = error(job_route("    path: /images/{id}x\n"));
  EXPECT_NE(text.find("a parameter is a whole segment"), std::string::npos) << text;

  text =
      error(job_route("    path: /a\n    responses: {failed: {by_class: {content_polcy: 400}}}\n"));
  EXPECT_NE(text.find("'content_polcy' is not an error class"), std::string::npos) << text;
  EXPECT_NE(text.find("did you mean 'content_policy'?"), std::string::npos) << text;

  text = error(job_route("    path: /a\n    responses: {completed: {status: 500}}\n"));
  EXPECT_NE(text.find("trigger.http.responses.completed.status"), std::string::npos) << text;

  text = error(
      job_route("    path: /a\n    responses: {completed: {body: {x: \"${error.mesage}\"}}}\n"));
  EXPECT_NE(text.find("unknown field 'mesage' in error"), std::string::npos) << text;
}

TEST_F(RouteConfig, AStorageRouteNeedsItsStorageAndNoJobSections) {
  const auto p = load(R"(name: info
trigger:
  http:
    method: GET
    path: /images/{id}
    mode: storage
    storage: {use: disk, with: {root: /srv}, action: download, key: "images/${request.path.id}.png"}
)");
  const auto& route = *p.trigger.http->storage;
  EXPECT_EQ(route.action, StorageRoute::Action::download);
  EXPECT_EQ(route.storage->use, "disk");
  EXPECT_EQ(route.key.render_string({{"request", {{"path", {{"id", "x"}}}}}}), "images/x.png");
  EXPECT_TRUE(p.trigger.runs_no_job());

  auto text = error("name: info\ntrigger:\n  http: {method: GET, path: /i, mode: storage}\n");
  EXPECT_NE(text.find("storage"), std::string::npos) << text;
  EXPECT_NE(text.find("when mode is 'storage'"), std::string::npos) << text;

  text = error(
      "name: info\ntrigger:\n  http: {method: GET, path: /i, mode: storage, storage: {use: disk, "
      "action: peek, key: k}}\nsource: {from: prompt}\n");
  EXPECT_NE(text.find("peek"), std::string::npos) << text;
  EXPECT_NE(text.find("source"), std::string::npos) << text;

  // A parameter the path does not have would render empty: caught when the file loads.
  text = error(R"(name: info
trigger:
  http:
    method: GET
    path: /images/{image_id}
    mode: storage
    storage: {use: disk, with: {root: /srv}, action: info, key: "images/${request.path.imageid}.png"}
)");
  EXPECT_NE(
      text.find("test.yaml:7:73: error: trigger.http.storage.key: 'imageid' is not a parameter of "
                "trigger.http.path"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("did you mean 'image_id'?"), std::string::npos) << text;

  text = error(job_route("    path: /a\n    storage: {use: disk, action: info, key: k}\n"));
  EXPECT_NE(text.find("only applies when mode is 'storage'"), std::string::npos) << text;
}

}  // namespace
}  // namespace imagepipe
