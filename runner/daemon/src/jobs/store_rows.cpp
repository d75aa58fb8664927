// The rows behind the callback outbox and GET /jobs/{id}, on the store's connection.
#include "jobs/store_rows.hpp"

namespace imagepipe::jobs {

using nlohmann::json;

json request_to_json(const JobRequest& r) {
  json headers = json::object();
  for (const auto& [k, v] : r.headers) headers[k] = v;
  json j = {{"body", r.body}, {"headers", headers}, {"query", r.query}};
  if (!r.path.empty()) j["path"] = r.path;  // rows of routes without parameters unchanged
  return j;
}

JobRequest request_from_json(const json& j) {
  JobRequest r;
  r.body = j.value("body", json::object());
  const json headers = j.value("headers", json::object());
  for (const auto& [k, v] : headers.items()) r.headers[k] = v.get<std::string>();
  r.query = j.value("query", json::object());
  r.path = j.value("path", json::object());
  return r;
}

namespace {

// Which outputs were inline, and where their bytes are, is recorded in the stored result.
// The job holds its results segment until it is removed, which waits for its callback.
std::vector<InlineOutput> inline_outputs(const JobResult& result, const json& stored,
                                         std::uint64_t segment) {
  std::vector<InlineOutput> found;
  const auto items = stored.value("items", json::array());
  for (std::size_t i = 0; i < result.items.size() && i < items.size(); ++i) {
    const auto outputs = items[i].value("outputs", json::array());
    for (std::size_t n = 0; n < result.items[i].outputs.size() && n < outputs.size(); ++n) {
      const auto blob = outputs[n].find("blob");
      if (blob == outputs[n].end()) continue;
      found.push_back(
          {i, n,
           BlobRef{segment, blob->at(0).get<std::uint64_t>(), blob->at(1).get<std::uint64_t>()}});
    }
  }
  return found;
}

}  // namespace

std::optional<JobRecord> select_job_record(Database& db, const std::string& id) {
  auto q = db.prepare(
      "SELECT pipeline, status, created_at, started_at, finished_at, runs, result, request_id "
      "FROM jobs "
      "WHERE id=?");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  JobRecord record;
  record.id = id;
  record.pipeline = q.text(0);
  record.status = q.text(1);
  record.created_at = from_unix_ms(q.integer(2));
  if (!q.is_null(3)) record.started_at = from_unix_ms(q.integer(3));
  if (!q.is_null(4)) record.finished_at = from_unix_ms(q.integer(4));
  record.runs = static_cast<int>(q.integer(5));
  if (!q.is_null(6)) record.result = job_result_from_json(json::parse(q.text(6)));
  record.request_id = q.text(7);

  auto c = db.prepare("SELECT status, attempts, created_at, next_at FROM callbacks WHERE job_id=?");
  c.bind(1, id);
  if (c.step()) {
    CallbackState state;
    state.status = c.text(0);
    state.attempts = static_cast<int>(c.integer(1));
    state.created_at = from_unix_ms(c.integer(2));
    state.next_at = from_unix_ms(c.integer(3));
    auto a = db.prepare(
        "SELECT attempt, at, outcome, error, error_class, next_at FROM callback_attempts WHERE "
        "job_id=? "
        "ORDER BY attempt");
    a.bind(1, id);
    while (a.step()) {
      CallbackAttempt attempt;
      attempt.attempt = static_cast<int>(a.integer(0));
      attempt.at = from_unix_ms(a.integer(1));
      attempt.outcome = a.text(2);
      attempt.error = a.text(3);
      attempt.error_class = a.text(4);
      if (!a.is_null(5)) attempt.next_at = from_unix_ms(a.integer(5));
      state.history.push_back(std::move(attempt));
    }
    record.callback = std::move(state);
  }
  return record;
}

std::optional<BlobRef> select_inline_output(Database& db, const std::string& id, std::size_t item,
                                            std::size_t output) {
  auto q = db.prepare("SELECT result, result_segment FROM jobs WHERE id=?");
  q.bind(1, id);
  if (!q.step() || q.is_null(0) || q.is_null(1)) return std::nullopt;
  const auto stored = json::parse(q.text(0));
  const auto segment = static_cast<std::uint64_t>(q.integer(1));
  const auto items = stored.value("items", json::array());
  if (item >= items.size()) return std::nullopt;
  const auto outputs = items[item].value("outputs", json::array());
  if (output >= outputs.size()) return std::nullopt;
  const auto blob = outputs[output].find("blob");
  if (blob == outputs[output].end()) return std::nullopt;
  return BlobRef{segment, blob->at(0).get<std::uint64_t>(), blob->at(1).get<std::uint64_t>()};
}

std::vector<DueRow> lease_due_callbacks(Database& db, TimePoint now, int limit,
                                        std::chrono::milliseconds lease_for) {
  const auto at = to_unix_ms(now);
  auto q = db.prepare(
      "SELECT c.job_id, c.attempts, c.created_at, j.pipeline, j.result, j.request, "
      "j.result_segment FROM callbacks c JOIN jobs j ON j.id = c.job_id WHERE c.status='pending' "
      "AND c.next_at <= ? "
      "AND (c.leased_until IS NULL OR c.leased_until <= ?) ORDER BY c.next_at LIMIT ?");
  q.bind(1, at).bind(2, at).bind(3, std::int64_t{limit});
  std::vector<DueRow> due;
  while (q.step()) {
    DueRow entry;
    auto& d = entry.callback;
    d.job_id = q.text(0);
    d.attempts = static_cast<int>(q.integer(1));
    d.created_at = from_unix_ms(q.integer(2));
    d.pipeline = q.text(3);
    const auto stored = json::parse(q.text(4));
    d.result = job_result_from_json(stored);
    d.request = request_from_json(json::parse(q.text(5)));
    if (!q.is_null(6))
      entry.inline_outputs =
          inline_outputs(d.result, stored, static_cast<std::uint64_t>(q.integer(6)));
    due.push_back(std::move(entry));
  }
  q.reset();  // ends the read before the write
  if (due.empty()) return due;
  Transaction tx(db);
  auto lease = db.prepare("UPDATE callbacks SET leased_until=? WHERE job_id=?");
  for (const auto& d : due) lease.bind(1, at + lease_for.count()).bind(2, d.callback.job_id).run();
  tx.commit();
  return due;
}

void record_callback_attempt(Database& db, const std::string& job_id,
                             const CallbackAttempt& attempt) {
  const std::string status = attempt.outcome == "retry" ? "pending" : attempt.outcome;
  Transaction tx(db);
  db.prepare(
        "INSERT OR REPLACE INTO callback_attempts(job_id, attempt, at, outcome, error, "
        "error_class, next_at) "
        "VALUES(?, ?, ?, ?, ?, ?, ?)")
      .bind(1, job_id)
      .bind(2, std::int64_t{attempt.attempt})
      .bind(3, to_unix_ms(attempt.at))
      .bind(4, attempt.outcome)
      .bind(5, attempt.error)
      .bind(6, attempt.error_class)
      .bind(7, attempt.next_at ? std::optional(to_unix_ms(*attempt.next_at)) : std::nullopt)
      .run();
  db.prepare(
        "UPDATE callbacks SET status=?, attempts=?, next_at=?, leased_until=NULL WHERE job_id=?")
      .bind(1, status)
      .bind(2, std::int64_t{attempt.attempt})
      .bind(3, attempt.next_at ? to_unix_ms(*attempt.next_at) : to_unix_ms(attempt.at))
      .bind(4, job_id)
      .run();
  tx.commit();
}

std::optional<TimePoint> next_callback_time(Database& db) {
  auto q = db.prepare(
      "SELECT min(max(next_at, coalesce(leased_until, 0))) FROM callbacks WHERE "
      "status='pending'");
  if (!q.step() || q.is_null(0)) return std::nullopt;
  return from_unix_ms(q.integer(0));
}

}  // namespace imagepipe::jobs
