// The durable job queue behind `imagepipe serve`: accepted jobs, their results and the
// callback outbox. A job is written before its trigger is answered, so a 202 means the job
// survives a crash; on start, jobs that were running are queued again (at-least-once).
//
// JobStore is the interface; the embedded implementation is SQLite in a data directory
// (open_sqlite_job_store). The shared backend for several hosts is Redis Streams with
// consumer groups (open_redis_job_store): add = XADD, claim_next = XREADGROUP, recover =
// XAUTOCLAIM.
//
// Every call is a coroutine that resumes on the caller's executor; implementations keep
// their own threads, so a slow disk never stalls the HTTP loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/asio.hpp"
#include "imagepipe/engine.hpp"

namespace imagepipe {

using TimePoint = std::chrono::system_clock::time_point;

// An input image moved out of the request body into a file beside the database. The
// request keeps everything else; restore_request() puts the base64 back.
struct JobInput {
  std::string field;                         // request body field that held it ("image_base64")
  std::shared_ptr<const std::string> bytes;  // decoded image
};

struct NewJob {
  std::string id;
  std::string pipeline;
  JobRequest request;  // body without the input fields
  std::vector<JobInput> inputs;
  bool notify = false;  // an outbox entry is due when the job finishes
};

// A job taken from the queue to run now.
struct ClaimedJob {
  std::string id;
  std::string pipeline;
  JobRequest request;  // with the stored images in request.files
  int runs = 0;        // including this one: > 1 after a crash or restart
  TimePoint created_at{};
  // Set when the stored images cannot be read back (their file removed by hand, say):
  // the job is claimed anyway, so it fails with this reason instead of blocking the queue.
  std::string unreadable;
};

// One callback delivery attempt, as GET /jobs/{id} shows it.
struct CallbackAttempt {
  int attempt = 0;
  TimePoint at{};
  std::string outcome;  // delivered | retry | failed
  std::string error;    // empty when delivered
  std::string error_class;
  std::optional<TimePoint> next_at;  // retry: when the next attempt is due
};

struct CallbackState {
  std::string status;  // pending | delivered | failed
  int attempts = 0;
  TimePoint created_at{};
  TimePoint next_at{};
  std::vector<CallbackAttempt> history;
};

// Everything known about a job, for GET /jobs/{id}.
struct JobRecord {
  std::string id;
  std::string pipeline;
  // queued | running | completed | completed_with_errors | failed | cancelled
  std::string status;
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  int runs = 0;
  std::optional<JobResult> result;  // once finished (inline bytes not loaded)
  std::optional<CallbackState> callback;
  std::string request_id;  // X-Request-ID of the request that created it
};

// A callback due now: the job's result (inline bytes loaded) and request.
struct DueCallback {
  std::string job_id;
  std::string pipeline;
  int attempts = 0;  // made so far
  TimePoint created_at{};
  JobResult result;
  JobRequest request;
};

// The last due time a schedule fired, and the job it queued; a schedule that has not
// fired yet has no job id, and `due` is when it was first seen (it counts from there).
struct ScheduleRun {
  TimePoint due{};
  std::string job_id;
};

// GET /jobs: which jobs, newest first. The cursor is where the previous page ended: its
// last job's creation time and store sequence (jobs created in one millisecond are in the
// order they were stored).
struct JobCursor {
  std::int64_t created_ms = 0;
  std::int64_t seq = 0;
};
struct JobQuery {
  std::string pipeline;                   // empty: any
  std::string status;                     // empty: any
  std::optional<TimePoint> since, until;  // created_at in [since, until)
  std::optional<JobCursor> after;
  int limit = 50;
};
// One job as a list shows it: no request, no result.
struct JobListEntry {
  std::string id;
  std::int64_t seq = 0;  // the store's order among jobs created in the same millisecond
  std::string pipeline;
  std::string status;
  TimePoint created_at{};
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> finished_at;
  int runs = 0;
  std::string request_id;
};
struct JobPage {
  std::vector<JobListEntry> jobs;
  std::optional<JobCursor> next;  // set when more jobs match
};

// What a cancel found: the job's status before it.
struct CancelOutcome {
  bool found = false;
  std::string status;  // queued (now cancelled) | running | a finished status
};

// What asking for a callback again found.
enum class RetryOutcome { queued, not_found, unfinished, no_callback, cancelled };

struct JobCounts {
  std::map<std::pair<std::string, std::string>, std::int64_t> by_pipeline_status;
  std::int64_t queued = 0;
  std::int64_t running = 0;
  std::int64_t callbacks_pending = 0;
};

// ---- per-item results ---------------------------------------------------------------------
// A job's items, each stored as it finishes, so a batch of 100,000 objects never has its
// items in one record (the job's result keeps the first JobResult::kKeptItems and the
// counts). Keyed by (job, index); a job's items go when the job is removed, and a job taken
// up again (claim_next with runs > 1) starts with none.
struct ItemPage {
  std::vector<ItemResult> items;  // by index
  bool more = false;              // items with a higher index follow
};

class ItemStore {
 public:
  virtual ~ItemStore() = default;
  // Stores finished items of a running job, replacing any under the same index. Inline
  // output bytes are not kept (the job's result keeps those of its kept items).
  virtual Task<void> put_items(std::string job_id, std::vector<ItemResult> items) = 0;
  // The job's items with an index above `after` (from the first when nullopt), at most
  // `limit`, by index.
  virtual Task<ItemPage> item_page(std::string job_id, std::optional<std::size_t> after,
                                   int limit) = 0;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Where this store keeps per-item results; nullptr when it keeps none (then a job's items
  // are those its result keeps, the first JobResult::kKeptItems).
  virtual ItemStore* item_store() { return nullptr; }

  // Durable when it returns: the job and its input files are committed.
  virtual Task<void> add(NewJob job) = 0;
  // The oldest queued job, now marked running; nullopt when the queue is empty.
  virtual Task<std::optional<ClaimedJob>> claim_next() = 0;
  // Stores the result; in the same transaction, queues the callback when the job asked
  // for one. Inline output bytes go to files.
  virtual Task<void> finish(JobResult result) = 0;
  // Running jobs back to queued: at start (a crash left them) and at shutdown (the grace
  // period ran out). Returns how many.
  virtual Task<int> requeue_running() = 0;

  virtual Task<std::optional<JobRecord>> get(std::string id) = 0;
  // Jobs matching `query`, newest first, from indexes (a page costs the same at any depth).
  virtual Task<JobPage> list(JobQuery query) = 0;
  // A queued job becomes `cancelled` (its inputs released, no callback); any other status
  // is reported unchanged: stopping a running job is the dispatcher's (it runs it).
  virtual Task<CancelOutcome> cancel(std::string id) = 0;
  // Queues the finished job's callback again, due now, its history kept: the receiver gets
  // the same body and Idempotency-Key (the job id).
  virtual Task<RetryOutcome> retry_callback(std::string id) = 0;

  // Callbacks whose next attempt is due at `now`, oldest first.
  virtual Task<std::vector<DueCallback>> due_callbacks(TimePoint now, int limit) = 0;
  // When the earliest pending callback is due, if any.
  virtual Task<std::optional<TimePoint>> next_callback_at() = 0;
  // Records an attempt; `attempt.outcome` decides the callback's new status.
  virtual Task<void> record_attempt(std::string job_id, CallbackAttempt attempt) = 0;

  // Deletes jobs finished before `cutoff` whose callbacks are settled, with their files.
  virtual Task<int> remove_finished_before(TimePoint cutoff) = 0;
  // The bytes an inline sink kept for output `output` of item `item` (indexes as in the
  // stored result), read back for the dashboard's thumbnails; nullopt when that output has
  // none here (stored elsewhere, the job removed meanwhile). Not pure: a backend that keeps
  // no result bytes needs nothing more.
  virtual Task<std::optional<std::string>> inline_output(std::string id, std::size_t item,
                                                         std::size_t output) {
    (void)id, (void)item, (void)output;
    co_return std::nullopt;
  }
  virtual Task<JobCounts> counts() = 0;
  // A cheap round trip to the database, for /health/ready. Throws when unusable.
  virtual Task<void> ping() = 0;

  // Schedules (trigger.schedule), by a key naming the schedule across restarts.
  // The schedule's last run; a schedule not known yet is recorded as first seen at `now`.
  virtual Task<ScheduleRun> open_schedule(std::string key, std::string pipeline, TimePoint now) = 0;
  // Durable when it returns: queues `job` (no inputs) for due time `due` of schedule `key`
  // and records `due` as its last run, together. A job already stored under the same id
  // (a deterministic one: another start fired this due time) is kept, and false returned.
  virtual Task<bool> add_scheduled(NewJob job, std::string key, TimePoint due) = 0;
};

enum class Durability {
  process,  // committed data survives a crash of the process (SQLite synchronous=NORMAL)
  power,    // ... and of the machine: fsync on every commit batch (synchronous=FULL)
};

struct SqliteStoreOptions {
  std::filesystem::path directory;  // jobs.db, inputs/, results/ inside
  Durability durability = Durability::process;
  // Job bytes are appended to segment files of about this size (see segment_log.hpp).
  std::uint64_t segment_bytes = 64u << 20;
};

// Creates the directory and schema. Throws Error(unavailable) naming the file when the
// database cannot be opened or is not an imagepipe job store.
std::unique_ptr<JobStore> open_sqlite_job_store(SqliteStoreOptions options);

struct RedisStoreOptions {
  std::string url;  // redis://[:password@]host[:port][/db]
  // The pipelines this node runs: it takes jobs from their streams only.
  std::vector<std::string> pipelines;
  // This node's consumer name. Empty: hostname-pid-random (a restart is a new consumer; its
  // predecessor's jobs come back through the idle timeout). A stable name lets a restarted
  // node take its own unfinished jobs back at once.
  std::string node_id;
  // A job claimed by a node that has not refreshed its claim for this long is taken by
  // another; also how long a callback delivery is leased.
  std::chrono::milliseconds claim_idle{std::chrono::seconds(60)};
  int max_deliveries = 5;  // runs that ended without a result before a job is failed
  std::uint64_t max_input_bytes = 16u << 20;  // a job's input images, in Redis until it ends
  std::size_t queued_per_pipeline = 0;        // cluster-wide; 0: no limit
  std::string prefix = "imagepipe:";          // of every key
};

// Connects lazily (a node may start before Redis); throws Error(invalid_input) for a bad URL.
std::unique_ptr<JobStore> open_redis_job_store(RedisStoreOptions options);

// ---- callback retry policy ----------------------------------------------------------------
struct CallbackPolicy {
  int max_attempts = 10;
  std::chrono::seconds max_age{std::chrono::hours(24)};  // from the job's end
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{std::chrono::minutes(10)};
};

// Whether a failed delivery is worth another try: connection errors, timeouts, 5xx and 429.
bool callback_retryable(ErrorClass c);
// Delay before attempt `attempts + 1`: base * 2^(attempts-1) capped at max_delay, with
// "equal jitter" (half fixed, half random) so many callbacks to one receiver spread out;
// never less than the receiver's Retry-After.
std::chrono::milliseconds callback_backoff(const CallbackPolicy& policy, int attempts,
                                           std::optional<std::chrono::milliseconds> retry_after);

// JobResult <-> JSON with every field kept (job_summary is a view; this is storage).
// Inline output bytes are not part of it.
nlohmann::json job_result_to_json(const JobResult& job);
JobResult job_result_from_json(const nlohmann::json& j);
// One item, likewise: the rows of an ItemStore.
nlohmann::json item_result_to_json(const ItemResult& item);
ItemResult item_result_from_json(const nlohmann::json& j);

std::int64_t to_unix_ms(TimePoint t);
// The system clock now, as to_unix_ms.
inline std::int64_t now_unix_ms() { return to_unix_ms(std::chrono::system_clock::now()); }
TimePoint from_unix_ms(std::int64_t ms);

}  // namespace imagepipe
