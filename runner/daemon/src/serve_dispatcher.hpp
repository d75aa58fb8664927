// Takes queued jobs from the store and runs them, at most `jobs_in_flight` at a time, each
// on its own strand (Engine::run needs one). A finished job's result is stored together
// with its callback, then the outbox is woken.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include <boost/asio/strand.hpp>

#include "jobs/jobs.hpp"
#include "serve_pipelines.hpp"
#include "serve_running_jobs.hpp"
#include "serve_waiters.hpp"

namespace imagepipe::serve {

class Dispatcher {
 public:
  Dispatcher(asio::io_context& io, JobStore& store, const PipelineSet& pipelines,
             JobWaiters& waiters, int max_in_flight, Metrics& metrics,
             std::shared_ptr<spdlog::logger> log, std::function<void()> on_finished,
             std::function<void(const std::string& job_id)> on_started = {});
  ~Dispatcher();

  void start();
  void wake();  // a job was added
  // Stops taking jobs and waits up to `grace` for the running ones. Returns how many are
  // still running (their rows stay `running` and the caller re-queues them).
  Task<int> drain(std::chrono::milliseconds grace);
  int in_flight() const { return in_flight_; }
  RunningJobs& running() { return running_; }

 private:
  Task<void> loop();
  Task<void> run_job(ClaimedJob job);
  Task<int> drain_on_strand(std::chrono::milliseconds grace);

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer wake_timer_;
  asio::steady_timer idle_timer_;  // cancelled when the last running job ends while draining
  JobStore& store_;
  const PipelineSet& pipelines_;
  JobWaiters& waiters_;
  const int max_in_flight_;
  Metrics& metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void()> on_finished_;
  std::function<void(const std::string&)> on_started_;  // a claimed job leaves the queue
  RunningJobs running_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace imagepipe::serve
