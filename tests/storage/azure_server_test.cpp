// The azure-blob plugin against Azurite on loopback. Azurite checks Shared Key and SAS
// signatures, so a passing request proves the signer; what was written is read back by
// Microsoft's own client (@azure/storage-blob, tests/servers/azure_check.js).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage_host.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr const char* kContainer = "imagepipe-test";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

class AzureServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto azurite = node_tool("azurite-blob");
    if (azurite.empty()) return;
    const auto port = free_loopback_port();
    server_ =
        new ServerProcess({azurite, "--blobHost", "127.0.0.1", "--blobPort", std::to_string(port),
                           "--inMemoryPersistence", "--silent", "--disableTelemetry"},
                          port);
    endpoint_ = new std::string("http://127.0.0.1:" + std::to_string(port) + "/devstoreaccount1");
    auto r = node_check({"create-container", kContainer});
    if (r.exit_code != 0) throw std::runtime_error("cannot create the test container: " + r.err);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete endpoint_;
    endpoint_ = nullptr;
  }
  void SetUp() override {
    if (find_on_path("curl").empty())
      GTEST_SKIP() << "curl missing (Debian package curl): it fetches the SAS URLs";
    if (!server_)
      GTEST_SKIP()
          << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  }

  static std::string connection_string() {
    return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
           std::string(kDevKey) + ";BlobEndpoint=" + *endpoint_ + ";";
  }
  static ProgramResult node_check(std::vector<std::string> args) {
    std::vector<std::string> argv{
        "node", std::string(IMAGEPIPE_SOURCE_DIR) + "/tests/servers/azure_check.js",
        connection_string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
  }
  json sdk_get(const std::string& blob, const std::string& container = kContainer) const {
    auto r = node_check({"get", container, blob});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  json options(json extra = json::object()) const {
    json o = {{"container", kContainer}, {"connection_string", connection_string()}};
    o.update(extra);
    return o;
  }

  static ServerProcess* server_;
  static std::string* endpoint_;
  StorageHost host_;
};
ServerProcess* AzureServer::server_ = nullptr;
std::string* AzureServer::endpoint_ = nullptr;

TEST_F(AzureServer, PutGetHeadDeleteWithContentTypeAndMetadata) {
  auto az = host_.make("azure-blob", options());
  const std::string key = "generated-images/20261121T093000_cat.png";
  auto data = std::make_shared<const std::string>(random_bytes(4000, 1));
  PutOptions put{"image/png", {{"job_id", "job-2"}, {"prompt", "a cat, caf\xC3\xA9"}}};
  host_.run(az->put(key, data, put));
  EXPECT_EQ(host_.run(az->get(key)), *data);
  auto info = host_.run(az->head(key));
  EXPECT_EQ(info.size, 4000u);
  EXPECT_EQ(info.content_type, "image/png");
  EXPECT_EQ(info.metadata, put.metadata);

  auto sdk = sdk_get(key);
  EXPECT_EQ(sdk["contentType"], "image/png");
  EXPECT_EQ(sdk["size"], 4000);
  EXPECT_EQ(sdk["metadata"]["job_id"], "job-2");
  EXPECT_EQ(sdk["metadata"]["prompt"], "=?UTF-8?B?YSBjYXQsIGNhZsOp?=");
  EXPECT_EQ(base64_decode(sdk["base64"].get<std::string>()), *data);

  host_.run(az->remove(key));
  try {
    host_.run(az->head(key));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_THAT(
        e.what(),
        MatchesRegex("Azure Get Blob Properties: no blob "
                     "'generated-images/20261121T093000_cat\\.png' in container 'imagepipe-test' "
                     "\\[BlobNotFound, HTTP 404, request id [0-9a-f-]+\\]"));
  }
  try {
    host_.run(az->remove(key));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
  }
}

TEST_F(AzureServer, ReadsWhatTheSdkWrote) {
  ASSERT_EQ(
      node_check({"put", kContainer, "sdk/written by sdk.txt", "hello from the sdk", "text/plain"})
          .exit_code,
      0);
  auto az = host_.make("azure-blob", options());
  EXPECT_EQ(host_.run(az->get("sdk/written by sdk.txt")), "hello from the sdk");
  EXPECT_EQ(host_.run(az->head("sdk/written by sdk.txt")).content_type, "text/plain");
}

TEST_F(AzureServer, AwkwardNamesRoundTrip) {
  auto az = host_.make("azure-blob", options());
  const std::vector<std::string> keys = {
      "awkward/with space.png",   "awkward/caf\xC3\xA9 \xE2\x98\x95.png",
      "awkward/plus+sign.png",    "awkward/percent%25 and %.png",
      "awkward/equals=sign.png",  "awkward/tilde~and$dollar.png",
      "awkward/2026/11/21/id.png"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto data = std::make_shared<const std::string>(random_bytes(50 + i, static_cast<unsigned>(i)));
    host_.run(az->put(keys[i], data, {"image/png", {}}));
    EXPECT_EQ(host_.run(az->get(keys[i])), *data) << keys[i];
    auto sdk = sdk_get(keys[i]);
    EXPECT_EQ(base64_decode(sdk.value("base64", "")), *data) << keys[i];
  }
  auto page = host_.run(az->list("awkward/", "", 1000));
  std::vector<std::string> listed;
  for (const auto& o : page.objects) listed.push_back(o.key);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
}

TEST_F(AzureServer, Lists2500BlobsAcrossPages) {
  auto az = host_.make("azure-blob", options());
  expect_lists_2500_objects_over_3_pages(host_, *az);
}

TEST_F(AzureServer, BlockUploadOf20MB) {
  auto az =
      host_.make("azure-blob", options({{"block_threshold", 4 << 20}, {"block_size", 4 << 20}}));
  const std::string key = "big/20mb.bin";
  auto data = std::make_shared<const std::string>(random_bytes(20 << 20, 5));
  host_.run(az->put(key, data, {"application/octet-stream", {{"job_id", "big"}}}));
  EXPECT_TRUE(host_.run(az->get(key)) == *data);
  auto sdk = sdk_get(key);
  EXPECT_EQ(sdk["size"], 20 << 20);
  EXPECT_EQ(sdk["contentType"], "application/octet-stream");
  EXPECT_EQ(sdk["metadata"]["job_id"], "big");
  EXPECT_TRUE(base64_decode(sdk.value("base64", "")) == *data);
}

TEST_F(AzureServer, SasUrlIsFetchedWithCurlAndRefusedAfterExpiry) {
  auto az = host_.make("azure-blob", options());
  const std::string key = "sas/a b+c.png";
  auto data = std::make_shared<const std::string>(random_bytes(700, 3));
  host_.run(az->put(key, data, {"image/png", {}}));
  const auto url = host_.run(az->presign(key, std::chrono::seconds(300)));
  EXPECT_THAT(
      url,
      MatchesRegex(
          "http://127\\.0\\.0\\.1:[0-9]+/devstoreaccount1/imagepipe-test/sas/a%20b%2Bc\\.png\\?"
          "sv=2021-08-06&spr=https%2Chttp&se=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}%3A[0-9]{2}%3A"
          "[0-9]{2}Z&sr=b&sp=r&sig=[A-Za-z0-9%]+"));
  auto ok = run_program({"curl", "-s", "-w", "\n%{http_code}", url});
  EXPECT_EQ(ok.out, *data + "\n200");

  host_.clock.offset = -std::chrono::hours(2);
  const auto expired = host_.run(az->presign(key, std::chrono::seconds(60)));
  host_.clock.offset = {};
  auto refused = run_program({"curl", "-s", "-w", "\n%{http_code}", expired});
  EXPECT_THAT(refused.out, HasSubstr("<Code>AuthorizationFailure</Code>"));
  EXPECT_TRUE(refused.out.ends_with("\n403")) << refused.out;

  // A SAS for another blob does not open this one: the signature covers the name.
  auto other = url;
  other.replace(other.find("a%20b%2Bc"), 9, "a%20b%2Bd");
  EXPECT_TRUE(run_program({"curl", "-s", "-w", "\n%{http_code}", other}).out.ends_with("\n403"));
}

TEST_F(AzureServer, CreateContainerMakesAMissingContainerOnceForConcurrentFirstPuts) {
  RecordingHttp recording(*host_.host.http);
  host_.host.http = &recording;
  const std::string container = "created-on-first-put";
  ASSERT_EQ(node_check({"container-exists", container}).out, "false\n");
  auto az = host_.make("azure-blob", options({{"container", container}, {"create_container", true}}));
  // Eight uploads at once into a container that is not there yet.
  const auto keys = numbered_keys("2026/11/21/", 8);
  auto data = std::make_shared<const std::string>(random_bytes(3072, 13));
  host_.put_all(*az, keys, data);
  EXPECT_EQ(recording.count("PUT /devstoreaccount1/" + container + "?restype=container"), 1u);

  EXPECT_EQ(node_check({"container-exists", container}).out, "true\n");
  auto listing = host_.list_all(*az, "");
  std::vector<std::string> listed;
  for (const auto& o : listing.objects) listed.push_back(o.key);
  EXPECT_EQ(listed, keys);
  auto sdk = sdk_get(keys[5], container);
  EXPECT_EQ(sdk["size"], 3072);
  EXPECT_TRUE(base64_decode(sdk.value("base64", "")) == *data);

  // Blocks: Put Block is the write that finds the container missing.
  auto blocks = host_.make("azure-blob", options({{"container", "created-by-blocks"},
                                                  {"create_container", true},
                                                  {"block_threshold", 64 * 1024},
                                                  {"block_size", 64 * 1024}}));
  auto big = std::make_shared<const std::string>(random_bytes(200 * 1024, 14));
  host_.run(blocks->put("big.bin", big, {"application/octet-stream", {{"job_id", "b"}}}));
  auto sdk_big = sdk_get("big.bin", "created-by-blocks");
  EXPECT_EQ(sdk_big["metadata"]["job_id"], "b");
  EXPECT_TRUE(base64_decode(sdk_big.value("base64", "")) == *big);
}

TEST_F(AzureServer, MissingContainerIsNotFoundNamingTheContainer) {
  auto az = host_.make("azure-blob", options({{"container", "no-such-container"}}));
  try {
    host_.run(az->put("a.png", std::make_shared<const std::string>("x"), {}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::not_found);
    EXPECT_THAT(e.what(),
                MatchesRegex("Azure Put Blob: container 'no-such-container' does not exist "
                             "\\[ContainerNotFound, HTTP 404, request id [0-9a-f-]+\\]"));
  }
  // Without create_container nothing was created.
  EXPECT_EQ(node_check({"container-exists", "no-such-container"}).out, "false\n");
}

TEST_F(AzureServer, WrongKeyIsUnauthorizedAndTheKeyStaysOut) {
  const std::string wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=";
  auto az = host_.make("azure-blob", {{"container", kContainer},
                                      {"account_name", "devstoreaccount1"},
                                      {"account_key", wrong},
                                      {"endpoint", *endpoint_}});
  try {
    host_.run(az->get("anything.png"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::unauthorized);
    EXPECT_THAT(
        e.what(),
        MatchesRegex("Azure Get Blob: .* \\(blob 'anything\\.png' in container 'imagepipe-test'\\) "
                     "\\[AuthorizationFailure, HTTP 403, request id [0-9a-f-]+\\]"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr(wrong)));
  }
}

TEST_F(AzureServer, AccountNameAndKeyWithCustomEndpoint) {
  auto az = host_.make("azure-blob", {{"container", kContainer},
                                      {"account_name", "devstoreaccount1"},
                                      {"account_key", kDevKey},
                                      {"endpoint", *endpoint_},
                                      {"public_base_url", "https://cdn.example.com/img"}});
  host_.run(az->put("plain/x.txt", std::make_shared<const std::string>("abc"), {"text/plain", {}}));
  EXPECT_EQ(host_.run(az->get("plain/x.txt")), "abc");
  EXPECT_EQ(az->public_url("plain/a b.png"), "https://cdn.example.com/img/plain/a%20b.png");
}

}  // namespace
}  // namespace imagepipe::testing
