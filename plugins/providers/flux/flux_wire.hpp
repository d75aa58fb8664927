// Black Forest Labs' wire format: the submit body, poll statuses and error bodies mapped
// onto imagepipe's error classes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe::flux {

// Option keys (also accepted as per-item `params` overrides where noted in the schema).
inline constexpr const char* kBaseUrl = "base_url";
inline constexpr const char* kApiKey = "api_key";
inline constexpr const char* kModel = "model";
inline constexpr const char* kOperation = "operation";
inline constexpr const char* kSeed = "seed";
inline constexpr const char* kWidth = "width";
inline constexpr const char* kHeight = "height";
inline constexpr const char* kAspectRatio = "aspect_ratio";
inline constexpr const char* kSteps = "steps";
inline constexpr const char* kGuidance = "guidance";
inline constexpr const char* kSafetyTolerance = "safety_tolerance";
inline constexpr const char* kOutputFormat = "output_format";
inline constexpr const char* kPromptUpsampling = "prompt_upsampling";
inline constexpr const char* kRaw = "raw";
inline constexpr const char* kPollInterval = "poll_interval";
inline constexpr const char* kPollMaxInterval = "poll_max_interval";
inline constexpr const char* kDeadline = "deadline";
inline constexpr const char* kTimeout = "timeout";

// The body fields an item may set through `params` (plus size: "WxH").
const std::vector<const char*>& body_keys();

// Models that take input_image (editing): Kontext and FLUX.2.
bool takes_input_image(const std::string& model);

// The submit body from options and overrides; `input_image` is plain base64 or empty.
nlohmann::json submit_body(const std::string& prompt, const nlohmann::json& options,
                           const nlohmann::json& overrides, const std::string& input_image);

enum class PollState { pending, ready, moderated, failed, not_found, unknown };
PollState poll_state(const std::string& status);

// The error for a non-2xx answer of submit or poll: 401/403 unauthorized, 402
// quota_exceeded (out of credits), 429 rate_limited with Retry-After, 5xx unavailable,
// 400/404/422 invalid_input. The message quotes BFL's `detail`.
Error wire_error(const HttpResponse& response, const std::string& what);

}  // namespace imagepipe::flux
