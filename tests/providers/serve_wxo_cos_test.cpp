// The three watsonx Orchestrate tools (pipelines/wxo) held to what the seed service
// answered (the shared reference wxo-seed-behaviour: the seed's main.py driven through 25
// scenarios), end to end: the real daemon, COS on a real S3 server (s3rver on loopback,
// path-style), OpenAI pointed at the strict fake, and a callback receiver.
//
// For every scenario the seed answered with a callback, and for its 500s without keys:
// the same HTTP status, the same callback fields with the same JSON types (the recorder's
// Python type names), the same deterministic values; the objects really in the bucket,
// listed and read back with curl (a client that shares no code with ours); the presigned
// URL serving exactly those bytes; what OpenAI was asked, and how often.
//
// Where the seed was plainly worse (202 and then a failed job for input that can never
// work), the better behaviour is asserted and marked "Improvement over the seed".
//
// One s3rver for the suite (node takes a second or two to start), registered whole in
// CMakeLists.txt; one daemon per scenario group, since the COS variables are read when
// the daemon starts.
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/http.hpp"
#include "serve_fixture.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using Types = std::map<std::string, std::string>;
using Env = std::map<std::string, std::string>;

constexpr const char* kOutputBucket = "wxo-images";  // the seed's COS_BUCKET
constexpr const char* kPrompt = "make the image more beautiful";
constexpr const char* kDogPrompt = "add a dog to the image";
// The recorder's COS contents (`recorded_from`), one input bucket each, all under the
// seed's input prefix batch/.
constexpr const char* kResultsBucket = "wxo-in-results";  // 5 images
constexpr const char* kEmptyBucket = "wxo-in-empty";      // nothing under batch/
constexpr const char* kNonImgBucket = "wxo-in-nonimg";    // the 5 images and notes.txt
constexpr const char* kBrokenBucket = "wxo-in-broken";    // ... and a truncated PNG
constexpr const char* kNotes = "not an image, just notes about the catalogue\n";

// The seed's callbacks, field by field, as its recorder typed them (cb_types).
const Types kB64Completed = {{"status", "str"},
                             {"job_id", "str"},
                             {"filename", "str"},
                             {"result_image_base64", "str"},
                             {"result_mime_type", "str"}};
const Types kCosCompleted = {{"status", "str"},     {"job_id", "str"},     {"filename", "str"},
                             {"object_key", "str"}, {"result_url", "str"}, {"expires_in", "int"}};
const Types kFailed = {{"status", "str"}, {"job_id", "str"}, {"filename", "str"}, {"error", "str"}};
const Types kBatch = {{"status", "str"},
                      {"job_id", "str"},
                      {"total_files", "int"},
                      {"processed", "int"},
                      {"failed", "int"},
                      {"fallback_local", "int"},
                      {"duration_seconds", "float"},
                      {"total_files_processed", "int"},
                      {"output_bucket", "str"},
                      {"output_prefix", "str"},
                      {"errors", "list"}};

Types with(Types types, const std::string& field, const std::string& type) {
  types[field] = type;
  return types;
}

std::string type_name(const json& v) {
  if (v.is_string()) return "str";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  if (v.is_null()) return "NoneType";
  if (v.is_array()) return "list";
  if (v.is_boolean()) return "bool";
  return "dict";
}

Types types_of(const json& body) {
  Types out;
  for (const auto& [k, v] : body.items()) out[k] = type_name(v);
  return out;
}

// One input image of the seed's batch: its key, bytes, colour and the stem of its result.
struct InputImage {
  std::string key, bytes, content_type, stem;
  std::vector<std::uint8_t> color;
};

const std::vector<InputImage>& seed_images() {
  static const std::vector<InputImage> images = [] {
    std::vector<InputImage> out;
    auto add = [&](std::string key, ImageFormat format, std::string stem,
                   std::vector<std::uint8_t> color) {
      out.push_back({std::move(key), encode(solid(64, 48, color), format),
                     format == ImageFormat::png ? "image/png" : "image/jpeg", std::move(stem),
                     color});
    };
    add("batch/odd+name=\xC3\xA9%.png", ImageFormat::png, "odd_name", {10, 120, 200});
    add("batch/pic 1.jpg", ImageFormat::jpeg, "pic_1", {30, 60, 90});
    add("batch/pic 2.jpg", ImageFormat::jpeg, "pic_2", {90, 30, 160});
    add("batch/pic 3.jpg", ImageFormat::jpeg, "pic_3", {160, 160, 20});
    add("batch/pic 4.jpg", ImageFormat::jpeg, "pic_4", {240, 100, 10});
    return out;
  }();
  return images;
}

// The keys the batch writes for the seed's 5 images, in listing order.
std::vector<std::string> batch_result_keys(const std::string& job_id) {
  std::vector<std::string> keys;
  for (const auto& image : seed_images())
    keys.push_back("results/batch/" + job_id + "/" + image.stem + "_modified.png");
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string xml_unescape(std::string s) {
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}})
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  return s;
}

// A GET with curl: status, Content-Type and the bytes.
struct Fetched {
  int status = 0;
  std::string content_type, body;
};

Fetched fetch(const std::string& url) {
  auto r = run_program({"curl", "-s", "-w", "\n%{http_code} %{content_type}", url});
  Fetched f;
  const auto nl = r.out.rfind('\n');
  if (r.exit_code != 0 || nl == std::string::npos) {
    ADD_FAILURE() << "curl " << url << " failed: " << r.err;
    return f;
  }
  f.body = r.out.substr(0, nl);
  const auto tail = r.out.substr(nl + 1);
  f.status = std::atoi(tail.c_str());
  f.content_type = tail.substr(tail.find(' ') + 1);
  return f;
}

