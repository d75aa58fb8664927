// What the plugins send and do when the service is busy or a multipart upload fails
// half-way, with a scripted HTTP client and a clock that records sleeps instead of waiting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "storage_host.hpp"

namespace imagepipe::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class RecordingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  Task<void> sleep_for(std::chrono::milliseconds d) override {
    sleeps.push_back(d);
    co_return;
  }
  std::vector<std::chrono::milliseconds> sleeps;
};

// Answers from a script, in order; 200 with an empty body once the script is used up.
class ScriptedHttp final : public HttpClient {
 public:
  Task<HttpResponse> send(HttpRequest request) override {
    HttpResponse r;
    {
      std::lock_guard lock(mu);
      urls.push_back(request.url);
      requests.push_back(request.method + " " + request.url.substr(request.url.find('/', 8)));
      bodies.push_back(request.body);
      if (!script.empty()) {
        r = script.front();
        script.pop_front();
      } else {
        r.status = 200;
      }
    }
    co_return r;
  }
  void add(int status, std::string body = {}, Headers headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    script.push_back(std::move(r));
  }
  std::mutex mu;
  std::deque<HttpResponse> script;
  std::vector<std::string> requests;
  std::vector<std::string> urls;
  std::vector<std::string> bodies;
};

class StorageScripted : public ::testing::Test {
 protected:
  void SetUp() override {
    host_.host.http = &http_;
    host_.host.clock = &clock_;
  }
  std::unique_ptr<Storage> s3(json extra = json::object()) {
    json o = {{"bucket", "bkt"},
              {"endpoint", "http://127.0.0.1:9"},
              {"access_key_id", "AK"},
              {"secret_access_key", "SK"}};
    o.update(extra);
    return host_.make("s3", o);
  }
  std::unique_ptr<Storage> s3_with_endpoint(const std::string& endpoint) {
    return s3({{"endpoint", endpoint}, {"region", "eu-de"}});
  }
  // Puts 5 MB + 10 bytes as two 5 MB parts into the scripted answers; returns the error
  // the upload ends with (the test fails if it succeeds).
  Error failed_multipart_put() {
    auto data = std::make_shared<const std::string>(std::string((5 << 20) + 10, 'a'));
    try {
      host_.run(
          s3({{"multipart_threshold", 5 << 20}, {"part_size", 5 << 20}})->put("big.bin", data, {}));
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected the multipart upload to fail";
    return Error(ErrorClass::internal, "");
  }
  std::unique_ptr<Storage> azure() {
    return host_.make("azure-blob",
                      {{"container", "box"}, {"connection_string", "UseDevelopmentStorage=true"}});
  }
  StorageHost host_;
  ScriptedHttp http_;
  RecordingClock clock_;
};

const std::string kSlowDown =
    "<Error><Code>SlowDown</Code><Message>Please reduce your request "
    "rate.</Message><RequestId>R1</RequestId></Error>";

TEST_F(StorageScripted, S3SlowDownIsRetriedWithGrowingBackoff) {
  http_.add(503, kSlowDown);
  http_.add(503, kSlowDown);
  auto data = std::make_shared<const std::string>("x");
  host_.run(s3()->put("k.png", data, {}));
  EXPECT_EQ(http_.requests,
            (std::vector<std::string>{"PUT /bkt/k.png", "PUT /bkt/k.png", "PUT /bkt/k.png"}));
  ASSERT_EQ(clock_.sleeps.size(), 2u);
  EXPECT_GE(clock_.sleeps[0].count(), 200);
  EXPECT_GE(clock_.sleeps[1].count(), 400);
}

TEST_F(StorageScripted, S3GivesUpAfterMaxAttemptsWithTheServiceError) {
  for (int i = 0; i < 3; ++i) http_.add(503, kSlowDown, {{"Retry-After", "3"}});
  try {
    host_.run(s3({{"max_attempts", 3}})->get("k.png"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::rate_limited);
    EXPECT_STREQ(e.what(),
                 "S3 GetObject: Please reduce your request rate. (object 'k.png' in bucket 'bkt') "
                 "[SlowDown, HTTP 503, request id R1]");
  }
  EXPECT_EQ(http_.requests.size(), 3u);
  EXPECT_EQ(clock_.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(3),
                                                                   std::chrono::seconds(3)}));
}

