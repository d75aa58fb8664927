#include "serve_trigger.hpp"

#include <set>

#include "imagepipe/http.hpp"
#include "imagepipe/image.hpp"
#include "imagepipe/logging.hpp"
#include "imagepipe/registry.hpp"
#include "imagepipe/url.hpp"
#include "json_field_scan.hpp"
#include "serve_credentials.hpp"
#include "serve_media_type.hpp"
#include "serve_outcomes.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

// Credentials sent to us are not ours to keep in a job record. The sealed callback
// credentials are the daemon's own to write, never a client's.
bool stored_header(const std::string& name) {
  return name != "authorization" && name != "cookie" && name != "proxy-authorization" &&
         name != "x-api-key" && name != "api-key" && name != kSealedCallbackCredentials;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

json parse_query(const std::string& query) {
  json out = json::object();
  std::size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    auto pair = std::string_view(query).substr(start, end - start);
    auto eq = pair.find('=');
    if (!pair.empty())
      out[percent_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

namespace {

// The useful part of nlohmann's message, cut short: its "last read" excerpt repeats the
// client's bytes, which need not be UTF-8 and are never worth more than a few characters.
std::string parse_problem(const std::string& what) {
  std::string text = what;
  if (const auto at = text.find("parse error at "); at != std::string::npos) text = text.substr(at + 15);
  else if (const auto close = text.find("] "); close != std::string::npos) text = text.substr(close + 2);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

// "/image_base64" → {"body", "image_base64"}.
std::vector<std::string> body_loc(const std::string& pointer) {
  std::vector<std::string> loc{"body"};
  std::size_t start = 1;
  while (start <= pointer.size() && !pointer.empty()) {
    auto end = pointer.find('/', start);
    if (end == std::string::npos) end = pointer.size();
    std::string token = pointer.substr(start, end - start);
    for (std::size_t p; (p = token.find("~1")) != std::string::npos;) token.replace(p, 2, "/");
    for (std::size_t p; (p = token.find("~0")) != std::string::npos;) token.replace(p, 2, "~");
    loc.push_back(token);
    start = end + 1;
  }
  return loc;
}

std::string quoted_name(const std::string& message) {
  auto open = message.find('\'');
  auto close = message.find('\'', open + 1);
  return open == std::string::npos || close == std::string::npos
             ? ""
             : message.substr(open + 1, close - open - 1);
}

void check_schema(const json& schema, const json& body, std::vector<FieldProblem>& problems) {
  if (schema.is_null()) return;
  for (const auto& issue : validate_json(schema, body)) {
    auto loc = body_loc(issue.pointer);
    switch (issue.kind) {
      case OptionIssue::Kind::missing_key:
        loc.push_back(quoted_name(issue.message));
        problems.push_back({loc, "field required", "missing"});
        break;
      case OptionIssue::Kind::unknown_key:
        problems.push_back({loc, "unknown field", "extra_forbidden"});
        break;
      case OptionIssue::Kind::invalid:
        problems.push_back(
            {loc, issue.message,
             issue.message.rfind("must be a", 0) == 0 ? "type_error" : "value_error"});
        break;
    }
  }
}

void check_callback(const HttpTrigger& http, const Request& request, const EgressPolicy& egress,
                    std::vector<FieldProblem>& problems) {
  if (http.callback_header.empty() || http.mode != HttpTrigger::Mode::async) return;
  const std::vector<std::string> loc{"header", http.callback_header};
  const auto* value = request.header(lower(http.callback_header));
  if (!value || value->empty()) {
    problems.push_back({loc, "field required", "missing"});
    return;
  }
  try {
    const auto url = parse_url(*value);
    egress.check_host(url);
  } catch (const Error& e) {
    problems.push_back({loc, e.what(), "value_error"});
  }
}

// The request's image: decoded from base64 and checked now (its header, or all of it
// when a provider gets it), so a bad one is a 422 rather than a failed job. Returns the
// bytes, or null after recording a problem.
// `cut` is the field's text when it was taken out of the body unparsed.
std::shared_ptr<const std::string> check_image(const Pipeline& pipeline, const json& body,
                                               std::optional<std::string_view> cut,
                                               std::vector<FieldProblem>& problems) {
  const auto& field = pipeline.source.field;
  const std::vector<std::string> loc{"body", field};
  std::string_view text;
  if (cut) {
    text = *cut;
  } else {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) {
      problems.push_back({loc, "field required", "missing"});
      return nullptr;
    }
    if (!it->is_string()) return nullptr;  // the schema check named it already
    text = it->get_ref<const std::string&>();
  }
  // Clients often send a data URL where raw base64 was asked for (a pitfall the seeds
  // document); accept both.
  if (text.substr(0, 5) == "data:") {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos ||
        text.substr(0, comma).find(";base64") == std::string_view::npos) {
      problems.push_back({loc, "data URL without ';base64,' data", "value_error"});
      return nullptr;
    }
    text.remove_prefix(comma + 1);
  }
  if (text.empty()) {
    problems.push_back({loc, "must not be empty", "value_error"});
    return nullptr;
  }
  std::shared_ptr<const std::string> bytes;
  try {
    bytes = std::make_shared<const std::string>(base64_decode(text));
  } catch (const Error& e) {
    problems.push_back({loc, std::string("not valid base64: ") + e.what(), "value_error"});
    return nullptr;
  }
  try {
    const DecodeLimits limits{pipeline.limits.max_image_pixels, pipeline.limits.max_image_bytes};
    // An image a provider will be paid to read is read whole first: a file cut in half has
    // a perfect header, and a provider would charge for its refusal (or its grey half).
    if (!pipeline.calls_providers())
      probe_image(*bytes, limits);
    else
      verify_image(*bytes, limits);
  } catch (const Error& e) {
    problems.push_back({loc, e.what(), "value_error"});
    return nullptr;
  }
  return bytes;
}

// Whether the body schema says nothing about `field` beyond "a string": then its value
// can be judged apart from the rest of the body (an empty string stands in for it while
// the schema is checked). Any other keyword, and the body is parsed whole.
bool schema_only_types(const json& schema, const std::string& field) {
  if (schema.is_null()) return true;
  if (!schema.is_object()) return false;
  static const std::set<std::string> top{"type",  "required", "properties", "additionalProperties",
                                         "title", "description", "$schema", "examples"};
  static const std::set<std::string> annotations{"type",     "title",           "description",
                                                 "examples", "contentEncoding", "contentMediaType"};
  for (const auto& [key, value] : schema.items())
    if (!top.count(key)) return false;
  const auto props = schema.find("properties");
  const auto property = props != schema.end() && props->is_object() ? props->find(field) : json::const_iterator{};
  if (props == schema.end() || !props->is_object() || property == props->end()) {
    const auto extra = schema.find("additionalProperties");
    return extra == schema.end() || extra->is_boolean();
  }
  if (!property->is_object()) return false;
  for (const auto& [key, value] : property->items())
    if (!annotations.count(key)) return false;
  return property->value("type", json("string")) == "string";
}

// The fast way in: the image member cut out, the rest parsed. nullopt when the body does
// not allow it (escapes in the value, a schema with more to say, malformed JSON...).
std::optional<std::string_view> parse_without_image(const Pipeline& pipeline, const Request& request,
                                                    json& body) {
  const auto& field = pipeline.source.field;
  if (pipeline.source.from != SourceSpec::From::request ||
      !schema_only_types(pipeline.trigger.request_schema, field))
    return std::nullopt;
  auto cut = cut_string_member(request.body, field);
  if (!cut) return std::nullopt;
  // A duplicate key, malformed JSON: the slow path parses the whole body and says which.
  json rest;
  try {
    rest = parse_unique_keys(cut->rest, /*allow_exceptions=*/false);
  } catch (const DuplicateKey&) {
    return std::nullopt;
  }
  const auto it = rest.is_object() ? rest.find(field) : rest.end();
  if (!rest.is_object() || it == rest.end() || !it->is_string() || !it->get_ref<const std::string&>().empty())
    return std::nullopt;
  body = std::move(rest);
  return cut->value;
}

// The problem with a body over one of `limits`, or "" when it is within them all.
std::string json_limit_problem(const Pipeline& pipeline, const std::string& body,
                               const JsonLimits& limits) {
  const std::string exempt =
      pipeline.source.from == SourceSpec::From::request ? pipeline.source.field : "";
  switch (exceeded_json_limit(body, limits, exempt)) {
    case JsonLimit::none:
      return "";
    case JsonLimit::depth:
      return "JSON nested deeper than " + std::to_string(limits.depth) +
             " levels (the limit for request bodies)";
    case JsonLimit::string_bytes:
      return "a string of more than " + std::to_string(limits.string_bytes) +
             " bytes (the limit for request bodies)";
    case JsonLimit::values:
      return "more than " + std::to_string(limits.values) +
             " members or elements (the limit for request bodies)";
  }
  return "";
}

}  // namespace

CheckedRequest check_request(const Pipeline& pipeline, Request& request, const EgressPolicy& egress,
                             const JsonLimits& limits, const PathValues& path) {
  CheckedRequest checked;
  auto& problems = checked.problems;
  const auto& http = *pipeline.trigger.http;
  // The path first: a client that named the wrong image learns that before its body.
  checked.job.request.path = typed_path_values(path, http.path_params, problems);

  json body = json::object();
  if (auto problem = json_limit_problem(pipeline, request.body, limits); !problem.empty()) {
    problems.push_back({{"body"}, std::move(problem), "json_invalid"});
    check_callback(http, request, egress, problems);
    return checked;
  }
  const auto cut_image = parse_without_image(pipeline, request, body);
  const bool blank = request.body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (!cut_image && !blank) {
    try {
      body = parse_unique_keys(request.body);
    } catch (const DuplicateKey& e) {
      problems.push_back(
          {{"body"},
           std::string("malformed JSON: ") + e.what() + " in an object (each key may appear once)",
           "json_invalid"});
      check_callback(http, request, egress, problems);
      return checked;
    } catch (const json::exception& e) {
      // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
      // or, for a number too large for a double, "[json.exception.out_of_range.406] number
      // overflow parsing '1e999999'".
      problems.push_back({{"body"}, "malformed JSON: " + parse_problem(e.what()), "json_invalid"});
      check_callback(http, request, egress, problems);
      return checked;
    }
  }
  if (!body.is_object()) {
    problems.push_back({{"body"}, "must be a JSON object", "type_error"});
    check_callback(http, request, egress, problems);
    return checked;
  }
  check_schema(pipeline.trigger.request_schema, body, problems);
  check_callback(http, request, egress, problems);
  // What the chosen provider can make (sizes, images per request), once the body has
  // the right shape: a request it cannot serve is the client's to fix.
  const bool limited = std::any_of(pipeline.steps.begin(), pipeline.steps.end(), [](const Step& step) {
    return std::any_of(step.alternatives.begin(), step.alternatives.end(), [](const StepAction& a) {
      return a.limits.sizes || a.limits.max_images;
    });
  });
  if (problems.empty() && limited) {
    JobRequest seen;
    seen.body = body;
    seen.path = checked.job.request.path;
    seen.query = parse_query(request.query);
    for (auto& problem : check_request_limits(pipeline, {{"request", request_scope("", seen)}}))
      problems.push_back({std::move(problem.loc), std::move(problem.message), "value_error"});
  }

  auto& job = checked.job;
  if (pipeline.source.from == SourceSpec::From::request) {
    const bool named = std::any_of(problems.begin(), problems.end(), [&](const FieldProblem& p) {
      return p.loc.size() == 2 && p.loc[0] == "body" && p.loc[1] == pipeline.source.field;
    });
    if (!named) {
      if (auto bytes = check_image(pipeline, body, cut_image, problems)) {
        job.inputs.push_back({pipeline.source.field, std::move(bytes)});
        body.erase(pipeline.source.field);  // kept as a file, not in the database
      }
    }
  }
  if (!problems.empty()) return checked;

  job.id = new_job_id();
  job.pipeline = pipeline.name;
  job.request.body = std::move(body);
  for (const auto& [name, value] : request.headers)
    if (stored_header(name)) job.request.headers[name] = value;
  job.request.query = parse_query(request.query);
  return checked;
}

// What a client is told while the pipeline cannot run: the pipeline's own answer (the
// seeds' services say {"detail": "Missing env var: OPENAI_API_KEY"} with a 500), or a 503.
Response unavailable_response(const ServedPipeline& served) {
  const auto& pipeline = *served.pipeline;
  const auto& declared = pipeline.trigger.http->unavailable;
  if (!declared)
    return error_response(503, "pipeline '" + pipeline.name + "' cannot run: " + served.unavailable);
  const json scope = {{"job", {{"error", served.unavailable}, {"pipeline", pipeline.name}}}};
  return json_response(declared->status, declared->body.render(scope));
}

json early_request_scope(const Request& request, const json& path) {
  JobRequest seen;
  for (const auto& [name, value] : request.headers)
    if (stored_header(name)) seen.headers[name] = value;
  seen.query = parse_query(request.query);
  seen.path = path;
  const auto* id = request.header("x-request-id");
  return request_scope(id ? *id : "", seen);
}

std::optional<Response> refuse_media_type(const HttpTrigger& http, const Request& request,
                                          const json& path) {
  const auto* content_type = request.header("content-type");
  if (const auto problem = json_media_type_problem(content_type, !request.body.empty()))
    return error_answer(http, 415, *problem, early_request_scope(request, path),
                        {{"received", content_type ? json(*content_type) : json()},
                         {"accepted", kJsonMediaTypes}});
  if (const auto problem = content_encoding_problem(request.header("content-encoding")))
    return error_answer(http, 415, *problem, early_request_scope(request, path));
  return std::nullopt;
}

Task<Submission> submit_job(const ServedPipeline& served, NewJob job, const json& scope,
                            TriggerContext& context) {
  const auto& pipeline = *served.pipeline;
  const auto& http = *pipeline.trigger.http;
  Submission out;
  job.notify = served.engine->has_notifiers();
  seal_callback_credentials(job.request, http.callback_header, context.sealer);
  out.id = job.id;
  const std::string& id = out.id;
  if (context.queued && !context.queued->try_add(pipeline.name, id)) {
    Response full = error_answer(
        http, 503,
        "pipeline '" + pipeline.name + "' has " + std::to_string(context.queued->limit()) +
            " jobs waiting to start, its limit (limits.queued_jobs_per_pipeline): try again later",
        scope);
    full.headers["Retry-After"] = "1";
    out.refused = std::move(full);
    co_return out;
  }
  auto executor = co_await asio::this_coro::executor;
  if (http.mode == HttpTrigger::Mode::sync) out.waiter = context.waiters.expect(id, executor);
  try {
    co_await context.store.add(std::move(job));
  } catch (const std::exception& e) {
    if (context.queued) context.queued->remove(id);
    context.log->error("cannot store a job for {}: {}", pipeline.name, e.what());
    out.refused = error_answer(http, 503, "the job could not be stored: " + redact_secrets(e.what()),
                               scope, {{"error_class", "unavailable"}});
    co_return out;
  }
  context.job_added();
  const auto request_id = scope.value("/request/id"_json_pointer, std::string());
  context.log->debug("job {}: accepted for {} (request {})", id.substr(0, 8), pipeline.name,
                     request_id.empty() ? "-" : request_id);
  co_return out;
}

Task<Response> handle_trigger(const ServedPipeline& served, Request& request,
                              TriggerContext& context, PathValues path) {
  const auto& pipeline = *served.pipeline;
  const auto& http = *pipeline.trigger.http;
  if (!served.engine) co_return unavailable_response(served);
  if (auto refused = refuse_media_type(http, request, json(path))) co_return std::move(*refused);

  auto checked = check_request(pipeline, request, context.egress, context.json_limits, path);
  if (!checked.problems.empty())
    co_return invalid_answer(http, checked.problems,
                             early_request_scope(request, checked.job.request.path));

  const auto* request_id = request.header("x-request-id");
  const json scope = request_scope(request_id ? *request_id : "", checked.job.request);
  auto submitted = co_await submit_job(served, std::move(checked.job), scope, context);
  if (submitted.refused) co_return std::move(*submitted.refused);
  if (!submitted.waiter) co_return accepted_answer(http, submitted.id, scope, false);
  if (auto summary = co_await context.waiters.wait(submitted.id, submitted.waiter, http.sync_wait))
    co_return finished_answer(http, *summary, scope);
  co_return accepted_answer(http, submitted.id, scope, true);
}

}  // namespace imagepipe::serve
