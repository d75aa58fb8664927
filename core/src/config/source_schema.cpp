// source: where a job's items come from. Which keys apply depends on `from`, so a key
// meant for another kind of source is reported rather than silently ignored.
#include <algorithm>
#include <map>

#include "config/pipeline_schema.hpp"
#include "config/plugin_use.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;
using From = SourceSpec::From;

const std::vector<std::string> kSourceKeys = {"from", "field",     "filename_field", "paths",
                                              "use",  "with",      "prefix",         "extensions",
                                              "url",  "max_items", "orientation"};
const std::vector<std::string> kOrientations = {"apply", "keep"};
const std::vector<std::string> kFromNames = {"request", "files", "storage",
                                             "prompt",  "url",   "inputs"};

// The keys each kind of source reads besides `from` and `max_items`.
const std::map<std::string, std::vector<std::string>> kKeysByFrom = {
    {"request", {"field", "filename_field"}},
    {"files", {"paths", "extensions"}},
    {"storage", {"use", "with", "prefix", "extensions"}},
    {"prompt", {}},
    {"url", {"url", "field"}},
    {"inputs", {"paths", "field", "extensions"}},
};

constexpr std::int64_t kMaxItems = 1'000'000;

From from_name(const std::string& name) {
  if (name == "request") return From::request;
  if (name == "files") return From::files;
  if (name == "storage") return From::storage;
  if (name == "url") return From::url;
  if (name == "inputs") return From::inputs;
  return From::prompt;
}

void reject_foreign_keys(Mapping& source, const std::string& from) {
  const std::vector<std::string>& own = kKeysByFrom.at(from);
  for (const std::string& key : kSourceKeys) {
    if (key == "from" || key == "max_items" || key == "orientation" || !source.has(key)) continue;
    if (std::find(own.begin(), own.end(), key) != own.end()) continue;
    std::vector<std::string> applicable = own;
    applicable.push_back("max_items");
    applicable.push_back("orientation");
    std::sort(applicable.begin(), applicable.end());
    source.reject(key, "does not apply when from is '" + from + "'",
                  "keys for from: " + from + ": " + join(applicable));
  }
}

std::vector<std::string> normalize_extensions(std::vector<std::string> extensions) {
  for (std::string& extension : extensions) {
    if (!extension.empty() && extension.front() == '.') extension.erase(0, 1);
    std::transform(extension.begin(), extension.end(), extension.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
  }
  return extensions;
}

}  // namespace

void read_source(Mapping& root, SourceSpec& source) {
  Mapping block(root.context(), root.pointer("source"), kSourceKeys);
  if (!block.valid()) return;
  LoadContext& context = block.context();
  if (auto max_items = block.integer("max_items", 1, kMaxItems)) {
    source.max_items = static_cast<std::size_t>(*max_items);
  }
  if (auto orientation = block.choice("orientation", kOrientations))
    source.keep_orientation = *orientation == "keep";
  block.require("from");
  const std::optional<std::string> from = block.choice("from", kFromNames);
  if (!from) return;
  source.from = from_name(*from);
  reject_foreign_keys(block, *from);

  switch (source.from) {
    case From::request:
      block.require("field", "when from is 'request'");
      if (auto field = block.string("field")) source.field = *field;
      if (auto field = block.string("filename_field")) source.filename_field = *field;
      break;
    case From::files:
      if (auto paths = block.strings("paths")) source.paths = *paths;
      if (auto extensions = block.strings("extensions")) {
        source.extensions = normalize_extensions(*extensions);
      }
      break;
    case From::storage:
      source.storage = read_plugin_use(block, PluginKind::storage);
      if (auto prefix = block.template_value("prefix")) source.prefix = std::move(*prefix);
      if (auto extensions = block.strings("extensions")) {
        source.extensions = normalize_extensions(*extensions);
      }
      break;
    case From::url:
      if (block.has("url") && block.has("field")) {
        block.reject("field", "cannot be combined with 'url'",
                     "'url' is a fixed address, 'field' names the request field that holds one");
      } else if (!block.has("url") && !block.has("field")) {
        context.report(context.document.at_key(
            block.pointer(), "source: 'url' or 'field' is required when from is 'url'"));
      }
      if (auto url = block.template_value("url")) source.url = url->raw().get<std::string>();
      if (auto field = block.string("field")) source.field = *field;
      break;
    case From::inputs:
      if (auto paths = block.strings("paths")) source.paths = *paths;
      if (auto field = block.string("field")) source.field = *field;
      if (auto extensions = block.strings("extensions")) {
        source.extensions = normalize_extensions(*extensions);
      }
      break;
    case From::prompt:
      break;
  }
}

}  // namespace imagepipe::config
