// The embedded job store: SQLite in WAL mode, one connection owned by one thread. Jobs
// added while a commit is under way join the next one (group commit), so durability
// costs one commit per batch rather than one per request. Image bytes live in segment
// files beside it (segment_log.hpp); checkpoints run elsewhere (wal_checkpointer.hpp).
#include <unistd.h>

#include <atomic>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>

#include "imagepipe/http.hpp"
#include "imagepipe/threads.hpp"
#include "jobs/item_rows.hpp"
#include "jobs/job_history_reader.hpp"
#include "jobs/job_listing.hpp"
#include "jobs/jobs.hpp"
#include "jobs/schedule_rows.hpp"
#include "jobs/segment_log.hpp"
#include "jobs/sqlite_db.hpp"
#include "jobs/store_rows.hpp"
#include "jobs/wal_checkpointer.hpp"

namespace imagepipe {

namespace {

using jobs::BlobRef;
using jobs::Database;
using jobs::DueRow;
using jobs::SegmentLog;
using jobs::Statement;
using jobs::Transaction;
using nlohmann::json;

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

class SqliteJobStore final : public JobStore, public ItemStore {
 public:
  explicit SqliteJobStore(SqliteStoreOptions options)
      : options_(std::move(options)),
        db_(prepare_directory(options_.directory) / "jobs.db"),
        inputs_(options_.directory / "inputs", options_.durability == Durability::power,
                options_.segment_bytes, remove_in_background()),
        results_(options_.directory / "results", options_.durability == Durability::power,
                 options_.segment_bytes, remove_in_background()) {
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec(synchronous_pragma());
    db_.exec("PRAGMA foreign_keys=ON");
    db_.exec(kMeta);
    check_schema_version();
    db_.exec(kSchema);
    db_.exec(jobs::kListingIndexes);
    db_.exec(jobs::kScheduleSchema);
    db_.exec(jobs::kItemSchema);
    count_segment_holds();
    checkpointer_ = std::make_unique<jobs::WalCheckpointer>(db_, options_.directory / "jobs.db",
                                                            synchronous_pragma(), housekeeping_);
    on_each_pool_thread(thread_, 1, [] { name_this_thread("imagepipe-store"); });
    on_each_pool_thread(housekeeping_, 1, [] { name_this_thread("imagepipe-wal"); });
  }

  ~SqliteJobStore() override {
    thread_.join();
    housekeeping_.join();
  }

  ItemStore* item_store() override { return this; }

  Task<void> put_items(std::string job_id, std::vector<ItemResult> items) override {
    co_await on_db([this, &job_id, &items] { jobs::insert_items(db_, job_id, items); });
  }

  Task<ItemPage> item_page(std::string job_id, std::optional<std::size_t> after,
                           int limit) override {
    co_return co_await on_db([this, &job_id, after, limit] {
      return jobs::select_item_page(db_, job_id, after, limit);
    });
  }

  Task<void> add(NewJob job) override {
    co_await asio::co_spawn(thread_.get_executor(), join_batch(std::move(job)),
                            asio::use_awaitable);
  }

  // The bytes are read and written on the caller's thread (a job thread, below the HTTP
  // threads' priority); the store's thread only records where they are.
  Task<std::optional<ClaimedJob>> claim_next() override {
    auto claim = co_await on_db([this] { return claim_next_now(); });
    if (!claim) co_return std::nullopt;
    read_inputs(*claim);
    co_return std::move(claim->job);
  }

  Task<void> finish(JobResult result) override {
    auto stored = store_result_bytes(result);
    try {
      co_await on_db([this, &result, &stored] { finish_now(result, stored); });
    } catch (...) {
      if (stored.segment) results_.release(*stored.segment);
      throw;
    }
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
    co_return co_await on_db([this, &id] { return jobs::select_job_record(db_, id); });
  }

  Task<JobPage> list(JobQuery query) override {
    co_return co_await on_db([this, &query] { return jobs::select_job_page(db_, query); });
  }

  Task<CancelOutcome> cancel(std::string id) override {
    co_return co_await on_db([this, &id] {
      std::optional<std::uint64_t> segment;
      const auto status = jobs::cancel_queued_job(db_, id, now_unix_ms(), segment);
      if (status == "queued" && segment) inputs_.release(*segment);
      return CancelOutcome{!status.empty(), status};
    });
  }

  Task<RetryOutcome> retry_callback(std::string id) override {
    co_return co_await on_db(
        [this, &id] { return jobs::queue_callback_again(db_, id, now_unix_ms()); });
  }

