#include <cmath>
#include <random>

#include "imagepipe/jobs.hpp"

namespace imagepipe {

bool callback_retryable(ErrorClass c) {
  // invalid_input covers 4xx answers and URLs the egress policy refuses: sending the same
  // request again cannot change them. internal is a bug here, but a retry costs little.
  switch (c) {
    case ErrorClass::unavailable:
    case ErrorClass::timeout:
    case ErrorClass::rate_limited:
    case ErrorClass::internal:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds callback_backoff(const CallbackPolicy& policy, int attempts,
                                           std::optional<std::chrono::milliseconds> retry_after) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int exponent = std::clamp(attempts - 1, 0, 30);
  double base = static_cast<double>(policy.base_delay.count()) * std::pow(2.0, exponent);
  base = std::min(base, static_cast<double>(policy.max_delay.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  auto delay = std::chrono::milliseconds(static_cast<long long>(base * jitter(rng)));
  if (retry_after) delay = std::max(delay, *retry_after);
  return delay;
}

}  // namespace imagepipe
