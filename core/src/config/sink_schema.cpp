// sink: keep results inline, or store them through a storage plugin under a key template.
#include "config/pipeline_schema.hpp"
#include "config/plugin_use.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

// images: the steps whose images are results (read with the steps).
const std::vector<std::string> kSinkKeys = {"inline", "use",      "with",  "key",
                                            "url",    "expires", "metadata", "images"};
// The keys that only mean something when results are stored.
const std::vector<std::string> kStorageOnlyKeys = {"with", "key", "url", "expires", "metadata"};
constexpr std::int64_t kMaxExpiresSeconds = 604'800;  // what S3 presigning allows: 7 days

SinkSpec::UrlMode url_mode(const std::string& name) {
  if (name == "presigned") return SinkSpec::UrlMode::presigned;
  if (name == "public") return SinkSpec::UrlMode::public_url;
  return SinkSpec::UrlMode::none;
}

void read_metadata(Mapping& sink, SinkSpec& spec) {
  const json* metadata = sink.mapping("metadata");
  if (!metadata) return;
  LoadContext& context = sink.context();
  bool ok = true;
  for (const auto& [key, value] : metadata->items()) {
    if (value.is_string()) continue;
    ok = false;
    context.report(context.document.at_value(child_pointer(sink.pointer("metadata"), key),
                                             child_path(sink.path("metadata"), key) +
                                                 " must be a string, got " +
                                                 describe_value(value)));
  }
  if (!ok) return;
  if (auto compiled = context.compile_template(sink.pointer("metadata"), *metadata)) {
    spec.metadata = std::move(*compiled);
  }
}

}  // namespace

void read_sink(Mapping& root, SinkSpec& spec) {
  Mapping sink(root.context(), root.pointer("sink"), kSinkKeys);
  if (!sink.valid()) return;
  LoadContext& context = sink.context();
  spec.inline_result = sink.boolean("inline").value_or(false);
  const bool stores = sink.has("use");

  if (spec.inline_result && stores) {
    sink.reject("use", "cannot be combined with 'inline: true'",
                "a sink either keeps results inline or stores them");
    return;
  }
  if (!stores) {
    // A mistyped `inline` was reported already.
    const json* inline_value = sink.get("inline");
    if (!spec.inline_result && !(inline_value && !inline_value->is_boolean())) {
      context.report(context.document.at_key(sink.pointer(),
                                             "sink: either 'inline: true' or 'use' is required"));
    }
    for (const std::string& key : kStorageOnlyKeys) {
      if (sink.has(key)) sink.reject(key, "only applies with 'use'");
    }
    return;
  }

  spec.storage = read_plugin_use(sink, PluginKind::storage);
  sink.require("key", "when 'use' is given");
  if (auto key = sink.template_value("key")) spec.key = std::move(*key);
  if (auto url = sink.choice("url", {"none", "presigned", "public"})) spec.url = url_mode(*url);
  if (auto expires = sink.integer("expires", 1, kMaxExpiresSeconds)) {
    spec.expires = std::chrono::seconds(*expires);
  }
  read_metadata(sink, spec);
}

}  // namespace imagepipe::config
