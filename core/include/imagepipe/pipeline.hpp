// A pipeline as loaded from YAML: source, steps, sink and notifiers, already validated. Produced by
// load_pipeline(); consumed by the Engine and the daemon.
#pragma once

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/cron.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/plugin.hpp"
#include "imagepipe/registry.hpp"
#include "imagepipe/template.hpp"

namespace imagepipe {

// Where something came from in a YAML file (1-based; 0 when unknown).
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
};

// One compiler-style diagnostic: "file:line:col: error: message", the source line with a
// caret, then the hint ("did you mean ...", the allowed keys).
struct Diagnostic {
  SourceMark mark;
  std::string message;
  std::string hint;
  std::string source_line;  // the offending line, when known
  int span = 1;             // caret width
  std::string format(bool color = false) const;
};

class PipelineError : public std::runtime_error {
 public:
  explicit PipelineError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  std::string format(bool color = false) const;

 private:
  std::vector<Diagnostic> diagnostics_;
};

struct PluginUse {
  PluginKind kind = PluginKind::provider;
  std::string use;  // plugin name
  nlohmann::json with = nlohmann::json::object();  // validated, defaults applied, env expanded
  const PluginDescriptor* descriptor = nullptr;
  SourceMark mark;
};

struct RetryPolicy {
  int max_attempts = 3;  // including the first
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30'000};
};

struct RateLimit {
  int max_in_flight = 0;       // 0: unlimited
  int requests_per_minute = 0; // 0: unlimited
};

struct ProviderEntry {
  PluginUse plugin;
  std::set<ErrorClass> fall_through_on;
  RetryPolicy retry;
  RateLimit limit;
  Template params;  // per-request overrides rendered against the item scope
  // `optional: true`: skipped, without an error, while every secret option (writeOnly)
  // is empty, e.g. no OPENAI_API_KEY in a demo. Never implicit: a chain entry that is not
  // marked optional and has no key fails its items loudly.
  bool optional = false;
  // `on_fall_through`: the note recorded for an item passed on to the next entry (it
  // reaches metrics.errors as "<item>: <note>"); empty for the default wording.
  Template fall_through_note;
};

// What one alternative of a step does: a provider call through a fallback chain, or a run
// of transforms over each of its input images.
// What a request may ask of an alternative: the sizes its provider makes and how many
// images one request may want. Unset parts do not constrain.
struct RequestLimits {
  std::optional<std::vector<std::string>> sizes;
  std::optional<int> max_images;
};

struct StepAction {
  std::string name;  // the alternative's name; empty when the step has no alternatives
  std::vector<ProviderEntry> providers;
  std::vector<PluginUse> transforms;
  // `accepts:` as written, narrowed by what the chain's plugins declare for their model
  // (capabilities.models): checked against each request before a job exists.
  RequestLimits limits;
  // `describe:`: free-form fields for the providers catalogue (name, description...).
  nlohmann::json describe = nlohmann::json::object();
  bool calls_provider() const { return !providers.empty(); }
};

// One named step between the source and the sink. The five-stage form (`provider:` then
// `transforms:`) loads as the steps "provider" and "transforms".
struct Step {
  static constexpr int kItem = -1;  // an input index that means the item's own image

  std::string name;
  SourceMark mark;
  std::optional<Template> prompt;  // unset: the pipeline's prompt
  // Where the input images come from, in order: kItem or the index of an earlier step.
  // Several images reach a provider together (an edit's image[] parts).
  std::vector<int> inputs;
  // One entry, unnamed, unless the step chooses: then one per declared alternative, and
  // `choose` renders the name of the one an item takes.
  std::vector<StepAction> alternatives;
  std::optional<Template> choose;
  // `enabled:` the alternatives a request may choose (a deployment switch such as
  // ENABLED_PROVIDERS); empty: all of them.
  std::vector<std::string> enabled;
  bool is_enabled(const std::string& alternative) const {
    return enabled.empty() ||
           std::find(enabled.begin(), enabled.end(), alternative) != enabled.end();
  }
  // Provider steps: how many calls an item makes (concurrently), their images in order.
  // `runs` renders to an integer; with `per_run` it counts images wanted instead, and the
  // step makes ceil(images / per_run) calls (four images per 2x2 grid).
  std::optional<Template> runs;
  int per_run = 0;
  // Renders per item; "false", "no", "off", "0" or empty skip the step, whose images are
  // then its inputs (`when: "${ENABLE_PROMPT_ENHANCEMENT:-false}"`).
  std::optional<Template> when;

  bool calls_provider() const { return alternatives.front().calls_provider(); }
};

