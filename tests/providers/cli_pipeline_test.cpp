// Shipped pipelines through the real binary, against the fake upstream: what a user runs.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/engine.hpp"
#include "imagepipe/image.hpp"
#include "support/cli.hpp"
#include "support/http_test_server.hpp"
#include "support/images.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("ip-providers-" + new_job_id());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  // The local storage keeps object metadata in .imagepipe-meta/ beside the objects.
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().string().find(".imagepipe-meta") == std::string::npos)
      out.push_back(e.path());
  return out;
}

TEST(ShippedProviderPipelines, OpenAIGenerateRunsAgainstTheFake) {
  FakeUpstream fake;
  TempDir out;
  auto r = run_cli(
      {"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/openai-generate.yaml", "-p",
       "a red fox in snow", "--set", "size=1536x1024", "--out", out.path.string(), "--json"},
      {},
      {"OPENAI_API_KEY=" + fake.openai_key, "OPENAI_BASE_URL=" + fake.openai_base(),
       "OPENAI_IMAGE_MODEL=gpt-image-1.5", "OPENAI_IMAGE_QUALITY=medium",
       "OPENAI_IMAGE_OUTPUT_FORMAT=jpeg"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["items"][0]["provider"], "openai");
  EXPECT_EQ(summary["metrics"]["fell_back"], 0);
  EXPECT_EQ(summary["metrics"]["usage"]["output_tokens"], 4160);
  const auto written = files_under(out.path);
  ASSERT_EQ(written.size(), 1u);
  const auto info = probe_image(read_file(written[0].string()));
  EXPECT_EQ(info.format, ImageFormat::jpeg);
  EXPECT_EQ(info.width, 1536);
  const auto sent = fake.received("/v1/images/generations");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].json["model"], "gpt-image-1.5");
  EXPECT_EQ(sent[0].json["quality"], "medium");
  EXPECT_EQ(sent[0].json["output_format"], "jpeg");
  EXPECT_EQ(sent[0].json["prompt"], "a red fox in snow");
  EXPECT_EQ(r.err.find(fake.openai_key), std::string::npos);
}

