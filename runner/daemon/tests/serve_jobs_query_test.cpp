// GET /jobs's query string: what is accepted, and each refusal naming its parameter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "imagepipe/http.hpp"
#include "serve_jobs_query.hpp"

namespace imagepipe::serve {
namespace {

std::string problem(const std::string& query) {
  auto r = read_job_query(query);
  return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : "";
}

TEST(JobsQuery, ReadsEveryParameter) {
  const JobCursor c{1774778400123, 4711};
  auto r = read_job_query(
      "pipeline=wxo-edit-b64&status=completed_with_errors&since=2026-03-29T01:00:00Z"
      "&until=2026-03-29T02:00:00.5Z&limit=7&cursor=" +
      encode_cursor(c));
  ASSERT_TRUE(std::holds_alternative<JobQuery>(r)) << std::get<std::string>(r);
  const auto& q = std::get<JobQuery>(r);
  EXPECT_EQ(q.pipeline, "wxo-edit-b64");
  EXPECT_EQ(q.status, "completed_with_errors");
  EXPECT_EQ(to_unix_ms(*q.since), 1774746000000);
  EXPECT_EQ(to_unix_ms(*q.until), 1774749600500);
  EXPECT_EQ(q.limit, 7);
  EXPECT_EQ(q.after->created_ms, c.created_ms);
  EXPECT_EQ(q.after->seq, c.seq);
  EXPECT_EQ(std::get<JobQuery>(read_job_query("")).limit, kDefaultJobsPage);
}

TEST(JobsQuery, CursorIsUrlSafeAndRoundTrips) {
  for (const JobCursor c : {JobCursor{1, 2}, JobCursor{1774778400123, 999999}}) {
    const auto text = encode_cursor(c);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << text;
    ASSERT_TRUE(decode_cursor(text)) << text;
    EXPECT_EQ(decode_cursor(text)->created_ms, c.created_ms);
    EXPECT_EQ(decode_cursor(text)->seq, c.seq);
  }
  EXPECT_FALSE(decode_cursor("abc"));
  EXPECT_FALSE(decode_cursor(base64_encode("12:x")));
  EXPECT_FALSE(decode_cursor(base64_encode("1234567890123456789:1")));  // 19 digits
  EXPECT_FALSE(decode_cursor("!!"));
}

TEST(JobsQuery, RefusalsNameTheParameter) {
  EXPECT_EQ(problem("status=done"),
            "status: 'done' is not a job status; one of queued, running, completed, "
            "completed_with_errors, failed, cancelled");
  EXPECT_EQ(problem("limit=501"), "limit: '501' is not a number from 1 to 500");
  EXPECT_EQ(problem("limit=-1"), "limit: '-1' is not a number from 1 to 500");
  EXPECT_EQ(problem("until=2026-03-29T01:00:00%2B02:00"),
            "until: '2026-03-29T01:00:00+02:00' is not a time in UTC such as "
            "2026-03-29T01:00:00Z");
  EXPECT_EQ(problem("since=2026-13-29T01:00:00Z"),
            "since: '2026-13-29T01:00:00Z' is not a time in UTC such as 2026-03-29T01:00:00Z");
  EXPECT_EQ(problem("cursor="),
            "cursor: '' is not a cursor this server gave out (use next_cursor from the previous "
            "page)");
  EXPECT_THAT(problem("page=2"), ::testing::StartsWith("unknown query parameter 'page'"));
}

TEST(JobsQuery, JobIdsAreUuids) {
  EXPECT_TRUE(valid_job_id("0b6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9b"));
  EXPECT_FALSE(valid_job_id("0b6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9"));
  EXPECT_FALSE(valid_job_id("0b6c3a4e08f1d-4c2a-9e7b-5d3f2a1c0e9b"));
  EXPECT_FALSE(valid_job_id("zb6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9b"));
}

}  // namespace
}  // namespace imagepipe::serve
