// The s3 plugin's requests, as it really sends them, compared byte for byte with what
// botocore (AWS's Python SDK core, an independent implementation) produces for the same
// operation at the same fixed clock: the URL (key and query encoding) and the
// Authorization header. This is what proves the signer, since s3rver does not check
// signatures.
#include <gtest/gtest.h>

#include <mutex>

#include "storage_host.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using nlohmann::json;

constexpr const char* kAk = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kSk = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kEndpoint = "http://127.0.0.1:4568";
constexpr const char* kTime = "20261121T093000Z";

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::from_time_t(1795253400);  // 2026-11-21T09:30:00Z
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  Task<void> sleep_for(std::chrono::milliseconds) override { co_return; }
};

// Records each request and answers as S3 would, so the plugin runs its real code paths.
class RecordingHttp final : public HttpClient {
 public:
  Task<HttpResponse> send(HttpRequest request) override {
    HttpResponse r;
    r.status = 200;
    if (request.url.find("?uploads=") != std::string::npos) {
      r.body =
          "<InitiateMultipartUploadResult><UploadId>up/load+id=</UploadId></"
          "InitiateMultipartUploadResult>";
    } else if (request.url.find("list-type=2") != std::string::npos) {
      r.body = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    } else if (request.url.find("uploadId=") != std::string::npos && request.method == "POST") {
      r.body = "<CompleteMultipartUploadResult><ETag>\"x\"</ETag></CompleteMultipartUploadResult>";
    }
    r.headers.emplace_back("ETag", "\"etag-" + std::to_string(requests.size()) + "\"");
    std::lock_guard lock(mu);
    requests.push_back(std::move(request));
    co_return r;
  }
  std::mutex mu;
  std::vector<HttpRequest> requests;
};

std::string python_with_botocore() {
  for (const char* candidate : {"python3", "/usr/bin/python3"}) {
    if (run_program({candidate, "-c", "import botocore"}).exit_code == 0) return candidate;
  }
  return {};
}

class SigV4Botocore : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = python_with_botocore();
    if (python_.empty())
      GTEST_SKIP() << "python3 with botocore missing (Debian package python3-botocore)";
    host_.host.http = &http_;
    host_.host.clock = &clock_;
  }

  std::unique_ptr<Storage> make(json extra = json::object()) {
    json o = {{"bucket", "imagepipe-test"},
              {"endpoint", kEndpoint},
              {"region", "eu-de"},
              {"access_key_id", kAk},
              {"secret_access_key", kSk}};
    o.update(extra);
    return host_.make("s3", o);
  }

  // botocore's answer for each case, in order.
  std::vector<json> botocore(const std::vector<json>& cases) {
    std::string input;
    for (const auto& c : cases) input += c.dump() + "\n";
    auto r = run_program(
        {python_, std::string(IMAGEPIPE_SOURCE_DIR) + "/tests/storage/botocore_sign.py"}, input);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> out;
    std::size_t start = 0;
    while (start < r.out.size()) {
      auto end = r.out.find('\n', start);
      out.push_back(json::parse(r.out.substr(start, end - start)));
      start = end + 1;
    }
    return out;
  }

  static json header_case(const std::string& method, const std::string& key,
                          json params = json::array(), json headers = json::object(),
                          const std::string& body = "") {
    return {{"method", method}, {"endpoint", kEndpoint}, {"bucket", "imagepipe-test"},
            {"key", key},       {"params", params},      {"headers", headers},
            {"body", body},     {"region", "eu-de"},     {"time", kTime}};
  }

  void expect_same(const HttpRequest& ours, const json& theirs) {
    EXPECT_EQ(ours.url, theirs["url"].get<std::string>());
    EXPECT_EQ(find_header(ours.headers, "authorization").value_or(""),
              theirs["authorization"].get<std::string>())
        << ours.method << " " << ours.url;
    EXPECT_EQ(find_header(ours.headers, "x-amz-content-sha256").value_or(""),
              theirs["content_sha256"].get<std::string>());
  }

  std::string python_;
  StorageHost host_;
  RecordingHttp http_;
  FixedClock clock_;
};

const std::vector<std::string> kAwkwardKeys = {
    "results/job-1/cat_modified.png",
    "with space/a b.png",
    "caf\xC3\xA9 \xE2\x98\x95/\xE6\x97\xA5\xE6\x9C\xAC.png",
    "plus+sign.png",
    "percent%25 and %.png",
    "equals=sign&and?query#hash.png",
    "tilde~/$dollar@at:colon;semi,comma.png",
    "2026/11/21/1f0e.png",
    "double//slash/./dot.png"};

TEST_F(SigV4Botocore, GetHeadDeleteOfAwkwardKeys) {
  auto s3 = make();
  std::vector<json> cases;
  for (const auto& key : kAwkwardKeys) {
    host_.run(s3->get(key));
    host_.run(s3->head(key));
    host_.run(s3->remove(key));
    cases.push_back(header_case("GET", key));
    cases.push_back(header_case("HEAD", key));
    cases.push_back(header_case("DELETE", key));
  }
  auto theirs = botocore(cases);
  ASSERT_EQ(theirs.size(), http_.requests.size());
  for (std::size_t i = 0; i < theirs.size(); ++i) expect_same(http_.requests[i], theirs[i]);
}

