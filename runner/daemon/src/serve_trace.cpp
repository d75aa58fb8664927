#include "serve_trace.hpp"

namespace imagepipe::serve {

TraceContext adopt_trace(std::map<std::string, std::string>& headers) {
  auto it = headers.find(kTraceparent);
  // An invalid header is dropped rather than answered 400: the spec asks receivers to
  // start a new trace, and a tracing bug in a client must not break its requests.
  auto trace = it == headers.end() ? std::nullopt : parse_traceparent(it->second);
  if (!trace) trace = new_trace();
  headers[kTraceparent] = trace->traceparent();
  return *trace;
}

TraceContext job_trace(const JobRequest& request) {
  auto it = request.headers.find(kTraceparent);
  if (it != request.headers.end())
    if (auto trace = parse_traceparent(it->second)) return *trace;
  return new_trace();
}

}  // namespace imagepipe::serve
