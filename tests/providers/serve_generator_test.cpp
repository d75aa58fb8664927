// Seed 004's image-generator service, as shipped (pipelines/generator, serve/generator.yaml),
// served by the real daemon against the fake upstream (dall-e-3 and Together's FLUX.1
// [schnell]) with real storage: local disk and s3rver. Each test asserts what reached the
// upstream and what was stored, byte for byte.
#include <fstream>

#include <gmock/gmock.h>

#include "fakes/fake_upstream.hpp"
#include "serve_fixture.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kGenerator = std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/generator";
const std::string kServeConfig = std::string(IMAGEPIPE_SOURCE_DIR) + "/serve/generator.yaml";
const Headers kJson = {{"Content-Type", "application/json"}};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A daemon serving the generator with the fake's keys (or none), images under `images`.
struct Generator {
  explicit Generator(FakeUpstream& fake, std::map<std::string, std::string> env = {},
                     bool keys = true)
      : images(fs::temp_directory_path() / ("imagepipe-generated-" + std::to_string(::getpid()) +
                                            "-" + std::to_string(counter++))) {
    env["GENERATED_IMAGES_DIR"] = images.string();
    if (keys) {
      env.emplace("OPENAI_API_KEY", fake.openai_key);
      env.emplace("OPENAI_BASE_URL", fake.openai_base());
      env.emplace("FLUX_API_KEY", fake.openai_key);
      env.emplace("FLUX_BASE_URL", fake.openai_base());
    }
    daemon.emplace(DaemonOptions{.pipelines = {kGenerator}, .env = env, .test_plugins = false});
  }
  ~Generator() { fs::remove_all(images); }

  HttpResponse generate(const std::string& body) {
    return daemon->post("/api/v1/generate", body, kJson);
  }

  static inline int counter = 0;
  fs::path images;
  std::optional<DaemonProcess> daemon;
};

// Info, download and delete of a stored `image` (an entry of images[]) through the routes.
void expect_image_routes(DaemonProcess& daemon, const json& image, const std::string& prompt) {
  const std::string id = image["stem"];
  const auto info = daemon.get("/api/v1/images/" + id);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(json::parse(info.body)["metadata"]["prompt"], prompt);
  EXPECT_EQ(json::parse(info.body)["size"], image["bytes"]);
  const auto download = daemon.get("/api/v1/images/" + id + "/download");
  EXPECT_EQ(download.body.size(), image["bytes"].get<std::size_t>());
  EXPECT_EQ(daemon.request({.method = "DELETE", .url = daemon.url("/api/v1/images/" + id)}).status,
            200);
  EXPECT_EQ(daemon.get("/api/v1/images/" + id).status, 404);
}

TEST(ServeGenerator, DalleImageIsStoredByDateWithItsMetadataThenReadDownloadedAndDeleted) {
  FakeUpstream fake;
  Generator gen(fake);
  const auto answer = gen.generate(
      R"({"prompt": "A futuristic city skyline at sunset", "provider": "dalle3",
          "size": "1792x1024", "quality": "hd", "style": "natural"})");
  ASSERT_EQ(answer.status, 200) << answer.body << gen.daemon->log();
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["provider"], "dalle3");
  EXPECT_EQ(body["revised_prompt"], "A detailed rendering of: A futuristic city skyline at sunset");
  EXPECT_EQ(body["correlation_id"], *answer.header("x-request-id"));
  ASSERT_EQ(body["images"].size(), 1u);
  const auto& image = body["images"][0];
  EXPECT_EQ(image["width"], 1792);
  EXPECT_EQ(image["height"], 1024);

  // What OpenAI was asked: one dall-e-3 request with the request's fields.
  const auto calls = fake.received("/v1/images/generations");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].json["model"], "dall-e-3");
  EXPECT_EQ(calls[0].json["size"], "1792x1024");
  EXPECT_EQ(calls[0].json["quality"], "hd");
  EXPECT_EQ(calls[0].json["style"], "natural");

  // YYYY/MM/DD/{id}.png with {id}.json beside it.
  const std::string id = image["stem"];
  ASSERT_THAT(id, ::testing::MatchesRegex("[0-9]{8}-[0-9a-f-]{36}"));
  const fs::path folder = gen.images / id.substr(0, 4) / id.substr(4, 2) / id.substr(6, 2);
  const std::string stored = read_file(folder / (id + ".png"));
  ASSERT_EQ(stored.size(), image["bytes"].get<std::size_t>());
  const json sidecar = json::parse(read_file(folder / (id + ".json")));
  EXPECT_EQ(sidecar["metadata"]["prompt"], "A futuristic city skyline at sunset");
  EXPECT_EQ(sidecar["metadata"]["provider"], "dalle3");
  EXPECT_EQ(sidecar["metadata"]["revised_prompt"],
            "A detailed rendering of: A futuristic city skyline at sunset");

  const auto info = gen.daemon->get("/api/v1/images/" + id);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(json::parse(info.body)["metadata"]["size"], "1792x1024");
  const auto download = gen.daemon->get("/api/v1/images/" + id + "/download");
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.body, stored);
  EXPECT_EQ(*download.header("content-type"), "image/png");
  const auto removed =
      gen.daemon->request({.method = "DELETE", .url = gen.daemon->url("/api/v1/images/" + id)});
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_FALSE(fs::exists(folder / (id + ".png")));
  EXPECT_FALSE(fs::exists(folder / (id + ".json")));
  EXPECT_EQ(gen.daemon->get("/api/v1/images/" + id).status, 404);
  EXPECT_EQ(gen.daemon->get("/api/v1/images/not-an-id").status, 422);
}

