#include "imagepipe/error.hpp"

#include <array>

namespace imagepipe {

namespace {
constexpr std::array<std::string_view, 10> kNames = {
    "invalid_input", "unauthorized", "billing_limit", "quota_exceeded", "rate_limited",
    "content_policy", "unavailable", "timeout", "not_found", "internal"};
}

std::string_view to_string(ErrorClass c) { return kNames[static_cast<std::size_t>(c)]; }

std::optional<ErrorClass> error_class_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == s) return static_cast<ErrorClass>(i);
  return std::nullopt;
}

const std::initializer_list<std::string_view>& error_class_names() {
  static const std::initializer_list<std::string_view> names = {
      "invalid_input", "unauthorized", "billing_limit", "quota_exceeded", "rate_limited",
      "content_policy", "unavailable", "timeout", "not_found", "internal"};
  return names;
}

bool is_retryable(ErrorClass c) {
  return c == ErrorClass::rate_limited || c == ErrorClass::unavailable || c == ErrorClass::timeout;
}

}  // namespace imagepipe
