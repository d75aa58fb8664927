// `imagepipe run`: one job of a pipeline, inputs from flags, results to disk or storage.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "imagepipe/engine.hpp"
#include "imagepipe/http.hpp"
#include "item_spool.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace imagepipe::runner {

namespace {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::pair<std::string, std::string> split_assignment(const std::string& text, const char* flag) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError(std::string(flag) + " expects KEY=VALUE, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// "4" → 4, "true" → true, "[1,2]" → list; anything that is not JSON stays a string.
json parse_value(const std::string& text) {
  auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || parsed.is_string()) return text;
  return parsed;
}

std::string read_input_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read --input " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A --set field the request schema describes is held to it, as an HTTP body would be:
// `--set provider=dalle` names the alternatives, and `--set person_id=42` stays the
// string the schema asks for instead of becoming a number.
json checked_set(const Pipeline& pipeline, const std::string& key, const std::string& text) {
  json value = parse_value(text);
  const json& schema = pipeline.trigger.request_schema;
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].contains(key))
    return value;
  const json& property = schema["properties"][key];
  if (property.is_object() && property.value("type", json()) == "string") value = text;
  const auto issues = validate_json(property, value);
  if (issues.empty()) return value;
  std::string message = "--set " + key + "=" + text + ": " + issues.front().message;
  if (property.is_object() && property.contains("enum") && property["enum"].is_array()) {
    std::string allowed;
    for (const auto& e : property["enum"])
      allowed += (allowed.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
    message = "--set " + key + "=" + text + ": must be one of " + allowed;
  }
  throw UsageError(message);
}

JobRequest build_request(const RunArgs& args, const Pipeline& pipeline) {
  JobRequest request;
  for (const auto& s : args.sets) {
    auto [k, v] = split_assignment(s, "--set");
    request.body[k] = checked_set(pipeline, k, v);
  }
  for (const auto& h : args.headers) {
    auto [k, v] = split_assignment(h, "--header");
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers[k] = v;
  }
  if (args.prompt_given) request.body["prompt"] = args.prompt;

  const auto& source = pipeline.source;
  if (args.inputs.empty()) return request;
  switch (source.from) {
    case SourceSpec::From::files:
    case SourceSpec::From::inputs: request.input_paths = args.inputs; break;
    case SourceSpec::From::request:
      // The same pipeline serves HTTP and the command line: the file goes where a client
      // would have put its base64.
      if (args.inputs.size() != 1)
        throw UsageError("pipeline '" + pipeline.name + "' takes one image; got " + std::to_string(args.inputs.size()) +
                         " --input flags");
      request.body[source.field] = base64_encode(read_input_file(args.inputs.front()));
      if (!source.filename_field.empty() && !request.body.contains(source.filename_field))
        request.body[source.filename_field] = fs::path(args.inputs.front()).filename().string();
      break;
    case SourceSpec::From::url:
      if (args.inputs.size() != 1 || source.field.empty())
        throw UsageError("pipeline '" + pipeline.name + "' takes one image URL");
      request.body[source.field] = args.inputs.front();
      break;
    case SourceSpec::From::storage:
      throw UsageError("pipeline '" + pipeline.name + "' reads its inputs from storage; --input does not apply");
    case SourceSpec::From::prompt:
      throw UsageError("pipeline '" + pipeline.name + "' generates from a prompt; --input does not apply");
  }
  return request;
}

// --out DIR: a local copy of every result, as well as whatever the pipeline's sink does
// (a configured bucket is never traded for a folder).
void keep_local_copy(Pipeline& pipeline, const std::string& dir, const PluginRegistry& registry) {
  const auto* local = registry.find(PluginKind::storage, "local");
  if (!local) throw UsageError("--out needs the 'local' storage plugin, which is not available");
  PluginUse use;
  use.kind = PluginKind::storage;
  use.use = "local";
  use.descriptor = local->descriptor;
  auto check = check_options(*local->descriptor, {{"root", dir}});
  use.with = check.options;
  pipeline.sink.copy = use;
}

