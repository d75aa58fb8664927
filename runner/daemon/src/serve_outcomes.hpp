// A job route's answers, outcome by outcome: accepted, completed, failed (by error class),
// invalid request, and the envelope of every other error. Each is the daemon's default
// unless the pipeline declares it in trigger.http.responses (status, body template), so a
// client's contract (seed 004's {success, error, message, correlation_id}) is
// configuration. Without declarations the answers are byte for byte what they always were,
// except that a failed sync job is no longer a 200.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "imagepipe/engine.hpp"
#include "imagepipe/pipeline.hpp"
#include "serve_responses.hpp"

namespace imagepipe::serve {

// The status a failed job answers with, by its error class (see docs/daemon.md).
int failure_status(std::string_view error_class);
// Seconds a client should wait before trying again, for the classes that pass with time.
std::optional<int> failure_retry_after(std::string_view error_class);

// `request` as templates in responses see it: {id, body, headers, query, path}.
nlohmann::json request_scope(const std::string& request_id, const JobRequest& request);

Response accepted_answer(const HttpTrigger& http, const std::string& job_id,
                         const nlohmann::json& request, bool still_running);
// A finished sync job: completed (with or without errors) or failed.
Response finished_answer(const HttpTrigger& http, const nlohmann::json& summary,
                         const nlohmann::json& request);
Response invalid_answer(const HttpTrigger& http, const std::vector<FieldProblem>& problems,
                        const nlohmann::json& request);
// Any other error of the route, in its declared envelope or as {"error": message, ...extra}.
Response error_answer(const HttpTrigger& http, int status, const std::string& message,
                      const nlohmann::json& request,
                      nlohmann::json extra = nlohmann::json::object());

}  // namespace imagepipe::serve
