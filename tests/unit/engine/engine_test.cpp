// The engine's contract: chain, retries, fall-through, concurrency, limits, metrics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "imagepipe/http.hpp"
#include "imagepipe/image.hpp"
#include "support/engine_harness.hpp"
#include "support/images.hpp"

namespace imagepipe {
namespace {

using testing::EngineHarness;
using testing::script_stats;
namespace fs = std::filesystem;

std::string png_bytes(int w, int h, std::uint8_t value) {
  Image image(w, h, 3);
  std::fill(image.pixels.begin(), image.pixels.end(), value);
  return encode_image(image, EncodeSpec{ImageFormat::png});
}

JobRequest image_request(const std::string& bytes, const std::string& filename = "burger.jpeg") {
  JobRequest r;
  r.body = {{"prompt", "add a dog"}, {"filename", filename}, {"image_base64", base64_encode(bytes)}};
  return r;
}

const char* kChain = R"(
name: chain
source: {from: request, field: image_base64, filename_field: filename}
provider:
  - use: test-script
    with: {fail: [billing_limit]}
    fall_through_on: [billing_limit]
  - use: test-script
sink: {inline: true}
)";

TEST(Engine, BillingLimitFallsThroughAndIsCounted) {
  EngineHarness h;
  auto job = h.run(kChain, image_request(png_bytes(16, 16, 10)));
  ASSERT_EQ(job.status, "completed") << job.items.at(0).error;
  const auto& item = job.items.at(0);
  EXPECT_EQ(item.fall_throughs, 1);
  EXPECT_EQ(item.attempts, 2);
  auto m = job.metrics();
  EXPECT_EQ(m["fell_back"], 1);
  EXPECT_EQ(m["processed"], 1);
  EXPECT_EQ(m["failed"], 0);
  ASSERT_EQ(m["errors"].size(), 1u);
  EXPECT_EQ(m["errors"][0],
            "burger.jpeg: test-script billing_limit (scripted billing_limit (request id req_123)) -> fallback "
            "test-script applied");
  // The echoed input is kept byte for byte: no re-encode of an untouched image.
  ASSERT_EQ(item.outputs.size(), 1u);
  EXPECT_EQ(*item.outputs[0].data, png_bytes(16, 16, 10));
  EXPECT_EQ(item.outputs[0].mime, "image/png");
  EXPECT_EQ(item.stem, "burger");
}

TEST(Engine, OtherErrorsDoNotFallThrough) {
  EngineHarness h;
  auto job = h.run(R"(
name: strict
source: {from: request, field: image_base64}
provider:
  - use: test-script
    with: {fail: [unauthorized]}
    fall_through_on: [billing_limit]
  - use: test-script
)",
                   image_request(png_bytes(4, 4, 0)));
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unauthorized);
  EXPECT_EQ(job.items[0].error, "test-script: scripted unauthorized (request id req_123)");
  EXPECT_EQ(script_stats().calls, 1);  // the second entry was never tried
}

TEST(Engine, RetryableErrorsAreRetriedHonouringRetryAfter) {
  EngineHarness h;
  auto job = h.run(R"(
name: retry
source: {from: prompt}
provider:
  use: test-script
  with: {fail: [rate_limited, rate_limited], retry_after_ms: 2000}
  retry: {attempts: 3, base_delay_ms: 100, max_delay_ms: 1000}
)");
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  EXPECT_EQ(job.items[0].attempts, 3);
  // Retry-After (2 s) outweighs the backoff (<= 1 s); the gate's shared pause and the
  // item's own sleep both respect it.
  EXPECT_GE(h.fake_clock().elapsed(), std::chrono::milliseconds(4000));
}

TEST(Engine, RetriesStopAtTheBudget) {
  EngineHarness h;
  auto job = h.run(R"(
name: budget
source: {from: prompt}
provider:
  use: test-script
  with: {fail: [unavailable], fail_always: true}
  retry: {attempts: 4, base_delay_ms: 100, max_delay_ms: 400}
)");
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].attempts, 4);
  EXPECT_EQ(job.items[0].error_class, ErrorClass::unavailable);
  auto sleeps = h.fake_clock().sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  // Exponential with jitter in [50%, 100%]: 100, 200, 400 ms caps.
  EXPECT_GE(sleeps[0].count(), 50);
  EXPECT_LE(sleeps[0].count(), 100);
  EXPECT_GE(sleeps[2].count(), 200);
  EXPECT_LE(sleeps[2].count(), 400);
}