std::vector<std::uint8_t> rgb(const Image& image, int x, int y) {
  if (image.width <= x || image.height <= y) return {};
  auto p = pixel(image, x, y);
  p.resize(std::min<std::size_t>(p.size(), 3));
  return p;
}

std::vector<std::uint8_t> inverted(const std::vector<std::uint8_t>& color) {
  std::vector<std::uint8_t> out;
  for (auto c : color) out.push_back(static_cast<std::uint8_t>(255 - c));
  return out;
}

// JPEG inputs shift a solid colour by a few levels.
bool near(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want, int by) {
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (std::abs(int(got[i]) - int(want[i])) > by) return false;
  return true;
}

Image decode_png(const std::string& bytes, const std::string& what) {
  EXPECT_EQ(sniff_format(bytes), ImageFormat::png) << what;
  try {
    return decode_image(bytes);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << " does not decode: " << e.what();
    return {};
  }
}

// The first entry of a 422's FastAPI-style "detail" list: loc, msg, type.
json first_problem(const HttpResponse& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("detail") || !body["detail"].is_array() ||
      body["detail"].empty())
    return json::object();
  return body["detail"][0];
}

const std::string kNotAnImage = "hello world, this is not an image";
// How the daemon words a payload that is not an image.
std::string not_an_image(std::size_t bytes) {
  return "not an image (unrecognised data, " + std::to_string(bytes) + " bytes)";
}
// OpenAI's errors as the tools report them, up to the request id the fake made up.
constexpr const char* kServerError =
    "openai: The server had an error while processing your request. Sorry about that! (HTTP "
    "500, request req_";
constexpr const char* kModeration =
    "openai: Your request was rejected by the safety system. (HTTP 400, moderation_blocked, "
    "request req_";

std::string sorted_join(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// OpenAI's edit as the seed asked for it: gpt-image-1, medium quality, PNG, the prompt.
void expect_seed_edit(const FakeRequest& r, const std::string& prompt, const std::string& key) {
  EXPECT_EQ(r.status, 200) << r.answer;
  EXPECT_EQ(r.header("Authorization"), "Bearer " + key);
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, std::string>>{{"model", "gpt-image-1"},
                                                        {"quality", "medium"},
                                                        {"output_format", "png"},
                                                        {"prompt", prompt}}) {
    const auto* part = r.part(field);
    ASSERT_NE(part, nullptr) << field;
    EXPECT_EQ(part->value, value) << field;
  }
}

class WxoCos : public ServeTest {
 protected:
  static void SetUpTestSuite() {
    const auto s3rver = node_tool("s3rver");
    if (s3rver.empty() || find_on_path("curl").empty()) return;
    server_ = new S3rverProcess(
        {kOutputBucket, kResultsBucket, kEmptyBucket, kNonImgBucket, kBrokenBucket});
    endpoint_ = new std::string(server_->endpoint());
    setup_errors_ = new std::string;

    for (const char* bucket : {kResultsBucket, kNonImgBucket, kBrokenBucket})
      for (const auto& image : seed_images())
        put(bucket, image.key, image.bytes, image.content_type);
    // Beside the prefix: never listed.
    put(kResultsBucket, "elsewhere/not-me.jpg", seed_images()[1].bytes, "image/jpeg");
    put(kEmptyBucket, "elsewhere/not-me.jpg", seed_images()[1].bytes, "image/jpeg");
    put(kNonImgBucket, "batch/notes.txt", kNotes, "text/plain");
    put(kBrokenBucket, "batch/notes.txt", kNotes, "text/plain");
    const auto png = encode(solid(64, 48, {1, 2, 3}), ImageFormat::png);
    put(kBrokenBucket, "batch/broken.png", png.substr(0, png.size() / 2), "image/png");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete endpoint_;
    endpoint_ = nullptr;
    delete setup_errors_;
    setup_errors_ = nullptr;
  }

  // s3rver takes unsigned requests (it has no ACLs): plain curl writes the inputs.
  static void put(const std::string& bucket, const std::string& key, const std::string& bytes,
                  const std::string& content_type) {
    auto r = run_program({"curl", "-s", "-f", "-X", "PUT", "--data-binary", "@-", "-H",
                          "Content-Type: " + content_type, object_url(bucket, key)},
                         bytes);
    if (r.exit_code != 0) *setup_errors_ += "PUT " + bucket + "/" + key + ": " + r.err + "\n";
  }

  static std::string object_url(const std::string& bucket, const std::string& key) {
    return *endpoint_ + "/" + bucket + "/" + url_encode(key, true);
  }

  void SetUp() override {
    if (find_on_path("curl").empty())
      GTEST_SKIP() << "curl missing (Debian package curl): it checks what the tools stored";
    if (!server_)
      GTEST_SKIP()
          << "node or tests/servers/node_modules missing: run `npm ci --prefix tests/servers`";
    ASSERT_TRUE(setup_errors_->empty()) << *setup_errors_;
  }

