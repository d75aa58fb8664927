// The three watsonx Orchestrate tools end to end in their offline form (local folders for
// COS, no OpenAI key: the local fallback): the real daemon, a callback receiver on loopback,
// payloads checked field by field against the seeds. The shipped tools on a real S3 server
// and the fake OpenAI are in tests/providers/serve_wxo_cos_test.cpp.
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

TEST_F(ServeTest, Base64ToolCallsBackWithTheEditedImage) {
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}});
  const auto id = accept(daemon, "/process-image-async-b64", b64_request());
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();

  const auto request = receiver_.requests()[0];
  EXPECT_EQ(request.header("Idempotency-Key"), id);
  EXPECT_EQ(request.header("X-Imagepipe-Job-Id"), id);
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  const auto body = json::parse(request.body);
  std::set<std::string> keys;
  for (const auto& [k, v] : body.items()) keys.insert(k);
  // `error` only when something went wrong: the seeds' success payload has none.
  EXPECT_EQ(keys, (std::set<std::string>{"status", "job_id", "filename", "result_image_base64",
                                         "result_mime_type"}));
  EXPECT_EQ(body["status"], "completed");
  EXPECT_EQ(body["job_id"], id);
  EXPECT_EQ(body["filename"], "burger.jpeg");
  EXPECT_EQ(body["result_mime_type"], "image/png");
  // The local fallback inverts the colours: (200, 30, 60) becomes (55, 225, 195).
  const auto result = decode_image(base64_decode(body["result_image_base64"].get<std::string>()));
  EXPECT_EQ(result.width, 64);
  EXPECT_EQ(result.height, 48);
  EXPECT_EQ(pixel(result, 0, 0), (std::vector<std::uint8_t>{55, 225, 195}));

  auto job = json::parse(daemon.get("/jobs/" + id).body);
  EXPECT_EQ(job["status"], "completed");
  EXPECT_EQ(job["callback"]["status"], "delivered");
  EXPECT_EQ(job["callback"]["attempts"], 1);
}

TEST_F(ServeTest, Base64ToolAcceptsADataUrl) {
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}});
  accept(daemon, "/process-image-async-b64",
         b64_request("data:image/png;base64," + png_base64(), "pic.png"));
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  EXPECT_EQ(callbacks()[0]["status"], "completed");
  EXPECT_EQ(callbacks()[0]["filename"], "pic.png");
}

TEST_F(ServeTest, StorageToolCallsBackWithTheObjectKeyAndUrl) {
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}, .env = {{"COS_PRESIGN_EXPIRES", "600"}}});
  const auto id =
      accept(daemon, "/process-image-async", b64_request(png_base64(), "My Product (1).png"));
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();

  const auto body = callbacks()[0];
  std::set<std::string> keys;
  for (const auto& [k, v] : body.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"status", "job_id", "filename", "object_key", "result_url",
                                         "expires_in"}));
  EXPECT_EQ(body["status"], "completed");
  EXPECT_EQ(body["job_id"], id);
  EXPECT_EQ(body["filename"], "My Product (1).png");
  // The seeds' key pattern and stem sanitising.
  EXPECT_EQ(body["object_key"], "results/" + id + "/My_Product__1_modified.png");
  EXPECT_EQ(body["expires_in"], 600);
  EXPECT_THAT(body["result_url"].get<std::string>(),
              ::testing::EndsWith(body["object_key"].get<std::string>()));
  // Under the local stand-in for COS, the bucket is a folder beside the daemon.
  const auto stored = daemon.data_dir().parent_path() / "cos" / "wxo-images" /
                      body["object_key"].get<std::string>();
  EXPECT_TRUE(std::filesystem::exists(stored)) << stored;
}