TEST_F(SigV4Botocore, PutWithContentTypeAndMetadata) {
  auto s3 = make();
  host_.run(s3->put("results/job 1/out+1.png",
                    std::make_shared<const std::string>("PNG bytes, pretend"),
                    {"image/png", {{"job_id", "job-1"}, {"prompt", "a  cat   in a hat"}}}));
  auto theirs = botocore({header_case("PUT", "results/job 1/out+1.png", json::array(),
                                      {{"Content-Type", "image/png"},
                                       {"x-amz-meta-job_id", "job-1"},
                                       {"x-amz-meta-prompt", "a  cat   in a hat"}},
                                      "PNG bytes, pretend")});
  ASSERT_EQ(http_.requests.size(), 1u);
  expect_same(http_.requests[0], theirs[0]);
}

TEST_F(SigV4Botocore, ListObjectsV2QueryStrings) {
  auto s3 = make();
  host_.run(s3->list("results/a b+c=/", "1/opaque+token==", 1000));
  host_.run(s3->list("", "", 5));
  // botocore keeps the order it is given; the plugin sends the canonical (sorted) order.
  auto theirs = botocore(
      {header_case("GET", "",
                   json::array({json::array({"continuation-token", "1/opaque+token=="}),
                                json::array({"encoding-type", "url"}),
                                json::array({"list-type", "2"}), json::array({"max-keys", "1000"}),
                                json::array({"prefix", "results/a b+c=/"})})),
       header_case(
           "GET", "",
           json::array({json::array({"encoding-type", "url"}), json::array({"list-type", "2"}),
                        json::array({"max-keys", "5"})}))});
  ASSERT_EQ(http_.requests.size(), 2u);
  // botocore writes the bucket URL with a trailing '/' when the key is empty; S3 treats
  // /bucket and /bucket/ alike, so compare the signature of the same path.
  for (auto& t : theirs) {
    auto url = t["url"].get<std::string>();
    url.erase(url.find("/imagepipe-test/") + 15, 1);
    t["url"] = url;
  }
  EXPECT_EQ(http_.requests[0].url, theirs[0]["url"]);
  EXPECT_EQ(http_.requests[1].url, theirs[1]["url"]);
}

TEST_F(SigV4Botocore, MultipartCalls) {
  auto s3 = make({{"multipart_threshold", 5 << 20}, {"part_size", 5 << 20}});
  auto data = std::make_shared<const std::string>(std::string(6 << 20, 'a'));
  host_.run(s3->put("big/file name.bin", data, {"application/octet-stream", {}}));
  ASSERT_EQ(http_.requests.size(), 4u);  // create, two parts, complete
  auto theirs = botocore(
      {header_case("POST", "big/file name.bin", json::array({json::array({"uploads", ""})}),
                   {{"Content-Type", "application/octet-stream"}}),
       header_case("PUT", "big/file name.bin",
                   json::array({json::array({"partNumber", "1"}),
                                json::array({"uploadId", "up/load+id="})}),
                   json::object(), std::string(5 << 20, 'a')),
       header_case("PUT", "big/file name.bin",
                   json::array({json::array({"partNumber", "2"}),
                                json::array({"uploadId", "up/load+id="})}),
                   json::object(), std::string(1 << 20, 'a')),
       header_case("POST", "big/file name.bin",
                   json::array({json::array({"uploadId", "up/load+id="})}),
                   {{"Content-Type", "application/xml"}}, http_.requests[3].body)});
  for (std::size_t i = 0; i < 4; ++i) expect_same(http_.requests[i], theirs[i]);
  EXPECT_EQ(
      http_.requests[3].body,
      "<?xml version=\"1.0\"?><CompleteMultipartUpload "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber>"
      "<ETag>\"etag-1\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"etag-2\"</ETag></Part>"
      "</CompleteMultipartUpload>");
}

TEST_F(SigV4Botocore, PresignedUrlsOfAwkwardKeys) {
  auto s3 = make();
  std::vector<json> cases;
  std::vector<std::string> ours;
  for (const auto& key : kAwkwardKeys) {
    ours.push_back(host_.run(s3->presign(key, std::chrono::seconds(900))));
    auto c = header_case("GET", key);
    c["presign"] = 900;
    cases.push_back(c);
  }
  ours.push_back(host_.run(s3->presign("a.png", std::chrono::seconds(604800))));
  auto week = header_case("GET", "a.png");
  week["presign"] = 604800;
  cases.push_back(week);
  auto theirs = botocore(cases);
  ASSERT_EQ(theirs.size(), ours.size());
  for (std::size_t i = 0; i < ours.size(); ++i)
    EXPECT_EQ(ours[i], theirs[i]["url"].get<std::string>());
}

TEST_F(SigV4Botocore, SessionTokenIsSignedInHeadersAndPresignedUrls) {
  auto s3 = make({{"session_token", "FwoGZXIvYXdzEXAMPLE/token+with=chars"}});
  host_.run(s3->get("a b.png"));
  auto url = host_.run(s3->presign("a b.png", std::chrono::seconds(60)));
  auto header = header_case("GET", "a b.png");
  header["token"] = "FwoGZXIvYXdzEXAMPLE/token+with=chars";
  auto presigned = header;
  presigned["presign"] = 60;
  auto theirs = botocore({header, presigned});
  expect_same(http_.requests[0], theirs[0]);
  // botocore puts the token after X-Amz-SignedHeaders; the plugin sends the sorted order.
  // The signature covers the canonical (sorted) query, so it must be identical.
  auto sig = [](const std::string& u) { return u.substr(u.find("X-Amz-Signature=")); };
  EXPECT_EQ(sig(url), sig(theirs[1]["url"].get<std::string>()));
  EXPECT_NE(url.find("X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2Ftoken%2Bwith%3Dchars"),
            std::string::npos);
}

}  // namespace
}  // namespace imagepipe::testing