  // The seed's configuration: every COS variable set but the ones with defaults
  // (COS_OUTPUT_BUCKET and COS_INPUT_BUCKET default to COS_BUCKET, COS_OUTPUT_PREFIX to
  // results/batch, COS_PRESIGN_EXPIRES to 900, the OpenAI image options to the seed's).
  Env seed_env(const std::string& input_bucket = kResultsBucket) const {
    return {{"OPENAI_API_KEY", fake_.openai_key}, {"OPENAI_BASE_URL", fake_.openai_base()},
            {"COS_ENDPOINT", *endpoint_},         {"COS_REGION", "us-east-1"},
            {"COS_ACCESS_KEY_ID", "S3RVER"},      {"COS_SECRET_ACCESS_KEY", "S3RVER"},
            {"COS_BUCKET", kOutputBucket},        {"COS_INPUT_BUCKET", input_bucket},
            {"COS_INPUT_PREFIX", "batch/"}};
  }
  static DaemonOptions options(Env env) {
    return {.pipelines = {kWxoDir}, .env = std::move(env), .test_plugins = false};
  }

  // ServeTest::accept, but a refusal fails the scenario without throwing: its id is empty
  // and callback_for gives an empty body at once, so the group's other scenarios still run.
  std::string accept(DaemonProcess& daemon, const std::string& path, const json& body) {
    auto r = daemon.post(path, body.dump(), callback_header());
    auto j = json::parse(r.body, nullptr, false);
    if (r.status != 202 || !j.is_object() || !j.contains("job_id") || !j["job_id"].is_string()) {
      ADD_FAILURE() << "POST " << path << " answered " << r.status << " " << r.body
                    << ", not the seed's 202";
      return {};
    }
    EXPECT_EQ(j, json({{"accepted", true}, {"job_id", j["job_id"]}})) << r.body;
    EXPECT_THAT(
        j["job_id"].get<std::string>(),
        MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    return j["job_id"].get<std::string>();
  }

  // The callback of job `id`, scanning the receiver's requests as they arrive.
  json callback_for(DaemonProcess& daemon, const std::string& id) {
    if (id.empty()) return json::object();
    for (std::size_t n = 1; receiver_.wait_for_requests(n, std::chrono::seconds(60)); ++n) {
      const auto r = receiver_.requests()[n - 1];
      auto body = json::parse(r.body, nullptr, false);
      if (r.path != "/callback" || !body.is_object() || body.value("job_id", "") != id) continue;
      EXPECT_EQ(r.header("Content-Type"), "application/json");
      return body;
    }
    ADD_FAILURE() << "no callback for job " << id << " within 60 s; daemon log:\n" << daemon.log();
    return json::object();
  }

  // The keys under `prefix`, listed by s3rver itself.
  std::vector<std::string> list_keys(const std::string& bucket, const std::string& prefix) const {
    auto f = fetch(*endpoint_ + "/" + bucket + "?list-type=2&prefix=" + url_encode(prefix, false));
    EXPECT_EQ(f.status, 200) << f.body;
    std::vector<std::string> keys;
    static const std::regex key_re("<Key>([^<]*)</Key>");
    for (std::sregex_iterator it(f.body.begin(), f.body.end(), key_re), end; it != end; ++it)
      keys.push_back(xml_unescape((*it)[1].str()));
    return keys;
  }

  // A result in the output bucket: served as image/png, bytes that decode.
  Image stored_result(const std::string& key, std::string* bytes = nullptr) const {
    auto f = fetch(object_url(kOutputBucket, key));
    EXPECT_EQ(f.status, 200) << key << ": " << f.body;
    EXPECT_EQ(f.content_type, "image/png") << key;
    if (bytes) *bytes = f.body;
    return decode_png(f.body, key);
  }

  std::vector<FakeRequest> edits() const { return fake_.received("/v1/images/edits"); }

  // A failed single-image callback, as the seed sent it: its fields and types, the job and
  // file it is about, and the start of the error.
  static void expect_failed_like_the_seed(const json& cb, const std::string& id,
                                          const std::string& error_start) {
    EXPECT_EQ(types_of(cb), kFailed) << cb.dump();
    EXPECT_EQ(cb.value("status", ""), "failed");
    EXPECT_EQ(cb.value("job_id", ""), id);
    EXPECT_EQ(cb.value("filename", ""), "burger.jpeg");
    EXPECT_THAT(cb.value("error", ""), StartsWith(error_start));
  }

  // The /process-image-async callback of a completed job, against s3rver: the key and its
  // stem rule, the presigned URL (path-style, 900 s) serving exactly the stored bytes.
  // Returns the stored image.
  Image expect_stored_like_the_seed(const json& cb, const std::string& id, const json& filename,
                                    const std::string& stem) {
    EXPECT_EQ(types_of(cb), with(kCosCompleted, "filename", type_name(filename))) << cb.dump();
    EXPECT_EQ(cb.value("status", ""), "completed") << cb.dump();
    EXPECT_EQ(cb.value("job_id", ""), id);
    EXPECT_EQ(cb.value("filename", json()), filename);
    const std::string key = "results/" + id + "/" + stem + "_modified.png";
    EXPECT_EQ(cb.value("object_key", ""), key);
    EXPECT_EQ(cb.value("expires_in", json()), 900);
    const auto url = cb.value("result_url", "");
    EXPECT_THAT(url, StartsWith(*endpoint_ + "/" + kOutputBucket + "/" + key +
                                "?X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
    EXPECT_THAT(url, HasSubstr("&X-Amz-Expires=900&"));
    EXPECT_THAT(url, MatchesRegex(".*&X-Amz-Signature=[0-9a-f]{64}.*"));

    EXPECT_EQ(list_keys(kOutputBucket, "results/" + id + "/"), std::vector<std::string>{key});
    std::string stored;
    auto image = stored_result(key, &stored);
    const auto presigned = fetch(url);
    EXPECT_EQ(presigned.status, 200) << presigned.body;
    EXPECT_TRUE(presigned.body == stored) << "the presigned URL served " << presigned.body.size()
                                          << " bytes, the bucket holds " << stored.size();
    return image;
  }

  void expect_batch_counts(const json& cb, const std::string& id, const std::string& status,
                           int total, int processed, int failed, int fallback) {
    EXPECT_EQ(types_of(cb), kBatch) << cb.dump();
    EXPECT_EQ(cb.value("status", ""), status) << cb.dump();
    EXPECT_EQ(cb.value("job_id", ""), id);
    EXPECT_EQ(cb.value("total_files", -1), total);
    EXPECT_EQ(cb.value("processed", -1), processed);
    EXPECT_EQ(cb.value("failed", -1), failed);
    EXPECT_EQ(cb.value("fallback_local", -1), fallback);
    // The seed README's rule: images that produced a result, fallbacks included.
    EXPECT_EQ(cb.value("total_files_processed", -1), processed);
    EXPECT_GE(cb.value("duration_seconds", -1.0), 0.0);
    EXPECT_EQ(cb.value("output_bucket", ""), kOutputBucket);
    EXPECT_EQ(cb.value("output_prefix", ""), "results/batch/" + id + "/");
  }

  std::string b64_of(const InputImage& image) const { return base64_encode(image.bytes); }

  static S3rverProcess* server_;
  static std::string* endpoint_;
  static std::string* setup_errors_;
  FakeUpstream fake_;
};
S3rverProcess* WxoCos::server_ = nullptr;
std::string* WxoCos::endpoint_ = nullptr;
std::string* WxoCos::setup_errors_ = nullptr;

// The seed's burger.jpeg: a JPEG, in base64.
std::string jpeg_burger() {
  return base64_encode(encode(solid(64, 48, {200, 30, 60}), ImageFormat::jpeg));
}

// b64_ok, b64_nofname, b64_intprompt, and b64_dataurl (an improvement).
TEST_F(WxoCos, Base64ToolCompletesLikeTheSeed) {
  DaemonProcess daemon(options(seed_env()));

  // b64_ok
  auto id = accept(
      daemon, "/process-image-async-b64",
      {{"prompt", kDogPrompt}, {"filename", "burger.jpeg"}, {"image_base64", jpeg_burger()}});
  auto cb = callback_for(daemon, id);
  EXPECT_EQ(types_of(cb), kB64Completed) << cb.dump();
  EXPECT_EQ(cb.value("status", ""), "completed");
  EXPECT_EQ(cb.value("job_id", ""), id);
  EXPECT_EQ(cb.value("filename", ""), "burger.jpeg");
  EXPECT_EQ(cb.value("result_mime_type", ""), "image/png");
  auto result = decode_png(base64_decode(cb.value("result_image_base64", "")), "b64_ok result");
  EXPECT_EQ(result.width, 64);
  EXPECT_EQ(result.height, 48);
  EXPECT_EQ(rgb(result, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));  // the fake's edit
  ASSERT_EQ(edits().size(), 1u);
  expect_seed_edit(edits()[0], kDogPrompt, fake_.openai_key);

  // b64_nofname: "filename": null, not left out.
  fake_.clear();
  id = accept(daemon, "/process-image-async-b64",
              {{"prompt", kDogPrompt}, {"image_base64", png_base64()}});
  cb = callback_for(daemon, id);
  EXPECT_EQ(types_of(cb), with(kB64Completed, "filename", "NoneType")) << cb.dump();
  EXPECT_EQ(cb.value("status", ""), "completed");
  EXPECT_TRUE(cb.contains("filename") && cb["filename"].is_null()) << cb.dump();
  EXPECT_EQ(cb.value("result_mime_type", ""), "image/png");
  result = decode_png(base64_decode(cb.value("result_image_base64", "")), "b64_nofname result");
  EXPECT_EQ(rgb(result, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));
  EXPECT_EQ(edits().size(), 1u);

  // b64_intprompt. Deliberately unlike the seed, which (pydantic) took the number 123 as
  // the prompt "123" and completed: a prompt that is not text is a client's bug, refused
  // at once with the field named (docs/daemon.md, "Better than the seeds").
  fake_.clear();
  auto refused = daemon.post(
      "/process-image-async-b64",
      json{{"prompt", 123}, {"filename", "x.png"}, {"image_base64", png_base64()}}.dump(),
      callback_header());
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(json::parse(refused.body).value("error", ""),
            "body.prompt: must be a string, got number 123");
  EXPECT_EQ(edits().size(), 0u);

  // b64_dataurl. Improvement over the seed: it refused a data: URL (202, then failed with
  // "ValueError: image_base64 invalide"); the tool takes it as the image it is.
  fake_.clear();
  id = accept(daemon, "/process-image-async-b64",
              {{"prompt", kDogPrompt},
               {"filename", "x.png"},
               {"image_base64", "data:image/png;base64," + png_base64()}});
  cb = callback_for(daemon, id);
  EXPECT_EQ(types_of(cb), kB64Completed) << cb.dump();
  EXPECT_EQ(cb.value("status", ""), "completed");
  result = decode_png(base64_decode(cb.value("result_image_base64", "")), "b64_dataurl result");
  EXPECT_EQ(rgb(result, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));
  EXPECT_EQ(edits().size(), 1u);

  EXPECT_EQ(callbacks().size(), 3u);  // one per accepted job, none twice
}

// b64_500, b64_moderation, b64_billing.
TEST_F(WxoCos, Base64ToolFailsLikeTheSeed) {
  DaemonProcess daemon(options(seed_env()));

  // b64_500: the seed's OpenAI SDK made the call and two retries, then reported the error.
  fake_.fail_next(3, Failure::server_error);
  auto id = accept(daemon, "/process-image-async-b64", b64_request());
  auto cb = callback_for(daemon, id);
  expect_failed_like_the_seed(cb, id, kServerError);
  EXPECT_EQ(edits().size(), 3u);

  // b64_moderation: not retried.
  fake_.clear();
  fake_.fail_next(1, Failure::moderation);
  id = accept(daemon, "/process-image-async-b64", b64_request());
  cb = callback_for(daemon, id);
  expect_failed_like_the_seed(cb, id, kModeration);
  EXPECT_EQ(edits().size(), 1u);

  // b64_billing: the recorded row says failed, but the seed README's rule wins: the local
  // fallback's image, status completed, and no error field.
  fake_.clear();
  fake_.fail_next(1, Failure::billing_limit);
  id = accept(daemon, "/process-image-async-b64", b64_request());
  cb = callback_for(daemon, id);
  EXPECT_EQ(types_of(cb), kB64Completed) << cb.dump();
  EXPECT_EQ(cb.value("status", ""), "completed");
  EXPECT_EQ(cb.value("filename", ""), "burger.jpeg");
  EXPECT_EQ(cb.value("result_mime_type", ""), "image/png");
  auto result = decode_png(base64_decode(cb.value("result_image_base64", "")), "fallback");
  EXPECT_EQ(rgb(result, 0, 0), (std::vector<std::uint8_t>{55, 225, 195}));  // inverted
  EXPECT_EQ(edits().size(), 1u);

  EXPECT_EQ(callbacks().size(), 3u);
}

// b64_notimage, b64_badb64, b64_emptyprompt, and the seed's own 422s (b64_nocb,
// b64_badjson).
TEST_F(WxoCos, Base64ToolRefusesInputThatCannotWorkBeforeAnyJob) {
  DaemonProcess daemon(options(seed_env()));
  // Improvement over the seed: it answered 202 and then failed each of these jobs
  // (OpenAI's invalid_image_file, "image_base64 invalide", "prompt vide"); they are a
  // synchronous 422 naming the field, and neither OpenAI nor the callback hears of them.
  const std::vector<std::tuple<std::string, json, json>> refused = {
      {"b64_notimage",
       b64_request(base64_encode(kNotAnImage), "x.png"),
       {{"loc", {"body", "image_base64"}},
        {"msg", not_an_image(kNotAnImage.size())},
        {"type", "value_error"}}},
      {"b64_badb64",
       b64_request("this is not base64 !!!", "x.png"),
       {{"loc", {"body", "image_base64"}},
        {"msg", "not valid base64: invalid base64: unexpected character '!' at offset 19"},
        {"type", "value_error"}}},
      {"b64_emptyprompt",
       {{"prompt", ""}, {"filename", "x.png"}, {"image_base64", png_base64()}},
       {{"loc", {"body", "prompt"}}, {"msg", "must not be empty"}, {"type", "value_error"}}},
  };
  for (const auto& [scenario, body, problem] : refused) {
    auto r = daemon.post("/process-image-async-b64", body.dump(), callback_header());
    EXPECT_EQ(r.status, 422) << scenario << ": " << r.body;
    EXPECT_EQ(first_problem(r), problem) << scenario << ": " << r.body;
  }
  auto blank = daemon.post(
      "/process-image-async-b64",
      json{{"prompt", "  \t "}, {"filename", "x.png"}, {"image_base64", png_base64()}}.dump(),
      callback_header());
  EXPECT_EQ(blank.status, 422) << blank.body;
  EXPECT_EQ(first_problem(blank).value("loc", json()), json({"body", "prompt"})) << blank.body;
  EXPECT_EQ(json::parse(blank.body).value("error", ""), "body.prompt: must not be blank");
  // As the seed: no callbackUrl header, or a body that is not JSON.
  auto nocb = daemon.post("/process-image-async-b64", b64_request().dump());
  EXPECT_EQ(nocb.status, 422) << nocb.body;
  EXPECT_EQ(
      first_problem(nocb),
      json({{"loc", {"header", "callbackUrl"}}, {"msg", "field required"}, {"type", "missing"}}))
      << nocb.body;
  auto badjson = daemon.post("/process-image-async-b64", R"({"prompt": "x", "image_base64": )",
                             callback_header());
  EXPECT_EQ(badjson.status, 422) << badjson.body;
  EXPECT_EQ(first_problem(badjson).value("loc", json()), json({"body"})) << badjson.body;
  EXPECT_EQ(first_problem(badjson).value("type", ""), "json_invalid") << badjson.body;

  EXPECT_EQ(fake_.received().size(), 0u);
  // A good job afterwards: its callback is the only one the receiver ever gets.
  const auto id = accept(daemon, "/process-image-async-b64", b64_request());
  EXPECT_EQ(callback_for(daemon, id).value("status", ""), "completed");
  EXPECT_EQ(callbacks().size(), 1u);
  EXPECT_EQ(edits().size(), 1u);
}

// cos_ok, cos_odd, cos_nofname.
TEST_F(WxoCos, StorageToolStoresTheResultAndPresignsItLikeTheSeed) {
  DaemonProcess daemon(options(seed_env()));

  // cos_ok: the seed's stem rule on " my photo (1)-.JPG".
  auto id = accept(daemon, "/process-image-async",
                   {{"prompt", kDogPrompt},
                    {"filename", " my photo (1)-.JPG"},
                    {"image_base64", jpeg_burger()}});
  auto image = expect_stored_like_the_seed(callback_for(daemon, id), id, " my photo (1)-.JPG",
                                           "my_photo__1");
  EXPECT_EQ(image.width, 64);
  EXPECT_EQ(image.height, 48);
  EXPECT_EQ(rgb(image, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));  // OpenAI's edit
  ASSERT_EQ(edits().size(), 1u);
  expect_seed_edit(edits()[0], kDogPrompt, fake_.openai_key);

  // cos_odd
  fake_.clear();
  const std::string odd = "odd+name=\xC3\xA9%.png";
  id = accept(daemon, "/process-image-async",
              {{"prompt", kDogPrompt}, {"filename", odd}, {"image_base64", png_base64()}});
  image = expect_stored_like_the_seed(callback_for(daemon, id), id, odd, "odd_name");
  EXPECT_EQ(rgb(image, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));
  EXPECT_EQ(edits().size(), 1u);

  // cos_nofname: "filename": null and the stem image_{first 8 characters of the job id}.
  fake_.clear();
  id = accept(daemon, "/process-image-async",
              {{"prompt", kDogPrompt}, {"image_base64", png_base64()}});
  image = expect_stored_like_the_seed(callback_for(daemon, id), id, nullptr,
                                      "image_" + id.substr(0, 8));
  EXPECT_EQ(rgb(image, 0, 0), (std::vector<std::uint8_t>{200, 40, 40}));
  EXPECT_EQ(edits().size(), 1u);

  EXPECT_EQ(callbacks().size(), 3u);
}

// cos_moderation, cos_billing, cos_notimage (an improvement).
TEST_F(WxoCos, StorageToolFailsLikeTheSeed) {
  DaemonProcess daemon(options(seed_env()));

  // cos_moderation: failed, nothing stored.
  fake_.fail_next(1, Failure::moderation);
  auto id = accept(daemon, "/process-image-async", b64_request());
  auto cb = callback_for(daemon, id);
  expect_failed_like_the_seed(cb, id, kModeration);
  EXPECT_EQ(list_keys(kOutputBucket, "results/" + id + "/"), std::vector<std::string>{});
  EXPECT_EQ(edits().size(), 1u);

  // cos_billing: the recorded row says failed, but the seed README's rule wins: the local
  // fallback's image is stored and presigned, status completed, no error field.
  fake_.clear();
  fake_.fail_next(1, Failure::billing_limit);
  id = accept(daemon, "/process-image-async", b64_request());
  auto image = expect_stored_like_the_seed(callback_for(daemon, id), id, "burger.jpeg", "burger");
  EXPECT_EQ(rgb(image, 0, 0), (std::vector<std::uint8_t>{55, 225, 195}));  // inverted
  EXPECT_EQ(edits().size(), 1u);

  // cos_notimage. Improvement over the seed (202, then OpenAI's invalid_image_file): a
  // synchronous 422, no OpenAI call, nothing stored.
  fake_.clear();
  auto r = daemon.post("/process-image-async",
                       b64_request(base64_encode(kNotAnImage), "x.png").dump(), callback_header());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(first_problem(r), json({{"loc", {"body", "image_base64"}},
                                    {"msg", not_an_image(kNotAnImage.size())},
                                    {"type", "value_error"}}))
      << r.body;
  EXPECT_EQ(fake_.received().size(), 0u);

  EXPECT_EQ(callbacks().size(), 2u);
}

// batch_ok on the recorder's `results` bucket.
TEST_F(WxoCos, BatchToolProcessesThePrefixLikeTheSeed) {
  DaemonProcess daemon(options(seed_env()));
  const auto id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  const auto cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed", 5, 5, 0, 0);
  EXPECT_EQ(cb.value("errors", json()), json::array());

  const auto keys = batch_result_keys(id);
  EXPECT_EQ(list_keys(kOutputBucket, "results/batch/" + id + "/"), keys);
  for (const auto& key : keys) {
    auto image = stored_result(key);
    EXPECT_EQ(image.width, 64) << key;
    EXPECT_EQ(rgb(image, 0, 0), (std::vector<std::uint8_t>{200, 40, 40})) << key;
  }
  const auto sent = edits();
  ASSERT_EQ(sent.size(), 5u);
  for (const auto& r : sent) expect_seed_edit(r, kPrompt, fake_.openai_key);
  EXPECT_EQ(callbacks().size(), 1u);
}

// batch_moderation, batch_partial, batch_billing, batch_emptyprompt (an improvement),
// batch_noprompt.
TEST_F(WxoCos, BatchToolReportsFailuresAndFallbacksLikeTheSeed) {
  DaemonProcess daemon(options(seed_env()));

  // batch_moderation: every image refused. As the seed: completed_with_errors, not failed.
  fake_.fail_next(5, Failure::moderation);
  auto id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  auto cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed_with_errors", 5, 0, 5, 0);
  std::vector<std::string> errors = cb.value("errors", std::vector<std::string>{});
  ASSERT_EQ(errors.size(), 5u) << cb.dump();
  std::sort(errors.begin(), errors.end());
  for (std::size_t i = 0; i < errors.size(); ++i) {
    EXPECT_THAT(errors[i], StartsWith(seed_images()[i].key + ": " + kModeration));
  }
  EXPECT_EQ(list_keys(kOutputBucket, "results/batch/" + id + "/"), std::vector<std::string>{});
  EXPECT_EQ(edits().size(), 5u);

  // batch_partial: four edits, then one refusal. The seed went one image at a time, so its
  // fifth call was pic 4.jpg; four in flight make it whichever image was sent last, so the
  // failed image is the one missing from the bucket, and the one the error names.
  fake_.clear();
  fake_.fail_next(4, Scripted{Failure::slow, {}, std::chrono::milliseconds(0)});
  fake_.fail_next(1, Failure::moderation);
  id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed_with_errors", 5, 4, 1, 0);
  const auto stored = list_keys(kOutputBucket, "results/batch/" + id + "/");
  EXPECT_EQ(stored.size(), 4u);
  errors = cb.value("errors", std::vector<std::string>{});
  ASSERT_EQ(errors.size(), 1u) << cb.dump();
  for (const auto& image : seed_images()) {
    const auto key = "results/batch/" + id + "/" + image.stem + "_modified.png";
    const bool missing = std::find(stored.begin(), stored.end(), key) == stored.end();
    EXPECT_EQ(errors[0].starts_with(image.key + ": "), missing) << errors[0] << " / " << key;
    if (!missing) {
      EXPECT_EQ(rgb(stored_result(key), 0, 0), (std::vector<std::uint8_t>{200, 40, 40})) << key;
    }
  }
  EXPECT_THAT(errors[0], HasSubstr(std::string(": ") + kModeration));
  EXPECT_EQ(edits().size(), 5u);

  // batch_billing: every image falls back. total_files_processed is 5 (the seed README's
  // rule), not the recorded 10 that counted each fallback twice.
  fake_.clear();
  fake_.fail_next(5, Failure::billing_limit);
  id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed", 5, 5, 0, 5);
  std::vector<std::string> fallbacks;
  for (const auto& image : seed_images())
    fallbacks.push_back(image.key + ": OpenAI billing limit -> fallback local applied");
  EXPECT_EQ(sorted_join(cb.value("errors", std::vector<std::string>{})), sorted_join(fallbacks));
  EXPECT_EQ(list_keys(kOutputBucket, "results/batch/" + id + "/"), batch_result_keys(id));
  for (const auto& image : seed_images()) {
    const auto key = "results/batch/" + id + "/" + image.stem + "_modified.png";
    const auto got = rgb(stored_result(key), 0, 0);
    EXPECT_TRUE(near(got, inverted(image.color), 4))
        << key << ": " << ::testing::PrintToString(got);
  }
  EXPECT_EQ(edits().size(), 5u);

  // batch_emptyprompt. Improvement over the seed (202, then a failed callback with
  // "ValueError: prompt vide"): a blank prompt is a synchronous 422.
  fake_.clear();
  auto r = daemon.post("/batch-process-images", json{{"prompt", "  "}}.dump(), callback_header());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(first_problem(r).value("loc", json()), json({"body", "prompt"})) << r.body;
  // batch_noprompt: a 422, as the seed, with its loc and msg.
  r = daemon.post("/batch-process-images", "{}", callback_header());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(first_problem(r),
            json({{"loc", {"body", "prompt"}}, {"msg", "field required"}, {"type", "missing"}}))
      << r.body;
  EXPECT_EQ(fake_.received().size(), 0u);

  EXPECT_EQ(callbacks().size(), 3u);
}

// batch_ok on the recorder's `empty` bucket.
TEST_F(WxoCos, BatchToolOnAnEmptyPrefixCompletesWithNothing) {
  DaemonProcess daemon(options(seed_env(kEmptyBucket)));
  const auto id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  const auto cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed", 0, 0, 0, 0);
  EXPECT_EQ(cb.value("errors", json()), json::array());
  EXPECT_EQ(list_keys(kOutputBucket, "results/batch/" + id + "/"), std::vector<std::string>{});
  EXPECT_EQ(fake_.received().size(), 0u);
}

// batch_ok on the recorder's `nonimg` bucket: notes.txt is counted, and failed.
TEST_F(WxoCos, BatchToolCountsANonImageAsFailed) {
  DaemonProcess daemon(options(seed_env(kNonImgBucket)));
  const auto id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  const auto cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed_with_errors", 6, 5, 1, 0);
  const auto errors = cb.value("errors", std::vector<std::string>{});
  EXPECT_EQ(errors,
            std::vector<std::string>{"batch/notes.txt: " + not_an_image(std::strlen(kNotes))})
      << cb.dump();
  EXPECT_EQ(list_keys(kOutputBucket, "results/batch/" + id + "/"), batch_result_keys(id));
  for (const auto& key : batch_result_keys(id))
    EXPECT_EQ(rgb(stored_result(key), 0, 0), (std::vector<std::uint8_t>{200, 40, 40})) << key;
  // The seed sent notes.txt to OpenAI too (its invalid_image_file is the recorded error);
  // a file that is no image is refused before it costs a call, as the single-image tools'
  // 422 does.
  EXPECT_EQ(edits().size(), 5u);
}

// batch_ok on the recorder's `broken` bucket: a truncated PNG beside notes.txt.
TEST_F(WxoCos, BatchToolCountsABrokenImageAsFailed) {
  DaemonProcess daemon(options(seed_env(kBrokenBucket)));
  const auto id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  const auto cb = callback_for(daemon, id);
  expect_batch_counts(cb, id, "completed_with_errors", 7, 5, 2, 0);
  auto errors = cb.value("errors", std::vector<std::string>{});
  ASSERT_EQ(errors.size(), 2u) << cb.dump();
  std::sort(errors.begin(), errors.end());
  // broken.png starts with a PNG's signature, but it is read whole before any provider
  // call, so (unlike the seed, which paid OpenAI to refuse it) it never reaches OpenAI;
  // notes.txt never does either.
  EXPECT_EQ(errors[0], "batch/broken.png: truncated or corrupt PNG: unexpected end of data");
  EXPECT_EQ(errors[1], "batch/notes.txt: " + not_an_image(std::strlen(kNotes)));
  EXPECT_EQ(list_keys(kOutputBucket, "results/batch/" + id + "/"), batch_result_keys(id));
  const auto sent = edits();
  EXPECT_EQ(sent.size(), 5u);
  EXPECT_EQ(std::count_if(sent.begin(), sent.end(), [](const auto& r) { return r.status == 400; }),
            0);
}

// A fatal batch error (the input bucket does not exist) is the one case with a top-level
// "error", as the seed's fatal batch_emptyprompt callback had.
TEST_F(WxoCos, BatchToolReportsAFatalErrorAtTopLevel) {
  DaemonProcess daemon(options(seed_env("wxo-in-missing")));
  const auto id = accept(daemon, "/batch-process-images", {{"prompt", kPrompt}});
  const auto cb = callback_for(daemon, id);
  EXPECT_EQ(types_of(cb), with(kBatch, "error", "str")) << cb.dump();
  EXPECT_EQ(cb.value("status", ""), "failed");
  EXPECT_EQ(cb.value("job_id", ""), id);
  EXPECT_EQ(cb.value("total_files", -1), 0);
  EXPECT_EQ(cb.value("processed", -1), 0);
  EXPECT_EQ(cb.value("failed", -1), 0);
  EXPECT_EQ(cb.value("errors", json()), json::array());
  EXPECT_EQ(cb.value("output_prefix", ""), "results/batch/" + id + "/");
  EXPECT_EQ(cb.value("error", ""),
            "S3 ListObjectsV2: bucket 'wxo-in-missing' does not exist [NoSuchBucket, HTTP 404]");
  EXPECT_EQ(fake_.received().size(), 0u);
}

// The `nokey` rows: 500s with the seed's exact text before any job, and /health/ready
// saying why; then only some COS variables: only the missing ones are named.
TEST_F(WxoCos, MissingKeysAre500sWithTheSeedsTextBeforeAnyJob) {
  DaemonProcess nokey(options({{"OPENAI_BASE_URL", fake_.openai_base()}}));
  const std::string cos_missing =
      "Missing COS env vars: COS_ENDPOINT, COS_ACCESS_KEY_ID, COS_SECRET_ACCESS_KEY, "
      "COS_OUTPUT_BUCKET (or COS_BUCKET)";
  for (const auto& [path, body, detail] : std::vector<std::tuple<std::string, json, std::string>>{
           {"/process-image-async-b64", b64_request(), "Missing env var: OPENAI_API_KEY"},
           {"/process-image-async", b64_request(), cos_missing},
           {"/batch-process-images", json{{"prompt", kPrompt}}, cos_missing}}) {
    auto r = nokey.post(path, body.dump(), callback_header());
    EXPECT_EQ(r.status, 500) << path << ": " << r.body;
    EXPECT_EQ(json::parse(r.body, nullptr, false), json({{"detail", detail}})) << path;
  }
  auto ready = json::parse(nokey.get("/health/ready").body, nullptr, false);
  if (!ready.is_object() || !ready["pipelines"].is_object())
    ready = {{"pipelines", json::object()}};
  for (const auto& [pipeline, reason] :
       std::vector<std::pair<std::string, std::string>>{{"wxo-edit-b64", "OPENAI_API_KEY"},
                                                        {"wxo-edit-cos", "COS_ENDPOINT"},
                                                        {"wxo-batch", "COS_ENDPOINT"}}) {
    const auto p = ready["pipelines"].value(pipeline, json::object());
    EXPECT_EQ(p.value("ready", true), false) << ready.dump();
    EXPECT_THAT(p.value("reason", ""), HasSubstr(reason)) << ready.dump();
  }
  EXPECT_EQ(fake_.received().size(), 0u);

  // COS_OUTPUT_BUCKET stands in for COS_BUCKET (and COS_INPUT_BUCKET for the batch's
  // input); the keys are still missing. The b64 tool needs no COS and takes its job.
  DaemonProcess partial(options({{"OPENAI_API_KEY", fake_.openai_key},
                                 {"OPENAI_BASE_URL", fake_.openai_base()},
                                 {"COS_ENDPOINT", *endpoint_},
                                 {"COS_OUTPUT_BUCKET", kOutputBucket},
                                 {"COS_INPUT_BUCKET", kResultsBucket}}));
  for (const auto& [path, body] : std::vector<std::pair<std::string, json>>{
           {"/process-image-async", b64_request()},
           {"/batch-process-images", json{{"prompt", kPrompt}}}}) {
    auto r = partial.post(path, body.dump(), callback_header());
    EXPECT_EQ(r.status, 500) << path << ": " << r.body;
    EXPECT_EQ(json::parse(r.body, nullptr, false),
              json({{"detail", "Missing COS env vars: COS_ACCESS_KEY_ID, COS_SECRET_ACCESS_KEY"}}))
        << path;
  }
  const auto id = accept(partial, "/process-image-async-b64", b64_request());
  EXPECT_EQ(callback_for(partial, id).value("status", ""), "completed");
  // Its callback is the only one: none of the refused requests became a job.
  EXPECT_EQ(callbacks().size(), 1u);
  EXPECT_EQ(edits().size(), 1u);
}

}  // namespace
}  // namespace imagepipe::testing