TEST_F(ServeTest, BatchToolProcessesTheInputFolderAndReportsTheSeedsMetrics) {
  const auto cos = make_temp_dir("imagepipe-cos-");
  write_file(cos / "input-images" / "Pizza.png", base64_decode(png_base64()));
  write_file(cos / "input-images" / "burger.png", base64_decode(png_base64(32, 32, {10, 20, 30})));
  write_file(cos / "input-images" / "broken.png", "not an image at all");
  write_file(cos / "input-images" / "notes.txt", "not an image either");
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}, .env = {{"IMAGEPIPE_COS_ROOT", cos.string()}}});

  const auto id =
      accept(daemon, "/batch-process-images", {{"prompt", "make the image more beautiful"}});
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(60))) << daemon.log();
  const auto body = callbacks()[0];
  std::set<std::string> keys;
  for (const auto& [k, v] : body.items()) keys.insert(k);
  EXPECT_EQ(keys,
            (std::set<std::string>{"status", "job_id", "total_files", "processed", "failed",
                                   "fallback_local", "duration_seconds", "total_files_processed",
                                   "output_bucket", "output_prefix", "errors"}));
  // As the seeds: every object under the prefix counts, those that are not images fail.
  EXPECT_EQ(body["status"], "completed_with_errors");
  EXPECT_EQ(body["job_id"], id);
  EXPECT_EQ(body["total_files"], 4);
  EXPECT_EQ(body["processed"], 2);
  EXPECT_EQ(body["failed"], 2);
  EXPECT_EQ(body["fallback_local"], 2);  // no key: the optional OpenAI entry was skipped
  EXPECT_EQ(body["total_files_processed"], 2);
  EXPECT_TRUE(body["duration_seconds"].is_number_float());
  EXPECT_EQ(body["output_bucket"], "wxo-images");
  EXPECT_EQ(body["output_prefix"], "results/batch/" + id + "/");
  ASSERT_EQ(body["errors"].size(), 2u);
  EXPECT_THAT(body["errors"][0].get<std::string>(), ::testing::StartsWith("broken.png: "));
  EXPECT_THAT(body["errors"][1].get<std::string>(), ::testing::StartsWith("notes.txt: "));
  for (const auto* stem : {"Pizza", "burger"})
    EXPECT_TRUE(std::filesystem::exists(cos / "wxo-images" / "results" / "batch" / id /
                                        (std::string(stem) + "_modified.png")))
        << stem;
  std::filesystem::remove_all(cos);
}

TEST_F(ServeTest, HealthAndCosConfigSpeakTheSeedsContract) {
  DaemonProcess daemon(
      {.pipelines = {kWxoOfflineDir},
       .env = {{"COS_ENDPOINT", "https://s3.eu-de.cloud-object-storage.appdomain.cloud"},
               {"COS_REGION", "eu-de"},
               {"COS_INPUT_BUCKET", "input-images"},
               {"COS_OUTPUT_BUCKET", "wxo-images"},
               {"COS_SECRET_ACCESS_KEY", "very-secret-key-value"},
               {"COS_ACCESS_KEY_ID", "access-key-id-value"}}});
  auto health = daemon.get("/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body), json({{"ok", true}}));
  EXPECT_EQ(daemon.get("/health/live").status, 200);
  auto ready = json::parse(daemon.get("/health/ready").body);
  EXPECT_EQ(ready["ready"], true);
  EXPECT_EQ(ready["job_store"], "ok");
  EXPECT_EQ(ready["pipelines"]["wxo-offline-edit-b64"]["ready"], true);

  auto cos = daemon.get("/cos/config");
  EXPECT_EQ(cos.status, 200);
  EXPECT_EQ(json::parse(cos.body),
            json({{"endpoint", "https://s3.eu-de.cloud-object-storage.appdomain.cloud"},
                  {"region", "eu-de"},
                  {"input_bucket", "input-images"},
                  {"output_bucket", "wxo-images"},
                  {"input_prefix", ""},
                  {"output_prefix", "results/batch"},
                  {"presign_expires", 900}}));
  EXPECT_THAT(cos.body, ::testing::Not(::testing::HasSubstr("very-secret-key-value")));
  EXPECT_THAT(cos.body, ::testing::Not(::testing::HasSubstr("access-key-id-value")));
}

TEST_F(ServeTest, OpenApiDocumentDescribesTheAsyncTools) {
  DaemonProcess daemon({.pipelines = {kWxoOfflineDir}});
  auto doc = json::parse(daemon.get("/openapi.json").body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  ASSERT_EQ(doc["servers"].size(), 1u);
  EXPECT_EQ(doc["servers"][0]["url"], daemon.url());
  const auto& op = doc["paths"]["/process-image-async-b64"]["post"];
  EXPECT_EQ(op["operationId"], "wxo_offline_edit_b64");
  EXPECT_FALSE(op["description"].get<std::string>().empty());
  EXPECT_EQ(op["parameters"][0],
            json({{"in", "header"},
                  {"name", "callbackUrl"},
                  {"required", true},
                  {"description", "URL that receives the job's result (POST, JSON) when it ends"},
                  {"schema", {{"type", "string"}}}}));
  const auto& callback = op["callbacks"]["jobResult"]["{$request.header.callbackUrl}"]["post"];
  const auto& schema = callback["requestBody"]["content"]["application/json"]["schema"];
  EXPECT_EQ(schema["required"], json({"status", "job_id"}));
  EXPECT_TRUE(schema["properties"].contains("result_image_base64"));
  EXPECT_TRUE(doc["paths"].contains("/process-image-async"));
  EXPECT_TRUE(doc["paths"].contains("/batch-process-images"));
}

}  // namespace
}  // namespace imagepipe::testing
