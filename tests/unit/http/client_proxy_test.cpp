#include <gmock/gmock.h>

#include "client_fixture.hpp"
#include "tiny_proxy.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::StartsWith;

class ProxyClientTest : public ClientTest {
 protected:
  TinyProxy proxy_;
  void use_proxy(ProxySettings settings, std::string ca_file = {}) {
    HttpClientOptions options;
    options.proxy = std::move(settings);
    options.ca_file = std::move(ca_file);
    use_options(options);
  }
};

TEST_F(ProxyClientTest, PlainHttpGoesToTheProxyInAbsoluteForm) {
  HttpTestServer server;
  server.on("GET", "/x", TestResponse{.body = "via proxy"});
  use_proxy({.http_proxy = "http://bob:pw@" + proxy_.url()});
  const std::string authority = "upstream.test:" + std::to_string(server.port());

  EXPECT_EQ(get("http://" + authority + "/x?q=1").body, "via proxy");
  ASSERT_EQ(proxy_.heads().size(), 1u);
  const std::string head = proxy_.heads()[0];
  EXPECT_THAT(head, StartsWith("GET http://" + authority + "/x?q=1 HTTP/1.1\r\n"));
  EXPECT_NE(head.find("Proxy-Authorization: Basic " + base64_encode("bob:pw") + "\r\n"),
            std::string::npos);
  EXPECT_EQ(server.requests().at(0).header("Host"), authority);
  EXPECT_EQ(server.requests().at(0).header("Proxy-Authorization"), std::nullopt);
}

TEST_F(ProxyClientTest, HttpsTunnelsThroughConnect) {
  HttpTestServer server({.tls = true, .tls_names = {"upstream.test"}});
  server.on("GET", "/secret", TestResponse{.body = "tunnelled"});
  use_proxy({.https_proxy = proxy_.url()}, server.ca_file());
  const std::string authority = "upstream.test:" + std::to_string(server.port());

  EXPECT_EQ(get("https://" + authority + "/secret?sig=1").body, "tunnelled");
  EXPECT_EQ(get("https://" + authority + "/secret").body, "tunnelled");
  ASSERT_EQ(proxy_.heads().size(), 1u);  // the tunnel is reused
  EXPECT_THAT(proxy_.heads()[0], StartsWith("CONNECT " + authority + " HTTP/1.1\r\n"));
  EXPECT_EQ(server.requests().at(0).target, "/secret?sig=1");
}

TEST_F(ProxyClientTest, NoProxyAndLoopbackGoDirect) {
  HttpTestServer server;
  server.on("GET", "/x", TestResponse{.body = "direct"});
  use_proxy({.http_proxy = proxy_.url(), .no_proxy = "upstream.test"});
  EXPECT_EQ(get(server.url("/x")).body, "direct");
  const Error e = failure({.url = "http://upstream.test:" + std::to_string(server.port()) + "/x"});
  EXPECT_THAT(e.what(), StartsWith("cannot connect to upstream.test:"));  // direct: DNS fails
  EXPECT_TRUE(proxy_.heads().empty());
}

TEST_F(ProxyClientTest, EgressPolicyStillAppliesThroughAProxy) {
  use_proxy({.http_proxy = proxy_.url()});
  const Error e = failure({.url = "http://169.254.169.254/latest/meta-data"});
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_EQ(std::string(e.what()),
            "refusing to connect to 169.254.169.254 (link-local/metadata address) for "
            "http://169.254.169.254:80/latest/meta-data");
  EXPECT_TRUE(proxy_.heads().empty());
}

TEST_F(ProxyClientTest, ProxyThatCannotBeReachedIsNamed) {
  use_proxy({.http_proxy = "127.0.0.1:1"});
  const Error e = failure({.url = "http://upstream.test/x"});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_EQ(std::string(e.what()), "cannot connect to proxy 127.0.0.1:1: Connection refused");
}

TEST_F(ProxyClientTest, MalformedProxySettingFailsAtConstruction) {
  try {
    use_proxy({.https_proxy = "http://proxy:notaport"});
    FAIL() << "accepted a malformed proxy";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid proxy setting: invalid URL 'http://proxy:notaport': port must be a number "
              "from 1 to 65535");
  }
}

}  // namespace
}  // namespace imagepipe::testing
