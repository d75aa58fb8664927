// The top level of a pipeline file and the sections too small for a file of their own.
#include "config/pipeline_schema.hpp"

#include <algorithm>

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kPipelineKeys = {"name",     "description", "trigger",    "prompt",
                                                "source",   "provider",    "transforms", "steps",  "sink",
                                                "notifier", "concurrency", "limits", "guard",
                                                "requires"};
const std::vector<std::string> kLimitKeys = {"max_image_pixels", "max_image_bytes", "max_items"};

constexpr std::string_view kDefaultPrompt = "${request.body.prompt:-}";
constexpr std::int64_t kMaxConcurrency = 256;
constexpr std::int64_t kMaxItems = 1'000'000;

bool is_pipeline_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// "My Pipe" → "my-pipe": what the author most likely meant.
std::string as_pipeline_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (is_pipeline_name(std::string_view(&c, 1))) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

void read_name(Mapping& root, Pipeline& pipeline) {
  root.require("name");
  auto name = root.string("name");
  if (!name) return;
  if (!is_pipeline_name(*name)) {
    const std::string suggestion = as_pipeline_name(*name);
    root.context().report(root.context().document.at_value(
        root.pointer("name"),
        "name must use only lowercase letters, digits, '-' and '_', got '" + *name + "'",
        suggestion.empty() ? "" : "try '" + suggestion + "'"));
    return;
  }
  pipeline.name = *name;
}

void read_limits(Mapping& root, PipelineLimits& limits) {
  Mapping block(root.context(), root.pointer("limits"), kLimitKeys);
  if (auto pixels = block.integer("max_image_pixels", 1, Mapping::kUnbounded)) {
    limits.max_image_pixels = static_cast<std::uint64_t>(*pixels);
  }
  if (auto bytes = block.integer("max_image_bytes", 1, Mapping::kUnbounded)) {
    limits.max_image_bytes = static_cast<std::uint64_t>(*bytes);
  }
  if (auto items = block.integer("max_items", 1, kMaxItems)) {
    limits.max_items = static_cast<std::size_t>(*items);
  }
}

}  // namespace

void for_each_entry(Mapping& root, std::string_view key, const std::vector<std::string>& allowed,
                    const std::function<void(Mapping&)>& read) {
  const json* value = root.get(key);
  if (!value) return;
  LoadContext& context = root.context();
  if (value->is_object()) {
    Mapping entry(context, root.pointer(key), allowed);
    read(entry);
    return;
  }
  if (!value->is_array()) {
    context.report(context.document.at_value(
        root.pointer(key),
        root.path(key) + " must be a mapping or a list of mappings, got " + describe_value(*value),
        value->is_string()
            ? "write '" + root.path(key) + ": {use: " + value->get<std::string>() + "}'"
            : ""));
    return;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string pointer = child_pointer(root.pointer(key), i);
    const json& element = (*value)[i];
    if (element.is_string()) {
      context.report(context.document.at_value(
          pointer,
          child_path(root.path(key), i) + " must be a mapping, got " + describe_value(element),
          "write 'use: " + element.get<std::string>() + "'"));
      continue;
    }
    if (element.is_null()) {
      context.report(context.document.at_value(
          pointer, child_path(root.path(key), i) + " must be a mapping, got nothing"));
      continue;
    }
    Mapping entry(context, pointer, allowed);
    if (entry.valid()) read(entry);
  }
}

Pipeline read_pipeline(LoadContext& context) {
  Pipeline pipeline;
  pipeline.prompt = Template::compile_string(kDefaultPrompt);
  if (context.document.root.is_null()) {
    context.report(context.document.at_position({}, 1, "the pipeline file is empty",
                                                "a pipeline starts with 'name: my-pipeline'"));
    return pipeline;
  }
  Mapping root(context, "", kPipelineKeys);
  if (!root.valid()) return pipeline;

  read_name(root, pipeline);
  if (auto description = root.string("description")) pipeline.description = *description;
  read_trigger(root, pipeline.trigger);
  if (pipeline.trigger.runs_no_job()) {
    reject_job_sections(root, *pipeline.trigger.http);
    return pipeline;
  }
  root.require("source");
  if (auto prompt = root.template_value("prompt")) pipeline.prompt = std::move(*prompt);
  read_source(root, pipeline.source);
  read_sink(root, pipeline.sink);
  read_steps(root, pipeline);
  check_catalogue_step(context, pipeline);
  read_notifiers(root, pipeline.notifiers);
  read_guards(root, pipeline.guards);
  if (auto concurrency = root.integer("concurrency", 1, kMaxConcurrency)) {
    pipeline.concurrency = static_cast<int>(*concurrency);
  }
  read_limits(root, pipeline.limits);
  read_requirements(root, pipeline.requirements);
  // A batch never lists more than the pipeline's own limit allows.
  pipeline.source.max_items = std::min(pipeline.source.max_items, pipeline.limits.max_items);
  return pipeline;
}

}  // namespace imagepipe::config
