// One pipeline's HTTP trigger: checks the request (body schema, callback header, input
// image), commits the job, answers 202 (async) or waits for the summary (sync).
// Everything that can be judged from the request is judged here, before the 202, so a
// bad request gets a 4xx naming the field rather than a failed job later.
#pragma once

#include "imagepipe/egress.hpp"
#include "jobs/jobs.hpp"
#include "json_field_scan.hpp"
#include "serve_credentials.hpp"
#include "serve_path_match.hpp"
#include "serve_pipelines.hpp"
#include "serve_queue_limit.hpp"
#include "serve_responses.hpp"
#include "serve_waiters.hpp"

namespace imagepipe::serve {

struct TriggerContext {
  JobStore& store;
  JobWaiters& waiters;
  const EgressPolicy& egress;
  JsonLimits json_limits;
  const CredentialSealer& sealer;   // callback URLs' credentials, before they are stored
  std::function<void()> job_added;  // wakes the dispatcher
  std::shared_ptr<spdlog::logger> log;
  QueuedJobs* queued = nullptr;  // limits.queued_jobs_per_pipeline; null: no limit
};

// `a=1&b=x%20y` → {"a": "1", "b": "x y"}: request.query in templates.
nlohmann::json parse_query(const std::string& query);

// A route's `{name}` segments as matched (serve_path_match.hpp), before their schemas.
using PathValues = std::map<std::string, std::string>;

// `path` by value: the coroutine outlives the caller's temporaries.
Task<Response> handle_trigger(const ServedPipeline& served, Request& request,
                              TriggerContext& context, PathValues path = {});

// The checks alone, for tests of the messages: problems found in `request`, and on
// success the job to store.
struct CheckedRequest {
  std::vector<FieldProblem> problems;
  NewJob job;
};
CheckedRequest check_request(const Pipeline& pipeline, Request& request, const EgressPolicy& egress,
                             const JsonLimits& limits = {}, const PathValues& path = {});

}  // namespace imagepipe::serve
