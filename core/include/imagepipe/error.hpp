// Errors cross every plugin boundary as imagepipe::Error. The engine decides retries and
// fall-through from the class alone, never from message text.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace imagepipe {

enum class ErrorClass {
  invalid_input,
  unauthorized,
  billing_limit,
  quota_exceeded,
  rate_limited,
  content_policy,
  unavailable,
  timeout,
  not_found,
  internal,
};

std::string_view to_string(ErrorClass c);
std::optional<ErrorClass> error_class_from_string(std::string_view s);
// All class names, in declaration order (for docs and "did you mean").
const std::initializer_list<std::string_view>& error_class_names();

// Retrying may help: the engine retries these with backoff before falling through.
bool is_retryable(ErrorClass c);

class Error : public std::runtime_error {
 public:
  Error(ErrorClass cls, std::string message,
        std::optional<std::chrono::milliseconds> retry_after = std::nullopt)
      : std::runtime_error(std::move(message)), cls_(cls), retry_after_(retry_after) {}

  ErrorClass cls() const noexcept { return cls_; }
  // Set for rate_limited when the server said how long to wait.
  std::optional<std::chrono::milliseconds> retry_after() const noexcept { return retry_after_; }

 private:
  ErrorClass cls_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

}  // namespace imagepipe