TEST_F(StorageScripted, S3AccessDeniedIsNotRetried) {
  http_.add(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
  EXPECT_THROW(host_.run(s3()->get("k.png")), Error);
  EXPECT_EQ(http_.requests.size(), 1u);
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(StorageScripted, S3MultipartFailureAbortsTheUpload) {
  http_.add(
      200,
      "<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>");
  http_.add(200, "", {{"ETag", "\"p1\""}});
  http_.add(
      400,
      "<Error><Code>EntityTooSmall</Code><Message>Your proposed upload is smaller than the minimum "
      "allowed object size.</Message></Error>");
  const auto e = failed_multipart_put();
  EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
  EXPECT_THAT(e.what(), HasSubstr("S3 UploadPart: Your proposed upload is smaller"));
  EXPECT_EQ(http_.requests,
            (std::vector<std::string>{
                "POST /bkt/big.bin?uploads=", "PUT /bkt/big.bin?partNumber=1&uploadId=U1",
                "PUT /bkt/big.bin?partNumber=2&uploadId=U1", "DELETE /bkt/big.bin?uploadId=U1"}));
}

TEST_F(StorageScripted, S3CompleteThatAnswers200WithAnErrorIsAFailure) {
  http_.add(
      200,
      "<InitiateMultipartUploadResult><UploadId>U2</UploadId></InitiateMultipartUploadResult>");
  http_.add(200, "", {{"ETag", "\"p1\""}});
  http_.add(200, "", {{"ETag", "\"p2\""}});
  // A 200 carrying <Error> is not retried: the upload is aborted instead.
  http_.add(200,
            "<Error><Code>InternalError</Code><Message>We encountered an internal "
            "error.</Message></Error>");
  const auto e = failed_multipart_put();
  EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  EXPECT_THAT(e.what(), HasSubstr("S3 CompleteMultipartUpload: We encountered an internal error."));
  EXPECT_EQ(http_.requests.back(), "DELETE /bkt/big.bin?uploadId=U2");
}

TEST_F(StorageScripted, AzureServerBusyIsRetried) {
  http_.add(503, "", {{"x-ms-error-code", "ServerBusy"}});
  host_.run(azure()->put("k.png", std::make_shared<const std::string>("x"), {}));
  EXPECT_EQ(http_.requests, (std::vector<std::string>{"PUT /devstoreaccount1/box/k.png",
                                                      "PUT /devstoreaccount1/box/k.png"}));
  EXPECT_EQ(clock_.sleeps.size(), 1u);
}

const std::string kNoSuchBucket =
    "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not "
    "exist</Message></Error>";

TEST_F(StorageScripted, S3CreateBucketSendsTheRegionAsLocationConstraintThenPutsAgain) {
  http_.add(404, kNoSuchBucket);
  http_.add(200);
  auto data = std::make_shared<const std::string>("png");
  auto storage = s3({{"region", "eu-de"}, {"create_bucket", true}});
  host_.run(storage->put("2026/11/21/id.png", data, {"image/png", {}}));
  EXPECT_EQ(http_.requests, (std::vector<std::string>{"PUT /bkt/2026/11/21/id.png", "PUT /bkt",
                                                      "PUT /bkt/2026/11/21/id.png"}));
  EXPECT_EQ(http_.bodies.at(1),
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<LocationConstraint>eu-de</LocationConstraint></CreateBucketConfiguration>");
  EXPECT_EQ(http_.bodies.at(2), "png");

  // us-east-1 takes no constraint: AWS refuses one naming it.
  http_.add(404, kNoSuchBucket);
  host_.run(s3({{"region", "us-east-1"}, {"create_bucket", true}})->put("k.png", data, {}));
  EXPECT_EQ(http_.requests.at(4), "PUT /bkt");
  EXPECT_EQ(http_.bodies.at(4), "");
}

// Answers NoSuchBucket until the bucket is created, and holds CreateBucket back until
// `uploads` uploads have found the bucket missing: they all wait on that one creation.
class BucketLaterHttp final : public HttpClient {
 public:
  explicit BucketLaterHttp(int uploads) : uploads_(uploads) {}
  Task<HttpResponse> send(HttpRequest request) override {
    HttpResponse r;
    r.status = 200;
    if (request.method == "PUT" && request.url.ends_with("/bkt")) {
      // Bounded, so a plugin that never sends the other uploads fails instead of hanging.
      for (int i = 0; i < 100'000 && missing < uploads_; ++i)
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      ++creates;
      created = true;
    } else if (!created) {
      ++missing;
      r.status = 404;
      r.body = kNoSuchBucket;
    } else {
      ++stored;
    }
    co_return r;
  }
  bool created = false;
  int creates = 0, missing = 0, stored = 0;

 private:
  const int uploads_;
};

TEST_F(StorageScripted, S3UploadsThatFindTheBucketMissingTogetherCreateItOnce) {
  BucketLaterHttp http(6);
  host_.host.http = &http;
  auto storage = s3({{"create_bucket", true}});
  host_.put_all(*storage, numbered_keys("k/", 6), std::make_shared<const std::string>("x"));
  EXPECT_EQ(http.creates, 1);
  EXPECT_EQ(http.missing, 6);
  EXPECT_EQ(http.stored, 6);
}

TEST_F(StorageScripted, S3CreateBucketTakesAlreadyOwnedAsSuccess) {
  http_.add(404, kNoSuchBucket);
  http_.add(409,
            "<Error><Code>BucketAlreadyOwnedByYou</Code><Message>Your previous request to create "
            "the named bucket succeeded and you already own it.</Message></Error>");
  host_.run(s3({{"create_bucket", true}})->put("k.png", std::make_shared<const std::string>("x"), {}));
  EXPECT_EQ(http_.requests,
            (std::vector<std::string>{"PUT /bkt/k.png", "PUT /bkt", "PUT /bkt/k.png"}));
}

TEST_F(StorageScripted, S3CreateBucketRefusedIsTheErrorNamingTheBucket) {
  http_.add(404, kNoSuchBucket);
  http_.add(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
  try {
    host_.run(
        s3({{"create_bucket", true}})->put("k.png", std::make_shared<const std::string>("x"), {}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
    EXPECT_STREQ(e.what(), "S3 CreateBucket: Access Denied (bucket 'bkt') [AccessDenied, HTTP 403]");
  }
  EXPECT_EQ(http_.requests, (std::vector<std::string>{"PUT /bkt/k.png", "PUT /bkt"}));
}

TEST_F(StorageScripted, S3WithoutCreateBucketSendsNoCreateBucket) {
  http_.add(404, kNoSuchBucket);
  try {
    host_.run(s3()->put("k.png", std::make_shared<const std::string>("x"), {}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_STREQ(e.what(), "S3 PutObject: bucket 'bkt' does not exist [NoSuchBucket, HTTP 404]");
  }
  EXPECT_EQ(http_.requests, (std::vector<std::string>{"PUT /bkt/k.png"}));
}

TEST_F(StorageScripted, AzureCreateContainerThenPutsAgain) {
  http_.add(404, "", {{"x-ms-error-code", "ContainerNotFound"}});
  http_.add(201);
  auto az = host_.make("azure-blob", {{"container", "box"},
                                      {"connection_string", "UseDevelopmentStorage=true"},
                                      {"create_container", true}});
  host_.run(az->put("k.png", std::make_shared<const std::string>("x"), {}));
  EXPECT_EQ(http_.requests, (std::vector<std::string>{"PUT /devstoreaccount1/box/k.png",
                                                      "PUT /devstoreaccount1/box?restype=container",
                                                      "PUT /devstoreaccount1/box/k.png"}));
  // Another process got there first: still a success.
  http_.add(404, "", {{"x-ms-error-code", "ContainerNotFound"}});
  http_.add(409, "", {{"x-ms-error-code", "ContainerAlreadyExists"}});
  auto az2 = host_.make("azure-blob", {{"container", "box"},
                                       {"connection_string", "UseDevelopmentStorage=true"},
                                       {"create_container", true}});
  host_.run(az2->put("k2.png", std::make_shared<const std::string>("x"), {}));
  EXPECT_EQ(http_.requests.size(), 6u);
  EXPECT_EQ(http_.requests.back(), "PUT /devstoreaccount1/box/k2.png");
}

TEST_F(StorageScripted, S3VirtualHostedUrlsAndCdnUrls) {
  auto s3 = host_.make("s3", {{"bucket", "my-images"},
                              {"region", "eu-west-1"},
                              {"access_key_id", "AK"},
                              {"secret_access_key", "SK"},
                              {"public_base_url", "https://cdn.example.com/"}});
  host_.run(s3->get("generated-images/1700000000_a b+c.png"));
  EXPECT_EQ(
      http_.urls.at(0),
      "https://my-images.s3.eu-west-1.amazonaws.com/generated-images/1700000000_a%20b%2Bc.png");
  EXPECT_EQ(s3->public_url("generated-images/1700000000_a b+c.png"),
            "https://cdn.example.com/generated-images/1700000000_a%20b%2Bc.png");
  EXPECT_EQ(s3->location(), (json{{"storage", "s3"},
                                  {"bucket", "my-images"},
                                  {"region", "eu-west-1"},
                                  {"endpoint", "https://my-images.s3.eu-west-1.amazonaws.com"}}));
  auto cos = s3_with_endpoint("https://s3.eu-de.cloud-object-storage.appdomain.cloud");
  host_.run(cos->get("results/job/x_modified.png"));
  EXPECT_EQ(http_.urls.at(1),
            "https://s3.eu-de.cloud-object-storage.appdomain.cloud/bkt/results/job/x_modified.png");
}

}  // namespace
}  // namespace imagepipe::testing
