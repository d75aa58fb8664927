// The s3 plugin against s3rver on loopback, with what it wrote checked by an independent
// client (the aws CLI). s3rver does not check SigV4 signatures (it checks the access key
// id and presigned expiry only), so the signature itself is proven by AWS's vectors
// (plugins/storage/s3/sigv4_test.cpp) and by botocore (sigv4_botocore_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "storage_host.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr const char* kBucket = "imagepipe-test";

class S3Server : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto s3rver = node_tool("s3rver");
    if (s3rver.empty()) return;
    server_ = new S3rverProcess({kBucket});
    endpoint_ = new std::string(server_->endpoint());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete endpoint_;
    endpoint_ = nullptr;
  }

  void SetUp() override {
    if (find_on_path("aws").empty() || find_on_path("curl").empty())
      GTEST_SKIP()
          << "aws or curl missing (Debian packages awscli, curl): they check what the plugin wrote";
    if (!server_)
      GTEST_SKIP()
          << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  }

  json options(json extra = json::object()) const {
    json o = {{"bucket", kBucket},
              {"endpoint", *endpoint_},
              {"region", "us-east-1"},
              {"access_key_id", "S3RVER"},
              {"secret_access_key", "S3RVER"}};
    o.update(extra);
    return o;
  }

  // The aws CLI pointed at s3rver: an implementation of S3 that shares no code with ours.
  ProgramResult aws(std::vector<std::string> args) const {
    std::vector<std::string> argv{"aws", "--endpoint-url", *endpoint_, "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, "",
                       {{"AWS_ACCESS_KEY_ID", "S3RVER"},
                        {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
                        {"AWS_DEFAULT_REGION", "us-east-1"},
                        {"AWS_CONFIG_FILE", "/dev/null"},
                        {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}});
  }

  // get-object prints the object's headers as JSON and writes its bytes: one process
  // (the CLI takes about a second to start) checks both.
  std::pair<json, std::string> aws_get(const std::string& key,
                                       const std::string& bucket = kBucket) const {
    auto file = make_temp_dir("ip-aws") / "object";
    auto r = aws({"s3api", "get-object", "--bucket", bucket, "--key", key, file.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(file, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::filesystem::remove_all(file.parent_path());
    return {r.exit_code == 0 ? json::parse(r.out) : json(), bytes};
  }

  static S3rverProcess* server_;
  static std::string* endpoint_;
  StorageHost host_;
};
S3rverProcess* S3Server::server_ = nullptr;
std::string* S3Server::endpoint_ = nullptr;

TEST_F(S3Server, PutGetHeadDeleteWithContentTypeAndMetadata) {
  auto s3 = host_.make("s3", options());
  const std::string key = "results/job-1/cat_modified.png";
  auto data = std::make_shared<const std::string>(random_bytes(3000, 1));
  PutOptions put{"image/png", {{"job_id", "job-1"}, {"prompt", "a cat in a hat, caf\xC3\xA9"}}};
  auto written = host_.run(s3->put(key, data, put));
  EXPECT_EQ(written.size, 3000u);
  EXPECT_FALSE(written.etag.empty());

  EXPECT_EQ(host_.run(s3->get(key)), *data);
  auto info = host_.run(s3->head(key));
  EXPECT_EQ(info.size, 3000u);
  EXPECT_EQ(info.content_type, "image/png");
  EXPECT_EQ(info.etag, written.etag);
  EXPECT_EQ(info.metadata, put.metadata);  // the UTF-8 prompt comes back as written

  auto [head, bytes] = aws_get(key);
  EXPECT_EQ(head["ContentType"], "image/png");
  EXPECT_EQ(head["ContentLength"], 3000);
  EXPECT_EQ(head["Metadata"]["job_id"], "job-1");
  // Non-ASCII metadata travels as an RFC 2047 encoded word, as AWS documents.
  EXPECT_EQ(head["Metadata"]["prompt"], "=?UTF-8?B?YSBjYXQgaW4gYSBoYXQsIGNhZsOp?=");
  EXPECT_EQ(bytes, *data);

  host_.run(s3->remove(key));
  try {
    host_.run(s3->head(key));
    FAIL() << "head of a deleted object succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_STREQ(
        e.what(),
        "S3 HeadObject: no object 'results/job-1/cat_modified.png' in bucket 'imagepipe-test' "
        "[NotFound, HTTP 404]");
  }
  try {
    host_.run(s3->get(key));
    FAIL() << "get of a deleted object succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_THAT(
        e.what(),
        MatchesRegex("S3 GetObject: no object 'results/job-1/cat_modified.png' in bucket "
                     "'imagepipe-test' \\[NoSuchKey, HTTP 404(, request id [0-9A-F]+)?\\]"));
  }
}

TEST_F(S3Server, AwkwardKeysRoundTripAndAreSeenByTheAwsCli) {
  auto s3 = host_.make("s3", options());
  const std::vector<std::string> keys = {
      "awkward/with space.png",        "awkward/caf\xC3\xA9 \xE2\x98\x95.png",
      "awkward/plus+sign.png",         "awkward/percent%25 and %.png",
      "awkward/equals=sign&amp.png",   "awkward/tilde~and$dollar.png",
      "awkward/2026/11/21/deep/id.png"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto data =
        std::make_shared<const std::string>(random_bytes(100 + i, static_cast<unsigned>(i)));
    host_.run(s3->put(keys[i], data, {"image/png", {}}));
    EXPECT_EQ(host_.run(s3->get(keys[i])), *data) << keys[i];
  }
  auto page = host_.run(s3->list("awkward/", "", 1000));
  std::vector<std::string> listed;
  for (const auto& o : page.objects) listed.push_back(o.key);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  EXPECT_TRUE(page.next_token.empty());
  // The CLI encodes keys its own way; one recursive copy fetches every key by name.
  auto dir = make_temp_dir("ip-aws");
  auto r = aws({"s3", "cp", "--quiet", "--recursive", std::string("s3://") + kBucket + "/awkward/",
                dir.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::ifstream in(dir / keys[i].substr(8), std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}),
              random_bytes(100 + i, static_cast<unsigned>(i)))
        << keys[i];
  }
  std::filesystem::remove_all(dir);
}

