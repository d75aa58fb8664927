#include <gmock/gmock.h>

#include "client_fixture.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class HttpsClientTest : public ClientTest {
 protected:
  HttpClientOptions trusting(const HttpTestServer& server) {
    HttpClientOptions options = test_client_options();
    options.ca_file = server.ca_file();
    return options;
  }
};

TEST_F(HttpsClientTest, TalksToAServerTrustedThroughCaFile) {
  HttpTestServer server({.tls = true});
  server.on("POST", "/secure",
            [](const RecordedRequest& r) { return TestResponse{.body = "got " + r.body}; });
  use_options(trusting(server));
  ASSERT_THAT(server.url(), StartsWith("https://127.0.0.1:"));
  EXPECT_EQ(send({.method = "POST", .url = server.url("/secure"), .body = "x"}).body, "got x");
  EXPECT_EQ(send({.method = "POST", .url = server.url("/secure"), .body = "y"}).body, "got y");
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST_F(HttpsClientTest, VerifiesHostNamesFromTheCertificate) {
  HttpTestServer server({.tls = true, .tls_names = {"localhost"}});
  server.on("GET", "/", TestResponse{.body = "named"});
  use_options(trusting(server));
  EXPECT_EQ(get("https://localhost:" + std::to_string(server.port()) + "/").body, "named");
}

TEST_F(HttpsClientTest, RefusesAnUntrustedCertificate) {
  HttpTestServer server({.tls = true});
  const Error e = failure({.url = server.url("/")});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_THAT(e.what(), StartsWith("TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
                                   " failed: "));
  EXPECT_THAT(e.what(), HasSubstr("self-signed certificate"));
  EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(HttpsClientTest, RefusesACertificateForAnotherName) {
  HttpTestServer server({.tls = true, .tls_names = {"other.example"}});
  use_options(trusting(server));
  const Error e = failure({.url = "https://localhost:" + std::to_string(server.port()) + "/"});
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_THAT(e.what(), HasSubstr("hostname mismatch"));
  EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(HttpsClientTest, UnreadableCaFileFailsAtConstruction) {
  HttpClientOptions options = test_client_options();
  options.ca_file = "/nonexistent/ca.pem";
  try {
    BeastHttpClient client(io_.get_executor(), options);
    FAIL() << "accepted a missing CA file";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_THAT(e.what(), StartsWith("cannot load CA file '/nonexistent/ca.pem': "));
  }
}

}  // namespace
}  // namespace imagepipe::testing
