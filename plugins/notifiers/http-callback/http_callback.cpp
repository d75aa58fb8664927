// Notifier `http-callback`: POSTs the job's result as JSON to a URL taken from the pipeline
// (usually the request's callbackUrl header). One attempt per call: retries, backoff and
// persistence belong to the daemon's outbox, which decides from the error class this
// plugin throws (5xx → unavailable, 429 → rate_limited with Retry-After, 4xx →
// invalid_input, which is not retried).
#include <algorithm>
#include <ctime>

#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/retry.hpp"
#include "imagepipe/signing.hpp"
#include "imagepipe/template.hpp"
#include "imagepipe/url.hpp"

namespace imagepipe {
namespace {

constexpr const char* kUrl = "url";
constexpr const char* kBody = "body";
constexpr const char* kHeaders = "headers";
constexpr const char* kSigningSecret = "signing_secret";
constexpr const char* kSignatureHeader = "signature_header";
constexpr const char* kTimeoutMs = "timeout_ms";
constexpr const char* kOmitEmpty = "omit_empty";
constexpr const char* kMapValues = "map_values";

ErrorClass class_of_status(int status) {
  if (status == 429) return ErrorClass::rate_limited;
  if (status == 408) return ErrorClass::timeout;
  if (status >= 500) return ErrorClass::unavailable;
  return ErrorClass::invalid_input;  // 3xx (not followed) and 4xx: the same request would fail
                                     // again
}

class HttpCallbackNotifier final : public Notifier {
 public:
  explicit HttpCallbackNotifier(const PluginArgs& args)
      : host_(args.host),
        url_(Template::compile(args.options.at(kUrl))),
        body_(args.options.contains(kBody)
                  ? std::optional(Template::compile(args.options.at(kBody)))
                  : std::nullopt),
        headers_(Template::compile(args.options.value(kHeaders, nlohmann::json::object()))),
        secret_(args.options.value(kSigningSecret, "")),
        signature_header_(args.options.at(kSignatureHeader).get<std::string>()),
        timeout_(args.options.at(kTimeoutMs).get<int>()),
        omit_empty_(args.options.at(kOmitEmpty)),
        map_values_(args.options.value(kMapValues, nlohmann::json::object())) {}

