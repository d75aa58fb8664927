// Retrying, done the same way everywhere (the engine's provider chain, the daemon's
// callbacks, storage plugins): exponential backoff with "equal jitter", never sooner than
// the server asked, and the HTTP date and Retry-After forms servers send.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace imagepipe {

// base × 2^(attempt-1), capped at `max`, then scaled by a random factor in [0.5, 1): half
// fixed, half random, so retries of many items spread out instead of arriving together.
// At least `retry_after` when the server gave one.
std::chrono::milliseconds backoff_delay(std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, int attempt,
                                        std::optional<std::chrono::milliseconds> retry_after);

// An IMF-fixdate such as "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

// Retry-After (RFC 9110 §10.2.3): delay-seconds (fractions accepted, as some APIs send) or an
// HTTP date, as a delay from `now` (zero when the date has passed).
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace imagepipe
