// The embedded job store: SQLite in WAL mode, one connection owned by one thread. Jobs
// added while a commit is under way join the next one (group commit), so durability
// costs one commit per batch rather than one per request.
#include <boost/asio/redirect_error.hpp>

#include "imagepipe/http.hpp"
#include "imagepipe/jobs.hpp"
#include "imagepipe/threads.hpp"
#include "jobs/segment_log.hpp"
#include "jobs/sqlite_db.hpp"

namespace imagepipe {

namespace {

using jobs::BlobRef;
using jobs::Database;
using jobs::SegmentLog;
using jobs::Statement;
using jobs::Transaction;
using nlohmann::json;

constexpr const char* kSchemaVersion = "imagepipe-jobs-2";
// A callback handed out for delivery is not handed out again for this long, unless the
// process restarts (then every lease is void).
constexpr std::chrono::minutes kDeliveryLease{5};

constexpr const char* kMeta =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)";
// inputs: [{"field", "offset", "length"}] in segment input_segment of inputs/, held while
// the job is queued or running. Inline results are in segment result_segment of
// results/ (offset and length in the stored result), held until the job is removed.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  status TEXT NOT NULL,
  request TEXT NOT NULL,
  inputs TEXT NOT NULL,
  input_segment INTEGER,
  notify INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  runs INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  result_segment INTEGER);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_result_segment ON jobs(result_segment)
  WHERE result_segment IS NOT NULL;
CREATE TABLE IF NOT EXISTS callbacks(
  job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  next_at INTEGER NOT NULL,
  leased_until INTEGER);
CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks(status, next_at);
CREATE TABLE IF NOT EXISTS callback_attempts(
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT NOT NULL,
  error_class TEXT NOT NULL,
  next_at INTEGER,
  PRIMARY KEY(job_id, attempt));
)sql";

std::int64_t now_ms() { return to_unix_ms(std::chrono::system_clock::now()); }

json request_to_json(const JobRequest& r) {
  json headers = json::object();
  for (const auto& [k, v] : r.headers) headers[k] = v;
  return {{"body", r.body}, {"headers", headers}, {"query", r.query}};
}

JobRequest request_from_json(const json& j) {
  JobRequest r;
  r.body = j.value("body", json::object());
  const json headers = j.value("headers", json::object());
  for (const auto& [k, v] : headers.items()) r.headers[k] = v.get<std::string>();
  r.query = j.value("query", json::object());
  return r;
}

class SqliteJobStore final : public JobStore {
 public:
  explicit SqliteJobStore(SqliteStoreOptions options)
      : options_(std::move(options)),
        db_(prepare_directory(options_.directory) / "jobs.db"),
        inputs_(options_.directory / "inputs", options_.durability == Durability::power,
                options_.segment_bytes),
        results_(options_.directory / "results", options_.durability == Durability::power,
                 options_.segment_bytes) {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec(options_.durability == Durability::power ? "PRAGMA synchronous=FULL"
                                                      : "PRAGMA synchronous=NORMAL");
    db_.exec("PRAGMA foreign_keys=ON");
    db_.exec(kMeta);
    check_schema_version();
    db_.exec(kSchema);
    count_segment_holds();
    on_each_pool_thread(thread_, 1, [] { name_this_thread("imagepipe-store"); });
  }

  ~SqliteJobStore() override { thread_.join(); }

  Task<void> add(NewJob job) override {
    co_await asio::co_spawn(thread_.get_executor(), join_batch(std::move(job)),
                            asio::use_awaitable);
  }

  Task<std::optional<ClaimedJob>> claim_next() override {
    co_return co_await on_db([this] { return claim_next_now(); });
  }

  Task<void> finish(JobResult result) override {
    co_await on_db([this, &result] { finish_now(result); });
  }

