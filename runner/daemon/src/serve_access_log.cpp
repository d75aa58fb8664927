#include "serve_access_log.hpp"

#include <cmath>

#include <fmt/format.h>

#include "imagepipe/log_fields.hpp"
#include "imagepipe/trace.hpp"
#include "serve_trace.hpp"

namespace imagepipe::serve {

namespace {

std::string header_or_empty(const Request& r, const char* name) {
  const auto* v = r.header(name);
  return v ? *v : std::string();
}

}  // namespace

void log_request(spdlog::logger& log, const Request& r, const Answered& a) {
  if (!log.should_log(spdlog::level::info)) return;
  const double ms = std::round(a.seconds * 1e6) / 1e3;
  const auto request_id = header_or_empty(r, "x-request-id");
  const auto trace = parse_traceparent(header_or_empty(r, kTraceparent));
  nlohmann::json fields = {
      {"event", "http_request"}, {"method", r.method},       {"route", r.route},
      {"path", r.path},          {"status", a.status},       {"bytes", a.bytes},
      {"duration_ms", ms},       {"request_id", request_id}, {"remote", r.remote}};
  if (!a.job_id.empty()) fields["job_id"] = a.job_id;
  if (trace) fields["trace_id"] = trace->trace_id;
  // The path, not the query: presigned-style links carry their signature there.
  auto text = fmt::format("{} {} {} {} B {:.1f} ms request {}", r.method, r.path, a.status, a.bytes,
                          ms, request_id.empty() ? "-" : request_id);
  if (!a.job_id.empty()) text += " job " + a.job_id;
  log_fields(log, spdlog::level::info, fields, text);
}

}  // namespace imagepipe::serve
