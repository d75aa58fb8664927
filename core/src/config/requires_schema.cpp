// requires: the variables a pipeline cannot run without, each group with the message the
// route answers while they are missing. A deployment that lacks a key is then told so,
// in the words its clients expect, instead of every job failing (or silently degrading).
#include <algorithm>
#include <cstdlib>
#include <map>

#include "config/pipeline_schema.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kRequirementKeys = {"env", "message"};

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

// "COS_OUTPUT_BUCKET|COS_BUCKET" → {"COS_OUTPUT_BUCKET", "COS_BUCKET"}.
std::vector<std::string> alternatives(const std::string& text) {
  std::vector<std::string> names;
  std::size_t start = 0;
  for (std::size_t bar; (bar = text.find('|', start)) != std::string::npos; start = bar + 1)
    names.push_back(text.substr(start, bar - start));
  names.push_back(text.substr(start));
  return names;
}

}  // namespace

void read_requirements(Mapping& root, std::vector<Requirement>& requirements) {
  for_each_entry(root, "requires", kRequirementKeys, [&](Mapping& entry) {
    Requirement requirement;
    entry.require("env");
    entry.require("message");
    if (auto names = entry.strings("env")) {
      for (std::size_t i = 0; i < names->size(); ++i) {
        auto group = alternatives((*names)[i]);
        for (const auto& name : group) {
          if (is_variable_name(name)) continue;
          const json& value = *entry.get("env");
          entry.context().report(entry.context().document.at_value(
              value.is_array() ? child_pointer(entry.pointer("env"), i) : entry.pointer("env"),
              entry.path("env") + ": '" + name + "' is not a variable name",
              "write NAME, or NAME|OTHER when either will do"));
        }
        requirement.env.push_back(std::move(group));
      }
    }
    if (auto message = entry.string("message")) requirement.message = *message;
    requirements.push_back(std::move(requirement));
  });
}

std::vector<std::string> unmet_requirements(const std::vector<Requirement>& requirements,
                                            const std::map<std::string, std::string>& overrides) {
  auto is_set = [&](const std::string& name) {
    if (auto it = overrides.find(name); it != overrides.end()) return !it->second.empty();
    const char* value = std::getenv(name.c_str());
    return value && *value;  // empty counts as unset, as ${NAME:-default} treats it
  };
  std::vector<std::string> unmet;
  for (const auto& requirement : requirements) {
    std::string names;
    for (const auto& group : requirement.env) {
      if (std::any_of(group.begin(), group.end(), is_set)) continue;
      std::string text = group.front();
      for (std::size_t i = 1; i < group.size(); ++i) text += " (or " + group[i] + ")";
      names += (names.empty() ? "" : ", ") + text;
    }
    if (!names.empty()) unmet.push_back(requirement.message + ": " + names);
  }
  return unmet;
}

}  // namespace imagepipe::config

namespace imagepipe {

bool Pipeline::calls_providers() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.calls_provider(); });
}

std::vector<const ProviderEntry*> Pipeline::provider_entries() const {
  std::vector<const ProviderEntry*> entries;
  for (const auto& step : steps)
    for (const auto& action : step.alternatives)
      for (const auto& entry : action.providers) entries.push_back(&entry);
  return entries;
}

std::string unavailable_reason(const Pipeline& pipeline) {
  if (!pipeline.unmet_requirements.empty()) return pipeline.unmet_requirements.front();
  if (pipeline.missing_env.empty()) return {};
  std::string names;
  for (const auto& m : pipeline.missing_env) names += (names.empty() ? "" : ", ") + m;
  return names + (pipeline.missing_env.size() == 1 ? " is not set" : " are not set");
}

}  // namespace imagepipe