TEST(Engine, ItemsRunConcurrentlyUpToTheLimit) {
  EngineHarness h(/*fake_clock=*/false);
  fs::path dir = fs::temp_directory_path() / ("ip-conc-" + new_job_id());
  fs::create_directories(dir);
  for (int i = 0; i < 9; ++i) std::ofstream(dir / ("img" + std::to_string(i) + ".png"), std::ios::binary) << png_bytes(4, 4, 1);
  JobRequest request;
  request.input_paths = {dir.string()};
  auto job = h.run(R"(
name: conc
source: {from: files}
provider: {use: test-script, with: {delay_ms: 30}}
concurrency: 3
)",
                   request);
  EXPECT_EQ(job.status, "completed");
  EXPECT_EQ(job.items.size(), 9u);
  EXPECT_EQ(script_stats().peak_in_flight, 3);
  fs::remove_all(dir);
}

TEST(Engine, ProviderLimitCapsRequestsInFlightAcrossItems) {
  EngineHarness h(/*fake_clock=*/false);
  fs::path dir = fs::temp_directory_path() / ("ip-gate-" + new_job_id());
  fs::create_directories(dir);
  for (int i = 0; i < 8; ++i) std::ofstream(dir / ("img" + std::to_string(i) + ".png"), std::ios::binary) << png_bytes(4, 4, 1);
  JobRequest request;
  request.input_paths = {dir.string()};
  auto job = h.run(R"(
name: gate
source: {from: files}
provider: {use: test-script, with: {delay_ms: 20}, limit: {in_flight: 2}}
concurrency: 8
)",
                   request);
  EXPECT_EQ(job.status, "completed");
  EXPECT_EQ(script_stats().peak_in_flight, 2);
  fs::remove_all(dir);
}

TEST(Engine, RequestsPerMinuteSpreadABatchInVirtualTime) {
  EngineHarness h;
  fs::path dir = fs::temp_directory_path() / ("ip-rpm-" + new_job_id());
  fs::create_directories(dir);
  for (int i = 0; i < 200; ++i) std::ofstream(dir / ("img" + std::to_string(i) + ".png"), std::ios::binary) << png_bytes(2, 2, 1);
  JobRequest request;
  request.input_paths = {dir.string()};
  auto job = h.run(R"(
name: rpm
source: {from: files}
provider: {use: test-script, limit: {per_minute: 60}}
concurrency: 16
)",
                   request);
  EXPECT_EQ(job.status, "completed");
  EXPECT_EQ(script_stats().calls, 200);
  // 200 requests at 60/minute: the last window opens after 3 full minutes, never sooner.
  EXPECT_GE(h.fake_clock().elapsed(), std::chrono::minutes(3));
  EXPECT_LT(h.fake_clock().elapsed(), std::chrono::minutes(4));
  fs::remove_all(dir);
}

TEST(Engine, CorruptInputFailsItsItemAndTheJobGoesOn) {
  EngineHarness h;
  fs::path dir = fs::temp_directory_path() / ("ip-bad-" + new_job_id());
  fs::create_directories(dir);
  std::ofstream(dir / "a-good.png", std::ios::binary) << png_bytes(4, 4, 9);
  std::ofstream(dir / "b-bad.png", std::ios::binary) << "this is not an image at all";
  auto good = png_bytes(4, 4, 9);
  std::ofstream(dir / "c-truncated.png", std::ios::binary) << good.substr(0, good.size() / 2);
  JobRequest request;
  request.input_paths = {dir.string()};
  // invert needs pixels, so every input is decoded in full (a pass-through would store
  // the bytes untouched and only check the header).
  auto job = h.run("name: bad\nsource: {from: files}\ntransforms: [{use: invert}]\n", request);
  EXPECT_EQ(job.status, "completed_with_errors");
  ASSERT_EQ(job.items.size(), 3u);
  EXPECT_EQ(job.items[0].status, "completed");
  EXPECT_EQ(job.items[1].status, "failed");
  EXPECT_EQ(job.items[1].error_class, ErrorClass::invalid_input);
  EXPECT_NE(job.items[1].error.find("not an image"), std::string::npos) << job.items[1].error;
  EXPECT_EQ(job.items[2].status, "failed");
  EXPECT_EQ(job.metrics()["failed"], 2);
  fs::remove_all(dir);
}

TEST(Engine, ImagesOverThePixelLimitAreRefusedBeforeDecoding) {
  EngineHarness h;
  auto job = h.run(R"(
name: limit
source: {from: request, field: image_base64}
limits: {max_image_pixels: 100}
)",
                   image_request(png_bytes(11, 10, 3)));
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::invalid_input);
  EXPECT_NE(job.items[0].error.find("over the limit"), std::string::npos) << job.items[0].error;
}

