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

// The pieces handle_trigger is made of, shared with the batch route (serve_batch.hpp).
// The answer while the pipeline cannot run (a requirement unmet).
Response unavailable_response(const ServedPipeline& served);
// 415 for a body that is not JSON or is content-encoded; nullopt when it may be read.
std::optional<Response> refuse_media_type(const HttpTrigger& http, const Request& request,
                                          const nlohmann::json& path);
// The request scope of an answer given before a job exists.
nlohmann::json early_request_scope(const Request& request, const nlohmann::json& path);
// A checked job committed to the store (and counted against the queue limit), with a
// waiter registered first when the route is sync; or the answer that refused it.
struct Submission {
  std::string id;
  std::shared_ptr<JobWaiters::Waiter> waiter;
  std::optional<Response> refused;
};
Task<Submission> submit_job(const ServedPipeline& served, NewJob job, const nlohmann::json& scope,
                            TriggerContext& context);

// The checks alone, for tests of the messages: problems found in `request`, and on
// success the job to store.
struct CheckedRequest {
  std::vector<FieldProblem> problems;
  NewJob job;
};
CheckedRequest check_request(const Pipeline& pipeline, Request& request, const EgressPolicy& egress,
                             const JsonLimits& limits = {}, const PathValues& path = {});

}  // namespace imagepipe::serve
