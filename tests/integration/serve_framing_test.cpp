// Requests whose length could be read two ways (RFC 9112 §6.3), sent byte for byte: each
// gets one 400 (or 501) and a closed connection, and what followed it in the same bytes,
// a second request smuggled past a proxy, is never answered.
#include <sstream>

#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// How many answers `bytes` holds: the smuggled request's would be a second one.
std::size_t answers(const std::string& bytes) {
  std::size_t n = 0;
  for (auto at = bytes.find("HTTP/1.1 "); at != std::string::npos;
       at = bytes.find("HTTP/1.1 ", at + 1))
    ++n;
  return n;
}

class FramingTest : public ServeTest {
 protected:
  static void SetUpTestSuite() { daemon_ = new DaemonProcess({.pipelines = {kWxoOfflineDir}}); }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  void TearDown() override { EXPECT_EQ(daemon_->get("/health").status, 200) << daemon_->log(); }

  // A request to the b64 tool with `framing` as its length headers and `body` after them,
  // followed on the same connection by a request that must not be answered.
  static std::string exchange(const std::string& framing, const std::string& body) {
    return daemon_->exchange_raw(
        "POST /process-image-async-b64 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\ncallbackUrl: http://127.0.0.1:9/cb\r\n" +
        framing + "\r\n" + body + kSmuggled);
  }

  static constexpr const char* kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  static DaemonProcess* daemon_;
};

DaemonProcess* FramingTest::daemon_ = nullptr;

// One answer, `status_line` with `error` (when given), on a connection closed after it.
void expect_one_refusal(const std::string& answer, const std::string& status_line,
                        const std::string& error = "") {
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 " + status_line + "\r\n"));
  EXPECT_THAT(answer, HasSubstr("Connection: close\r\n"));
  if (!error.empty()) {
    EXPECT_THAT(answer, HasSubstr(json{{"error", error}}.dump()));
  }
  EXPECT_EQ(answers(answer), 1u) << answer;
}

TEST_F(FramingTest, TransferEncodingNotChunkedWithAContentLengthIsRefused) {
  const std::string body = R"({"prompt": "x"})";
  expect_one_refusal(
      exchange(
          "Transfer-Encoding: xchunked\r\nContent-Length: " + std::to_string(body.size()) + "\r\n",
          body),
      "400 Bad Request",
      "Transfer-Encoding and Content-Length together: the request's length is ambiguous");
}

TEST_F(FramingTest, ContentLengthBeforeTransferEncodingIsRefused) {
  const std::string body = R"({"prompt": "x"})";
  expect_one_refusal(exchange("Content-Length: " + std::to_string(body.size()) +
                                  "\r\nTransfer-Encoding: xchunked\r\n",
                              body),
                     "400 Bad Request");
}

TEST_F(FramingTest, TransferEncodingThatDoesNotEndInChunkedIsRefused) {
  // Without a length Beast would read no body at all, and the body as the next request.
  expect_one_refusal(exchange("Transfer-Encoding: chunked, xchunked\r\n", ""), "400 Bad Request",
                     "Transfer-Encoding 'chunked, xchunked' does not end in chunked: the "
                     "request's length cannot be determined");
}

TEST_F(FramingTest, TransferCodingOtherThanChunkedIsNotImplemented) {
  expect_one_refusal(exchange("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
                     "501 Not Implemented",
                     "Transfer-Encoding 'gzip, chunked' is not supported: only chunked");
}

TEST_F(FramingTest, ChunkedBodyIsStillAccepted) {
  const std::string body = b64_request().dump();
  std::ostringstream chunk;
  chunk << std::hex << body.size() << "\r\n" << body << "\r\n0\r\n\r\n";
  const auto answer = daemon_->exchange_raw(
      "POST /process-image-async-b64 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nConnection: close\r\ncallbackUrl: " +
      receiver_.url("/callback") + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk.str());
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 202 Accepted\r\n"));
  EXPECT_THAT(answer, HasSubstr(R"("accepted":true)"));
}

}  // namespace
}  // namespace imagepipe::testing
