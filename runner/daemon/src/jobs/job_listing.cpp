#include "jobs/job_listing.hpp"

#include <variant>
#include <vector>

namespace imagepipe::jobs {

const char* const kListingIndexes = R"sql(
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at);
CREATE INDEX IF NOT EXISTS jobs_by_pipeline_created ON jobs(pipeline, created_at);
)sql";

JobPage select_job_page(Database& db, const JobQuery& query) {
  std::string sql =
      "SELECT id, pipeline, status, created_at, started_at, finished_at, runs, request_id, "
      "rowid "
      "FROM jobs WHERE 1";
  std::vector<std::variant<std::string, std::int64_t>> values;  // in the order of the ?s
  if (!query.pipeline.empty()) {
    sql += " AND pipeline = ?";
    values.emplace_back(query.pipeline);
  }
  if (!query.status.empty()) {
    sql += " AND status = ?";
    values.emplace_back(query.status);
  }
  if (query.since) {
    sql += " AND created_at >= ?";
    values.emplace_back(to_unix_ms(*query.since));
  }
  if (query.until) {
    sql += " AND created_at < ?";
    values.emplace_back(to_unix_ms(*query.until));
  }
  if (query.after) {
    // A row value: one range on the index (…, created_at, rowid) rather than an OR.
    sql += " AND (created_at, rowid) < (?, ?)";
    values.emplace_back(query.after->created_ms);
    values.emplace_back(query.after->seq);
  }
  sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?";
  values.emplace_back(std::int64_t{query.limit} + 1);  // one more: is there a next page?

  auto q = db.prepare(sql);
  for (std::size_t i = 0; i < values.size(); ++i)
    std::visit([&](const auto& v) { q.bind(static_cast<int>(i + 1), v); }, values[i]);
  JobPage page;
  while (q.step()) {
    if (static_cast<int>(page.jobs.size()) == query.limit) {
      const auto& last = page.jobs.back();
      page.next = JobCursor{to_unix_ms(last.created_at), last.seq};
      break;
    }
    JobListEntry e;
    e.id = q.text(0);
    e.pipeline = q.text(1);
    e.status = q.text(2);
    e.created_at = from_unix_ms(q.integer(3));
    if (!q.is_null(4)) e.started_at = from_unix_ms(q.integer(4));
    if (!q.is_null(5)) e.finished_at = from_unix_ms(q.integer(5));
    e.runs = static_cast<int>(q.integer(6));
    e.request_id = q.text(7);
    e.seq = q.integer(8);
    page.jobs.push_back(std::move(e));
  }
  return page;
}

std::string cancel_queued_job(Database& db, const std::string& id, std::int64_t now_ms,
                              std::optional<std::uint64_t>& input_segment) {
  auto before = db.prepare("SELECT status, input_segment FROM jobs WHERE id=?");
  before.bind(1, id);
  if (!before.step()) return {};
  const std::string status = before.text(0);
  if (status == "queued" && !before.is_null(1))
    input_segment = static_cast<std::uint64_t>(before.integer(1));
  before.reset();
  if (status != "queued") return status;
  db.prepare("UPDATE jobs SET status='cancelled', finished_at=? WHERE id=? AND status='queued'")
      .bind(1, now_ms)
      .bind(2, id)
      .run();
  return status;
}

RetryOutcome queue_callback_again(Database& db, const std::string& id, std::int64_t now_ms) {
  auto job = db.prepare("SELECT status FROM jobs WHERE id=?");
  job.bind(1, id);
  if (!job.step()) return RetryOutcome::not_found;
  const std::string status = job.text(0);
  job.reset();
  if (status == "queued" || status == "running") return RetryOutcome::unfinished;
  if (status == "cancelled") return RetryOutcome::cancelled;
  // Due now and counted from now (callbacks.max_age_seconds), the attempts made so far
  // kept: the history shows the earlier attempts and the new ones after them.
  db.prepare(
        "UPDATE callbacks SET status='pending', next_at=?, created_at=?, leased_until=NULL "
        "WHERE job_id=?")
      .bind(1, now_ms)
      .bind(2, now_ms)
      .bind(3, id)
      .run();
  return db.changes() ? RetryOutcome::queued : RetryOutcome::no_callback;
}

}  // namespace imagepipe::jobs
