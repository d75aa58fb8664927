#include "serve_outcomes.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

struct ClassAnswer {
  std::string_view error_class;
  int status;
  int retry_after;  // seconds; 0: none
};

// Whose fault, and whether time helps: the caller's input is a 4xx; an upstream that
// refused our credentials is a 502, since the caller can do nothing about it; limits
// that pass with time carry Retry-After. The engine has already retried the retryable
// classes by the time a job fails, so these are answers, not invitations to hammer.
constexpr ClassAnswer kClassAnswers[] = {
    {"invalid_input", 422, 0},   {"content_policy", 422, 0}, {"not_found", 404, 0},
    {"billing_limit", 402, 0},   {"unauthorized", 502, 0},   {"rate_limited", 429, 30},
    {"quota_exceeded", 429, 60}, {"unavailable", 503, 30},   {"timeout", 504, 0},
    {"internal", 500, 0},
};

const ClassAnswer* class_answer(std::string_view error_class) {
  for (const auto& answer : kClassAnswers)
    if (answer.error_class == error_class) return &answer;
  return nullptr;
}

Response rendered(int status, const Template& body, const json& scope) {
  return json_response(status, body.render(scope));
}

// The class and message of a failed job: its own, else its first failed item's.
std::pair<std::string, std::string> failure_of(const json& summary) {
  std::string cls = summary.value("error_class", "");
  std::string message = summary.value("error", "");
  for (const auto& item : summary.value("items", json::array())) {
    if (item.value("status", "") != "failed") continue;
    if (cls.empty()) cls = item.value("error_class", "");
    if (message.empty()) {
      const std::string name = item.value("name", "");
      message = (name.empty() ? "" : name + ": ") + item.value("error", "");
    }
    break;
  }
  if (cls.empty()) cls = "internal";
  if (message.empty()) message = "the job failed";
  return {cls, message};
}

// The job root of a finished job's scope, from its summary.
json job_of(const json& summary) {
  json job = {{"id", summary.value("job_id", "")},
              {"pipeline", summary.value("pipeline", "")},
              {"status", summary.value("status", "")},
              {"error", summary.value("error", "")},
              {"error_class", summary.value("error_class", "")},
              {"started_at", summary.value("started_at", "")},
              {"finished_at", summary.value("finished_at", "")}};
  if (const auto* metrics = summary.contains("metrics") ? &summary["metrics"] : nullptr)
    job["duration_seconds"] = metrics->value("duration_seconds", 0.0);
  return job;
}

json finished_scope(const json& summary, const json& request) {
  return {{"job", job_of(summary)},
          {"items", summary.value("items", json::array())},
          {"metrics", summary.value("metrics", json::object())},
          {"sink", summary.value("sink", json::object())},
          {"request", request}};
}

}  // namespace

int failure_status(std::string_view error_class) {
  const auto* answer = class_answer(error_class);
  return answer ? answer->status : 500;
}

std::optional<int> failure_retry_after(std::string_view error_class) {
  const auto* answer = class_answer(error_class);
  if (!answer || answer->retry_after == 0) return std::nullopt;
  return answer->retry_after;
}

json request_scope(const std::string& request_id, const JobRequest& request) {
  json headers = json::object();
  for (const auto& [name, value] : request.headers) headers[name] = value;
  return {{"id", request_id},
          {"body", request.body},
          {"headers", std::move(headers)},
          {"query", request.query},
          {"path", request.path}};
}

Response accepted_answer(const HttpTrigger& http, const std::string& job_id, const json& request,
                         bool still_running) {
  json body = {{"accepted", true}, {"job_id", job_id}};
  if (still_running) body["status_url"] = "/jobs/" + job_id;
  Response answer = json_response(202, body);
  if (const auto& declared = http.responses.accepted) {
    const json scope = {{"job", {{"id", job_id}, {"status", "queued"}}}, {"request", request}};
    if (declared->status) answer.status = *declared->status;
    if (declared->body)
      answer.body = json_response(answer.status, declared->body->render(scope)).body;
  }
  answer.headers["Location"] = "/jobs/" + job_id;
  return answer;
}

Response finished_answer(const HttpTrigger& http, const json& summary, const json& request) {
  if (summary.value("status", "") != "failed") {
    const auto& declared = http.responses.completed;
    if (!declared) return json_response(200, summary);
    const int status = declared->status.value_or(200);
    if (!declared->body) return json_response(status, summary);
    return rendered(status, *declared->body, finished_scope(summary, request));
  }
  const auto [cls, message] = failure_of(summary);
  const auto& declared = http.responses.failed;
  int status = failure_status(cls);
  if (declared && declared->status) status = *declared->status;
  if (declared)
    if (auto it = declared->by_class.find(cls); it != declared->by_class.end()) status = it->second;

  const std::string job_id = summary.value("job_id", "");
  Response answer;
  if (declared && declared->body) {
    json scope = finished_scope(summary, request);
    scope["error"] = {
        {"status", status}, {"class", cls}, {"message", message}, {"detail", json::array()}};
    answer = rendered(status, *declared->body, scope);
  } else {
    answer =
        error_answer(http, status, message, request,
                     {{"error_class", cls}, {"job_id", job_id}, {"status_url", "/jobs/" + job_id}});
  }
  if (const auto retry = failure_retry_after(cls))
    answer.headers["Retry-After"] = std::to_string(*retry);
  answer.headers["Location"] = "/jobs/" + job_id;
  return answer;
}

Response invalid_answer(const HttpTrigger& http, const std::vector<FieldProblem>& problems,
                        const json& request) {
  Response standard = validation_response(problems);
  const auto& declared = http.responses.invalid_request;
  const int status = declared && declared->status ? *declared->status : 422;
  const Template* body = declared && declared->body ? &*declared->body
                         : http.responses.error     ? &*http.responses.error
                                                    : nullptr;
  if (!body) {
    standard.status = status;
    return standard;
  }
  const json parsed = json::parse(standard.body);
  const json scope = {{"error",
                       {{"status", status},
                        {"class", "invalid_input"},
                        {"message", parsed["error"]},
                        {"detail", parsed["detail"]}}},
                      {"request", request}};
  return rendered(status, *body, scope);
}

Response error_answer(const HttpTrigger& http, int status, const std::string& message,
                      const json& request, json extra) {
  if (!http.responses.error) {
    json body = {{"error", message}};
    body.update(extra);
    return json_response(status, body);
  }
  const json scope = {
      {"error",
       {{"status", status},
        {"class", extra.value("error_class", status >= 500 ? "internal" : "invalid_input")},
        {"message", message},
        {"detail", json::array()}}},
      {"request", request}};
  return rendered(status, *http.responses.error, scope);
}

}  // namespace imagepipe::serve