TEST(ServeGenerator, FluxMakesEachImageWithItsOwnRequestWithSizeAndSeed) {
  FakeUpstream fake;
  Generator gen(fake);
  const auto answer = gen.generate(
      R"({"prompt": "Abstract geometric patterns", "provider": "flux_schnell",
          "size": "1536x1024", "num_images": 3, "seed": 42})");
  ASSERT_EQ(answer.status, 200) << answer.body << gen.daemon->log();
  const json body = json::parse(answer.body);
  ASSERT_EQ(body["images"].size(), 3u);
  std::set<std::string> ids;
  for (const auto& image : body["images"]) {
    EXPECT_EQ(image["width"], 1536);
    EXPECT_EQ(image["height"], 1024);
    ids.insert(image["stem"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 3u);
  const auto calls = fake.received("/v1/images/generations");
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& call : calls) {
    EXPECT_EQ(call.json["model"], "black-forest-labs/FLUX.1-schnell");
    EXPECT_EQ(call.json["width"], 1536);
    EXPECT_EQ(call.json["height"], 1024);
    EXPECT_EQ(call.json["seed"], 42);
    EXPECT_FALSE(call.json.contains("size"));
    EXPECT_EQ(call.json.value("n", 1), 1);
  }
}

TEST(ServeGenerator, WhatTheProviderCannotMakeIsA422BeforeAnyCall) {
  FakeUpstream fake;
  Generator gen(fake);
  auto answer = gen.generate(R"({"prompt": "x", "provider": "dalle3", "num_images": 4})");
  EXPECT_EQ(answer.status, 422);
  json body = json::parse(answer.body);
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["error"], "validation_failed");
  EXPECT_EQ(body["message"], "body.num_images: dalle3 makes at most 1 image per request, got 4");

  answer = gen.generate(R"({"prompt": "x", "provider": "flux_schnell", "size": "1792x1024"})");
  EXPECT_EQ(answer.status, 422);
  EXPECT_EQ(json::parse(answer.body)["message"],
            "body.size: flux_schnell makes the sizes 512x512, 768x768, 1024x1024, 1536x1024, "
            "1024x1536, got 1792x1024");
  answer = gen.generate(R"({"prompt": "x", "provider": "dalle3", "size": "512x512"})");
  EXPECT_EQ(answer.status, 422);
  EXPECT_THAT(answer.body, HasSubstr("dalle3 makes the sizes 1024x1024, 1792x1024, 1024x1792"));
  answer = gen.generate(R"({"prompt": "x", "provider": "flux_schnell", "num_images": 5})");
  EXPECT_EQ(answer.status, 422);  // MAX_IMAGES_PER_REQUEST (4) in the schema
  answer = gen.generate(R"({"prompt": "x", "provider": "midjourney"})");
  EXPECT_EQ(answer.status, 422);
  EXPECT_THAT(answer.body, HasSubstr("provider"));
  EXPECT_TRUE(fake.received().empty());
}

TEST(ServeGenerator, BlockedWordsAreRefusedBeforeAnyCall) {
  FakeUpstream fake;
  Generator gen(fake, {{"BLOCKED_WORDS", "gore, hate speech"}});
  const auto answer = gen.generate(R"({"prompt": "a scene full of GORE"})");
  EXPECT_EQ(answer.status, 400) << answer.body;
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["error"], "content_policy");
  EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("blocked term 'gore'"));
  EXPECT_TRUE(fake.received().empty());

  Generator open(fake, {{"BLOCKED_WORDS", "gore"}, {"ENABLE_CONTENT_MODERATION", "false"}});
  EXPECT_EQ(open.generate(R"({"prompt": "a scene full of gore"})").status, 200);
}

