#include <cmath>
#include <random>

#include "jobs/jobs.hpp"
#include "imagepipe/retry.hpp"

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
  return backoff_delay(policy.base_delay, policy.max_delay, attempts, retry_after);
}

}  // namespace imagepipe
