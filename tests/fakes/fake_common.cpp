// The fake's plumbing: routing, recording, scripted failures, multipart parsing, images.
#include <algorithm>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/image.hpp"

namespace imagepipe::testing {

using nlohmann::json;

const FormPart* FakeRequest::part(std::string_view name) const {
  for (const auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

std::string openai_error(const std::string& message, const std::string& type, const json& param,
                         const json& code) {
  return json{{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}}
      .dump();
}

TestResponse json_answer(int status, const std::string& body, std::string request_id) {
  TestResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json"}};
  if (!request_id.empty()) r.headers.emplace_back("x-request-id", std::move(request_id));
  r.body = body;
  return r;
}

std::string make_image(int w, int h, const std::string& format, std::vector<std::uint8_t> rgb) {
  Image image(w, h, 3);
  for (std::size_t i = 0; i < image.pixels.size(); i += 3)
    std::copy(rgb.begin(), rgb.end(), image.pixels.begin() + static_cast<std::ptrdiff_t>(i));
  EncodeSpec spec;
  spec.format = format == "jpeg"   ? ImageFormat::jpeg
                : format == "webp" ? ImageFormat::webp
                                   : ImageFormat::png;
  spec.compression = 1;
  spec.quality = 95;
  return encode_image(image, spec);
}

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(s.begin());
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// `key="value"` from a header's parameters; nullopt when absent.
std::optional<std::string> header_param(const std::string& header, const std::string& key) {
  std::size_t pos = 0;
  while ((pos = header.find(';', pos)) != std::string::npos) {
    ++pos;
    const auto eq = header.find('=', pos);
    if (eq == std::string::npos) return std::nullopt;
    if (lower(trim(header.substr(pos, eq - pos))) != key) continue;
    std::string value = header.substr(eq + 1);
    value = trim(value.substr(0, value.find(';')));
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.find('"', 1) - 1);
    return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<FormPart>> parse_multipart(const std::string& content_type,
                                                     const std::string& body, std::string& why) {
  if (lower(content_type).rfind("multipart/form-data", 0) != 0) {
    why = "Content-Type is not multipart/form-data";
    return std::nullopt;
  }
  const auto boundary = header_param(content_type, "boundary");
  if (!boundary || boundary->empty()) {
    why = "multipart Content-Type without a boundary";
    return std::nullopt;
  }
  const std::string delim = "--" + *boundary;
  std::vector<FormPart> parts;
  if (body.rfind(delim + "\r\n", 0) != 0) {
    why = "body does not start with the boundary";
    return std::nullopt;
  }
  std::size_t pos = delim.size() + 2;
  for (;;) {
    const auto end_headers = body.find("\r\n\r\n", pos);
    if (end_headers == std::string::npos) {
      why = "part without a blank line after its headers";
      return std::nullopt;
    }
    FormPart part;
    std::string disposition;
    std::size_t line_start = pos;
    while (line_start < end_headers) {
      auto line_end = body.find("\r\n", line_start);
      if (line_end > end_headers) line_end = end_headers;
      const std::string line = body.substr(line_start, line_end - line_start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        why = "malformed part header '" + line + "'";
        return std::nullopt;
      }
      const std::string name = lower(trim(line.substr(0, colon)));
      const std::string value = trim(line.substr(colon + 1));
      if (name == "content-disposition") disposition = value;
      if (name == "content-type") part.content_type = value;
      line_start = line_end + 2;
    }
    if (lower(disposition).rfind("form-data", 0) != 0) {
      why = "part without Content-Disposition: form-data";
      return std::nullopt;
    }
    auto name = header_param(disposition, "name");
    if (!name) {
      why = "part without a name";
      return std::nullopt;
    }
    part.name = *name;
    if (auto filename = header_param(disposition, "filename")) {
      part.filename = *filename;
      part.has_filename = true;
    }
    const auto data_start = end_headers + 4;
    const auto next = body.find("\r\n" + delim, data_start);
    if (next == std::string::npos) {
      why = "part '" + part.name + "' is not terminated by the boundary";
      return std::nullopt;
    }
    part.value = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + 2 + delim.size();
    if (body.compare(pos, 2, "--") == 0) break;
    if (body.compare(pos, 2, "\r\n") != 0) {
      why = "garbage after a boundary";
      return std::nullopt;
    }
    pos += 2;
  }
  return parts;
}

FakeUpstream::FakeUpstream() {
  server_.otherwise([this](const RecordedRequest& r) { return handle(r); });
}

FakeUpstream::~FakeUpstream() = default;

void FakeUpstream::fail_next(int count, Scripted what) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < count; ++i) script_.push_back(what);
}

std::vector<FakeRequest> FakeUpstream::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::vector<FakeRequest> FakeUpstream::received(std::string_view prefix) const {
  std::vector<FakeRequest> out;
  for (auto& r : received())
    if (r.path.rfind(prefix, 0) == 0) out.push_back(r);
  return out;
}

void FakeUpstream::clear() {
  std::lock_guard lock(mu_);
  received_.clear();
  script_.clear();
}

std::string FakeUpstream::store_image(int w, int h, const std::string& format,
                                      std::vector<std::uint8_t> rgb) {
  std::string bytes = make_image(w, h, format, std::move(rgb));
  const std::string ext = format == "jpeg" ? "jpg" : format;
  const std::string path = "/files/img-" + std::to_string(++counter_) + "." + ext;
  files_[path] = {format == "jpeg" ? "image/jpeg" : "image/" + format, std::move(bytes)};
  return server_.url(path);
}

TestResponse FakeUpstream::file(const RecordedRequest& r) {
  auto it = files_.find(r.path);
  if (it == files_.end() || r.method != "GET") return {.status = 404, .body = "Not Found"};
  return {
      .status = 200, .headers = {{"Content-Type", it->second.first}}, .body = it->second.second};
}

// Called with mu_ held. Failures for BFL task outcomes are attached to the task instead.
std::optional<TestResponse> FakeUpstream::scripted(bool azure, bool flux,
                                                   std::optional<Failure>* task_outcome) {
  if (script_.empty()) return std::nullopt;
  const Scripted s = script_.front();
  script_.erase(script_.begin());
  const std::string rid = "req_scripted_" + std::to_string(++counter_);
  switch (s.kind) {
    case Failure::billing_limit:
      return json_answer(
          400,
          openai_error("Billing hard limit has been reached", "invalid_request_error", nullptr,
                       "billing_hard_limit_reached"),
          rid);
    case Failure::insufficient_quota:
      return json_answer(429,
                         openai_error("You exceeded your current quota, please check your plan and "
                                      "billing details.",
                                      "insufficient_quota", nullptr, "insufficient_quota"),
                         rid);
    case Failure::rate_limit: {
      auto r = flux ? json_answer(429, R"({"detail":"Too many active tasks"})")
                    : json_answer(429,
                                  openai_error("Rate limit exceeded for images per minute in "
                                               "organization org-test. Limit: 5/1min.",
                                               "requests", nullptr, "rate_limit_exceeded"),
                                  rid);
      if (s.retry_after.count() > 0) {
        r.headers.emplace_back(azure ? "retry-after-ms" : "retry-after",
                               azure ? std::to_string(s.retry_after.count())
                                     : std::to_string(s.retry_after.count() / 1000));
        if (!azure && !flux)
          r.headers.emplace_back("x-ratelimit-reset-requests",
                                 std::to_string(s.retry_after.count()) + "ms");
      }
      return r;
    }
    case Failure::server_error:
      return flux ? json_answer(500, R"({"detail":"Internal Server Error"})")
                  : json_answer(
                        500,
                        openai_error("The server had an error while processing your request. "
                                     "Sorry about that!",
                                     "server_error", nullptr, nullptr),
                        rid);
    case Failure::overloaded:
      return json_answer(503,
                         openai_error("The engine is currently overloaded, please try again later.",
                                      "server_error", nullptr, nullptr),
                         rid);
    case Failure::moderation:
      if (azure)
        return json_answer(400,
                           json{{"error",
                                 {{"code", "content_policy_violation"},
                                  {"type", "invalid_request_error"},
                                  {"message",
                                   "Your request was rejected as a result of our "
                                   "safety system."},
                                  {"inner_error", {{"code", "ResponsibleAIPolicyViolation"}}}}}}
                               .dump(),
                           rid);
      return json_answer(400,
                         json{{"error",
                               {{"message", "Your request was rejected by the safety system."},
                                {"type", "image_generation_user_error"},
                                {"param", nullptr},
                                {"code", "moderation_blocked"},
                                {"moderation_details",
                                 {{"moderation_stage", "input"}, {"categories", {"violence"}}}}}}}
                             .dump(),
                         rid);
    case Failure::flux_credits:
      return json_answer(402, R"({"detail":"Insufficient credits"})");
    case Failure::slow:
    case Failure::flux_request_moderated:
    case Failure::flux_content_moderated:
    case Failure::flux_error:
    case Failure::flux_not_found:
      break;
  }
  if (s.kind != Failure::slow && task_outcome) *task_outcome = s.kind;
  if (s.kind == Failure::slow) return TestResponse{.status = -1, .delay = s.delay};
  return std::nullopt;
}

TestResponse FakeUpstream::handle(const RecordedRequest& r) {
  if (r.path.rfind("/files/", 0) == 0 || r.path.rfind("/delivery/", 0) == 0) {
    std::lock_guard lock(mu_);
    return file(r);
  }
  if (r.path == "/v1/get_result") return flux_poll(r);
  FakeRequest rec{r.method, r.path, r.target, r.headers};
  if (stamp) rec.at_ms = stamp();
  TestResponse out;
  if (r.path.rfind("/openai/", 0) == 0)
    out = azure(r, rec);
  else if (r.path.rfind("/v1/flux-", 0) == 0)
    out = flux_submit(r, rec, r.path.substr(4));
  else if (r.path.rfind("/v1/", 0) == 0)
    out = openai(r, rec, r.path.substr(3), "", false);
  else
    out = json_answer(404, openai_error("Unknown request URL: " + r.method + " " + r.path,
                                        "invalid_request_error", nullptr, "unknown_url"));
  rec.status = out.status;
  rec.answer =
      out.body.size() < 2000 ? out.body : "(" + std::to_string(out.body.size()) + " bytes)";
  std::lock_guard lock(mu_);
  received_.push_back(std::move(rec));
  return out;
}

}  // namespace imagepipe::testing