TEST(ServeGenerator, BatchRunsEachRequestAsItsOwnJobAndIsRefusedWhole) {
  FakeUpstream fake;
  Generator gen(fake);
  const auto answer = gen.daemon->post(
      "/api/v1/generate/batch",
      R"([{"prompt": "Mountain landscape", "provider": "dalle3", "size": "1792x1024"},
          {"prompt": "Ocean waves", "provider": "flux_schnell", "size": "1024x1536", "num_images": 2}])",
      kJson);
  ASSERT_EQ(answer.status, 200) << answer.body << gen.daemon->log();
  const json body = json::parse(answer.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["provider"], "dalle3");
  EXPECT_EQ(body[0]["images"].size(), 1u);
  EXPECT_EQ(body[1]["provider"], "flux_schnell");
  EXPECT_EQ(body[1]["images"].size(), 2u);
  EXPECT_EQ(fake.received("/v1/images/generations").size(), 3u);

  fake.clear();
  auto refused = gen.daemon->post(
      "/api/v1/generate/batch",
      R"([{"prompt": "a"}, {"prompt": "b", "provider": "dalle3", "num_images": 2}])", kJson);
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(json::parse(refused.body)["detail"][0]["loc"], json({"body", "1", "num_images"}));
  std::string eleven = "[";
  for (int i = 0; i < 11; ++i) eleven += std::string(i ? "," : "") + R"({"prompt": "p"})";
  refused = gen.daemon->post("/api/v1/generate/batch", eleven + "]", kJson);
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(json::parse(refused.body)["message"],
            "body: must be a JSON array of 1 to 10 requests, got 11 requests");
  refused = gen.daemon->post("/api/v1/generate/batch", R"({"prompt": "p"})", kJson);
  EXPECT_EQ(refused.status, 422);
  EXPECT_TRUE(fake.received().empty());
}