  Task<std::vector<DueCallback>> due_callbacks(TimePoint now, int limit) override {
    auto due = co_await on_db(
        [this, now, limit] { return jobs::lease_due_callbacks(db_, now, limit, kDeliveryLease); });
    std::vector<DueCallback> callbacks;
    for (auto& d : due) {
      for (const auto& [item, output, ref] : d.inline_outputs)
        d.callback.result.items[item].outputs[output].data =
            std::make_shared<const std::string>(results_.read(ref));
      callbacks.push_back(std::move(d.callback));
    }
    co_return callbacks;
  }

  Task<std::optional<TimePoint>> next_callback_at() override {
    co_return co_await on_db([this] { return jobs::next_callback_time(db_); });
  }

  Task<void> record_attempt(std::string job_id, CallbackAttempt attempt) override {
    co_await on_db(
        [this, &job_id, &attempt] { jobs::record_callback_attempt(db_, job_id, attempt); });
  }

  Task<int> remove_finished_before(TimePoint cutoff) override {
    co_return co_await on_db([this, cutoff] { return remove_now(cutoff); });
  }

  // The job holds its results segment until it is removed; one removed between the two
  // steps leaves nothing to read, which is the answer then.
  Task<std::optional<std::string>> inline_output(std::string id, std::size_t item,
                                                 std::size_t output) override {
    const auto ref = co_await on_db(
        [this, &id, item, output] { return jobs::select_inline_output(db_, id, item, output); });
    if (!ref) co_return std::nullopt;
    try {
      co_return results_.read(*ref);
    } catch (const Error& e) {
      if (e.cls() == ErrorClass::not_found) co_return std::nullopt;
      throw;
    }
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

  Task<ScheduleRun> open_schedule(std::string key, std::string pipeline, TimePoint now) override {
    co_return co_await on_db(
        [this, &key, &pipeline, now] { return jobs::open_schedule(db_, key, pipeline, now); });
  }

  Task<bool> add_scheduled(NewJob job, std::string key, TimePoint due) override {
    co_return co_await on_db([this, &job, &key, due] {
      return jobs::insert_scheduled_job(db_, job, key, due, now_unix_ms());
    });
  }

 private:
  struct Claim {
    ClaimedJob job;
    std::vector<std::pair<std::string, BlobRef>> inputs;  // field, bytes
  };
  struct StoredResult {
    json result;  // job_result_to_json, with where each inline output's bytes are
    std::optional<std::uint64_t> segment;  // held until the job is removed
  };

  struct Batch {
    explicit Batch(asio::any_io_executor ex)
        : done(ex, std::chrono::steady_clock::time_point::max()) {}
    std::vector<NewJob> jobs;
    asio::steady_timer done;  // cancelled once the batch is committed (or failed)
    std::exception_ptr error;
  };

  const char* synchronous_pragma() const {
    return options_.durability == Durability::power ? "PRAGMA synchronous=FULL"
                                                    : "PRAGMA synchronous=NORMAL";
  }

  SegmentLog::Remover remove_in_background() {
    return [this](const std::filesystem::path& file) {
      asio::post(housekeeping_, [file] { (void)::unlink(file.c_str()); });
    };
  }

  static const std::filesystem::path& prepare_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw Error(ErrorClass::unavailable,
                  "job store: cannot create " + dir.string() + ": " + ec.message());
    return dir;
  }

