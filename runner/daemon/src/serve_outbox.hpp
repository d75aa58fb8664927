// Delivers callbacks from the store's outbox: every finished job that asked for one gets
// it, across restarts, with retries on connection errors, timeouts, 5xx and 429 (backoff
// with jitter, Retry-After honoured) until callbacks.max_attempts or max_age_seconds.
// Each attempt is recorded and shows in GET /jobs/{id}.
#pragma once

#include <atomic>
#include <memory>

#include <boost/asio/strand.hpp>

#include "jobs/jobs.hpp"
#include "serve_credentials.hpp"
#include "serve_pipelines.hpp"

namespace imagepipe::serve {

class Outbox {
 public:
  Outbox(asio::io_context& io, JobStore& store, const PipelineSet& pipelines, CallbackPolicy policy,
         int max_in_flight, Metrics& metrics, std::shared_ptr<spdlog::logger> log,
         const CredentialSealer& sealer);

  void start();
  void wake();  // a job finished
  // Stops the delivery loop, makes the attempts due now (jobs that ended during the
  // shutdown) and waits up to `grace` for deliveries under way. An interrupted delivery
  // is attempted again after the next start.
  Task<void> stop(std::chrono::milliseconds grace);

 private:
  Task<void> loop();
  Task<void> deliver(DueCallback callback);
  Task<void> stop_on_strand(std::chrono::milliseconds grace);
  void spawn_delivery(DueCallback callback);
  CallbackAttempt judge(const DueCallback& callback, const std::exception_ptr& failure) const;

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  asio::steady_timer idle_timer_;
  JobStore& store_;
  const CredentialSealer& sealer_;
  const PipelineSet& pipelines_;
  CallbackPolicy policy_;
  const int max_in_flight_;
  Metrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace imagepipe::serve
