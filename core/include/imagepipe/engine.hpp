// The engine runs one job of a pipeline: source → steps (provider calls through fallback
// chains, transform runs) → sink → notifiers, items concurrently up to the pipeline's
// `concurrency`.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/host.hpp"
#include "imagepipe/pipeline.hpp"

namespace imagepipe {

// What triggered the job: an HTTP request, or the runner's flags (--set fills body).
struct JobRequest {
  nlohmann::json body = nlohmann::json::object();
  std::map<std::string, std::string> headers;  // names lower-cased
  nlohmann::json query = nlohmann::json::object();
  nlohmann::json path = nlohmann::json::object();  // a route's `{name}` segments, decoded
  // Replaces the pipeline's `source.paths` (the runner's --input).
  std::vector<std::string> input_paths;
  // Request fields already decoded to bytes, by field name. The daemon keeps a request's
  // image as a file and hands it over here, rather than base64 in `body` to decode again.
  std::map<std::string, std::shared_ptr<const std::string>> files;
  // Asked before each item starts: true ends the job after the items under way, the
  // others marked cancelled (the daemon's POST /jobs/{id}/cancel). Not stored.
  std::function<bool()> cancelled;
};

struct ItemOutput {
  std::string step;  // the step that made it; empty for the item's own image
  std::string mime;
  std::string ext;  // "png", "jpg", ...
  int width = 0;
  int height = 0;
  std::uint64_t bytes = 0;
  std::string key;  // storage key, when stored
  std::string uri;  // where it is, readable: s3://bucket/key, a local path...
  std::string url;  // presigned or public URL, when asked for
  std::string copy;  // the local copy's path (`run -o DIR`), when one was kept
  std::int64_t expires_in = 0;
  std::shared_ptr<const std::string> data;  // kept for inline sinks
  nlohmann::json metadata = nlohmann::json::object();
};

struct ItemResult {
  std::size_t index = 0;
  std::string name;  // input file name
  std::string stem;  // sanitised name without extension
  std::string ext;   // input extension
  std::string status = "pending";  // completed | failed
  std::optional<ErrorClass> error_class;
  std::string error;
  std::string provider;   // plugin that answered the last provider step, if any
  int attempts = 0;       // provider calls made, across the chain
  int fall_throughs = 0;  // chain entries given up on
  std::vector<std::string> notes;  // non-fatal events worth reporting ("fell back to local")
  double duration_seconds = 0;
  double provider_seconds = 0;  // time inside provider calls, backoff waits excluded
  nlohmann::json usage = nlohmann::json::object();  // the providers' reports, summed
  // One entry per chain entry tried: {step, provider, attempts, outcome ("ok", an error
  // class or "skipped"), seconds}.
  nlohmann::json chain = nlohmann::json::array();
  // One record per step run: {step, alternative, provider, runs, attempts, images,
  // seconds, usage} for provider steps, {step, images, seconds} for transforms.
  nlohmann::json steps = nlohmann::json::array();
  std::vector<ItemOutput> outputs;
};

// A job's counters, added to as each item finishes, so the metrics of a batch of any size
// need none of its items in memory. `errors` keeps the lines of the lowest item indexes, as
// a list built in index order would: the same report however the items interleaved.
struct JobTally {
  // Enough for any report; a callback that wants fewer slices them (${metrics.errors[:20]}).
  static constexpr std::size_t kMaxErrors = 1000;
  std::size_t total = 0;  // items finished, whatever their status
  std::size_t processed = 0, failed = 0, fell_back = 0, outputs = 0;
  long long attempts = 0, fall_throughs = 0;
  double provider_seconds = 0;
  nlohmann::json providers = nlohmann::json::object();
  nlohmann::json usage = nlohmann::json::object();
  // (item index, line within the item) → "<item>: <error or fall-through note>".
  std::map<std::pair<std::size_t, std::size_t>, std::string> errors;
  std::size_t error_count = 0;

  void add(const ItemResult& item);
};

struct JobResult {
  // Items a result holds in memory: those with an index below this. Smaller jobs keep every
  // item, as before; a larger batch hands the rest to an ItemSink and keeps counts only.
  static constexpr std::size_t kKeptItems = 1000;