// The request's image is read whole before a provider is paid for it; a file cut in half
// has a good header, so only a full read tells.
TEST(Engine, AnImageCutShortNeverReachesTheProvider) {
  const char* pipeline =
      "name: cut\nsource: {from: request, field: image_base64}\nprovider: {use: test-script}\n";
  const std::string jpeg = testing::encode(testing::photo_like(128, 128), ImageFormat::jpeg);
  EngineHarness h;
  auto job = h.run(pipeline, image_request(jpeg.substr(0, jpeg.size() / 2)));
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error_class, ErrorClass::invalid_input);
  EXPECT_NE(job.items[0].error.find("truncated or corrupt JPEG: Premature end of JPEG file"),
            std::string::npos)
      << job.items[0].error;
  EXPECT_EQ(script_stats().calls, 0);

  EXPECT_EQ(h.run(pipeline, image_request(jpeg)).status, "completed");
  EXPECT_EQ(script_stats().calls, 1);
}

TEST(Engine, DataUrlsAndBadBase64) {
  EngineHarness h;
  JobRequest ok;
  ok.body = {{"image_base64", "data:image/png;base64," + base64_encode(png_bytes(3, 3, 7))}};
  EXPECT_EQ(h.run("name: d\nsource: {from: request, field: image_base64}\n", ok).status, "completed");

  JobRequest bad;
  bad.body = {{"image_base64", "@@not base64@@"}};
  auto job = h.run("name: d\nsource: {from: request, field: image_base64}\n", bad);
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.error_class, ErrorClass::invalid_input);
  EXPECT_NE(job.error.find("request field 'image_base64'"), std::string::npos) << job.error;
}

TEST(Engine, PromptTemplateAndParamsReachTheProvider) {
  EngineHarness h;
  JobRequest request;
  request.body = {{"bio", "a cyclist"}, {"gender", "female"}, {"size", "1024x1536"}};
  auto job = h.run(R"(
name: avatar
source: {from: prompt}
prompt: "a selfie. Person: ${request.body.bio}. ${request.body.gender}."
provider:
  use: test-script
  params: {size: "${request.body.size}", n: 1}
)",
                   request);
  ASSERT_EQ(job.status, "completed");
  ASSERT_EQ(script_stats().prompts.size(), 1u);
  EXPECT_EQ(script_stats().prompts[0], "a selfie. Person: a cyclist. female.");
  EXPECT_EQ(script_stats().params[0], (nlohmann::json{{"size", "1024x1536"}, {"n", 1}}));
}

// "${request.body.w:-32}" renders text; the local provider's width is an integer option,
// so the text is read as one, and text that is no integer fails the item by name.
TEST(Engine, ParamsTakeTheTypeTheProviderOptionWants) {
  EngineHarness h;
  const std::string yaml = R"(
name: typed
source: {from: prompt}
provider:
  use: local
  with: {operation: placeholder, watermark: ""}
  params: {width: "${request.body.w:-32}", height: "${request.body.h:-24}"}
)";
  JobRequest request;
  request.body = {{"prompt", "x"}, {"h", "20"}};
  auto job = h.run(yaml, request);
  ASSERT_EQ(job.status, "completed") << job.items.at(0).error;
  EXPECT_EQ(job.items[0].outputs.at(0).width, 32);
  EXPECT_EQ(job.items[0].outputs.at(0).height, 20);

  request.body = {{"prompt", "x"}, {"w", "wide"}};
  job = h.run(yaml, request);
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items.at(0).error, "params.width: 'wide' is not an integer");
}

// Two inputs whose keys collide (same stem in two folders): the second fails loudly and
// the first result is kept, where once the second silently replaced it.
TEST(Engine, TwoItemsRenderingOneSinkKeyNeverOverwrite) {
  EngineHarness h;
  fs::path root = fs::temp_directory_path() / ("ip-dup-" + new_job_id());
  fs::path in = fs::temp_directory_path() / ("ip-dup-in-" + new_job_id());
  fs::create_directories(in / "a");
  fs::create_directories(in / "b");
  std::ofstream(in / "a" / "photo.png", std::ios::binary) << png_bytes(4, 4, 10);
  std::ofstream(in / "b" / "photo.png", std::ios::binary) << png_bytes(6, 6, 20);
  JobRequest request;
  request.input_paths = {(in / "a" / "photo.png").string(), (in / "b" / "photo.png").string()};
  auto job = h.run(R"(
name: dup
source: {from: files}
concurrency: 1
sink:
  use: local
  with: {root: ")" + root.string() + R"("}
  key: "${item.stem}.${output.ext}"
)",
                   request);
  EXPECT_EQ(job.status, "completed_with_errors");
  ASSERT_EQ(job.items.size(), 2u);
  EXPECT_EQ(job.items[0].status, "completed");
  EXPECT_EQ(job.items[1].status, "failed");
  EXPECT_EQ(job.items[1].error,
            "sink key 'photo.png' was already written by item 1 (photo.png) in this job; "
            "nothing was overwritten. Make sink.key unique per result, e.g. with ${item.index} "
            "or ${output.suffix}");
  EXPECT_EQ(fs::file_size(root / "photo.png"), png_bytes(4, 4, 10).size());
  fs::remove_all(root);
  fs::remove_all(in);
}