  Task<int> requeue_running() override {
    co_return co_await on_db([this] {
      Transaction tx(db_);
      db_.exec("UPDATE jobs SET status='queued' WHERE status='running'");
      const int n = db_.changes();
      db_.exec("UPDATE callbacks SET leased_until=NULL WHERE leased_until IS NOT NULL");
      tx.commit();
      return n;
    });
  }

  Task<std::optional<JobRecord>> get(std::string id) override {
    co_return co_await on_db([this, &id] { return get_now(id); });
  }

  Task<std::vector<DueCallback>> due_callbacks(TimePoint now, int limit) override {
    co_return co_await on_db([this, now, limit] { return due_now(now, limit); });
  }

  Task<std::optional<TimePoint>> next_callback_at() override {
    co_return co_await on_db([this]() -> std::optional<TimePoint> {
      auto q = db_.prepare(
          "SELECT min(max(next_at, coalesce(leased_until, 0))) FROM callbacks WHERE "
          "status='pending'");
      if (!q.step() || q.is_null(0)) return std::nullopt;
      return from_unix_ms(q.integer(0));
    });
  }

  Task<void> record_attempt(std::string job_id, CallbackAttempt attempt) override {
    co_await on_db([this, &job_id, &attempt] { record_attempt_now(job_id, attempt); });
  }

  Task<int> remove_finished_before(TimePoint cutoff) override {
    co_return co_await on_db([this, cutoff] { return remove_now(cutoff); });
  }

  Task<JobCounts> counts() override {
    co_return co_await on_db([this] {
      JobCounts counts;
      auto q = db_.prepare("SELECT pipeline, status, count(*) FROM jobs GROUP BY pipeline, status");
      while (q.step()) {
        const auto n = q.integer(2);
        const auto status = q.text(1);
        counts.by_pipeline_status[{q.text(0), status}] = n;
        if (status == "queued") counts.queued += n;
        if (status == "running") counts.running += n;
      }
      auto c = db_.prepare("SELECT count(*) FROM callbacks WHERE status='pending'");
      if (c.step()) counts.callbacks_pending = c.integer(0);
      return counts;
    });
  }

  Task<void> ping() override {
    co_await on_db([this] {
      auto q = db_.prepare("SELECT count(*) FROM meta");
      q.step();
    });
  }

 private:
  struct Batch {
    explicit Batch(asio::any_io_executor ex)
        : done(ex, std::chrono::steady_clock::time_point::max()) {}
    std::vector<NewJob> jobs;
    asio::steady_timer done;  // cancelled once the batch is committed (or failed)
    std::exception_ptr error;
  };

