#include "openai_errors.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

#include "imagepipe/retry.hpp"

namespace imagepipe::openai {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kMaxQuoted = 300;  // of a non-JSON body (an edge proxy's HTML page)

std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

// Codes that say "out of credit": billing or spend caps, never worth retrying.
bool quota_code(const std::string& code) {
  return code == "insufficient_quota" || code == "credit_balance_exhausted" ||
         code == "organization_spend_limit_exceeded" || code == "project_spend_limit_exceeded" ||
         code == "organization_usage_limit_exceeded";
}

bool policy_code(const std::string& code, const std::string& type) {
  return code == "moderation_blocked" || code == "content_policy_violation" ||
         code == "contentFilter" || code == "content_filter" ||
         type == "image_generation_user_error";
}

std::string string_field(const json& j, const char* key) {
  if (auto it = j.find(key); it != j.end() && it->is_string()) return it->get<std::string>();
  return {};
}

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (text.size() > kMaxQuoted) text = text.substr(0, kMaxQuoted) + "...";
  return text;
}

}  // namespace

std::optional<milliseconds> parse_go_duration(std::string_view text) {
  double total = 0;
  bool any = false;
  while (!text.empty()) {
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    auto number = parse_number(text.substr(0, i));
    if (!number) return std::nullopt;
    text.remove_prefix(i);
    double unit = 0;
    if (text.rfind("ms", 0) == 0)
      unit = 1, text.remove_prefix(2);
    else if (text.rfind("h", 0) == 0)
      unit = 3'600'000, text.remove_prefix(1);
    else if (text.rfind("m", 0) == 0)
      unit = 60'000, text.remove_prefix(1);
    else if (text.rfind("s", 0) == 0)
      unit = 1'000, text.remove_prefix(1);
    else
      return std::nullopt;
    total += *number * unit;
    any = true;
  }
  if (!any) return std::nullopt;
  return milliseconds(static_cast<long long>(std::ceil(total)));
}

std::optional<milliseconds> retry_delay(const HttpResponse& response) {
  if (auto ms = response.header("retry-after-ms"))
    if (auto v = parse_number(*ms)) return milliseconds(static_cast<long long>(std::ceil(*v)));
  if (auto ra = response.header("retry-after"))
    if (auto d = parse_retry_after(*ra)) return d;
  std::optional<milliseconds> reset;
  for (const char* name : {"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"})
    if (auto h = response.header(name))
      if (auto d = parse_go_duration(*h)) reset = std::max(reset.value_or(milliseconds(0)), *d);
  return reset;
}

std::string request_id(const HttpResponse& response) {
  if (auto id = response.header("x-request-id")) return *id;
  if (auto id = response.header("apim-request-id")) return *id;
  return {};
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3))
      text.replace(pos, s.size(), "***");
  }
  return text;
}

Error wire_error(const HttpResponse& response, const std::vector<std::string>& secrets) {
  std::string message, code, type;
  const json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    message = string_field(e, "message");
    code = string_field(e, "code");
    type = string_field(e, "type");
  } else if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    code = body["error"].get<std::string>();  // {"error": "rate_limit_exceeded", "message": ...}
    message = string_field(body, "message");
  }
  if (message.empty()) message = one_line(response.body);
  if (message.empty()) message = "(empty body)";

  const int status = response.status;
  ErrorClass cls = ErrorClass::invalid_input;
  std::optional<milliseconds> wait;
  if (code == "billing_hard_limit_reached")
    cls = ErrorClass::billing_limit;
  else if (quota_code(code) || type == "insufficient_quota")
    cls = ErrorClass::quota_exceeded;
  else if (policy_code(code, type))
    cls = ErrorClass::content_policy;
  else if (status == 401 || status == 403)
    cls = ErrorClass::unauthorized;
  else if (status == 429)
    cls = ErrorClass::rate_limited, wait = retry_delay(response);
  else if (status == 408)
    cls = ErrorClass::timeout;
  else if (status == 409 || status >= 500)
    cls = ErrorClass::unavailable, wait = retry_delay(response);

  std::string text = message + " (HTTP " + std::to_string(status);
  if (!code.empty()) text += ", " + code;
  if (auto id = request_id(response); !id.empty()) text += ", request " + id;
  text += ")";
  return Error(cls, scrub(std::move(text), secrets), wait);
}

}  // namespace imagepipe::openai
