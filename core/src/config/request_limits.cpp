// Sizes and image counts judged at the door: a dall-e-3 request for four images is the
// client's mistake, so it gets a 422 naming the limit instead of a job that fails (or a
// provider call that is paid for and refused).
#include <algorithm>

#include "imagepipe/pipeline.hpp"
#include "imagepipe/template.hpp"

namespace imagepipe {

namespace {

using nlohmann::json;

// The body field a template reads when it is exactly `${request.body.F...}`: the field a
// client should fix. Else the body as a whole.
std::vector<std::string> loc_of(const json& raw) {
  std::vector<std::string> loc{"body"};
  if (!raw.is_string()) return loc;
  try {
    const auto pieces = split_template(raw.get<std::string>());
    if (pieces.size() != 1 || pieces[0].kind != TemplatePiece::Kind::placeholder) return loc;
    constexpr std::string_view kBody = "request.body.";
    const std::string& path = pieces[0].text;
    if (path.rfind(kBody, 0) != 0) return loc;
    const std::string field =
        path.substr(kBody.size(), path.find_first_of(".[", kBody.size()) - kBody.size());
    if (!field.empty()) loc.push_back(field);
  } catch (const TemplateError&) {
  }
  return loc;
}

std::optional<long long> as_integer(const json& value) {
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    try {
      std::size_t used = 0;
      const long long parsed = std::stoll(text, &used);
      if (used == text.size()) return parsed;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

bool skipped(const Step& step, const json& scope) {
  if (!step.when) return false;
  try {
    std::string text = step.when->render_string(scope);
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text.empty() || text == "false" || text == "no" || text == "off" || text == "0";
  } catch (const std::exception&) {
    return false;
  }
}

const StepAction* chosen(const Step& step, const json& scope) {
  if (!step.choose) return &step.alternatives.front();
  try {
    const std::string name = step.choose->render_string(scope);
    for (const auto& action : step.alternatives)
      if (action.name == name) return &action;
  } catch (const std::exception&) {
  }
  return nullptr;  // the schema's enum or the run names the problem
}

// The first chain entry's value for `option`: its params rendered for the request, else
// its fixed `with:`. The template it came from (for the loc) goes to `raw`.
json option_value(const StepAction& action, const char* option, const json& scope, json& raw) {
  const auto& entry = action.providers.front();
  const json& params = entry.params.raw();
  if (params.is_object() && params.contains(option)) {
    raw = params.at(option);
    try {
      const json rendered = entry.params.render(scope);
      if (rendered.is_object() && rendered.contains(option)) return rendered.at(option);
    } catch (const std::exception&) {
    }
    return nullptr;
  }
  return entry.plugin.with.value(option, json());
}

void check_step(const Step& step, const json& scope, std::vector<RequestProblem>& problems) {
  if (!step.calls_provider() || skipped(step, scope)) return;
  const StepAction* action = chosen(step, scope);
  if (!action || action->providers.empty()) return;
  const auto& limits = action->limits;
  const std::string who = action->name.empty() ? "step '" + step.name + "'" : action->name;

  if (limits.sizes) {
    json raw;
    const json size = option_value(*action, "size", scope, raw);
    const auto& sizes = *limits.sizes;
    if (size.is_string() && !size.get<std::string>().empty() &&
        std::find(sizes.begin(), sizes.end(), size.get<std::string>()) == sizes.end()) {
      std::string list;
      for (const auto& s : sizes) list += (list.empty() ? "" : ", ") + s;
      problems.push_back(
          {loc_of(raw), who + " makes the sizes " + list + ", got " + size.get<std::string>()});
    }
  }
  if (limits.max_images) {
    json n_raw;
    const json n = option_value(*action, "n", scope, n_raw);
    long long images = as_integer(n).value_or(1);
    json count_raw = n_raw;
    if (step.runs) {
      try {
        if (const auto runs = as_integer(step.runs->render(scope))) {
          images = step.per_run ? *runs : images * *runs;
          count_raw = step.runs->raw();
        }
      } catch (const std::exception&) {
      }
    }
    if (images > *limits.max_images)
      problems.push_back({loc_of(count_raw), who + " makes at most " +
                                                 std::to_string(*limits.max_images) +
                                                 (*limits.max_images == 1 ? " image" : " images") +
                                                 " per request, got " + std::to_string(images)});
  }
}

}  // namespace

std::vector<RequestProblem> check_request_limits(const Pipeline& pipeline, const json& scope) {
  std::vector<RequestProblem> problems;
  for (const auto& step : pipeline.steps) check_step(step, scope, problems);
  return problems;
}

}  // namespace imagepipe
