// trigger.http.auth: who may call a route (enforced by the daemon, serve_auth.cpp).
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "fake_plugins.hpp"

namespace imagepipe {
namespace {

using testing::error_text;

class RouteAuthConfig : public ::testing::Test {
 protected:
  RouteAuthConfig() { testing::register_fake_plugins(registry_); }

  Pipeline load(const std::string& auth) {
    return load_pipeline_text("name: guarded\ntrigger:\n  http: {method: POST, path: /g, auth: " +
                                  auth + "}\nsource: {from: prompt}\nsink: {inline: true}\n",
                              "test.yaml", registry_, {});
  }

  PluginRegistry registry_;
};

TEST_F(RouteAuthConfig, RolesScopesAndAnonymous) {
  const auto p = load("{roles: [Images.Admin, Images.Writer], scopes: images.write}");
  EXPECT_EQ(p.trigger.http->auth.roles,
            (std::vector<std::string>{"Images.Admin", "Images.Writer"}));
  EXPECT_EQ(p.trigger.http->auth.scopes, std::vector<std::string>{"images.write"});
  EXPECT_FALSE(p.trigger.http->auth.anonymous);
  EXPECT_TRUE(p.trigger.http->auth.restricts());
  EXPECT_TRUE(load("{anonymous: true}").trigger.http->auth.anonymous);
}

TEST_F(RouteAuthConfig, AnonymousWithRolesAndUnknownKeysAreErrors) {
  auto text = error_text([&] { load("{anonymous: true, roles: [a]}"); });
  EXPECT_NE(text.find("test.yaml:3:58: error: trigger.http.auth: 'roles' does not apply when "
                      "anonymous is true: no caller is identified"),
            std::string::npos)
      << text;
  text = error_text([&] { load("{role: [a]}"); });
  EXPECT_NE(text.find("trigger.http.auth"), std::string::npos) << text;
  EXPECT_NE(text.find("did you mean 'roles'?"), std::string::npos) << text;
}

}  // namespace
}  // namespace imagepipe
