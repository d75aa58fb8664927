// The shared job store: Redis Streams with one consumer group, so several `imagepipe serve`
// processes on several hosts share one queue. Each node is a consumer; a job claimed by a
// node that died (its claim not refreshed for claim_idle) is taken over with XAUTOCLAIM, and
// a job that keeps dying with its node is failed after max_deliveries runs. Every change of
// a job is one Lua script (redis_scripts.hpp), so it is atomic across nodes.
//
// Two threads, each with its own blocking connection: one for adds, which joins requests
// arriving together into one script call (one round trip and one AOF fsync per batch,
// like SQLite's group commit), and one for everything else, which also keeps this node's
// claims fresh while their jobs run.
#include <unistd.h>

#include <deque>
#include <random>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>

#include "imagepipe/threads.hpp"
#include "jobs/jobs.hpp"
#include "jobs/redis/redis_connection.hpp"
#include "jobs/redis/redis_records.hpp"
#include "jobs/redis/redis_scripts.hpp"
#include "jobs/store_rows.hpp"

namespace imagepipe {

namespace {

using jobs::redis::Command;
using jobs::redis::Connection;
using jobs::redis::Reply;
using jobs::redis::reply_at;
using jobs::redis::reply_error;
using jobs::redis::reply_integer;
using jobs::redis::reply_nil;
using jobs::redis::reply_size;
using jobs::redis::reply_string;
using nlohmann::json;
namespace scripts = jobs::redis::scripts;

constexpr const char* kGroup = "imagepipe";
constexpr std::chrono::milliseconds kCommandTimeout{3000};
// How often finish() and put_items() try again while Redis is away (keep_trying).
constexpr std::chrono::milliseconds kFinishRetryStep{250};
// Adds are sent together until their images reach this size.
constexpr std::uint64_t kMaxBatchBytes = 64u << 20;
// How often a node looks for consumers of nodes that are gone.
constexpr std::chrono::milliseconds kForgetEvery{std::chrono::minutes(10)};

std::string default_node_id() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::mt19937_64 rng{std::random_device{}()};
  char random[9];
  std::snprintf(random, sizeof random, "%08x", static_cast<unsigned>(rng()));
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + random;
}

Command eval(const char* script, std::vector<std::string> args) {
  Command c{"EVAL", script, "0"};
  c.insert(c.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
  return c;
}

// A stream entry this node holds: claimed and not yet finished.
struct Held {
  std::string stream;
  std::string entry;
  std::string job_id;
};

class RedisJobStore final : public JobStore, public ItemStore {
 public:
  explicit RedisJobStore(RedisStoreOptions options)
      : options_(std::move(options)),
        address_(parse(options_.url)),
        node_(options_.node_id.empty() ? default_node_id() : options_.node_id),
        writer_(address_, kCommandTimeout, {}, reconnects_),
        ops_(
            address_, kCommandTimeout, [this](Connection& c) { create_groups(c); }, reconnects_) {
    for (const auto& p : options_.pipelines) streams_.push_back(key("q:" + p));
    on_each_pool_thread(write_thread_, 1, [] { name_this_thread("imagepipe-redis"); });
    on_each_pool_thread(ops_thread_, 1, [] { name_this_thread("imagepipe-redis"); });
    asio::co_spawn(ops_thread_, refresh_claims(), asio::detached);
  }

  ~RedisJobStore() override {
    asio::post(ops_thread_, [this] {
      stopping_ = true;
      refresh_timer_.cancel();
    });
    write_thread_.join();
    ops_thread_.join();
  }

  ItemStore* item_store() override { return this; }

  Task<void> put_items(std::string job_id, std::vector<ItemResult> items) override {
    if (items.empty()) co_return;
    std::vector<std::string> args{prefix(), job_id, node_};
    args.reserve(3 + 2 * items.size());
    for (const auto& item : items) {
      args.push_back(std::to_string(item.index));
      args.push_back(item_result_to_json(item).dump());
    }
    auto command = eval(scripts::kPutItems, std::move(args));
    // A running job's items: Redis away for a moment must not fail the job.
    co_await keep_trying([this, &command] { ops_.must(command); });
  }

  Task<ItemPage> item_page(std::string job_id, std::optional<std::size_t> after,
                           int limit) override {
    co_return co_await on_ops([this, &job_id, after, limit] {
      // One more than asked says whether more follow.
      auto r = ops_.must({"ZRANGE", key("job:" + job_id + ":items"),
                          after ? "(" + std::to_string(*after) : "-inf", "+inf", "BYSCORE", "LIMIT",
                          "0", std::to_string(limit + 1)});
      ItemPage page;
      for (std::size_t i = 0; i < reply_size(r.get()); ++i) {
        if (page.items.size() == static_cast<std::size_t>(limit)) {
          page.more = true;
          break;
        }
        page.items.push_back(
            item_result_from_json(json::parse(reply_string(reply_at(r.get(), i)))));
      }
      return page;
    });
  }

  Task<std::optional<std::string>> inline_output(std::string id, std::size_t item,
                                                 std::size_t output) override {
    co_return co_await on_ops([this, &id, item, output]() -> std::optional<std::string> {
      auto r =
          ops_.must({"HGET", key("job:" + id + ":out"), jobs::redis::output_key(item, output)});
      if (reply_nil(r.get())) return std::nullopt;
      return reply_string(r.get());
    });
  }

  Task<void> add(NewJob job) override {
    std::uint64_t bytes = 0;
    for (const auto& input : job.inputs) bytes += input.bytes->size();
    if (bytes > options_.max_input_bytes)
      throw Error(ErrorClass::invalid_input,
                  "the job's images are " + std::to_string(bytes) +
                      " bytes, more than the Redis queue keeps per job (" +
                      std::to_string(options_.max_input_bytes) + ", limits.body_bytes)");
    co_await asio::co_spawn(write_thread_.get_executor(), join_batch(std::move(job)),
                            asio::use_awaitable);
  }

  Task<std::optional<ClaimedJob>> claim_next() override {
    co_return co_await on_ops([this] { return claim_now(); });
  }

  Task<void> finish(JobResult result) override {
    auto command = finish_command(result);
    co_await keep_trying([this, &command, &result] {
      held_.erase(result.id);  // no longer refreshed, whatever happens now
      ops_.must(command);
    });
  }

  // This node's entries go back to the queue for any node: at start, those a previous
  // process with the same node id left (with a random id there are none: the idle
  // timeout brings them back); at shutdown, jobs claimed and not started, and running
  // jobs the grace period did not see finish.
  Task<int> requeue_running() override {
    co_return co_await on_ops([this] { return hand_back_now(); });
  }

  Task<std::optional<JobRecord>> get(std::string id) override {
    co_return co_await on_ops(
        [this, &id] { return jobs::redis::read_job_record(ops_, prefix(), id); });
  }

  Task<JobPage> list(JobQuery query) override {
    co_return co_await on_ops(
        [this, &query] { return jobs::redis::read_job_page(ops_, prefix(), query); });
  }

  Task<CancelOutcome> cancel(std::string id) override {
    co_return co_await on_ops([this, &id] {
      auto r =
          ops_.must(eval(scripts::kCancel, {prefix(), id, std::to_string(now_unix_ms()), kGroup}));
      const auto status = reply_string(r.get());
      return CancelOutcome{!status.empty(), status};
    });
  }

  Task<RetryOutcome> retry_callback(std::string id) override {
    co_return co_await on_ops([this, &id] {
      auto r =
          ops_.must(eval(scripts::kRetryCallback, {prefix(), id, std::to_string(now_unix_ms())}));
      const auto outcome = reply_string(r.get());
      if (outcome == "queued") return RetryOutcome::queued;
      if (outcome == "unfinished") return RetryOutcome::unfinished;
      if (outcome == "cancelled") return RetryOutcome::cancelled;
      if (outcome == "no_callback") return RetryOutcome::no_callback;
      return RetryOutcome::not_found;
    });
  }

  Task<std::vector<DueCallback>> due_callbacks(TimePoint now, int limit) override {
    co_return co_await on_ops([this, now, limit] {
      auto r = ops_.must(eval(scripts::kLeaseDue,
                              {prefix(), std::to_string(to_unix_ms(now)), std::to_string(limit),
                               std::to_string(options_.claim_idle.count())}));
      std::vector<DueCallback> due;
      for (std::size_t i = 0; i < reply_size(r.get()); ++i)
        due.push_back(jobs::redis::read_due_callback(reply_at(r.get(), i)));
      return due;
    });
  }

  Task<std::optional<TimePoint>> next_callback_at() override {
    co_return co_await on_ops([this]() -> std::optional<TimePoint> {
      auto r = ops_.must({"ZRANGE", key("cb:due"), "0", "0", "WITHSCORES"});
      if (reply_size(r.get()) < 2) return std::nullopt;
      return from_unix_ms(std::stoll(reply_string(reply_at(r.get(), 1))));
    });
  }

  Task<void> record_attempt(std::string job_id, CallbackAttempt attempt) override {
    json a = {{"attempt", attempt.attempt},
              {"at", to_unix_ms(attempt.at)},
              {"outcome", attempt.outcome},
              {"error", attempt.error},
              {"error_class", attempt.error_class}};
    if (attempt.next_at) a["next_at"] = to_unix_ms(*attempt.next_at);
    const std::string status = attempt.outcome == "retry" ? "pending" : attempt.outcome;
    const auto next = to_unix_ms(attempt.next_at.value_or(attempt.at));
    auto command =
        eval(scripts::kRecordAttempt, {prefix(), job_id, a.dump(), status,
                                       std::to_string(attempt.attempt), std::to_string(next)});
    co_await on_ops([this, &command] { ops_.must(command); });
  }

  Task<int> remove_finished_before(TimePoint cutoff) override {
    co_return co_await on_ops([this, cutoff] {
      auto r = ops_.must(
          eval(scripts::kRemoveFinished, {prefix(), std::to_string(to_unix_ms(cutoff)), "1000"}));
      return static_cast<int>(reply_integer(r.get()));
    });
  }

  Task<JobCounts> counts() override {
    co_return co_await on_ops([this] { return jobs::redis::read_counts(ops_, prefix()); });
  }

  Task<void> ping() override {
    co_await on_ops([this] { ops_.must({"PING"}); });
  }

  Task<ScheduleRun> open_schedule(std::string key, std::string pipeline, TimePoint now) override {
    co_return co_await on_ops([this, &key, &pipeline, now] {
      auto r = ops_.must(
          eval(scripts::kOpenSchedule, {prefix(), key, pipeline, std::to_string(to_unix_ms(now))}));
      return ScheduleRun{from_unix_ms(reply_integer(reply_at(r.get(), 0))),
                         reply_string(reply_at(r.get(), 1))};
    });
  }

  // Idempotent across nodes: every node whose schedule fires computes the same job id for a
  // due time, and the script queues it only when no job has that id.
  Task<bool> add_scheduled(NewJob job, std::string key, TimePoint due) override {
    if (!job.inputs.empty())
      throw Error(ErrorClass::internal, "a scheduled job carries no input files");
    auto command = scheduled_command(job, key, std::to_string(to_unix_ms(due)));
    co_return co_await on_ops([this, &command] {
      auto r = ops_.must(command);
      return reply_integer(r.get()) == 1;
    });
  }

 private:
  struct Batch {
    explicit Batch(asio::any_io_executor ex)
        : done(ex, std::chrono::steady_clock::time_point::max()) {}
    std::vector<NewJob> jobs;
    std::vector<std::exception_ptr> errors;  // per job, after the commit
    std::uint64_t bytes = 0;                 // of input images
    asio::steady_timer done;
  };

  static jobs::redis::RedisAddress parse(const std::string& url) {
    try {
      return jobs::redis::parse_redis_url(url);
    } catch (const std::invalid_argument& e) {
      throw Error(ErrorClass::invalid_input, e.what());
    }
  }

  const std::string& prefix() const { return options_.prefix; }
  std::string key(const std::string& name) const { return options_.prefix + name; }

  // Runs f() on the ops thread and resumes the caller on its own executor. Callers pass
  // lambdas that capture only pointers, references and plain values: g++ 12 may destroy a
  // coroutine's by-value lambda parameter twice, harmless only when trivial.
  // Runs `f` on the ops thread; while Redis is away, tries again every kFinishRetryStep
  // for half the idle timeout: a running job's work (its items, its result) is kept through
  // a Redis restart rather than failed or run again. Then the error is the caller's.
  template <class F>
  Task<void> keep_trying(F f) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::max(options_.claim_idle / 2, kFinishRetryStep);
    for (;;) {
      try {
        co_await on_ops(f);
        co_return;
      } catch (const Error& e) {
        if (e.cls() != ErrorClass::unavailable || std::chrono::steady_clock::now() >= deadline)
          throw;
      }
      asio::steady_timer wait(co_await asio::this_coro::executor, kFinishRetryStep);
      co_await wait.async_wait(asio::use_awaitable);
    }
  }

  template <class F>
  Task<std::invoke_result_t<F>> on_ops(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await asio::co_spawn(ops_thread_.get_executor(), call<R>(f), asio::use_awaitable);
  }
  template <class R, class F>
  Task<R> call(F& f) {
    co_return f();
  }

  // Each stream's group, created with the stream; a group that exists is left as it is.
  void create_groups(Connection& c) {
    for (const auto& stream : streams_) {
      auto r = c.call({"XGROUP", "CREATE", stream, kGroup, "0", "MKSTREAM"});
      const auto error = reply_error(r.get());
      if (!error.empty() && error.rfind("BUSYGROUP", 0) != 0)
        throw Error(ErrorClass::unavailable,
                    "cannot create the consumer group of " + stream + ": " + error);
    }
  }

  // A job's fields for the add scripts: id pipeline request notify rid fields.
  std::vector<std::string> job_args(const NewJob& job) const {
    auto rid = job.request.headers.find("x-request-id");
    json fields = json::array();
    for (const auto& input : job.inputs) fields.push_back(input.field);
    return {job.id,
            job.pipeline,
            jobs::request_to_json(job.request).dump(),
            job.notify ? "1" : "0",
            rid == job.request.headers.end() ? std::string() : rid->second,
            fields.dump()};
  }

  Command batch_command(const std::vector<NewJob>& jobs) const {
    std::vector<std::string> args{prefix(), std::to_string(now_unix_ms()),
                                  std::to_string(options_.queued_per_pipeline)};
    for (const auto& job : jobs) {
      for (auto& a : job_args(job)) args.push_back(std::move(a));
      args.push_back(std::to_string(job.inputs.size()));
      for (const auto& input : job.inputs) {
        args.push_back(input.field);
        args.push_back(*input.bytes);
      }
    }
    return eval(scripts::kAddBatch, std::move(args));
  }

  Command scheduled_command(const NewJob& job, const std::string& key,
                            const std::string& due) const {
    auto a = job_args(job);
    return eval(scripts::kAddScheduled, {prefix(), a[0], a[1], a[2], a[3], a[4],
                                         std::to_string(now_unix_ms()), a[5], key, due});
  }

  // On the writer's thread: joins the open batch, or opens one and sends it after the adds
  // already waiting for this thread.
  Task<void> join_batch(NewJob job) {
    auto batch = open_batch_;
    // A full batch goes as it is (Redis reads a client's command into one buffer, 1 GB at
    // most); this job opens the next.
    if (!batch || batch->bytes >= kMaxBatchBytes) {
      batch = open_batch_ = std::make_shared<Batch>(write_thread_.get_executor());
      asio::post(write_thread_, [this, batch] { commit_batch(batch); });
    }
    const std::size_t index = batch->jobs.size();
    for (const auto& input : job.inputs) batch->bytes += input.bytes->size();
    batch->jobs.push_back(std::move(job));
    boost::system::error_code ignored;
    co_await batch->done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (batch->errors[index]) std::rethrow_exception(batch->errors[index]);
  }

  void commit_batch(std::shared_ptr<Batch> batch) {
    if (open_batch_ == batch) open_batch_.reset();
    batch->errors.resize(batch->jobs.size());
    try {
      // One command for the batch: one fsync with appendfsync always (redis_scripts.cpp).
      auto reply = writer_.call(batch_command(batch->jobs));
      if (const auto error = reply_error(reply.get()); !error.empty())
        throw Error(ErrorClass::unavailable, "redis at " + address_.display() + ": " + error);
      for (std::size_t i = 0; i < batch->jobs.size(); ++i)
        if (reply_integer(reply_at(reply.get(), i)) < 0)
          batch->errors[i] = std::make_exception_ptr(Error(
              ErrorClass::rate_limited, "pipeline '" + batch->jobs[i].pipeline + "' has " +
                                            std::to_string(options_.queued_per_pipeline) +
                                            " jobs waiting to start across the cluster, its limit "
                                            "(limits.queued_jobs_per_pipeline): try again later"));
    } catch (...) {
      std::fill(batch->errors.begin(), batch->errors.end(), std::current_exception());
    }
    batch->done.cancel();
  }

  // ---- the queue, on the ops thread ------------------------------------------------------

  std::optional<ClaimedJob> claim_now() {
    for (;;) {
      if (waiting_.empty()) fill_waiting();
      if (waiting_.empty()) return std::nullopt;
      auto next = std::move(waiting_.front());
      waiting_.pop_front();
      if (auto job = start(next)) return job;
    }
  }

  // Entries from idle consumers first (a dead node's jobs), then new ones: at most one per
  // stream, so a node takes no more than it is about to start.
  void fill_waiting() {
    if (streams_.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_autoclaim_) {
      next_autoclaim_ = now + std::max(options_.claim_idle / 4, std::chrono::milliseconds(250));
      for (const auto& stream : streams_) autoclaim(stream);
      if (now >= next_forget_) {
        next_forget_ = now + kForgetEvery;
        for (const auto& stream : streams_) forget_gone_consumers(stream);
      }
      if (!waiting_.empty()) return;
    }
    Command read{"XREADGROUP", "GROUP", kGroup, node_, "COUNT", "1", "STREAMS"};
    read.insert(read.end(), streams_.begin(), streams_.end());
    read.insert(read.end(), streams_.size(), ">");
    auto r = ops_.call(read);
    if (reply_error(r.get()).rfind("NOGROUP", 0) == 0) {  // Redis lost its data: start again
      create_groups(ops_);
      r = ops_.call(read);
    }
    if (const auto error = reply_error(r.get()); !error.empty())
      throw Error(ErrorClass::unavailable, "redis XREADGROUP: " + error);
    for (std::size_t s = 0; s < reply_size(r.get()); ++s) {
      const auto* stream = reply_at(r.get(), s);
      const auto name = reply_string(reply_at(stream, 0));
      const auto* entries = reply_at(stream, 1);
      for (std::size_t i = 0; i < reply_size(entries); ++i) add_waiting(name, reply_at(entries, i));
    }
  }

  // A few at a time, so this node does not hold more than it can start soon; when there
  // were that many, the next claim looks again at once rather than after the interval.
  void autoclaim(const std::string& stream) {
    constexpr std::size_t kBatch = 8;
    auto r =
        ops_.call({"XAUTOCLAIM", stream, kGroup, node_, std::to_string(options_.claim_idle.count()),
                   "0-0", "COUNT", std::to_string(kBatch)});
    if (!reply_error(r.get()).empty()) return;  // NOGROUP: XREADGROUP recreates it
    const auto* entries = reply_at(r.get(), 1);
    for (std::size_t i = 0; i < reply_size(entries); ++i) add_waiting(stream, reply_at(entries, i));
    if (reply_size(entries) == kBatch) next_autoclaim_ = {};
  }

  // Every start with a random node id adds a consumer to the group; once such a consumer
  // holds nothing and has been silent for long, it is a node that is gone. A live node
  // reads every second, and one removed by mistake is recreated by its next read.
  void forget_gone_consumers(const std::string& stream) {
    auto r = ops_.call({"XINFO", "CONSUMERS", stream, kGroup});
    if (!reply_error(r.get()).empty()) return;
    const auto silent_for =
        std::max<std::chrono::milliseconds>(options_.claim_idle * 10, kForgetEvery);
    for (std::size_t i = 0; i < reply_size(r.get()); ++i) {
      const auto* c = reply_at(r.get(), i);
      std::string name;
      std::int64_t pending = -1, idle = 0;
      for (std::size_t f = 0; f + 1 < reply_size(c); f += 2) {
        const auto field = reply_string(reply_at(c, f));
        if (field == "name") name = reply_string(reply_at(c, f + 1));
        if (field == "pending") pending = reply_integer(reply_at(c, f + 1));
        if (field == "idle") idle = reply_integer(reply_at(c, f + 1));
      }
      if (pending == 0 && name != node_ && idle > silent_for.count())
        ops_.call({"XGROUP", "DELCONSUMER", stream, kGroup, name});
    }
  }

  void add_waiting(const std::string& stream, const redisReply* entry) {
    const auto id = reply_string(reply_at(entry, 0));
    const auto* fields = reply_at(entry, 1);
    std::string job_id;
    for (std::size_t f = 0; f + 1 < reply_size(fields); f += 2)
      if (reply_string(reply_at(fields, f)) == "id") job_id = reply_string(reply_at(fields, f + 1));
    waiting_.push_back({stream, id, job_id});
  }

  std::optional<ClaimedJob> start(const Held& held) {
    const auto pipeline = held.stream.substr(prefix().size() + 2);
    JobResult dead;
    dead.id = held.job_id;
    dead.pipeline = pipeline;
    dead.status = "failed";
    dead.error = "dead-lettered after " + std::to_string(options_.max_deliveries) +
                 " deliveries: each run ended without a result (its node stopped or lost "
                 "Redis; queue_max_deliveries)";
    dead.error_class = ErrorClass::internal;
    dead.started_at = dead.finished_at = std::chrono::system_clock::now();
    auto r = ops_.must(eval(scripts::kClaim,
                            {prefix(), held.stream, kGroup, held.entry, held.job_id, node_,
                             std::to_string(now_unix_ms()), std::to_string(options_.max_deliveries),
                             job_result_to_json(dead).dump()}));
    if (reply_integer(reply_at(r.get(), 0)) != 1) return std::nullopt;
    ClaimedJob job;
    job.id = held.job_id;
    job.pipeline = pipeline;
    job.request = jobs::request_from_json(json::parse(reply_string(reply_at(r.get(), 1))));
    job.runs = static_cast<int>(reply_integer(reply_at(r.get(), 2)));
    job.created_at = from_unix_ms(reply_integer(reply_at(r.get(), 3)));
    const auto* inputs = reply_at(r.get(), 4);
    for (std::size_t i = 0; i + 1 < reply_size(inputs); i += 2)
      job.request.files[reply_string(reply_at(inputs, i))] =
          std::make_shared<const std::string>(reply_string(reply_at(inputs, i + 1)));
    held_[job.id] = held;
    return job;
  }

  Command finish_command(const JobResult& result) const {
    std::vector<std::string> args{prefix(),
                                  result.id,
                                  result.status,
                                  job_result_to_json(result).dump(),
                                  std::to_string(now_unix_ms()),
                                  kGroup};
    for (std::size_t i = 0; i < result.items.size(); ++i)
      for (std::size_t n = 0; n < result.items[i].outputs.size(); ++n)
        if (const auto& data = result.items[i].outputs[n].data) {
          args.push_back(jobs::redis::output_key(i, n));
          args.push_back(*data);
        }
    return eval(scripts::kFinish, std::move(args));
  }

  int hand_back_now() {
    waiting_.clear();
    held_.clear();
    int n = 0;
    for (const auto& stream : streams_) {
      auto pending = ops_.call({"XPENDING", stream, kGroup, "-", "+", "100000", node_});
      if (!reply_error(pending.get()).empty()) continue;  // no group yet: nothing pending
      for (std::size_t i = 0; i < reply_size(pending.get()); ++i) {
        const auto entry = reply_string(reply_at(reply_at(pending.get(), i), 0));
        auto r = ops_.must(eval(scripts::kHandBack, {prefix(), stream, kGroup, entry}));
        n += static_cast<int>(reply_integer(r.get()));
      }
    }
    return n;
  }

  // While a job runs its node says so: XCLAIM with JUSTID resets the entry's idle time,
  // so XAUTOCLAIM on other nodes leaves it alone however long the job takes.
  Task<void> refresh_claims() {
    const auto every = std::max(options_.claim_idle / 3, std::chrono::milliseconds(100));
    while (!stopping_) {
      refresh_timer_.expires_after(every);
      boost::system::error_code ec;
      co_await refresh_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping_) break;
      std::map<std::string, Command> by_stream;
      auto hold = [&](const Held& h) {
        auto& c = by_stream[h.stream];
        if (c.empty()) c = {"XCLAIM", h.stream, kGroup, node_, "0"};
        c.push_back(h.entry);
      };
      for (const auto& [id, h] : held_) hold(h);
      for (const auto& h : waiting_) hold(h);
      for (auto& [stream, command] : by_stream) {
        command.push_back("JUSTID");
        try {
          ops_.call(command);
        } catch (const std::exception&) {
          // Redis is away: the claims lapse if it stays away longer than claim_idle.
        }
      }
    }
  }

  RedisStoreOptions options_;
  jobs::redis::RedisAddress address_;
  std::string node_;
  std::vector<std::string> streams_;
  std::shared_ptr<jobs::redis::ReconnectSignal> reconnects_ =
      std::make_shared<jobs::redis::ReconnectSignal>();
  Connection writer_;                  // the writer thread's
  Connection ops_;                     // the ops thread's
  std::shared_ptr<Batch> open_batch_;  // writer thread only
  // Ops thread only: entries claimed and not yet started, and those running here.
  std::deque<Held> waiting_;
  std::map<std::string, Held> held_;
  std::chrono::steady_clock::time_point next_autoclaim_{};
  std::chrono::steady_clock::time_point next_forget_{};
  bool stopping_ = false;
  asio::thread_pool write_thread_{1};
  asio::thread_pool ops_thread_{1};
  asio::steady_timer refresh_timer_{ops_thread_};
};

}  // namespace

std::unique_ptr<JobStore> open_redis_job_store(RedisStoreOptions options) {
  return std::make_unique<RedisJobStore>(std::move(options));
}

}  // namespace imagepipe
