#include "serve_dispatcher.hpp"

#include <boost/asio/redirect_error.hpp>

#include "imagepipe/logging.hpp"
#include "jobs/store_item_sink.hpp"
#include "serve_trace.hpp"

namespace imagepipe::serve {

namespace {
// Jobs are also added by other processes sharing the data directory, and a wake-up can
// be lost in a crash window: look at the queue at least this often.
constexpr std::chrono::seconds kPollInterval{1};

std::string short_id(const std::string& id) { return id.substr(0, 8); }
}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, JobStore& store, const PipelineSet& pipelines,
                       JobWaiters& waiters, int max_in_flight, Metrics& metrics,
                       std::shared_ptr<spdlog::logger> log, std::function<void()> on_finished,
                       std::function<void(const std::string&)> on_started)
    : io_(io),
      strand_(asio::make_strand(io)),
      wake_timer_(strand_),
      idle_timer_(strand_),
      store_(store),
      pipelines_(pipelines),
      waiters_(waiters),
      max_in_flight_(max_in_flight),
      metrics_(metrics),
      log_(std::move(log)),
      on_finished_(std::move(on_finished)),
      on_started_(std::move(on_started)) {
  metrics_.describe("imagepipe_job_queue_seconds",
                    "Time from acceptance to the start of a job's first run");
  metrics_.describe("imagepipe_job_run_seconds", "Time a job took to run, notifiers excluded");
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::start() { asio::co_spawn(strand_, loop(), asio::detached); }

void Dispatcher::wake() {
  wake_pending_ = true;
  asio::post(strand_, [this] { wake_timer_.cancel(); });
}

Task<void> Dispatcher::loop() {
  while (!stopping_) {
    while (!stopping_ && in_flight_ < max_in_flight_) {
      std::optional<ClaimedJob> job;
      try {
        job = co_await store_.claim_next();
      } catch (const std::exception& e) {
        log_->error("cannot take a job from the store: {}", e.what());
        break;
      }
      if (!job) break;
      if (on_started_) on_started_(job->id);
      ++in_flight_;
      // The job's outbound requests and log lines carry its request's trace (trace.hpp).
      const auto trace = job_trace(job->request);
      asio::co_spawn(traced(asio::make_strand(io_), trace), run_job(std::move(*job)),
                     [this](std::exception_ptr) {
                       if (--in_flight_ == 0 && stopping_)
                         asio::post(strand_, [this] { idle_timer_.cancel(); });
                       wake();
                     });
    }
    if (wake_pending_.exchange(false)) continue;
    wake_timer_.expires_after(kPollInterval);
    boost::system::error_code ignored;
    co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

Task<void> Dispatcher::run_job(ClaimedJob job) {
  const auto* served = pipelines_.find(job.pipeline);
  const auto started = std::chrono::system_clock::now();
  if (job.runs == 1)
    metrics_.observe("imagepipe_job_queue_seconds", {{"pipeline", job.pipeline}},
                     std::chrono::duration<double>(started - job.created_at).count());
  if (job.runs > 1)
    log_->warn("job {}: taken up again (run {}), it was running when the server stopped",
               short_id(job.id), job.runs);

  const auto cancel = running_.started(job.id);
  job.request.cancelled = [cancel] { return cancel->load(); };
  JobResult result;
  if (!job.unreadable.empty()) {
    result.status = "failed";
    result.error = "the job's stored images cannot be read: " + job.unreadable;
    result.error_class = ErrorClass::unavailable;
  } else if (served && served->engine) {
    try {
      // Items are stored as they finish: the result keeps the first ones and the counts.
      std::optional<StoreItemSink> items;
      if (auto* item_store = store_.item_store()) items.emplace(*item_store, job.id);
      result = co_await served->engine->run(std::move(job.request), job.id, {},
                                            items ? &*items : nullptr);
    } catch (const std::exception& e) {
      // The engine records item failures itself; reaching here is a bug, but the job
      // must still end and its callback still go out.
      result.status = "failed";
      result.error = redact_secrets(std::string("internal error: ") + e.what());
      result.error_class = ErrorClass::internal;
    }
  } else {
    result.status = "failed";
    result.error = served ? "pipeline '" + job.pipeline + "' cannot run: " + served->unavailable
                          : "pipeline '" + job.pipeline + "' is not served by this process";
    result.error_class = ErrorClass::unavailable;
  }
  running_.ended(job.id);
  // Cancelled while its last items ran: it still ends as cancelled, results kept.
  if (*cancel) result.status = "cancelled";
  result.id = job.id;
  result.pipeline = job.pipeline;
  if (result.started_at == TimePoint{}) result.started_at = started;
  if (result.finished_at == TimePoint{}) result.finished_at = std::chrono::system_clock::now();
  metrics_.observe("imagepipe_job_run_seconds", {{"pipeline", job.pipeline}},
                   std::chrono::duration<double>(result.finished_at - result.started_at).count());

  try {
    co_await store_.finish(result);
  } catch (const std::exception& e) {
    // The row stays `running`; the next start takes the job up again.
    log_->error("job {}: cannot store its result: {}", short_id(job.id), e.what());
    co_return;
  }
  waiters_.finished(job.id, job_summary(result));
  if (on_finished_) on_finished_();
}

// A member coroutine rather than a lambda: g++ 12 loses a coroutine lambda's captures.
Task<int> Dispatcher::drain(std::chrono::milliseconds grace) {
  co_return co_await asio::co_spawn(strand_, drain_on_strand(grace), asio::use_awaitable);
}

Task<int> Dispatcher::drain_on_strand(std::chrono::milliseconds grace) {
  stopping_ = true;
  wake_timer_.cancel();
  if (in_flight_ > 0) {
    idle_timer_.expires_after(grace);
    boost::system::error_code ignored;
    co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  co_return in_flight_.load();
}

}  // namespace imagepipe::serve