  std::string id;
  std::string pipeline;
  std::string status = "running";  // completed | completed_with_errors | failed
  std::string error;               // job-level failure (e.g. the source could not be listed)
  std::optional<ErrorClass> error_class;
  std::chrono::system_clock::time_point started_at{};
  std::chrono::system_clock::time_point finished_at{};
  std::vector<ItemResult> items;  // by index, the first kKeptItems
  // Every item, counted as it finished. Empty in a result put together item by item (a
  // test, a job stored by an older build): metrics() then counts `items`.
  JobTally tally;
  nlohmann::json sink = nlohmann::json::object();  // where results went (bucket, prefix...)

  // total_files, processed (items with a result, fallbacks included), failed, fell_back
  // (processed by a later chain entry), duration_seconds, errors (the first 1,000:
  // "<item>: <error or fall-through note>") and error_count, outputs, provider_attempts,
  // fall_throughs, provider_seconds, providers (answers per provider) and usage (the
  // providers' numeric usage fields summed).
  nlohmann::json metrics() const;
};

// The template scope: job, request, items, metrics, sink, now. Item entries carry
// base64 of their first output only when `with_base64` (inline sinks).
nlohmann::json job_scope(const JobResult& job, const JobRequest& request, bool with_base64);
// The summary printed by `run --json` and served by GET /jobs/{id}.
nlohmann::json job_summary(const JobResult& job);
// One item as the summary lists it (no inline bytes): GET /jobs/{id}/items pages these.
nlohmann::json item_summary(const ItemResult& item);

// Where a job's finished items go, each once, in the order they finish: the daemon's job
// store, `imagepipe run`'s temporary file. With one, a batch of any size runs in flat
// memory: the JobResult keeps the first JobResult::kKeptItems and the counts.
class ItemSink {
 public:
  virtual ~ItemSink() = default;
  // Called on the job's strand; inline output bytes are already dropped unless the item
  // is one the result keeps. May wait (a buffer being written): the item's worker waits
  // with it, which bounds what is buffered.
  virtual Task<void> add(const ItemResult& item) = 0;
  // Once, after the last add, before run() returns.
  virtual Task<void> flush() = 0;
};

// Called from the job's strand whenever an item finishes; `total` is the source's count
// of items (a storage source is counted before its items run).
using ProgressFn = std::function<void(const ItemResult& item, std::size_t done, std::size_t total)>;

// Items' file names become key parts, as the seeds' services made them: the name without
// folder and extension, each character outside [A-Za-z0-9_-] as '_', then '_' and '-'
// trimmed from both ends, at most 100 characters; empty when nothing is left (the engine
// then names the item image_<first 8 of the job id>). Never a dot: no hidden files.
std::string sanitize_stem(std::string_view file_name);

namespace detail {
struct Instances;
struct JobState;
}  // namespace detail
struct SourceItem;

class Engine {
 public:
  // Builds every plugin instance of the pipeline once. Throws Error(internal) naming the
  // plugin when a factory fails.
  Engine(std::shared_ptr<const Pipeline> pipeline, Host host);
  ~Engine();

  // Runs one job to the end (notifiers included). Never throws for item or provider
  // failures: they are recorded in the result. Every finished item also goes to `items`
  // when given (it must outlive the call).
  Task<JobResult> run(JobRequest request, std::string job_id, ProgressFn progress = {},
                      ItemSink* items = nullptr);

  // Runs the pipeline's notifiers for a finished job (the daemon calls this from its outbox).
  Task<void> notify(const JobResult& job, const JobRequest& request);
  bool has_notifiers() const;

  const Pipeline& pipeline() const { return *pipeline_; }
  const Host& host() const { return host_; }

 private:
  Task<void> run_item(detail::JobState& job, ItemResult& item, const SourceItem& source);
  Task<void> run_worker(detail::JobState& job);
  Task<void> item_finished(detail::JobState& job, ItemResult item);
  Task<void> cancel_rest(detail::JobState& job);

  std::shared_ptr<const Pipeline> pipeline_;
  Host host_;
  std::unique_ptr<detail::Instances> instances_;
};

std::string new_job_id();  // random UUID v4
std::string iso8601(std::chrono::system_clock::time_point t);

}  // namespace imagepipe
