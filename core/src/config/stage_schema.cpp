// provider (a fallback chain), transforms and notifier: lists of plugin entries.
#include "config/pipeline_schema.hpp"
#include "config/plugin_use.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kProviderKeys = {"use",   "with",   "fall_through_on", "retry",
                                                "limit", "params", "optional",        "on_fall_through"};
const std::vector<std::string> kPluginKeys = {"use", "with"};
const std::vector<std::string> kRetryKeys = {"attempts", "base_delay_ms", "max_delay_ms"};
const std::vector<std::string> kLimitKeys = {"in_flight", "per_minute"};

constexpr std::int64_t kMaxAttempts = 20;
constexpr std::int64_t kMaxBaseDelayMs = 600'000;
constexpr std::int64_t kMaxDelayMs = 3'600'000;
constexpr std::int64_t kMaxInFlight = 100'000;
constexpr std::int64_t kMaxPerMinute = 1'000'000;

std::vector<std::string> error_classes() {
  std::vector<std::string> names;
  for (std::string_view name : error_class_names()) names.emplace_back(name);
  return names;
}

void read_fall_through(Mapping& entry, std::set<ErrorClass>& classes) {
  auto names = entry.strings("fall_through_on");
  if (!names) return;
  const json& value = *entry.get("fall_through_on");
  LoadContext& context = entry.context();
  for (std::size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    if (auto cls = error_class_from_string(name)) {
      classes.insert(*cls);
      continue;
    }
    const std::string pointer = value.is_array()
                                    ? child_pointer(entry.pointer("fall_through_on"), i)
                                    : entry.pointer("fall_through_on");
    context.report(
        context.document.at_value(pointer, "unknown error class '" + name + "'",
                                  suggestion_hint(name, error_classes(), "error classes")));
  }
}

void read_retry(Mapping& entry, RetryPolicy& retry) {
  Mapping block(entry.context(), entry.pointer("retry"), kRetryKeys);
  if (auto attempts = block.integer("attempts", 1, kMaxAttempts)) {
    retry.max_attempts = static_cast<int>(*attempts);
  }
  if (auto base = block.integer("base_delay_ms", 0, kMaxBaseDelayMs)) {
    retry.base_delay = std::chrono::milliseconds(*base);
  }
  if (auto max = block.integer("max_delay_ms", 0, kMaxDelayMs)) {
    retry.max_delay = std::chrono::milliseconds(*max);
  }
  if (retry.max_delay < retry.base_delay) {
    LoadContext& context = block.context();
    const std::string key = block.has("max_delay_ms") ? "max_delay_ms" : "base_delay_ms";
    context.report(context.document.at_value(
        block.pointer(key), block.path("max_delay_ms") + " (" +
                                std::to_string(retry.max_delay.count()) +
                                ") must not be less than " + block.path("base_delay_ms") + " (" +
                                std::to_string(retry.base_delay.count()) + ")"));
  }
}

void read_rate_limit(Mapping& entry, RateLimit& limit) {
  Mapping block(entry.context(), entry.pointer("limit"), kLimitKeys);
  if (auto in_flight = block.integer("in_flight", 0, kMaxInFlight)) {
    limit.max_in_flight = static_cast<int>(*in_flight);
  }
  if (auto per_minute = block.integer("per_minute", 0, kMaxPerMinute)) {
    limit.requests_per_minute = static_cast<int>(*per_minute);
  }
}

}  // namespace

void read_providers(Mapping& root, std::vector<ProviderEntry>& providers) {
  for_each_entry(root, "provider", kProviderKeys, [&](Mapping& entry) {
    ProviderEntry provider;
    std::optional<PluginUse> plugin = read_plugin_use(entry, PluginKind::provider);
    read_fall_through(entry, provider.fall_through_on);
    if (entry.has("retry")) read_retry(entry, provider.retry);
    read_rate_limit(entry, provider.limit);
    if (const json* params = entry.mapping("params")) {
      if (auto compiled = entry.context().compile_template(entry.pointer("params"), *params)) {
        provider.params = std::move(*compiled);
      }
      if (plugin) check_param_types(entry, *plugin, *params);
    }
    if (auto optional = entry.boolean("optional")) provider.optional = *optional;
    if (auto note = entry.template_value("on_fall_through")) provider.fall_through_note = std::move(*note);
    if (plugin) {
      provider.plugin = std::move(*plugin);
      providers.push_back(std::move(provider));
    }
  });
}

void read_transforms(Mapping& root, std::vector<PluginUse>& transforms) {
  for_each_entry(root, "transforms", kPluginKeys, [&](Mapping& entry) {
    if (auto plugin = read_plugin_use(entry, PluginKind::transform)) {
      transforms.push_back(std::move(*plugin));
    }
  });
}

void read_guards(Mapping& root, std::vector<PluginUse>& guards) {
  for_each_entry(root, "guard", kPluginKeys, [&](Mapping& entry) {
    if (auto plugin = read_plugin_use(entry, PluginKind::guard)) guards.push_back(std::move(*plugin));
  });
}

void read_notifiers(Mapping& root, std::vector<PluginUse>& notifiers) {
  for_each_entry(root, "notifier", kPluginKeys, [&](Mapping& entry) {
    if (auto plugin = read_plugin_use(entry, PluginKind::notifier)) {
      notifiers.push_back(std::move(*plugin));
    }
  });
}

}  // namespace imagepipe::config
