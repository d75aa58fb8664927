// The jobs API: GET /jobs (filters, cursor paging, newest first), GET /jobs/{id}, GET
// /jobs/{id}/items (a job's items a page at a time, by index), POST /jobs/{id}/cancel,
// POST /jobs/{id}/callbacks/retry and the results' thumbnails
// (GET /jobs/{id}/items/{n}/thumbnail, serve_thumbnails.hpp). Behind the daemon's
// authentication like every non-exempt route (the router admits the caller first).
#pragma once

#include <functional>
#include <string>

#include "jobs/jobs.hpp"
#include "serve_http.hpp"
#include "serve_running_jobs.hpp"
#include "serve_thumbnails.hpp"

namespace imagepipe::serve {

struct JobsApiHooks {
  RunningJobs* running = nullptr;                      // to stop a running job
  std::function<void(const std::string&)> left_queue;  // a queued job was cancelled
  std::function<void()> wake_outbox;                   // a callback is due again
  Thumbnails* thumbnails = nullptr;                    // /jobs/{id}/items/{n}/thumbnail
};

class JobsApi {
 public:
  JobsApi(JobStore& store, JobsApiHooks hooks) : store_(store), hooks_(std::move(hooks)) {}

  // Whether `path` is this API's (/jobs or below it).
  static bool owns(const std::string& path);
  // Sets request.route (the pattern, for metrics) and answers.
  Task<Response> handle(Request& request);

 private:
  Task<Response> list(const Request& request);
  Task<Response> show(const std::string& id);
  Task<Response> items(const std::string& id, const Request& request);
  Task<Response> cancel(const std::string& id);
  Task<Response> retry_callback(const std::string& id);

  JobStore& store_;
  JobsApiHooks hooks_;
};

}  // namespace imagepipe::serve