  static const std::filesystem::path& prepare_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw Error(ErrorClass::unavailable,
                  "job store: cannot create " + dir.string() + ": " + ec.message());
    return dir;
  }

  void check_schema_version() {
    db_.exec(std::string("INSERT OR IGNORE INTO meta VALUES('schema', '") + kSchemaVersion + "')");
    auto q = db_.prepare("SELECT value FROM meta WHERE key='schema'");
    if (q.step() && q.text(0) != kSchemaVersion)
      throw Error(ErrorClass::unavailable,
                  "job store " + (options_.directory / "jobs.db").string() + " has schema '" +
                      q.text(0) + "', this build reads '" + kSchemaVersion +
                      "': let the build that wrote it finish its jobs, or start with another "
                      "data directory");
  }

  // Which segments the stored jobs hold; then the rest can go.
  void count_segment_holds() {
    auto in = db_.prepare(
        "SELECT input_segment, count(*) FROM jobs WHERE status IN ('queued', 'running') AND "
        "input_segment IS NOT NULL GROUP BY input_segment");
    while (in.step()) inputs_.hold(static_cast<std::uint64_t>(in.integer(0)), in.integer(1));
    auto out = db_.prepare(
        "SELECT result_segment, count(*) FROM jobs WHERE result_segment IS NOT NULL GROUP BY "
        "result_segment");
    while (out.step()) results_.hold(static_cast<std::uint64_t>(out.integer(0)), out.integer(1));
    inputs_.remove_unheld();
    results_.remove_unheld();
  }

  // Runs f() on the store's thread and resumes the caller on its own executor. Callers
  // pass lambdas that capture only pointers, references and plain values: g++ 12 may
  // destroy a coroutine's by-value lambda parameter twice, harmless only when trivial.
  template <class F>
  Task<std::invoke_result_t<F>> on_db(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await asio::co_spawn(
        thread_.get_executor(), [f = std::move(f)]() mutable -> Task<R> { co_return f(); },
        asio::use_awaitable);
  }

  // On the store's thread: joins the open batch (or opens one and schedules its commit
  // after the requests already queued), then waits for the commit.
  Task<void> join_batch(NewJob job) {
    auto batch = open_batch_;
    if (!batch) {
      batch = open_batch_ = std::make_shared<Batch>(thread_.get_executor());
      asio::post(thread_.get_executor(), [this] { commit_batch(); });
    }
    batch->jobs.push_back(std::move(job));
    boost::system::error_code ignored;
    co_await batch->done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (batch->error) std::rethrow_exception(batch->error);
  }

  void commit_batch() {
    auto batch = std::move(open_batch_);
    open_batch_.reset();
    try {
      const auto now = now_ms();
      // The whole batch's images in one append: one write per image, one sync at most.
      std::vector<std::string_view> blobs;
      for (const auto& job : batch->jobs)
        for (const auto& input : job.inputs) blobs.push_back(*input.bytes);
      const auto refs = inputs_.append(blobs);
      std::optional<std::uint64_t> segment;
      if (!refs.empty()) segment = refs.front().segment;
      Transaction tx(db_);
      auto insert = db_.prepare(
          "INSERT INTO jobs(id, pipeline, status, request, inputs, input_segment, notify, "
          "request_id, created_at) VALUES(?, ?, 'queued', ?, ?, ?, ?, ?, ?)");
      std::size_t next_ref = 0;
      std::int64_t holding = 0;
      for (const auto& job : batch->jobs) {
        json inputs = json::array();
        for (const auto& input : job.inputs) {
          const auto& ref = refs[next_ref++];
          inputs.push_back(
              {{"field", input.field}, {"offset", ref.offset}, {"length", ref.length}});
        }
        auto rid = job.request.headers.find("x-request-id");
        insert.bind(1, job.id)
            .bind(2, job.pipeline)
            .bind(3, request_to_json(job.request).dump())
            .bind(4, inputs.dump())
            .bind(5, job.inputs.empty() ? std::nullopt : to_int(segment))
            .bind(6, std::int64_t{job.notify})
            .bind(7, rid == job.request.headers.end() ? std::string() : rid->second)
            .bind(8, now)
            .run();
        if (!job.inputs.empty()) ++holding;
      }
      tx.commit();
      if (holding) inputs_.hold(*segment, holding);
    } catch (...) {
      // Bytes already appended stay unreferenced; the segment goes when its jobs are done.
      batch->error = std::current_exception();
    }
    batch->done.cancel();
  }

  static std::optional<std::uint64_t> segment_at(const Statement& row, int column) {
    if (row.is_null(column)) return std::nullopt;
    return static_cast<std::uint64_t>(row.integer(column));
  }

  static std::optional<std::int64_t> to_int(std::optional<std::uint64_t> n) {
    if (!n) return std::nullopt;
    return static_cast<std::int64_t>(*n);
  }

  std::optional<ClaimedJob> claim_next_now() {
    auto q = db_.prepare(
        "SELECT id, pipeline, request, inputs, runs, created_at, input_segment FROM jobs WHERE "
        "status='queued' ORDER BY created_at, rowid LIMIT 1");
    if (!q.step()) return std::nullopt;
    ClaimedJob job;
    job.id = q.text(0);
    job.pipeline = q.text(1);
    job.request = request_from_json(json::parse(q.text(2)));
    job.runs = static_cast<int>(q.integer(4)) + 1;
    job.created_at = from_unix_ms(q.integer(5));
    try {
      for (const auto& input : json::parse(q.text(3))) {
        const BlobRef ref{static_cast<std::uint64_t>(q.integer(6)),
                          input.at("offset").get<std::uint64_t>(),
                          input.at("length").get<std::uint64_t>()};
        job.request.files[input.at("field").get<std::string>()] =
            std::make_shared<const std::string>(inputs_.read(ref));
      }
    } catch (const Error& e) {
      if (e.cls() != ErrorClass::not_found) throw;  // a disk error: try again later
      job.request.files.clear();
      job.unreadable = e.what();
    }
    db_.prepare("UPDATE jobs SET status='running', runs=runs+1, started_at=? WHERE id=?")
        .bind(1, now_ms())
        .bind(2, job.id)
        .run();
    return job;
  }

  void finish_now(const JobResult& result) {
    auto before = db_.prepare("SELECT status, input_segment, result_segment FROM jobs WHERE id=?");
    before.bind(1, result.id);
    if (!before.step()) return;  // removed meanwhile: nothing to record
    const bool was_unfinished = before.text(0) == "queued" || before.text(0) == "running";
    const auto input_segment = segment_at(before, 1);
    const auto replaced = segment_at(before, 2);  // a job finished twice (run again)
    before.reset();

    // Inline outputs go to one results segment; where each went is kept in the result.
    json stored = job_result_to_json(result);
    std::vector<std::string_view> blobs;
    for (const auto& item : result.items)
      for (const auto& output : item.outputs)
        if (output.data) blobs.push_back(*output.data);
    const auto refs = results_.append(blobs);
    std::size_t next_ref = 0;
    for (std::size_t i = 0; i < result.items.size(); ++i)
      for (std::size_t n = 0; n < result.items[i].outputs.size(); ++n)
        if (result.items[i].outputs[n].data) {
          const auto& ref = refs[next_ref++];
          stored["items"][i]["outputs"][n]["blob"] = {ref.offset, ref.length};
        }
    std::optional<std::uint64_t> result_segment;
    if (!refs.empty()) result_segment = refs.front().segment;

    const auto now = now_ms();
    Transaction tx(db_);
    db_.prepare("UPDATE jobs SET status=?, finished_at=?, result=?, result_segment=? WHERE id=?")
        .bind(1, result.status)
        .bind(2, now)
        .bind(3, stored.dump())
        .bind(4, to_int(result_segment))
        .bind(5, result.id)
        .run();
    db_.prepare(
           "INSERT OR IGNORE INTO callbacks(job_id, status, attempts, created_at, next_at) "
           "SELECT id, 'pending', 0, ?, ? FROM jobs WHERE id=? AND notify=1")
        .bind(1, now)
        .bind(2, now)
        .bind(3, result.id)
        .run();
    tx.commit();
    if (result_segment) results_.hold(*result_segment);
    if (replaced) results_.release(*replaced);
    // Inputs are not needed once a job has finished.
    if (was_unfinished && input_segment) inputs_.release(*input_segment);
  }

  std::optional<JobRecord> get_now(const std::string& id) {
    auto q = db_.prepare(
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

    auto c =
        db_.prepare("SELECT status, attempts, created_at, next_at FROM callbacks WHERE job_id=?");
    c.bind(1, id);
    if (c.step()) {
      CallbackState state;
      state.status = c.text(0);
      state.attempts = static_cast<int>(c.integer(1));
      state.created_at = from_unix_ms(c.integer(2));
      state.next_at = from_unix_ms(c.integer(3));
      auto a = db_.prepare(
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

  std::vector<DueCallback> due_now(TimePoint now, int limit) {
    const auto at = to_unix_ms(now);
    auto q = db_.prepare(
        "SELECT c.job_id, c.attempts, c.created_at, j.pipeline, j.result, j.request, "
        "j.result_segment FROM callbacks c JOIN jobs j ON j.id = c.job_id WHERE c.status='pending' "
        "AND c.next_at <= ? "
        "AND (c.leased_until IS NULL OR c.leased_until <= ?) ORDER BY c.next_at LIMIT ?");
    q.bind(1, at).bind(2, at).bind(3, std::int64_t{limit});
    std::vector<DueCallback> due;
    auto lease = db_.prepare("UPDATE callbacks SET leased_until=? WHERE job_id=?");
    while (q.step()) {
      DueCallback d;
      d.job_id = q.text(0);
      d.attempts = static_cast<int>(q.integer(1));
      d.created_at = from_unix_ms(q.integer(2));
      d.pipeline = q.text(3);
      const auto stored = json::parse(q.text(4));
      d.result = job_result_from_json(stored);
      d.request = request_from_json(json::parse(q.text(5)));
      if (!q.is_null(6)) load_inline_outputs(d, stored, static_cast<std::uint64_t>(q.integer(6)));
      due.push_back(std::move(d));
    }
    for (const auto& d : due)
      lease.bind(1, at + std::chrono::milliseconds(kDeliveryLease).count()).bind(2, d.job_id).run();
    return due;
  }

  // Which outputs were inline, and where their bytes are, is recorded in the stored result.
  void load_inline_outputs(DueCallback& d, const json& stored, std::uint64_t segment) {
    const auto items = stored.value("items", json::array());
    for (std::size_t i = 0; i < d.result.items.size() && i < items.size(); ++i) {
      auto& item = d.result.items[i];
      const auto outputs = items[i].value("outputs", json::array());
      for (std::size_t n = 0; n < item.outputs.size() && n < outputs.size(); ++n) {
        const auto blob = outputs[n].find("blob");
        if (blob == outputs[n].end()) continue;
        const BlobRef ref{segment, blob->at(0).get<std::uint64_t>(),
                          blob->at(1).get<std::uint64_t>()};
        item.outputs[n].data = std::make_shared<const std::string>(results_.read(ref));
      }
    }
  }

  void record_attempt_now(const std::string& job_id, const CallbackAttempt& attempt) {
    const std::string status = attempt.outcome == "retry" ? "pending" : attempt.outcome;
    Transaction tx(db_);
    db_.prepare(
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
    db_.prepare(
           "UPDATE callbacks SET status=?, attempts=?, next_at=?, leased_until=NULL WHERE job_id=?")
        .bind(1, status)
        .bind(2, std::int64_t{attempt.attempt})
        .bind(3, attempt.next_at ? to_unix_ms(*attempt.next_at) : to_unix_ms(attempt.at))
        .bind(4, job_id)
        .run();
    tx.commit();
  }

  int remove_now(TimePoint cutoff) {
    auto q = db_.prepare(
        "SELECT id, result_segment FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.job_id = jobs.id AND "
        "c.status='pending') LIMIT 1000");
    q.bind(1, to_unix_ms(cutoff));
    std::vector<std::string> ids;
    std::map<std::uint64_t, std::int64_t> released;
    while (q.step()) {
      ids.push_back(q.text(0));
      if (!q.is_null(1)) ++released[static_cast<std::uint64_t>(q.integer(1))];
    }
    if (ids.empty()) return 0;
    {
      Transaction tx(db_);
      auto del = db_.prepare("DELETE FROM jobs WHERE id=?");
      for (const auto& id : ids) del.bind(1, id).run();
      tx.commit();
    }
    for (const auto& [segment, jobs] : released) results_.release(segment, jobs);
    return static_cast<int>(ids.size());
  }

  SqliteStoreOptions options_;
  Database db_;
  SegmentLog inputs_;  // touched on the store's thread only, like db_
  SegmentLog results_;
  std::shared_ptr<Batch> open_batch_;  // touched on the store's thread only
  asio::thread_pool thread_{1};        // the one thread that uses db_
};

}  // namespace

std::unique_ptr<JobStore> open_sqlite_job_store(SqliteStoreOptions options) {
  return std::make_unique<SqliteJobStore>(std::move(options));
}

}  // namespace imagepipe
