#include "serve_catalogue.hpp"

#include "imagepipe/template.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

// The name `choose` falls back to: the default of `${request.body.F:-name}`.
json default_choice(const Step& step) {
  if (!step.choose) return nullptr;
  const json& raw = step.choose->raw();
  if (!raw.is_string()) return nullptr;
  try {
    const auto pieces = split_template(raw.get<std::string>());
    if (pieces.size() == 1 && pieces[0].kind == TemplatePiece::Kind::placeholder &&
        pieces[0].fallback && pieces[0].fallback->find("${") == std::string::npos)
      return *pieces[0].fallback;
    if (step.choose->is_constant()) return raw;
  } catch (const TemplateError&) {
  }
  return nullptr;
}

json alternative_entry(const StepAction& action) {
  json entry = {{"id", action.name}};
  for (auto it = action.describe.begin(); it != action.describe.end(); ++it)
    entry[it.key()] = it.value();
  if (action.limits.sizes) entry["supported_sizes"] = *action.limits.sizes;
  if (action.limits.max_images) entry["max_images"] = *action.limits.max_images;
  // The entry that answers first: optional ones without their keys are passed over.
  json skipped = json::array();
  for (std::size_t i = 0; i < action.providers.size(); ++i) {
    const auto& provider = action.providers[i];
    const std::string reason = provider.optional && i + 1 < action.providers.size()
                                   ? unconfigured_reason(provider.plugin)
                                   : std::string();
    if (reason.empty()) {
      entry["provider"] = provider.plugin.use;
      break;
    }
    skipped.push_back(provider.plugin.use + ": " + reason);
  }
  if (!skipped.empty()) entry["skipped"] = std::move(skipped);
  return entry;
}

}  // namespace

json catalogue_body(const Pipeline& pipeline) {
  const auto& catalogue = *pipeline.trigger.http->catalogue;
  json body = json::object();
  for (const auto& step : pipeline.steps) {
    if (step.name != catalogue.step) continue;
    json list = json::array();
    for (const auto& action : step.alternatives)
      if (step.is_enabled(action.name)) list.push_back(alternative_entry(action));
    body[catalogue.list_key] = std::move(list);
    if (!catalogue.default_key.empty()) body[catalogue.default_key] = default_choice(step);
  }
  return body;
}

}  // namespace imagepipe::serve