  Task<void> notify(const Notification& n) override {
    const std::string url = url_.render_string(*n.scope);
    if (url.empty()) {
      n.log->info("no callback URL for this job; nothing sent");
      co_return;
    }
    const auto target = parse_url(url);  // throws invalid_input naming the problem
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.timeout = timeout_;
    request.connect_timeout = std::min(timeout_, std::chrono::milliseconds(10'000));
    request.max_redirects = 0;  // a callback that moved is the receiver's error to fix
    request.body = render_body(*n.scope).dump();
    request.headers = {{"Content-Type", "application/json"},
                       {"Idempotency-Key", n.job_id},
                       {"X-Imagepipe-Job-Id", n.job_id}};
    if (!secret_.empty())
      request.headers.emplace_back(signature_header_,
                                   "sha256=" + hmac_sha256_hex(secret_, request.body));
    // Named: a range-for over items() of a temporary reads it after it is gone.
    const auto extra_headers = headers_.render(*n.scope);
    for (const auto& [name, value] : extra_headers.items())
      request.headers.emplace_back(name,
                                   value.is_string() ? value.get<std::string>() : value.dump());

    const auto response = co_await host_.http->send(std::move(request));
    if (response.status >= 200 && response.status < 300) {
      n.log->info("callback delivered to {} (HTTP {})", target.redacted(), response.status);
      co_return;
    }
    const auto cls = class_of_status(response.status);
    std::optional<std::chrono::milliseconds> retry_after;
    if (response.status == 429 || response.status == 503)
      if (auto value = response.header("Retry-After"))
        retry_after = parse_retry_after(*value, host_.clock->now());
    throw Error(
        cls,
        "callback to " + target.redacted() + " answered HTTP " + std::to_string(response.status),
        retry_after);
  }

 private:
  nlohmann::json render_body(const nlohmann::json& scope) const {
    nlohmann::json body = body_ ? body_->render(scope)
                                : nlohmann::json{{"job_id", scope.at("job").at("id")},
                                                 {"status", scope.at("job").at("status")},
                                                 {"error", scope.at("job").at("error")},
                                                 {"metrics", scope.at("metrics")},
                                                 {"items", scope.at("items")}};
    if (!body.is_object()) return body;
    for (const auto& [field, mapping] : map_values_.items()) {
      auto it = body.find(field);
      if (it == body.end() || !it->is_string()) continue;
      if (auto to = mapping.find(it->get<std::string>()); to != mapping.end()) *it = *to;
    }
    // true: every empty field goes; a list: only those named (a client may expect
    // "filename": null yet no empty "error").
    const bool all = omit_empty_.is_boolean() && omit_empty_.get<bool>();
    for (auto it = body.begin(); it != body.end();) {
      const bool named = omit_empty_.is_array() &&
                         std::find(omit_empty_.begin(), omit_empty_.end(), it.key()) != omit_empty_.end();
      const bool empty =
          it->is_null() || (it->is_string() && it->get_ref<const std::string&>().empty());
      if ((all || named) && empty)
        it = body.erase(it);
      else
        ++it;
    }
    return body;
  }

  const Host& host_;
  Template url_;
  std::optional<Template> body_;
  Template headers_;
  std::string secret_;
  std::string signature_header_;
  std::chrono::milliseconds timeout_;
  nlohmann::json omit_empty_;  // a boolean or a list of field names
  nlohmann::json map_values_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  using nlohmann::json;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "POSTs the job's result as JSON to a callback URL.";
  d.description =
      "The body is a template over job, request, items, metrics and sink, so a callback can match "
      "an existing client field for field. Every request carries Idempotency-Key and "
      "X-Imagepipe-Job-Id (the job id, the same on every attempt) and, with a signing secret, "
      "an HMAC-SHA256 of the body as `sha256=<hex>`. The plugin makes one attempt; under "
      "`imagepipe serve` the outbox retries connection errors, timeouts, 5xx and 429 (honouring "
      "Retry-After) with backoff and persists pending callbacks across restarts. 3xx and other "
      "4xx answers are final. The host's egress policy applies: link-local and metadata "
      "addresses are never called.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kUrl}},
      {"properties",
       {{kUrl,
         {{"type", "string"},
          {"description", "Where to POST (template). Renders empty: nothing is sent."},
          {"examples", {"${request.headers.callbackUrl}"}}}},
        {kBody,
         {{"description",
           "Template of the JSON body. Default: job_id, status, error, metrics and items."}}},
        {kHeaders,
         {{"type", "object"},
          {"additionalProperties", {{"type", "string"}}},
          {"description", "Extra request headers (values are templates)."}}},
        {kSigningSecret,
         {{"type", "string"},
          {"writeOnly", true},
          {"description",
           "Shared secret: when set, the body's HMAC-SHA256 goes in the signature header."}}},
        {kSignatureHeader,
         {{"type", "string"},
          {"minLength", 1},
          {"default", "X-Imagepipe-Signature"},
          {"description", "Header that carries `sha256=<hex digest>`."}}},
        {kTimeoutMs,
         {{"type", "integer"},
          {"minimum", 100},
          {"maximum", 600000},
          {"default", 30000},
          {"description", "Time allowed for one attempt, connection included."}}},
        {kOmitEmpty,
         {{"type", {"boolean", "array"}},
          {"items", {{"type", "string"}}},
          {"default", false},
          {"description",
           "Leave out top-level body fields that render to null or \"\" (true: all of them; a "
           "list: only the fields named), so one template serves both success (no `error`) and "
           "failure (no result fields) payloads."},
          {"examples", {true, {"error", "object_key", "result_url", "expires_in"}}}}},
        {kMapValues,
         {{"type", "object"},
          {"additionalProperties",
           {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
          {"description",
           "Per top-level field, rendered values to replace: speak an existing client's vocabulary "
           "(e.g. {status: {completed_with_errors: completed}})."}}}}}};
  d.examples = {
      {{kUrl, "${request.headers.callbackUrl}"},
       {kBody,
        {{"status", "${job.status}"}, {"job_id", "${job.id}"}, {"result_url", "${items[0].url}"}}}},
      {{kUrl, "https://hooks.example.com/imagepipe"}, {kSigningSecret, "${CALLBACK_SECRET}"}}};
  d.factory = NotifierFactory{
      [](const PluginArgs& args) { return std::make_unique<HttpCallbackNotifier>(args); }};
  return d;
}