// `requires`: environment variables the pipeline cannot run without, with the message
// that names those missing ("Missing env var: OPENAI_API_KEY"). Checked in order.
struct Requirement {
  std::vector<std::vector<std::string>> env;  // each: alternatives, one of which must be set
  std::string message;
};

// A declared answer: status and a body template.
struct ResponseSpec {
  int status = 200;
  Template body;
};

// One outcome's answer in trigger.http.responses: each part left out keeps the daemon's
// default for that outcome, so a route declares only what its clients need to differ.
struct OutcomeResponse {
  std::optional<int> status;
  std::map<std::string, int> by_class;  // failed: the status per error class
  std::optional<Template> body;
};

// trigger.http.responses: a route's answers as configuration (serve_outcomes.cpp renders
// them). `error` is the envelope of every other error answer the route gives (a body that
// is not JSON, a job that could not be stored...).
struct RouteResponses {
  std::optional<OutcomeResponse> accepted, completed, failed, invalid_request;
  std::optional<Template> error;
};

struct SourceSpec {
  // inputs: paths, globs and http(s) URLs together (`run -i`), or URLs from a body field.
  enum class From { request, files, storage, prompt, url, inputs };
  From from = From::prompt;
  std::string field;           // request: body field with base64 / data URL; url: field with the URL
  std::string filename_field;  // request: body field with the file name
  std::vector<std::string> paths;  // files: paths or globs (the runner's --input replaces them)
  std::optional<PluginUse> storage;  // storage: where to list
  Template prefix;                   // storage: prefix to list
  std::vector<std::string> extensions;  // storage/files: accepted extensions (lowercase, no dot)
  std::string url;                   // url: a fixed URL (template allowed)
  std::size_t max_items = 10'000;
  // orientation: keep: pixels as stored, ignoring EXIF orientation (default apply: upright).
  bool keep_orientation = false;
};

struct SinkSpec {
  bool inline_result = false;         // keep bytes in the summary (base64 callbacks)
  std::optional<PluginUse> storage;   // where to put results
  Template key;                       // object key template
  enum class UrlMode { none, presigned, public_url } url = UrlMode::none;
  std::chrono::seconds expires{900};
  Template metadata;                  // object metadata (strings)
  // A local copy of every result as well (`imagepipe run -o DIR`): never instead of the
  // storage above. Keys: the sink's, else "<stem><suffix>.<ext>".
  std::optional<PluginUse> copy;
  // The steps whose images are results, in order (indices into Pipeline::steps); empty:
  // the last step's (the item's own image when there are no steps).
  std::vector<int> steps;
};

// trigger.http.auth: who may call the route when the daemon authenticates (serve config
// `auth:`). Without it, any authenticated caller may.
struct RouteAuth {
  bool anonymous = false;           // no credentials needed, even with auth on
  std::vector<std::string> roles;   // the caller needs one of these
  std::vector<std::string> scopes;  // and one of these

  bool restricts() const { return !roles.empty() || !scopes.empty(); }
};

// trigger.http.mode: storage: a route over a storage plugin that runs no job: the object
// at `key` (a template over request.path, request.query and now) described, sent or
// removed.
struct StorageRoute {
  enum class Action { info, download, remove } action = Action::info;
  std::optional<PluginUse> storage;
  Template key;
};

// `trigger.http.batch`: a second route (POST) taking a JSON array of requests, each
// judged as a body of the main route and run as its own job, all at once; answered with
// the array of their answers, in order.
struct BatchRoute {
  std::string path;
  std::size_t max_items = 10;
};

// `trigger.http.catalogue`: a GET route listing a step's enabled alternatives with what
// each accepts (sizes, images per request), its `describe:` fields and the provider that
// answers first, e.g. seed 004's GET /api/v1/providers.
struct CatalogueRoute {
  std::string path;
  std::string step;          // a step with alternatives
  std::string list_key = "alternatives";
  std::string default_key;   // when set: this key holds the name `choose` falls back to
};