TEST(ServeGenerator, ProvidersCatalogueSaysWhichProviderAnswers) {
  FakeUpstream fake;
  Generator keyed(fake);
  json listed = json::parse(keyed.daemon->get("/api/v1/providers").body);
  EXPECT_EQ(listed["default_provider"], "dalle3");
  ASSERT_EQ(listed["providers"].size(), 2u);
  const auto& dalle = listed["providers"][0];
  EXPECT_EQ(dalle["id"], "dalle3");
  EXPECT_EQ(dalle["name"], "DALL-E 3");
  EXPECT_EQ(dalle["supported_sizes"], json({"1024x1024", "1792x1024", "1024x1792"}));
  EXPECT_EQ(dalle["max_images"], 1);
  EXPECT_EQ(dalle["supports_quality"], true);
  EXPECT_EQ(dalle["provider"], "openai");
  EXPECT_FALSE(dalle.contains("skipped"));
  EXPECT_EQ(listed["providers"][1]["max_images"], 4);
  EXPECT_EQ(listed["providers"][1]["supports_seed"], true);

  // No keys: the service still runs, on the local placeholder, and says so.
  Generator keyless(fake,
                    {{"ENABLED_PROVIDERS", "flux_schnell"}, {"DEFAULT_PROVIDER", "flux_schnell"}},
                    /*keys=*/false);
  listed = json::parse(keyless.daemon->get("/api/v1/providers").body);
  EXPECT_EQ(listed["default_provider"], "flux_schnell");
  ASSERT_EQ(listed["providers"].size(), 1u);
  EXPECT_EQ(listed["providers"][0]["provider"], "local");
  EXPECT_EQ(listed["providers"][0]["skipped"], json({"openai: not configured: api_key empty"}));
  const auto answer = keyless.generate(R"({"prompt": "a placeholder"})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(json::parse(answer.body)["provider"], "flux_schnell");
  EXPECT_EQ(keyless.generate(R"({"prompt": "x", "provider": "dalle3"})").status, 422);
  EXPECT_TRUE(fake.received().empty());
}

TEST(ServeGenerator, S3BackendCreatesTheBucketAndKeepsMetadataOnTheObject) {
  if (node_tool("s3rver").empty())
    GTEST_SKIP()
        << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  FakeUpstream fake;
  S3rverProcess s3({});  // no bucket: the pipeline creates it
  Generator gen(fake, {{"STORAGE_BACKEND", "s3"},
                       {"S3_ENDPOINT", s3.endpoint()},
                       {"S3_BUCKET_NAME", "generated-images"},
                       {"AWS_ACCESS_KEY_ID", "S3RVER"},
                       {"AWS_SECRET_ACCESS_KEY", "S3RVER"}});
  const auto answer = gen.generate(R"({"prompt": "a red fox", "provider": "dalle3"})");
  ASSERT_EQ(answer.status, 200) << answer.body << gen.daemon->log();
  const json image = json::parse(answer.body)["images"][0];
  const std::string id = image["stem"];
  EXPECT_EQ(image["key"],
            id.substr(0, 4) + "/" + id.substr(4, 2) + "/" + id.substr(6, 2) + "/" + id + ".png");
  EXPECT_THAT(image["url"].get<std::string>(), HasSubstr("X-Amz-Signature="));

  const auto object =
      run_program({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                   s3.endpoint() + "/generated-images/" + image["key"].get<std::string>()});
  EXPECT_EQ(object.out, "200 " + std::to_string(image["bytes"].get<long long>()));
  expect_image_routes(*gen.daemon, image, "a red fox");
}

TEST(ServeGenerator, AzureBackendCreatesTheContainerAndServesTheImageRoutes) {
  const auto azurite = node_tool("azurite-blob");
  if (azurite.empty())
    GTEST_SKIP()
        << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  const auto port = free_loopback_port();
  ServerProcess server({azurite, "--blobHost", "127.0.0.1", "--blobPort", std::to_string(port),
                        "--inMemoryPersistence", "--silent", "--disableTelemetry"},
                       port);
  // Azurite's published development account.
  const std::string conn =
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey="
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
      "BlobEndpoint=http://127.0.0.1:" +
      std::to_string(port) + "/devstoreaccount1;";
  FakeUpstream fake;
  Generator gen(fake, {{"STORAGE_BACKEND", "azure"},
                       {"AZURE_STORAGE_CONNECTION_STRING", conn},
                       {"AZURE_STORAGE_CONTAINER", "made-on-demand"}});
  const auto answer = gen.generate(R"({"prompt": "a heron", "provider": "flux_schnell"})");
  ASSERT_EQ(answer.status, 200) << answer.body << gen.daemon->log();
  const json image = json::parse(answer.body)["images"][0];
  expect_image_routes(*gen.daemon, image, "a heron");
}

TEST(ServeGenerator, AuthenticationTakesTheSeedsApiKeysAsHeaderOrBearer) {
  FakeUpstream fake;
  DaemonProcess daemon(
      {.config_yaml =
           read_file(kServeConfig)
               .replace(read_file(kServeConfig).find("[../pipelines/generator]"),
                        std::string("[../pipelines/generator]").size(), "[" + kGenerator + "]"),
       .env = {{"ENABLE_AUTHENTICATION", "true"},
               {"API_KEYS", "key-one,key-two"},
               {"OPENAI_API_KEY", fake.openai_key},
               {"OPENAI_BASE_URL", fake.openai_base()},
               {"GENERATED_IMAGES_DIR", "./images"}},
       .test_plugins = false});
  const std::string body = R"({"prompt": "a lighthouse"})";
  auto refused = daemon.post("/api/v1/generate", body, kJson);
  EXPECT_EQ(refused.status, 401) << refused.body;
  refused = daemon.post("/api/v1/generate", body,
                        {{"Content-Type", "application/json"}, {"X-API-Key", "key-three"}});
  EXPECT_EQ(refused.status, 401);
  EXPECT_TRUE(fake.received().empty());
  EXPECT_EQ(daemon
                .post("/api/v1/generate", body,
                      {{"Content-Type", "application/json"}, {"X-API-Key", "key-one"}})
                .status,
            200);
  EXPECT_EQ(daemon
                .post("/api/v1/generate", body,
                      {{"Content-Type", "application/json"}, {"Authorization", "Bearer key-two"}})
                .status,
            200);
  EXPECT_EQ(daemon.get("/api/v1/providers").status, 401);
  EXPECT_EQ(daemon.get("/health").status, 200);
  EXPECT_EQ(daemon.get("/health/").status, 200);  // exempt, and the seed's overall status
  EXPECT_EQ(fake.received("/v1/images/generations").size(), 2u);
}

}  // namespace
}  // namespace imagepipe::testing
