// GET /jobs's query string read into a JobQuery, and its paging cursor. Every problem is
// named with the parameter and what it accepts, for a 400.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "jobs/jobs.hpp"

namespace imagepipe::serve {

constexpr int kDefaultJobsPage = 50;
constexpr int kMaxJobsPage = 500;

// pipeline, status, since, until (RFC 3339 in UTC, e.g. 2026-03-29T01:00:00Z), limit
// (1..500), cursor (a next_cursor from an earlier page). The query or the problem.
std::variant<JobQuery, std::string> read_job_query(const std::string& raw_query);

// Opaque to clients: the last job of a page, base64url. A cursor stays valid while jobs
// are added: the next page continues from that job, newer ones come in a fresh listing.
std::string encode_cursor(const JobCursor& cursor);
std::optional<JobCursor> decode_cursor(std::string_view text);

// "2026-03-29T01:00:00Z", with optional fractional seconds; UTC only (a Z), so a
// timestamp means one instant wherever the client is.
std::optional<TimePoint> parse_utc_time(std::string_view text);

// GET /jobs/{id}/items: after (the index of the last item already seen: a previous page's
// next_cursor, or GET /jobs/{id}'s items_next), limit (1..1000, default 100).
constexpr int kDefaultItemsPage = 100;
constexpr int kMaxItemsPage = 1000;
struct ItemQuery {
  std::optional<std::size_t> after;
  int limit = kDefaultItemsPage;
};
std::variant<ItemQuery, std::string> read_item_query(const std::string& raw_query);

// A job id as the daemon makes them: a UUID, lower-case hex.
bool valid_job_id(std::string_view id);

}  // namespace imagepipe::serve
