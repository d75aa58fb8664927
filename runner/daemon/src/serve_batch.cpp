#include "serve_batch.hpp"

#include "serve_outcomes.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

std::string count_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " request" : " requests");
}

// The array, or a problem naming what is wrong with it.
std::optional<json> read_array(const Pipeline& pipeline, const Request& request,
                               const TriggerContext& context, std::vector<FieldProblem>& problems) {
  const std::size_t most = pipeline.trigger.http->batch->max_items;
  const std::string exempt =
      pipeline.source.from == SourceSpec::From::request ? pipeline.source.field : "";
  if (exceeded_json_limit(request.body, context.json_limits, exempt) != JsonLimit::none) {
    problems.push_back({{"body"},
                        "over the limits for request bodies (depth, string length, members)",
                        "json_invalid"});
    return std::nullopt;
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    problems.push_back({{"body"}, "malformed JSON", "json_invalid"});
    return std::nullopt;
  }
  if (!body.is_array() || body.empty() || body.size() > most) {
    problems.push_back({{"body"},
                        "must be a JSON array of 1 to " + count_text(most) +
                            (body.is_array() ? ", got " + count_text(body.size()) : ""),
                        body.is_array() ? "value_error" : "type_error"});
    return std::nullopt;
  }
  return body;
}

json answer_body(const Response& answer) {
  json body = json::parse(answer.body, nullptr, false);
  return body.is_discarded() ? json(answer.body) : body;
}

}  // namespace

Task<Response> handle_batch(const ServedPipeline& served, Request& request,
                            TriggerContext& context) {
  const auto& pipeline = *served.pipeline;
  const auto& http = *pipeline.trigger.http;
  if (!served.engine) co_return unavailable_response(served);
  if (auto refused = refuse_media_type(http, request, json::object()))
    co_return std::move(*refused);

  std::vector<FieldProblem> problems;
  const auto elements = read_array(pipeline, request, context, problems);
  if (!elements)
    co_return invalid_answer(http, problems, early_request_scope(request, json::object()));

  // Every element judged before any is stored: a batch is accepted whole or not at all.
  std::vector<NewJob> jobs;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    Request one = request;
    one.body = (*elements)[i].dump();
    auto checked = check_request(pipeline, one, context.egress, context.json_limits);
    for (auto& problem : checked.problems) {
      problem.loc.insert(problem.loc.begin() + 1, std::to_string(i));
      problems.push_back(std::move(problem));
    }
    jobs.push_back(std::move(checked.job));
  }
  if (!problems.empty())
    co_return invalid_answer(http, problems, early_request_scope(request, json::object()));

  const auto* request_id = request.header("x-request-id");
  std::vector<json> scopes;
  std::vector<Submission> submitted;
  for (auto& job : jobs) {
    scopes.push_back(request_scope(request_id ? *request_id : "", job.request));
    submitted.push_back(co_await submit_job(served, std::move(job), scopes.back(), context));
    // One that cannot be stored (the queue is full) answers for the batch; those already
    // stored run and are found under GET /jobs/{id}.
    if (submitted.back().refused) co_return std::move(*submitted.back().refused);
  }
  json ids = json::array();
  for (const auto& s : submitted) ids.push_back(s.id);
  if (http.mode != HttpTrigger::Mode::sync)
    co_return json_response(202, {{"accepted", true}, {"job_ids", std::move(ids)}});

  // The jobs run side by side; one deadline for them all, as for a single request.
  const auto deadline = std::chrono::steady_clock::now() + http.sync_wait;
  json answers = json::array();
  for (std::size_t i = 0; i < submitted.size(); ++i) {
    const auto left = std::max(std::chrono::milliseconds(0),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()));
    auto summary = co_await context.waiters.wait(submitted[i].id, submitted[i].waiter, left);
    answers.push_back(answer_body(summary
                                      ? finished_answer(http, *summary, scopes[i])
                                      : accepted_answer(http, submitted[i].id, scopes[i], true)));
  }
  co_return json_response(200, answers);
}

}  // namespace imagepipe::serve
