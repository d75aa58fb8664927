#include "imagepipe/retry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <random>
#include <string>

namespace imagepipe {

using std::chrono::milliseconds;

milliseconds backoff_delay(milliseconds base, milliseconds max, int attempt,
                           std::optional<milliseconds> retry_after) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int exponent = std::clamp(attempt - 1, 0, 30);
  double delay = static_cast<double>(base.count()) * std::pow(2.0, exponent);
  delay = std::min(delay, static_cast<double>(max.count()));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  auto result = milliseconds(static_cast<long long>(delay * jitter(rng)));
  if (retry_after) result = std::max(result, *retry_after);
  return result;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  const std::string copy(text);  // strptime wants a terminated string
  std::tm tm{};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: a date a server sends for the year 3000
  // would overflow it (undefined behaviour), so dates past 2200 are no dates.
  const std::time_t seconds = timegm(&tm);
  if (seconds == -1 || seconds > 7'258'118'400 || seconds < -7'258'118'400) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds);
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  double seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
    return milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
  }
  const auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  return std::max(std::chrono::duration_cast<milliseconds>(*at - now), milliseconds(0));
}

}  // namespace imagepipe