TEST(ShippedProviderPipelines, OpenAIEditFallsBackOnTheBillingLimit) {
  FakeUpstream fake;
  fake.fail_next(1, Failure::billing_limit);
  TempDir out;
  const auto input = out.path / "in" / "photo.png";
  fs::create_directories(input.parent_path());
  std::ofstream(input, std::ios::binary) << encode(solid(40, 30, {200, 30, 60}), ImageFormat::png);
  auto r =
      run_cli({"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/openai-edit.yaml", "-i",
               input.string(), "-p", "add a dog", "--out", (out.path / "out").string(), "--json"},
              {}, {"OPENAI_API_KEY=" + fake.openai_key, "OPENAI_BASE_URL=" + fake.openai_base()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["metrics"]["fell_back"], 1);
  EXPECT_EQ(summary["items"][0]["provider"], "local");
  EXPECT_THAT(summary["metrics"]["errors"][0].get<std::string>(),
              ::testing::StartsWith(
                  "photo.png: openai billing_limit (Billing hard limit has been reached"));
  const auto written = files_under(out.path / "out");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(pixel(decode_image(read_file(written[0].string())), 0, 0),
            (std::vector<std::uint8_t>{55, 225, 195}));
}

TEST(ShippedProviderPipelines, FluxSchnellOnACompatibleHost) {
  FakeUpstream fake;
  TempDir out;
  auto r = run_cli(
      {"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/flux-schnell.yaml", "-p",
       "isometric tiny house", "--out", out.path.string()},
      {}, {"TOGETHER_API_KEY=" + fake.openai_key, "FLUX_SCHNELL_BASE_URL=" + fake.openai_base()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto written = files_under(out.path);
  ASSERT_EQ(written.size(), 1u);
  const auto info = probe_image(read_file(written[0].string()));
  EXPECT_EQ(info.width, 1024);
  EXPECT_EQ(info.height, 768);
}

TEST(ShippedProviderPipelines, FluxGenerateAgainstTheFakeBfl) {
  FakeUpstream fake;
  fake.flux_pending_polls = 1;
  TempDir out;
  auto r = run_cli({"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/flux-generate.yaml",
                    "-p", "a lighthouse at dusk", "--out", out.path.string()},
                   {}, {"BFL_API_KEY=" + fake.flux_key, "BFL_BASE_URL=" + fake.root()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto written = files_under(out.path);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(probe_image(read_file(written[0].string())).width, 1024);
}

// Seed 002 as shipped: one URL (served on loopback) and one local path in one run, the
// Responses API with the seed's defaults and -m as --set model, S3 (s3rver) under
// generated-images/{timestamp}_generated_{name}.png, the s3:// and public URLs printed, and
// -o keeping a local copy as well as the upload.
TEST(ShippedProviderPipelines, ProcessImageTakesAUrlAndAPathToS3) {
  const auto s3rver = node_tool("s3rver");
  if (s3rver.empty())
    GTEST_SKIP() << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  FakeUpstream fake;
  TempDir out;
  S3rverProcess server({"artifacts"});
  const std::string endpoint = server.endpoint();
  HttpTestServer images;
  images.on("GET", "/logo.png",
            TestResponse{.status = 200, .body = encode(solid(30, 20, {1, 2, 3}), ImageFormat::png)});
  images.on("GET", "/gone.png", TestResponse{.status = 404, .body = "no"});
  const auto local = out.path / "photo.jpg";
  std::ofstream(local, std::ios::binary) << encode(solid(16, 16, {9, 9, 9}), ImageFormat::jpeg);
  TempDir copy;

  auto r = run_cli({"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/process-image.yaml", "-i",
                    images.url("/logo.png"), "-i", local.string(), "-i", images.url("/gone.png"),
                    "-p", "make it modern", "--set", "model=gpt-5-mini", "-o", copy.path.string()},
                   {},
                   {"OPENAI_API_KEY=" + fake.openai_key, "OPENAI_BASE_URL=" + fake.openai_base(),
                    "ARTIFACTS_BUCKET=artifacts", "AWS_ENDPOINT_URL=" + endpoint,
                    "AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER"});
  // The 404 URL fails its item; the others complete.
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("x gone.png: image URL answered 404"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "ok logo.png -> s3://artifacts/generated-images/[0-9]+_generated_logo\\.png"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "url: http://127\\.0\\.0\\.1:[0-9]+/artifacts/generated-images/[0-9]+_generated_photo\\.png"));

  const auto sent = fake.received("/v1/responses");
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& request : sent) {
    EXPECT_EQ(request.json["model"], "gpt-5-mini");
    EXPECT_EQ(request.json["tools"][0]["background"], "transparent");
    EXPECT_EQ(request.json["tools"][0]["quality"], "high");
  }
  // Two objects in the bucket, read back over s3rver's own HTTP API, and two local copies.
  auto listing = run_program({"curl", "-s", endpoint + "/artifacts?list-type=2&prefix=generated-images/"});
  EXPECT_THAT(listing.out, ::testing::ContainsRegex("<Key>generated-images/[0-9]+_generated_logo.png</Key>"));
  EXPECT_THAT(listing.out, ::testing::ContainsRegex("<Key>generated-images/[0-9]+_generated_photo.png</Key>"));
  EXPECT_EQ(listing.out.find("gone"), std::string::npos);
  const auto copies = files_under(copy.path);
  ASSERT_EQ(copies.size(), 2u);
  for (const auto& file : copies) EXPECT_EQ(probe_image(read_file(file.string())).format, ImageFormat::png);
}

}  // namespace
}  // namespace imagepipe::testing

namespace imagepipe::testing {
namespace {

// Seed 003 as shipped: one generation, then one edit per four images whose image[] part is
// the base image's bytes; the base and the trimmed tiles in S3 (s3rver) under
// avatars/{person_id}/, every URL in the summary.
void run_avatar(int num_images, std::size_t edits) {
  const auto s3rver = node_tool("s3rver");
  if (s3rver.empty())
    GTEST_SKIP() << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
  FakeUpstream fake;
  S3rverProcess server({"avatars"});
  const std::string endpoint = server.endpoint();
  auto r = run_cli({"run", std::string(IMAGEPIPE_SOURCE_DIR) + "/pipelines/avatar.yaml", "--set",
                    "bio=Software engineer who loves hiking", "--set", "gender=male", "--set",
                    "num_images=" + std::to_string(num_images), "--set", "person_id=p-1042",
                    "--json"},
                   {},
                   {"OPENAI_API_KEY=" + fake.openai_key, "OPENAI_BASE_URL=" + fake.openai_base(),
                    "S3_ENDPOINT=" + endpoint, "S3_ACCESS_KEY=S3RVER", "S3_SECRET_KEY=S3RVER",
                    "S3_BUCKET_NAME=avatars", "S3_REGION=us-east-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto summary = nlohmann::json::parse(r.out);

  const auto generations = fake.received("/v1/images/generations");
  ASSERT_EQ(generations.size(), 1u);
  EXPECT_EQ(generations[0].json["model"], "gpt-image-1.5");
  EXPECT_EQ(generations[0].json["size"], "auto");
  EXPECT_EQ(generations[0].json["prompt"],
            "generate an image of how this person would look like in a selfie. the image should be "
            "not well-produced, amateur digital camera aesthetic, low resolution. Person: Software "
            "engineer who loves hiking. male.");
  const auto edits_sent = fake.received("/v1/images/edits");
  ASSERT_EQ(edits_sent.size(), edits);

  // The base as stored, read back over s3rver's own HTTP API.
  const auto base = run_program({"curl", "-sf", endpoint + "/avatars/avatars/p-1042/base.png"});
  ASSERT_EQ(base.exit_code, 0);
  ASSERT_FALSE(base.out.empty());
  for (const auto& edit : edits_sent) {
    const FormPart* image = edit.part("image[]");
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(image->value, base.out);  // the base image's bytes, as generated
    EXPECT_EQ(edit.part("model")->value, "gpt-image-1.5");
    EXPECT_EQ(edit.part("size")->value, "auto");
  }

  auto listing = run_program({"curl", "-s", endpoint + "/avatars?list-type=2&prefix=avatars/p-1042/"});
  EXPECT_THAT(listing.out, ::testing::HasSubstr("<Key>avatars/p-1042/base.png</Key>"));
  for (int i = 1; i <= num_images; ++i)
    EXPECT_THAT(listing.out, ::testing::HasSubstr("<Key>avatars/p-1042/image_" + std::to_string(i) + ".png</Key>"));
  EXPECT_THAT(listing.out, ::testing::Not(::testing::HasSubstr(
                               "image_" + std::to_string(num_images + 1) + ".png")));

  const auto& outputs = summary["items"][0]["outputs"];
  ASSERT_EQ(outputs.size(), static_cast<std::size_t>(num_images + 1));
  EXPECT_EQ(outputs[0]["step"], "base");
  EXPECT_EQ(outputs[0]["uri"], "s3://avatars/avatars/p-1042/base.png");
  for (std::size_t i = 1; i < outputs.size(); ++i) {
    EXPECT_EQ(outputs[i]["step"], "image");
    EXPECT_EQ(outputs[i]["url"], endpoint + "/avatars/avatars/p-1042/image_" + std::to_string(i) + ".png");
    // A quarter of the 1024x1024 grid, its white margin trimmed: never larger.
    EXPECT_LE(outputs[i]["width"].get<int>(), 512);
    EXPECT_GT(outputs[i]["width"].get<int>(), 0);
  }
  EXPECT_EQ(summary["metrics"]["providers"]["openai"], static_cast<int>(1 + edits));
}

TEST(ShippedProviderPipelines, AvatarMakesFourImagesFromOneGrid) { run_avatar(4, 1); }

TEST(ShippedProviderPipelines, AvatarMakesEightImagesFromTwoGrids) { run_avatar(8, 2); }

}  // namespace
}  // namespace imagepipe::testing