TEST(Engine, StoresResultsUnderTemplatedKeysInsideTheRoot) {
  EngineHarness h;
  fs::path root = fs::temp_directory_path() / ("ip-sink-" + new_job_id());
  auto job = h.run(R"(
name: store
source: {from: request, field: image_base64, filename_field: filename}
sink:
  use: local
  with: {root: ")" + root.string() + R"("}
  key: "results/${job.id}/${item.stem}_modified.${output.ext}"
)",
                   image_request(png_bytes(5, 5, 5), "../../etc/passwd"));
  ASSERT_EQ(job.status, "completed") << job.items[0].error;
  const auto& out = job.items[0].outputs.at(0);
  EXPECT_EQ(out.key, "results/" + job.id + "/passwd_modified.png");
  EXPECT_TRUE(fs::exists(root / out.key));
  EXPECT_EQ(fs::file_size(root / out.key), png_bytes(5, 5, 5).size());
  EXPECT_EQ(job.sink["prefix"], "results/" + job.id + "/");
  fs::remove_all(root);
}

// A batch whose every item failed still completed (with errors), as the seeds report it;
// a callback caps its list with a slice, not the engine.
TEST(Engine, ABatchOfFailuresCompletesWithErrorsAndEveryErrorIsKept) {
  EngineHarness h;
  fs::path dir = fs::temp_directory_path() / ("ip-cap-" + new_job_id());
  fs::create_directories(dir);
  for (int i = 0; i < 25; ++i) std::ofstream(dir / ("bad" + std::to_string(i) + ".png")) << "nope";
  JobRequest request;
  request.input_paths = {dir.string()};
  auto job = h.run("name: cap\nsource: {from: files}\n", request);
  auto m = job.metrics();
  EXPECT_EQ(job.status, "completed_with_errors");
  EXPECT_EQ(m["failed"], 25);
  EXPECT_EQ(m["processed"], 0);
  EXPECT_EQ(m["total_files"], 25);
  EXPECT_EQ(m["errors"].size(), 25u);
  EXPECT_EQ(m["error_count"], 25);
  auto scope = job_scope(job, request, false);
  EXPECT_EQ(Template::compile_string("${metrics.errors[:20]}").render(scope).size(), 20u);
  fs::remove_all(dir);
}

TEST(Engine, ASingleItemJobFailsWithItsItemAndANamelessItemIsNamedAfterTheJob) {
  EngineHarness h;
  JobRequest request;
  request.body = {{"image_base64", base64_encode("not an image")}};
  auto job = h.run(kChain, request);
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items.at(0).stem, "image_" + job.id.substr(0, 8));
}

TEST(Engine, SecretsNeverAppearInItemErrors) {
  EngineHarness h;
  auto job = h.run(R"(
name: secret
source: {from: prompt}
provider: {use: test-script, with: {fail: [internal], api_key: "${KEY}"}}
)",
                   {}, {{"KEY", "scripted internal"}});
  EXPECT_EQ(job.status, "failed");
  EXPECT_EQ(job.items[0].error.find("scripted internal"), std::string::npos) << job.items[0].error;
  EXPECT_NE(job.items[0].error.find("***"), std::string::npos) << job.items[0].error;
}

TEST(Engine, SanitizeStem) {
  EXPECT_EQ(sanitize_stem("burger.jpeg"), "burger");
  EXPECT_EQ(sanitize_stem("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitize_stem("my photo (1).PNG"), "my_photo__1");
  EXPECT_EQ(sanitize_stem(".hidden"), "hidden");
  EXPECT_EQ(sanitize_stem("Café.png"), "Caf");
  // The seeds' own answers (wxo-seed-behaviour: cos_ok, cos_odd).
  EXPECT_EQ(sanitize_stem(" my photo (1)-.JPG"), "my_photo__1");
  EXPECT_EQ(sanitize_stem("odd+name=é%.png"), "odd_name");
  EXPECT_EQ(sanitize_stem("café latte.png"), "caf__latte");  // one '_' per character
  EXPECT_EQ(sanitize_stem("a.b.png"), "a_b");
  EXPECT_EQ(sanitize_stem(""), "");
  EXPECT_EQ(sanitize_stem("???"), "");
  EXPECT_EQ(sanitize_stem("-_-.png"), "");
  EXPECT_EQ(sanitize_stem(std::string(300, 'a') + ".png").size(), 100u);
}

}  // namespace
}  // namespace imagepipe
