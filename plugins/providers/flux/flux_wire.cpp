#include "flux_wire.hpp"

#include <charconv>
#include <cmath>

#include "imagepipe/retry.hpp"

namespace imagepipe::flux {

using nlohmann::json;

const std::vector<const char*>& body_keys() {
  static const std::vector<const char*> keys = {
      kSeed,     kWidth,           kHeight,       kAspectRatio,      kSteps,
      kGuidance, kSafetyTolerance, kOutputFormat, kPromptUpsampling, kRaw};
  return keys;
}

bool takes_input_image(const std::string& model) {
  return model.rfind("flux-kontext", 0) == 0 || model.rfind("flux-2", 0) == 0;
}

json submit_body(const std::string& prompt, const json& options, const json& overrides,
                 const std::string& input_image) {
  json body = {{"prompt", prompt}};
  for (const char* key : body_keys()) {
    const json* v = nullptr;
    if (overrides.is_object() && overrides.contains(key) && !overrides[key].is_null())
      v = &overrides[key];
    else if (options.contains(key) && !options[key].is_null())
      v = &options[key];
    if (v) body[key] = *v;
  }
  // An item may ask for "size": "WxH" like the OpenAI-shaped providers.
  if (overrides.is_object() && overrides.contains("size") && overrides["size"].is_string()) {
    const std::string size = overrides["size"].get<std::string>();
    int w = 0, h = 0;
    const auto x = size.find('x');
    if (x == std::string::npos ||
        std::from_chars(size.data(), size.data() + x, w).ec != std::errc() ||
        std::from_chars(size.data() + x + 1, size.data() + size.size(), h).ec != std::errc())
      throw Error(ErrorClass::invalid_input, "size '" + size + "' is not WIDTHxHEIGHT");
    body[kWidth] = w;
    body[kHeight] = h;
  }
  if (!input_image.empty()) body["input_image"] = input_image;
  return body;
}

PollState poll_state(const std::string& status) {
  // Compared exactly: the statuses contain spaces and capitals.
  if (status == "Pending" || status == "Queued" || status == "Processing")
    return PollState::pending;
  if (status == "Ready") return PollState::ready;
  if (status == "Request Moderated" || status == "Content Moderated") return PollState::moderated;
  if (status == "Error" || status == "Failed") return PollState::failed;
  if (status == "Task not found") return PollState::not_found;
  return PollState::unknown;
}

namespace {

std::string detail_text(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("detail")) {
    const json& d = j["detail"];
    if (d.is_string()) return d.get<std::string>();
    if (d.is_array()) {
      std::string out;
      for (const auto& e : d) {
        std::string loc;
        if (e.contains("loc") && e["loc"].is_array())
          for (const auto& l : e["loc"])
            loc += (loc.empty() ? "" : ".") + (l.is_string() ? l.get<std::string>() : l.dump());
        out += (out.empty() ? "" : "; ") + loc + ": " + e.value("msg", std::string("invalid"));
      }
      return out;
    }
  }
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  std::string text = body.substr(0, 300);
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text.empty() ? "(empty body)" : text;
}

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& r) {
  if (auto h = r.header("retry-after"))
    if (auto d = parse_retry_after(*h)) return d;
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("retry_after") && j["retry_after"].is_number())
    return std::chrono::milliseconds(static_cast<long long>(j["retry_after"].get<double>() * 1000));
  return std::nullopt;
}

}  // namespace

Error wire_error(const HttpResponse& r, const std::string& what) {
  ErrorClass cls = ErrorClass::invalid_input;
  std::optional<std::chrono::milliseconds> wait;
  if (r.status == 401 || r.status == 403)
    cls = ErrorClass::unauthorized;
  else if (r.status == 402)
    cls = ErrorClass::quota_exceeded;
  else if (r.status == 429)
    cls = ErrorClass::rate_limited, wait = retry_after(r);
  else if (r.status == 408)
    cls = ErrorClass::timeout;
  else if (r.status >= 500)
    cls = ErrorClass::unavailable, wait = retry_after(r);
  return Error(cls, what + ": " + detail_text(r.body) + " (HTTP " + std::to_string(r.status) + ")",
               wait);
}

}  // namespace imagepipe::flux
