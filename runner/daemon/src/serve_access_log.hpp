// The access log: one info line per answered request. Operators read who asked what and
// how it went without turning on debug; with --log-format json each part is a field
// (method, route, path, status, bytes, duration_ms, request_id, job_id, trace_id,
// remote), so a log pipeline filters on them without parsing `msg`.
#pragma once

#include <spdlog/logger.h>

#include "serve_http.hpp"

namespace imagepipe::serve {

void log_request(spdlog::logger& log, const Request& request, const Answered& answered);

}  // namespace imagepipe::serve
