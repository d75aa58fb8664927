#include "serve_outbox.hpp"

#include <boost/asio/redirect_error.hpp>

#include "imagepipe/logging.hpp"
#include "serve_trace.hpp"

namespace imagepipe::serve {

namespace {
// Even with nothing due, look again this often: another process may share the store.
constexpr std::chrono::seconds kMaxIdle{5};
}  // namespace

Outbox::Outbox(asio::io_context& io, JobStore& store, const PipelineSet& pipelines,
               CallbackPolicy policy, int max_in_flight, Metrics& metrics,
               std::shared_ptr<spdlog::logger> log, const CredentialSealer& sealer)
    : io_(io),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      idle_timer_(strand_),
      store_(store),
      sealer_(sealer),
      pipelines_(pipelines),
      policy_(policy),
      max_in_flight_(max_in_flight),
      metrics_(metrics),
      log_(std::move(log)) {
  metrics_.describe("imagepipe_callback_attempts_total",
                    "Callback deliveries attempted, by outcome");
}

void Outbox::start() { asio::co_spawn(strand_, loop(), asio::detached); }

void Outbox::wake() {
  wake_pending_ = true;
  asio::post(strand_, [this] { timer_.cancel(); });
}

Task<void> Outbox::loop() {
  while (!stopping_) {
    auto wait = std::chrono::milliseconds(kMaxIdle);
    try {
      const int free = max_in_flight_ - in_flight_;
      if (free > 0) {
        auto due = co_await store_.due_callbacks(std::chrono::system_clock::now(), free);
        for (auto& callback : due) spawn_delivery(std::move(callback));
        if (static_cast<int>(due.size()) == free) continue;  // more may be due
      }
      if (auto next = co_await store_.next_callback_at()) {
        auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
            *next - std::chrono::system_clock::now());
        wait = std::clamp(until, std::chrono::milliseconds(0), wait);
      }
    } catch (const std::exception& e) {
      log_->error("outbox: cannot read pending callbacks: {}", e.what());
    }
    if (wake_pending_.exchange(false)) continue;
    if (in_flight_ >= max_in_flight_)
      wait = kMaxIdle;  // a delivery ending wakes us
    else if (wait.count() == 0)
      continue;
    timer_.expires_after(wait);
    boost::system::error_code ignored;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

Task<void> Outbox::deliver(DueCallback callback) {
  const auto* served = pipelines_.find(callback.pipeline);
  std::exception_ptr failure;
  try {
    if (!served || !served->engine)
      throw Error(ErrorClass::unavailable,
                  "pipeline '" + callback.pipeline + "' is not running in this process");
    if (const auto& http = served->pipeline->trigger.http)
      restore_callback_credentials(callback.request, http->callback_header, sealer_);
    co_await served->engine->notify(callback.result, callback.request);
  } catch (...) {
    failure = std::current_exception();
  }
  const auto attempt = judge(callback, failure);
  metrics_.inc("imagepipe_callback_attempts_total",
               {{"pipeline", callback.pipeline}, {"outcome", attempt.outcome}});
  const auto id = callback.job_id.substr(0, 8);
  if (attempt.outcome == "retry")
    log_->warn("job {}: callback attempt {} failed ({}), retrying in {} ms", id, attempt.attempt,
               attempt.error,
               std::chrono::duration_cast<std::chrono::milliseconds>(*attempt.next_at - attempt.at)
                   .count());
  else if (attempt.outcome == "failed")
    log_->error("job {}: callback failed for good after {} attempt(s): {}", id, attempt.attempt,
                attempt.error);
  try {
    co_await store_.record_attempt(callback.job_id, attempt);
  } catch (const std::exception& e) {
    // The lease runs out and the callback is attempted again: at-least-once.
    log_->error("job {}: cannot record callback attempt: {}", id, e.what());
  }
}

CallbackAttempt Outbox::judge(const DueCallback& callback,
                              const std::exception_ptr& failure) const {
  CallbackAttempt attempt;
  attempt.attempt = callback.attempts + 1;
  attempt.at = std::chrono::system_clock::now();
  if (!failure) {
    attempt.outcome = "delivered";
    return attempt;
  }
  ErrorClass cls = ErrorClass::internal;
  std::optional<std::chrono::milliseconds> retry_after;
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    cls = e.cls();
    retry_after = e.retry_after();
    attempt.error = redact_secrets(e.what());
  } catch (const std::exception& e) {
    attempt.error = redact_secrets(e.what());
  }
  attempt.error_class = std::string(to_string(cls));
  attempt.outcome = "failed";
  if (!callback_retryable(cls)) return attempt;
  if (attempt.attempt >= policy_.max_attempts) {
    attempt.error += "; giving up after " + std::to_string(attempt.attempt) +
                     " attempts (callbacks.max_attempts)";
    return attempt;
  }
  const auto delay = callback_backoff(policy_, attempt.attempt, retry_after);
  const auto next = attempt.at + delay;
  if (next - callback.created_at > policy_.max_age) {
    attempt.error += "; giving up: the next attempt would come after callbacks.max_age_seconds";
    return attempt;
  }
  attempt.outcome = "retry";
  attempt.next_at = next;
  return attempt;
}

void Outbox::spawn_delivery(DueCallback callback) {
  ++in_flight_;
  // The receiver sees the trace of the request that created the job.
  const auto trace = job_trace(callback.request);
  asio::co_spawn(traced(asio::make_strand(io_), trace), deliver(std::move(callback)),
                 [this](std::exception_ptr) {
                   if (--in_flight_ == 0 && stopping_)
                     asio::post(strand_, [this] { idle_timer_.cancel(); });
                   wake();
                 });
}

// A member coroutine rather than a lambda: g++ 12 loses a coroutine lambda's captures.
Task<void> Outbox::stop(std::chrono::milliseconds grace) {
  co_await asio::co_spawn(strand_, stop_on_strand(grace), asio::use_awaitable);
}

Task<void> Outbox::stop_on_strand(std::chrono::milliseconds grace) {
  stopping_ = true;
  timer_.cancel();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  boost::system::error_code ignored;
  // Jobs that ended while the server was stopping have their first attempt due now:
  // make it before going, rather than leave it to the next start. Attempts that fail here
  // are retried by the next start, as their outbox rows say.
  for (;;) {
    if (in_flight_ > 0) {
      idle_timer_.expires_at(deadline);
      co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::vector<DueCallback> due;
    try {
      due = co_await store_.due_callbacks(std::chrono::system_clock::now(), max_in_flight_);
    } catch (const std::exception& e) {
      log_->error("outbox: cannot read pending callbacks: {}", e.what());
    }
    // A delivery the loop started just before stopping is not "due" (it is leased): wait
    // for it as well.
    if (due.empty() && in_flight_ == 0) break;
    for (auto& callback : due) spawn_delivery(std::move(callback));
  }
}

}  // namespace imagepipe::serve