struct HttpTrigger {
  std::string method = "POST";
  std::string path;
  // async and sync run a job; render (`mode: template` in YAML) answers the trigger's
  // response body and runs nothing, for routes such as a configuration view.
  enum class Mode { async, sync, render, storage } mode = Mode::async;
  std::optional<StorageRoute> storage;  // mode: storage
  std::string callback_header;        // header that carries the callback URL, if any
  std::chrono::milliseconds sync_wait{30'000};
  std::string summary;                // OpenAPI summary
  // The answer while the pipeline cannot run (a requirement unmet), rendered with
  // job.error = the reason; unset: 503 with the daemon's error envelope.
  std::optional<ResponseSpec> unavailable;
  // OpenAPI operationId, which watsonx Orchestrate makes the tool's name: a flow built on
  // an existing tool keeps working when the new one declares the old id. Empty: derived
  // from the pipeline's name.
  std::string operation_id;
  RouteAuth auth;
  RouteResponses responses;
  // The JSON Schema of each `{name}` segment of `path`, by name; a segment the map does
  // not name is a non-empty string.
  std::map<std::string, nlohmann::json> path_params;
  std::optional<BatchRoute> batch;
  std::optional<CatalogueRoute> catalogue;
};

// trigger.schedule: the daemon starts a job at each due time of a cron expression, with a
// fixed request body (checked against request_schema when the pipeline loads).
struct ScheduleTrigger {
  CronSchedule cron;
  std::string timezone = "UTC";  // IANA name
  nlohmann::json body = nlohmann::json::object();
  SourceMark mark;
};

struct TriggerSpec {
  std::optional<HttpTrigger> http;
  std::vector<ScheduleTrigger> schedules;
  nlohmann::json request_schema;      // JSON Schema of the body; null when none
  nlohmann::json callback_schema;     // optional: documents the callback body in OpenAPI
  // mode: template: the answer's body (environment already expanded), and optionally the
  // JSON Schema that documents it in OpenAPI (null: derived from the body).
  Template response_body;
  nlohmann::json response_schema;

  bool renders_only() const { return http && http->mode == HttpTrigger::Mode::render; }
  // A template or storage route: answered by the daemon itself, never a job.
  bool runs_no_job() const {
    return http && (http->mode == HttpTrigger::Mode::render || http->mode == HttpTrigger::Mode::storage);
  }
};

struct PipelineLimits {
  std::uint64_t max_image_pixels = 100'000'000;
  std::uint64_t max_image_bytes = 50ull << 20;
  std::size_t max_items = 10'000;
};

struct Pipeline {
  std::string name;
  std::string description;
  std::filesystem::path file;
  TriggerSpec trigger;
  Template prompt;                    // default "${request.body.prompt:-}"
  SourceSpec source;
  std::vector<Step> steps;
  SinkSpec sink;
  std::vector<PluginUse> notifiers;
  // Checked, in order, on every prompt before a provider is called with it; a refusal
  // fails the item as content_policy and nothing is spent.
  std::vector<PluginUse> guards;
  int concurrency = 4;
  PipelineLimits limits;
  // Env variables the pipeline needs but the environment lacks; non-empty means the
  // pipeline loaded for documentation only and cannot run ("OPENAI_API_KEY is not set").
  std::vector<std::string> missing_env;
  std::vector<Requirement> requirements;
  // The messages of the requirements the environment does not meet, in order; non-empty
  // means the pipeline cannot run ("Missing env var: OPENAI_API_KEY").
  std::vector<std::string> unmet_requirements;
  std::vector<std::string> secrets;   // values to redact from logs and errors

  bool calls_providers() const;
  // Every provider chain entry of every step and alternative, in order.
  std::vector<const ProviderEntry*> provider_entries() const;
};

// Why the pipeline cannot run, or empty: its first unmet requirement, else the
// variables it uses that are not set.
std::string unavailable_reason(const Pipeline& pipeline);

// Why an `optional` chain entry is skipped (every secret option empty: "not configured:
// api_key empty"), or "" when it would run.
std::string unconfigured_reason(const PluginUse& use);

struct LoadOptions {
  // Variables looked up before the process environment (the runner's .env file).
  std::map<std::string, std::string> env_overrides;
  // Tolerate undefined variables (recorded in Pipeline::missing_env) instead of failing.
  bool allow_missing_env = false;
};

// Throws PipelineError with every diagnostic found (not just the first).
Pipeline load_pipeline(const std::filesystem::path& file, const PluginRegistry& registry,
                       const LoadOptions& options = {});
Pipeline load_pipeline_text(std::string_view yaml, std::string display_name,
                            const PluginRegistry& registry, const LoadOptions& options = {});

// A request's conflict with what the alternative it chooses accepts (`accepts:` and the
// plugins' declared sizes and images per request), found before any job exists.
struct RequestProblem {
  std::vector<std::string> loc;  // {"body", "size"}: the field the value came from
  std::string message;           // "dalle3 makes at most 1 image per request, got 4"
};
// `scope` is the request scope ({"request": {...}}); values that need an item or an
// earlier step's answer cannot be judged yet and are left to the run.
std::vector<RequestProblem> check_request_limits(const Pipeline& pipeline,
                                                 const nlohmann::json& scope);

// Reads KEY=VALUE lines (comments, quotes, `export` prefix allowed).
std::map<std::string, std::string> read_dotenv(const std::filesystem::path& file);
// The same for text already in memory; `file` names it in diagnostics.
std::map<std::string, std::string> parse_dotenv(std::string_view text, const std::string& file);

}  // namespace imagepipe
