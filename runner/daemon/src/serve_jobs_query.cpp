#include "serve_jobs_query.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"
#include "serve_trigger.hpp"

namespace imagepipe::serve {

namespace {

constexpr std::array<std::string_view, 6> kStatuses = {
    "queued", "running", "completed", "completed_with_errors", "failed", "cancelled"};
constexpr std::array<std::string_view, 6> kParameters = {"pipeline", "status", "since",
                                                         "until",    "limit",  "cursor"};

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

bool valid_job_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (id[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

std::optional<TimePoint> parse_utc_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (t.size() < 20 || t.back() != 'Z' || t[4] != '-' || t[7] != '-' ||
      (t[10] != 'T' && t[10] != 't') || t[13] != ':' || t[16] != ':')
    return std::nullopt;
  for (auto [at, n] : {std::pair{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}})
    if (!digits(t.substr(at, n))) return std::nullopt;
  std::tm tm{};
  tm.tm_year = number(t.substr(0, 4)) - 1900;
  tm.tm_mon = number(t.substr(5, 2)) - 1;
  tm.tm_mday = number(t.substr(8, 2));
  tm.tm_hour = number(t.substr(11, 2));
  tm.tm_min = number(t.substr(14, 2));
  tm.tm_sec = number(t.substr(17, 2));
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  std::chrono::milliseconds fraction{0};
  const auto rest = t.substr(19, t.size() - 20);
  if (!rest.empty()) {
    if (rest[0] != '.' || !digits(rest.substr(1))) return std::nullopt;
    auto ms = std::string(rest.substr(1, 3));
    ms.resize(3, '0');
    fraction = std::chrono::milliseconds(number(ms));
  }
  const auto seconds = ::timegm(&tm);
  if (seconds == -1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds) + fraction;
}

std::string encode_cursor(const JobCursor& c) {
  auto text = base64_encode(std::to_string(c.created_ms) + ":" + std::to_string(c.seq));
  // URL-safe and unpadded: it goes into a query string as it is.
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  text.erase(text.find_last_not_of('=') + 1);
  return text;
}

std::optional<JobCursor> decode_cursor(std::string_view text) {
  std::string raw;
  try {
    raw = base64_decode(text);
  } catch (const Error&) {
    return std::nullopt;
  }
  const auto colon = raw.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string_view ms = std::string_view(raw).substr(0, colon);
  const std::string_view seq = std::string_view(raw).substr(colon + 1);
  // 18 digits: far beyond any time or row count, and never an overflow.
  if (!digits(ms) || !digits(seq) || ms.size() > 18 || seq.size() > 18) return std::nullopt;
  JobCursor c;
  std::from_chars(ms.data(), ms.data() + ms.size(), c.created_ms);
  std::from_chars(seq.data(), seq.data() + seq.size(), c.seq);
  return c;
}

std::variant<JobQuery, std::string> read_job_query(const std::string& raw_query) {
  JobQuery query;
  query.limit = kDefaultJobsPage;
  const auto params = parse_query(raw_query);
  for (const auto& [name, value_json] : params.items()) {
    const std::string value = value_json.get<std::string>();
    if (std::find(kParameters.begin(), kParameters.end(), name) == kParameters.end())
      return "unknown query parameter '" + name.substr(0, 64) +
             "'; accepted: " + joined(kParameters);
    if (name == "pipeline") {
      query.pipeline = value;
    } else if (name == "status") {
      if (std::find(kStatuses.begin(), kStatuses.end(), value) == kStatuses.end())
        return "status: '" + value.substr(0, 64) + "' is not a job status; one of " +
               joined(kStatuses);
      query.status = value;
    } else if (name == "since" || name == "until") {
      const auto t = parse_utc_time(value);
      if (!t)
        return name + ": '" + value.substr(0, 64) +
               "' is not a time in UTC such as 2026-03-29T01:00:00Z";
      (name == "since" ? query.since : query.until) = t;
    } else if (name == "limit") {
      if (!digits(value) || value.size() > 4 || number(value) < 1 || number(value) > kMaxJobsPage)
        return "limit: '" + value.substr(0, 64) + "' is not a number from 1 to " +
               std::to_string(kMaxJobsPage);
      query.limit = number(value);
    } else if (name == "cursor") {
      query.after = decode_cursor(value);
      if (!query.after)
        return "cursor: '" + value.substr(0, 64) +
               "' is not a cursor this server gave out (use next_cursor from the previous page)";
    }
  }
  if (query.since && query.until && *query.until <= *query.since)
    return "until must be later than since";
  return query;
}

std::variant<ItemQuery, std::string> read_item_query(const std::string& raw_query) {
  ItemQuery query;
  const auto params = parse_query(raw_query);  // named: items() only refers to it
  for (const auto& [name, value_json] : params.items()) {
    const std::string value = value_json.get<std::string>();
    if (name == "after") {
      if (!digits(value) || value.size() > 18)
        return "after: '" + value.substr(0, 64) +
               "' is not an item index (use next_cursor from the previous page)";
      query.after = static_cast<std::size_t>(std::stoull(value));
    } else if (name == "limit") {
      if (!digits(value) || value.size() > 4 || number(value) < 1 || number(value) > kMaxItemsPage)
        return "limit: '" + value.substr(0, 64) + "' is not a number from 1 to " +
               std::to_string(kMaxItemsPage);
      query.limit = number(value);
    } else {
      return "unknown query parameter '" + name.substr(0, 64) + "'; accepted: after, limit";
    }
  }
  return query;
}

}  // namespace imagepipe::serve
