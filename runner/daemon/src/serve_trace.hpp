// Where the daemon takes a request's W3C trace context and hands it on: every request
// leaves the router with a valid `traceparent` header (the caller's, or a new trace when
// it sent none or an invalid one), the job stores it with its other headers, and the
// job's run and its callbacks are spawned with it current (imagepipe/trace.hpp).
#pragma once

#include <map>
#include <string>

#include "imagepipe/engine.hpp"
#include "imagepipe/trace.hpp"

namespace imagepipe::serve {

constexpr const char* kTraceparent = "traceparent";

// The request's trace, made valid in `headers` (lower-case names) and returned.
TraceContext adopt_trace(std::map<std::string, std::string>& headers);
// A stored job's trace; a new one for jobs without (schedules, jobs stored before).
TraceContext job_trace(const JobRequest& request);

}  // namespace imagepipe::serve