std::string human_bytes(std::uint64_t n) {
  char buf[32];
  if (n >= 1 << 20) std::snprintf(buf, sizeof buf, "%.1f MB", n / 1048576.0);
  else if (n >= 1 << 10) std::snprintf(buf, sizeof buf, "%.0f KB", n / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  return buf;
}

void print_summary(const JobResult& job) {
  auto metrics = job.metrics();
  std::cout << job.pipeline << ": " << job.status << " in " << metrics["duration_seconds"].get<double>() << "s — "
            << metrics["processed"] << " processed, " << metrics["failed"] << " failed";
  if (metrics["fell_back"].get<int>() > 0) std::cout << ", " << metrics["fell_back"] << " fell back";
  std::cout << "\n";
  if (!job.error.empty()) std::cout << "  error: " << job.error << "\n";
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < job.items.size() && i < kShown; ++i) {
    const auto& item = job.items[i];
    if (item.status != "completed") {
      std::cout << "  x " << item.name << ": " << item.error << "\n";
      continue;
    }
    for (const auto& out : item.outputs) {
      std::cout << "  ok " << item.name << " -> ";
      if (!out.uri.empty()) std::cout << out.uri;
      else if (!out.copy.empty()) std::cout << out.copy;
      else std::cout << "(inline " << out.mime << ")";
      std::cout << " (" << out.width << "x" << out.height << ", " << human_bytes(out.bytes) << ")\n";
      if (!out.url.empty()) std::cout << "     url: " << out.url << "\n";
      if (!out.copy.empty() && !out.uri.empty()) std::cout << "     copy: " << out.copy << "\n";
    }
    for (const auto& note : item.notes) std::cout << "     note: " << note << "\n";
  }
  const auto total = metrics["total_files"].get<std::size_t>();
  if (total > kShown) std::cout << "  ... and " << total - kShown << " more\n";
}

}  // namespace

int run_command(const RunArgs& args, Process& process) {
  Pipeline pipeline;
  LoadOptions load;
  try {
    load.env_overrides = load_env_file(args.env_file);
    // A requirement's own message first ("Missing env var: OPENAI_API_KEY"); other unset
    // variables are then reported at their line and column by a strict load.
    load.allow_missing_env = true;
    pipeline = load_pipeline(args.pipeline, process.registry(), load);
    if (!pipeline.unmet_requirements.empty()) {
      std::cerr << "imagepipe: " << pipeline.name
                << " cannot run: " << pipeline.unmet_requirements.front() << "\n";
      return kExitInvalid;
    }
    load.allow_missing_env = false;
    if (!pipeline.missing_env.empty()) pipeline = load_pipeline(args.pipeline, process.registry(), load);
  } catch (const PipelineError& e) {
    std::cerr << e.format(::isatty(STDERR_FILENO)) << "\n";
    return kExitInvalid;
  } catch (const std::exception& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }
  if (pipeline.trigger.runs_no_job()) {
    const std::string mode = pipeline.trigger.renders_only() ? "template" : "storage";
    std::cerr << "imagepipe: " << args.pipeline << ": a " << mode
              << " route (trigger.http.mode: " << mode << ") runs no job; "
                 "`imagepipe serve` answers it\n";
    return kExitInvalid;
  }
  for (const auto& secret : pipeline.secrets) register_secret(secret);

  JobRequest request;
  try {
    request = build_request(args, pipeline);
    if (!args.out_dir.empty()) keep_local_copy(pipeline, args.out_dir, process.registry());
  } catch (const UsageError& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }

  std::unique_ptr<Engine> engine;
  try {
    engine = std::make_unique<Engine>(std::make_shared<const Pipeline>(pipeline), process.host());
  } catch (const std::exception& e) {
    std::cerr << "imagepipe: " << redact_secrets(e.what()) << "\n";
    return kExitRuntime;
  }

  ProgressBar bar(!args.json && !args.quiet);
  std::unique_ptr<ItemSpool> spool;
  try {
    spool = std::make_unique<ItemSpool>();
  } catch (const std::exception& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitRuntime;
  }
  std::size_t failed = 0;
  JobResult result;
  std::exception_ptr crash;
  asio::co_spawn(
      process.io(),
      [&]() -> Task<void> {
        result = co_await engine->run(
            request, new_job_id(),
            [&](const ItemResult& item, std::size_t done, std::size_t total) {
              failed += item.status != "completed";
              bar.update(done, total, failed);
            },
            spool.get());
        bar.finish();
        co_await engine->notify(result, request);
      },
      [&](std::exception_ptr e) {
        crash = e;
        process.io().stop();
      });
  process.io().run();
  bar.finish();
  if (crash) {
    try {
      std::rethrow_exception(crash);
    } catch (const std::exception& e) {
      std::cerr << "imagepipe: " << redact_secrets(e.what()) << "\n";
    }
    return kExitRuntime;
  }

  if (args.json) {
    spool->print_summary(std::cout, result);
    std::cout << "\n";
  } else if (!args.quiet) {
    print_summary(result);
  }
  return result.status == "completed" ? kExitOk : kExitItemsFailed;
}


}  // namespace imagepipe::runner