TEST_F(S3Server, Lists2500KeysAcrossPages) {
  auto s3 = host_.make("s3", options());
  expect_lists_2500_objects_over_3_pages(host_, *s3);
}

TEST_F(S3Server, MultipartUploadOf20MB) {
  auto s3 = host_.make("s3", options({{"multipart_threshold", 5 << 20}, {"part_size", 5 << 20}}));
  const std::string key = "big/20mb.bin";
  auto data = std::make_shared<const std::string>(random_bytes(20 << 20, 7));
  host_.run(s3->put(key, data, {"application/octet-stream", {{"job_id", "big"}}}));
  EXPECT_EQ(host_.run(s3->get(key)), *data);
  auto info = host_.run(s3->head(key));
  EXPECT_EQ(info.size, 20u << 20);
  EXPECT_EQ(info.metadata.at("job_id"), "big");
  auto [head, bytes] = aws_get(key);
  EXPECT_EQ(head["ContentLength"], 20 << 20);
  EXPECT_EQ(head["ContentType"], "application/octet-stream");
  EXPECT_EQ(head["Metadata"]["job_id"], "big");
  EXPECT_TRUE(bytes == *data);
}

TEST_F(S3Server, MultipartUploadToAMissingBucketFailsClearly) {
  auto s3 =
      host_.make("s3", options({{"bucket", "no-such-bucket"}, {"multipart_threshold", 5 << 20}}));
  auto data = std::make_shared<const std::string>(random_bytes(6 << 20, 3));
  try {
    host_.run(s3->put("big.bin", data, {}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_THAT(e.what(), HasSubstr("S3 CreateMultipartUpload: bucket 'no-such-bucket' does not "
                                    "exist [NoSuchBucket, HTTP 404"));
  }
}

TEST_F(S3Server, PresignedUrlIsFetchedWithCurlAndRefusedAfterExpiry) {
  auto s3 = host_.make("s3", options());
  const std::string key = "presigned/a b+c.png";
  auto data = std::make_shared<const std::string>(random_bytes(500, 9));
  host_.run(s3->put(key, data, {"image/png", {}}));

  const auto url = host_.run(s3->presign(key, std::chrono::seconds(300)));
  EXPECT_THAT(
      url,
      MatchesRegex(
          "http://127\\.0\\.0\\.1:[0-9]+/imagepipe-test/presigned/a%20b%2Bc\\.png\\?"
          "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=S3RVER%2F[0-9]{8}%2Fus-east-1%2Fs3%"
          "2Faws4_request&X-Amz-Date=[0-9]{8}T[0-9]{6}Z&X-Amz-Expires=300&X-Amz-SignedHeaders="
          "host&X-Amz-Signature=[0-9a-f]{64}"));
  auto ok = run_program({"curl", "-s", "-w", "\n%{http_code}", url});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, *data + "\n200");

  // Signed two hours ago for one minute: s3rver checks X-Amz-Date + X-Amz-Expires.
  host_.clock.offset = -std::chrono::hours(2);
  const auto expired = host_.run(s3->presign(key, std::chrono::seconds(60)));
  host_.clock.offset = {};
  auto refused = run_program({"curl", "-s", "-w", "\n%{http_code}", expired});
  EXPECT_THAT(refused.out, HasSubstr("<Code>AccessDenied</Code>"));
  EXPECT_THAT(refused.out, HasSubstr("Request has expired"));
  EXPECT_TRUE(refused.out.ends_with("\n403")) << refused.out;

  try {
    host_.run(s3->presign(key, std::chrono::seconds(604801)));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_STREQ(
        e.what(),
        "s3: a presigned URL must expire within 1 to 604800 seconds (7 days); 604801 s was asked");
  }
}

TEST_F(S3Server, CreateBucketMakesAMissingBucketOnceForConcurrentFirstPuts) {
  RecordingHttp recording(*host_.host.http);
  host_.host.http = &recording;
  const std::string bucket = "created-on-first-put";
  auto s3 = host_.make("s3", options({{"bucket", bucket}, {"create_bucket", true}}));
  // Eight uploads at once into a bucket that is not there yet.
  const auto keys = numbered_keys("2026/11/21/", 8);
  auto data = std::make_shared<const std::string>(random_bytes(2048, 11));
  host_.put_all(*s3, keys, data);
  EXPECT_EQ(recording.count("PUT /" + bucket), 1u);

  auto r = aws({"s3api", "list-objects-v2", "--bucket", bucket});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto listing = json::parse(r.out);
  std::vector<std::string> listed;
  for (const auto& o : listing["Contents"]) {
    listed.push_back(o["Key"]);
    EXPECT_EQ(o["Size"], 2048);
  }
  EXPECT_EQ(listed, keys);
  auto [head, bytes] = aws_get(keys[3], bucket);
  EXPECT_EQ(head["ContentLength"], 2048);
  EXPECT_TRUE(bytes == *data);

  // The bucket is there now: later uploads and a second instance go straight in.
  auto again = host_.make("s3", options({{"bucket", bucket}, {"create_bucket", true}}));
  host_.run(again->put("2026/11/22/next.png", data, {"image/png", {{"job_id", "j2"}}}));
  EXPECT_EQ(recording.count("PUT /" + bucket), 1u);
  EXPECT_EQ(host_.run(again->head("2026/11/22/next.png")).metadata.at("job_id"), "j2");
}

TEST_F(S3Server, CreateBucketAlsoServesMultipartUploads) {
  auto s3 = host_.make("s3", options({{"bucket", "created-by-multipart"},
                                      {"create_bucket", true},
                                      {"multipart_threshold", 5 << 20},
                                      {"part_size", 5 << 20}}));
  // CreateMultipartUpload is the write that finds the bucket missing.
  auto data = std::make_shared<const std::string>(random_bytes(6 << 20, 12));
  host_.run(s3->put("big.bin", data, {"application/octet-stream", {}}));
  auto [head, bytes] = aws_get("big.bin", "created-by-multipart");
  EXPECT_EQ(head["ContentLength"], 6 << 20);
  EXPECT_TRUE(bytes == *data);
}

TEST_F(S3Server, MissingBucketIsNotFoundNamingTheBucket) {
  auto s3 = host_.make("s3", options({{"bucket", "no-such-bucket"}}));
  try {
    host_.run(s3->put("a.png", std::make_shared<const std::string>("x"), {}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_THAT(
        e.what(),
        MatchesRegex("S3 PutObject: bucket 'no-such-bucket' does not exist \\[NoSuchBucket, HTTP "
                     "404(, request id [0-9A-F]+)?\\]"));
  }
  try {
    host_.run(s3->list("", "", 10));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_THAT(
        e.what(),
        HasSubstr("S3 ListObjectsV2: bucket 'no-such-bucket' does not exist [NoSuchBucket"));
  }
  // Without create_bucket nothing was created.
  EXPECT_NE(aws({"s3api", "head-bucket", "--bucket", "no-such-bucket"}).exit_code, 0);
}

TEST_F(S3Server, UnknownAccessKeyIsUnauthorizedAndTheSecretStaysOut) {
  auto s3 = host_.make(
      "s3", options({{"access_key_id", "NOT-A-KEY"}, {"secret_access_key", "hunter2-secret"}}));
  try {
    host_.run(s3->get("anything.png"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
    EXPECT_THAT(
        e.what(),
        MatchesRegex("S3 GetObject: The AWS Access Key Id you provided does not exist in our "
                     "records\\. \\(object 'anything\\.png' in bucket 'imagepipe-test'\\) "
                     "\\[InvalidAccessKeyId, HTTP 403(, request id [0-9A-F]+)?\\]"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("hunter2")));
  }
}

TEST_F(S3Server, CredentialsAndRegionFromTheStandardEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_REGION", "eu-de", 1);
  auto s3 = host_.make("s3", {{"bucket", kBucket}, {"endpoint", *endpoint_}});
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_REGION");
  EXPECT_EQ(s3->location()["region"], "eu-de");
  host_.run(s3->put("env/a.txt", std::make_shared<const std::string>("hello"), {"text/plain", {}}));
  EXPECT_EQ(host_.run(s3->get("env/a.txt")), "hello");
  EXPECT_THAT(host_.run(s3->presign("env/a.txt", std::chrono::seconds(60))),
              HasSubstr("%2Feu-de%2Fs3%2F"));
}

TEST_F(S3Server, NoCredentialsIsAClearConfigurationError) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  try {
    host_.make("s3", {{"bucket", kBucket}, {"endpoint", *endpoint_}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
    EXPECT_STREQ(
        e.what(),
        "s3: no credentials for bucket 'imagepipe-test': set access_key_id and secret_access_key, "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
}

}  // namespace
}  // namespace imagepipe::testing