  void check_schema_version() {
    db_.exec(std::string("INSERT OR IGNORE INTO meta VALUES('schema', '") + jobs::kSchemaVersion +
             "')");
    auto q = db_.prepare("SELECT value FROM meta WHERE key='schema'");
    if (q.step() && q.text(0) != jobs::kSchemaVersion)
      throw Error(ErrorClass::unavailable,
                  "job store " + (options_.directory / "jobs.db").string() + " has schema '" +
                      q.text(0) + "', this build reads '" + jobs::kSchemaVersion +
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
    co_return co_await asio::co_spawn(thread_.get_executor(), run_after_accepts<R>(f),
                                      asio::use_awaitable);
  }

  // Requests waiting for their 202 go first: a job's own call that finds a batch of them
  // about to commit lets it, once. (Jobs wait in the queue; a client waits on the socket.)
  template <class R, class F>
  Task<R> run_after_accepts(F& f) {
    if (open_batch_) co_await asio::post(thread_.get_executor(), asio::use_awaitable);
    co_return f();
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
      const auto now = now_unix_ms();
      // The whole batch's images in one append: one write per image, one sync at most.
      std::vector<std::string_view> blobs;
      for (const auto& job : batch->jobs)
        for (const auto& input : job.inputs) blobs.push_back(*input.bytes);
      const auto refs = inputs_.append(blobs);
      std::optional<std::uint64_t> segment;
      if (!refs.empty()) segment = refs.front().segment;
      // append() held the segment once for the batch; its jobs hold it from the commit.
      struct ReleaseAppendHold {
        SegmentLog& log;
        std::optional<std::uint64_t> segment;
        ~ReleaseAppendHold() {
          if (segment) log.release(*segment);
        }
      } release_append_hold{inputs_, segment};
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
            .bind(3, jobs::request_to_json(job.request).dump())
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

  std::optional<Claim> claim_next_now() {
    auto q = db_.prepare(
        "SELECT id, pipeline, request, inputs, runs, created_at, input_segment FROM jobs WHERE "
        "status='queued' ORDER BY created_at, rowid LIMIT 1");
    if (!q.step()) return std::nullopt;
    Claim claim;
    auto& job = claim.job;
    job.id = q.text(0);
    job.pipeline = q.text(1);
    job.request = jobs::request_from_json(json::parse(q.text(2)));
    job.runs = static_cast<int>(q.integer(4)) + 1;
    job.created_at = from_unix_ms(q.integer(5));
    for (const auto& input : json::parse(q.text(3)))
      claim.inputs.emplace_back(
          input.at("field").get<std::string>(),
          BlobRef{static_cast<std::uint64_t>(q.integer(6)), input.at("offset").get<std::uint64_t>(),
                  input.at("length").get<std::uint64_t>()});
    db_.prepare("UPDATE jobs SET status='running', runs=runs+1, started_at=? WHERE id=?")
        .bind(1, now_unix_ms())
        .bind(2, job.id)
        .run();
    if (job.runs > 1) jobs::forget_items(db_, job.id);
    return claim;
  }

  // The claimed job holds its segment until it finishes, so this needs no lock.
  void read_inputs(Claim& claim) const {
    auto& job = claim.job;
    try {
      for (const auto& [field, ref] : claim.inputs)
        job.request.files[field] = std::make_shared<const std::string>(inputs_.read(ref));
    } catch (const Error& e) {
      // Claimed all the same, so it fails with the reason instead of blocking the queue.
      job.request.files.clear();
      job.unreadable = e.what();
    }
  }

  StoredResult store_result_bytes(const JobResult& result) {
    StoredResult stored{job_result_to_json(result), std::nullopt};
    std::vector<std::string_view> blobs;
    for (const auto& item : result.items)
      for (const auto& output : item.outputs)
        if (output.data) blobs.push_back(*output.data);
    const auto refs = results_.append(blobs);  // held: it becomes the job's hold
    std::size_t next_ref = 0;
    for (std::size_t i = 0; i < result.items.size(); ++i)
      for (std::size_t n = 0; n < result.items[i].outputs.size(); ++n)
        if (result.items[i].outputs[n].data) {
          const auto& ref = refs[next_ref++];
          stored.result["items"][i]["outputs"][n]["blob"] = {ref.offset, ref.length};
        }
    if (!refs.empty()) stored.segment = refs.front().segment;
    return stored;
  }

  void finish_now(const JobResult& result, const StoredResult& stored) {
    auto before = db_.prepare("SELECT status, input_segment, result_segment FROM jobs WHERE id=?");
    before.bind(1, result.id);
    if (!before.step()) {  // removed meanwhile: nothing to record
      if (stored.segment) results_.release(*stored.segment);
      return;
    }
    const bool was_unfinished = before.text(0) == "queued" || before.text(0) == "running";
    const auto input_segment = segment_at(before, 1);
    const auto replaced = segment_at(before, 2);  // a job finished twice (run again)
    before.reset();

    const auto now = now_unix_ms();
    Transaction tx(db_);
    db_.prepare("UPDATE jobs SET status=?, finished_at=?, result=?, result_segment=? WHERE id=?")
        .bind(1, result.status)
        .bind(2, now)
        .bind(3, stored.result.dump())
        .bind(4, to_int(stored.segment))
        .bind(5, result.id)
        .run();
    // A cancelled job calls nobody back: whoever cancelled it knows.
    if (result.status != "cancelled")
      db_.prepare(
             "INSERT OR IGNORE INTO callbacks(job_id, status, attempts, created_at, next_at) "
             "SELECT id, 'pending', 0, ?, ? FROM jobs WHERE id=? AND notify=1")
          .bind(1, now)
          .bind(2, now)
          .bind(3, result.id)
          .run();
    tx.commit();
    if (replaced) results_.release(*replaced);
    // Inputs are not needed once a job has finished.
    if (was_unfinished && input_segment) inputs_.release(*input_segment);
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
  // Checkpoints and segment removal; joined before the connections close.
  asio::thread_pool housekeeping_{1};
  Database db_;
  std::unique_ptr<jobs::WalCheckpointer> checkpointer_;
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
