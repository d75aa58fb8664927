// A strict fake of the image APIs imagepipe talks to, written from the wire references:
// OpenAI (/v1/images/generations, /v1/images/edits with real multipart parsing,
// /v1/responses), Azure OpenAI's deployment routes, an OpenAI-compatible host serving
// FLUX.1 [schnell] (Together's fields) and Black Forest Labs (submit, poll, sample).
//
// C++ on HttpTestServer rather than a Node script: it runs in the test process (no child
// to start, no port to pass around), tests script failures and read what it received
// through plain calls, and it makes real images with the project's own encoders.
//
// It refuses what the real APIs refuse (missing or wrong credentials, unknown or
// misplaced parameters, sizes the model does not take, n > 1 on dall-e-3, bad multipart
// parts or MIME types, unknown deployments or api-versions, FLUX fields out of range)
// with the real status and error envelope, and answers with real PNG/JPEG/WebP images of
// the requested size. Every request is recorded, parsed.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_server.hpp"

namespace imagepipe::testing {

enum class Failure {
  billing_limit,       // 400 billing_hard_limit_reached
  insufficient_quota,  // 429 insufficient_quota
  rate_limit,          // 429 rate_limit_exceeded with retry-after (and x-ratelimit-reset-requests)
  server_error,        // 500 server_error
  overloaded,          // 503
  moderation,          // 400 moderation_blocked (Azure: content_policy_violation)
  slow,                // a normal answer after `delay`
  // BFL: submit answers
  flux_credits,  // 402 {"detail": "Insufficient credits"}
  // BFL: outcome of the next submitted task, seen when polling
  flux_request_moderated,
  flux_content_moderated,
  flux_error,
  flux_not_found,
};

struct Scripted {
  Failure kind;
  std::chrono::milliseconds retry_after{0};  // rate_limit: the header value (0: none)
  std::chrono::milliseconds delay{0};        // slow
};

struct FormPart {
  std::string name, filename, content_type, value;
  bool has_filename = false;
};

struct FakeRequest {
  std::string method, path, target;
  Headers headers;
  nlohmann::json json;          // parsed JSON body, null otherwise
  std::vector<FormPart> parts;  // parsed multipart body
  long long at_ms = 0;          // `stamp` when it arrived (the tests' virtual clock)
  int status = 0;               // what the fake answered
  std::string answer;           // the body it answered (not for images)
  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
  const FormPart* part(std::string_view name) const;
};

class FakeUpstream {
 public:
  FakeUpstream();
  ~FakeUpstream();

  std::string openai_base() const { return server_.url("/v1"); }
  std::string root() const { return server_.url(); }  // Azure endpoint, BFL host

  // Accepted credentials.
  std::string openai_key = "sk-test-4f9a2c71e0b84d63";
  std::string azure_key = "az-key-7d1e5b90c3a24f68";
  std::string azure_token = "eyJ0eXAiOiJKV1Qi.entra.token";
  std::string flux_key = "bfl-key-2b8c6e14a9f07d35";
  std::map<std::string, std::string> azure_deployments = {
      {"images", "gpt-image-1"}, {"dalle3", "dall-e-3"}, {"chat", "gpt-5"}};
  int flux_pending_polls = 2;  // "Pending" answers before "Ready"
  // Stamps each recorded request: tests pass their fake clock so rates are measured in
  // virtual time.
  std::function<long long()> stamp;

  // The next `count` API calls (not polls or downloads) get `what`.
  void fail_next(int count, Scripted what);
  void fail_next(int count, Failure kind) { fail_next(count, Scripted{kind}); }

  std::vector<FakeRequest> received() const;
  std::vector<FakeRequest> received(std::string_view path_prefix) const;
  void clear();
  HttpTestServer& server() { return server_; }

 private:
  struct FluxTask {
    std::string id, endpoint, format;
    int width = 0, height = 0, polls = 0;
    std::optional<Failure> outcome;
    long long seed = 0;
    std::string prompt;
  };

  TestResponse handle(const RecordedRequest& r);
  TestResponse openai(const RecordedRequest& r, FakeRequest& rec, const std::string& route,
                      const std::string& model_override, bool azure);
  TestResponse generations(FakeRequest& rec, const std::string& model_override, bool azure);
  TestResponse together(FakeRequest& rec);
  TestResponse edits(const RecordedRequest& r, FakeRequest& rec, const std::string& model_override);
  TestResponse responses(FakeRequest& rec);
  TestResponse moderations(FakeRequest& rec);
  TestResponse chat_completions(FakeRequest& rec);
  TestResponse azure(const RecordedRequest& r, FakeRequest& rec);
  TestResponse azure_responses(const RecordedRequest& r, FakeRequest& rec);
  bool azure_authorized(const RecordedRequest& r) const;
  static TestResponse azure_denied();
  TestResponse flux_submit(const RecordedRequest& r, FakeRequest& rec, const std::string& endpoint);
  TestResponse flux_poll(const RecordedRequest& r);
  TestResponse file(const RecordedRequest& r);
  std::optional<TestResponse> scripted(bool azure, bool flux, std::optional<Failure>* task_outcome);
  std::string store_image(int w, int h, const std::string& format, std::vector<std::uint8_t> rgb);

  HttpTestServer server_;
  mutable std::mutex mu_;
  std::vector<FakeRequest> received_;
  std::vector<Scripted> script_;
  std::map<std::string, FluxTask> tasks_;
  std::map<std::string, std::pair<std::string, std::string>> files_;  // path → (mime, bytes)
  int counter_ = 0;
};

// ---- helpers shared by the fake's files ----
std::string openai_error(const std::string& message, const std::string& type,
                         const nlohmann::json& param, const nlohmann::json& code);
TestResponse json_answer(int status, const std::string& body, std::string request_id = {});
// Strict multipart/form-data parsing; nullopt with `why` on any malformation.
std::optional<std::vector<FormPart>> parse_multipart(const std::string& content_type,
                                                     const std::string& body, std::string& why);
// Encodes a solid image of the given size ("png", "jpeg", "webp").
std::string make_image(int w, int h, const std::string& format, std::vector<std::uint8_t> rgb);

}  // namespace imagepipe::testing
