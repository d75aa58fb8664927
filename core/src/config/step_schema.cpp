// steps: the named provider calls and transform runs between source and sink. The
// five-stage form (`provider:` then `transforms:`) is read here too, as two steps.
#include <algorithm>

#include "config/pipeline_schema.hpp"
#include "config/suggest.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kStepKeys = {"name",       "prompt", "images", "provider",
                                            "transforms", "runs", "choose", "alternatives", "when",
                                            "enabled"};
const std::vector<std::string> kAlternativeKeys = {"provider", "transforms", "accepts", "describe"};
const std::vector<std::string> kAcceptsKeys = {"sizes", "max_images"};
const std::vector<std::string> kRunsKeys = {"images", "per_run"};
constexpr std::string_view kItem = "item";
constexpr std::int64_t kMaxPerRun = 100;

bool is_step_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// The step's action from `provider:` or `transforms:` (exactly one of them).
std::optional<StepAction> read_action(Mapping& block, const std::string& what) {
  const bool provider = block.has("provider"), transforms = block.has("transforms");
  if (provider && transforms) {
    block.reject("transforms", "cannot be combined with 'provider' in one " + what,
                 "a step either calls a provider or runs transforms: make them two steps");
    return std::nullopt;
  }
  if (!provider && !transforms) {
    block.context().report(block.context().document.at_key(
        block.pointer(), what + " needs 'provider' or 'transforms'"));
    return std::nullopt;
  }
  StepAction action;
  if (provider) {
    read_providers(block, action.providers);
    if (action.providers.empty()) return std::nullopt;
  } else {
    read_transforms(block, action.transforms);
    if (action.transforms.empty()) return std::nullopt;
  }
  return action;
}

class StepReader {
 public:
  StepReader(Mapping& root, Pipeline& pipeline) : root_(root), pipeline_(pipeline) {}

  void read_list() {
    const json* value = root_.get("steps");
    LoadContext& context = root_.context();
    if (!value->is_array() || value->empty()) {
      context.report(context.document.at_value(
          root_.pointer("steps"), "steps must be a list of steps, got " + describe_value(*value),
          "write each step as '- name: ...' with 'provider' or 'transforms'"));
      return;
    }
    for (std::size_t i = 0; i < value->size(); ++i) {
      Mapping entry(context, child_pointer(root_.pointer("steps"), i), kStepKeys);
      if (entry.valid()) read_step(entry);
    }
  }

  // provider: and transforms: at the top level: the steps "provider" then "transforms".
  void read_stages() {
    StepAction chain, transforms;
    read_providers(root_, chain.providers);
    read_transforms(root_, transforms.transforms);
    if (!chain.providers.empty()) add_stage("provider", std::move(chain));
    if (!transforms.transforms.empty()) add_stage("transforms", std::move(transforms));
  }

 private:
  void add_stage(std::string name, StepAction action) {
    Step step;
    step.name = std::move(name);
    step.mark = root_.context().document.at_key(root_.pointer(step.name), "").mark;
    step.inputs = {pipeline_.steps.empty() ? Step::kItem : int(pipeline_.steps.size()) - 1};
    step.alternatives.push_back(std::move(action));
    pipeline_.steps.push_back(std::move(step));
  }

  void read_step(Mapping& entry) {
    LoadContext& context = entry.context();
    Step step;
    entry.require("name");
    const auto name = entry.string("name");
    bool ok = name.has_value();
    if (name && !is_step_name(*name)) {
      context.report(context.document.at_value(
          entry.pointer("name"),
          "a step name uses only lowercase letters, digits, '-' and '_', got '" + *name + "'"));
      ok = false;
    } else if (name && *name == kItem) {
      context.report(context.document.at_value(
          entry.pointer("name"), "'item' names the item's own image and cannot name a step"));
      ok = false;
    } else if (name && std::find(seen_.begin(), seen_.end(), *name) != seen_.end()) {
      context.report(context.document.at_value(entry.pointer("name"),
                                               "a step named '" + *name + "' comes earlier",
                                               "step names are unique"));
      ok = false;
    }
    if (name) {
      step.name = *name;
      seen_.push_back(*name);
    }
    step.mark = context.document.at_key(entry.pointer(), "").mark;
    if (auto prompt = entry.template_value("prompt")) step.prompt = std::move(*prompt);
    if (auto when = entry.template_value("when")) step.when = std::move(*when);
    ok = read_inputs(entry, step) && ok;
    ok = read_alternatives(entry, step) && ok;
    if (ok && entry.has("runs")) ok = read_runs(entry, step);
    // A step that failed to read is kept out, but its name still counts as declared so
    // later references to it are not reported twice.
    if (ok) {
      pipeline_.steps.push_back(std::move(step));
    } else if (name) {
      broken_.push_back(*name);
    }
  }

  int find(const std::string& name) const {
    for (std::size_t i = 0; i < pipeline_.steps.size(); ++i)
      if (pipeline_.steps[i].name == name) return static_cast<int>(i);
    return -1;
  }

  std::vector<std::string> earlier_names() const {
    std::vector<std::string> names = {std::string(kItem)};
    for (const auto& step : pipeline_.steps) names.push_back(step.name);
    return names;
  }

  bool read_inputs(Mapping& entry, Step& step) {
    if (!entry.get("images")) {
      step.inputs = {pipeline_.steps.empty() ? Step::kItem : int(pipeline_.steps.size()) - 1};
      return true;
    }
    const json& value = *entry.get("images");
    if (value.is_array() && value.empty()) return true;  // text only
    auto names = entry.strings("images");
    if (!names) return false;
    bool ok = true;
    LoadContext& context = entry.context();
    for (std::size_t i = 0; i < names->size(); ++i) {
      const std::string& input = (*names)[i];
      const std::string pointer =
          value.is_array() ? child_pointer(entry.pointer("images"), i) : entry.pointer("images");
      if (input == kItem) {
        step.inputs.push_back(Step::kItem);
        continue;
      }
      if (const int index = find(input); index >= 0) {
        step.inputs.push_back(index);
        continue;
      }
      if (std::find(broken_.begin(), broken_.end(), input) != broken_.end()) {
        ok = false;  // that step's own problem was reported
        continue;
      }
      ok = false;
      if (input == step.name) {
        context.report(
            context.document.at_value(pointer, "step '" + input + "' cannot take its own images",
                                      "a step takes images from the item or from earlier steps"));
      } else if (later_step(entry, input)) {
        context.report(context.document.at_value(
            pointer, "step '" + input + "' comes after '" + step.name + "'",
            "a step takes images only from earlier steps: reorder them"));
      } else {
        context.report(
            context.document.at_value(pointer, "no earlier step is named '" + input + "'",
                                      suggestion_hint(input, earlier_names(), "images may name")));
      }
    }
    return ok;
  }

  // Whether `name` is declared by a step after the one being read.
  bool later_step(Mapping& entry, const std::string& name) const {
    const json* steps = root_.get("steps");
    const auto self = entry.pointer();
    bool after = false;
    for (std::size_t i = 0; i < steps->size(); ++i) {
      if (child_pointer(root_.pointer("steps"), i) == self) {
        after = true;
        continue;
      }
      const json& other = (*steps)[i];
      if (after && other.is_object() && other.value("name", json()) == name) return true;
    }
    return false;
  }

  bool read_alternatives(Mapping& entry, Step& step) {
    LoadContext& context = entry.context();
    const bool chooses = entry.has("choose"), has_alternatives = entry.has("alternatives");
    if (chooses != has_alternatives) {
      entry.reject(chooses ? "choose" : "alternatives",
                   chooses ? "needs 'alternatives'" : "needs 'choose'",
                   "'choose' renders the name of one of the 'alternatives'");
      return false;
    }
    if (!chooses) {
      auto action = read_action(entry, "step '" + step.name + "'");
      if (!action) return false;
      step.alternatives.push_back(std::move(*action));
      return true;
    }
    for (const char* key : {"provider", "transforms"})
      if (entry.has(key)) {
        entry.reject(key, "does not apply beside 'alternatives'",
                     "put it under one of the alternatives");
        return false;
      }
    const json* alternatives = entry.mapping("alternatives");
    if (!alternatives) return false;
    if (alternatives->empty()) {
      context.report(context.document.at_value(entry.pointer("alternatives"),
                                               "alternatives must name at least one"));
      return false;
    }
    bool ok = true;
    for (const auto& [name, _] : alternatives->items()) {
      Mapping block(context, child_pointer(entry.pointer("alternatives"), name), kAlternativeKeys);
      if (!block.valid()) {
        ok = false;
        continue;
      }
      auto action = read_action(block, "alternative '" + name + "'");
      if (!action) {
        ok = false;
        continue;
      }
      action->name = name;
      if (!read_accepts(block, *action)) ok = false;
      if (const json* describe = block.has("describe") ? block.mapping("describe") : nullptr)
        action->describe = *describe;
      step.alternatives.push_back(std::move(*action));
    }
    if (!ok) return false;
    const bool provider = step.alternatives.front().calls_provider();
    for (const auto& action : step.alternatives)
      if (action.calls_provider() != provider) {
        context.report(
            context.document.at_key(child_pointer(entry.pointer("alternatives"), action.name),
                                    "alternative '" + action.name + "' " +
                                        (provider ? "runs transforms" : "calls a provider") +
                                        " but '" + step.alternatives.front().name + "' " +
                                        (provider ? "calls a provider" : "runs transforms"),
                                    "the alternatives of a step do the same kind of work"));
        return false;
      }
    auto choose = entry.template_value("choose");
    if (!choose) return false;
    step.choose = std::move(*choose);
    if (!read_enabled(entry, step)) return false;
    return check_choice(entry, step);
  }

  // `accepts: {sizes, max_images}`, then narrowed by what each chain entry's plugin
  // declares for its model (capabilities.models.<model>.sizes / max_images), so a
  // dall-e-3 entry limits its alternative to one image without the file saying so.
  bool read_accepts(Mapping& block, StepAction& action) {
    if (block.has("accepts")) {
      Mapping accepts(block.context(), block.pointer("accepts"), kAcceptsKeys);
      if (!accepts.valid()) return false;
      if (accepts.has("sizes")) {
        auto sizes = accepts.strings("sizes");
        if (!sizes) return false;
        action.limits.sizes = std::move(*sizes);
      }
      if (accepts.has("max_images")) {
        auto most = accepts.integer("max_images", 1, 10'000);
        if (!most) return false;
        action.limits.max_images = static_cast<int>(*most);
      }
    }
    for (const auto& entry : action.providers) {
      const auto* descriptor = entry.plugin.descriptor;
      const auto model = entry.plugin.with.find("model");
      if (!descriptor || model == entry.plugin.with.end() || !model->is_string()) continue;
      const json& models = descriptor->capabilities.value("models", json::object());
      const auto it = models.find(model->get<std::string>());
      if (it == models.end() || !it->is_object()) continue;
      if (const auto most = it->find("max_images"); most != it->end() && most->is_number_integer())
        action.limits.max_images = std::min(action.limits.max_images.value_or(most->get<int>()),
                                            most->get<int>());
      if (const auto sizes = it->find("sizes"); sizes != it->end() && sizes->is_array()) {
        std::vector<std::string> declared;
        for (const auto& size : *sizes)
          if (size.is_string()) declared.push_back(size.get<std::string>());
        if (!action.limits.sizes) {
          action.limits.sizes = declared;
        } else {  // both say: what both make
          auto& mine = *action.limits.sizes;
          mine.erase(std::remove_if(mine.begin(), mine.end(),
                                    [&](const std::string& size) {
                                      return std::find(declared.begin(), declared.end(), size) ==
                                             declared.end();
                                    }),
                     mine.end());
        }
      }
    }
    return true;
  }

  // `enabled:` a list of alternative names, or one string of them separated by commas
  // (what an ENABLED_PROVIDERS variable holds). Each must be an alternative.
  bool read_enabled(Mapping& entry, Step& step) {
    if (!entry.has("enabled")) return true;
    LoadContext& context = entry.context();
    auto listed = entry.strings("enabled");
    if (!listed) return false;
    std::vector<std::string> names;
    for (const auto& text : *listed) {
      std::size_t start = 0;
      while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        std::string name = text.substr(start, end - start);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (!name.empty()) names.push_back(std::move(name));
        start = end + 1;
      }
    }
    const auto all = alternative_names(step);
    for (const auto& name : names)
      if (std::find(all.begin(), all.end(), name) == all.end()) {
        context.report(context.document.at_value(
            entry.pointer("enabled"),
            "enabled names '" + name + "', which is not an alternative of step '" + step.name + "'",
            suggestion_hint(name, all, "alternatives are")));
        return false;
      }
    if (names.empty()) {
      context.report(context.document.at_value(entry.pointer("enabled"),
                                               "enabled must name at least one alternative"));
      return false;
    }
    step.enabled = std::move(names);
    return true;
  }

  std::vector<std::string> alternative_names(const Step& step) const {
    std::vector<std::string> names;
    for (const auto& action : step.alternatives) names.push_back(action.name);
    return names;
  }

  // A constant choice must name an alternative; `${request.body.F}` (with or without a
  // default) makes F's schema an enum of the alternatives, so a request that names none
  // of them is a 422 and the OpenAPI document lists them.
  bool check_choice(Mapping& entry, Step& step) {
    LoadContext& context = entry.context();
    auto names = alternative_names(step);
    if (!step.enabled.empty()) names = step.enabled;
    auto known = [&](const std::string& name) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    const json& raw = step.choose->raw();
    const std::string text = raw.is_string() ? raw.get<std::string>() : raw.dump();
    auto not_known = [&](const std::string& name, const std::string& where) {
      context.report(context.document.at_value(
          entry.pointer("choose"),
          where + " '" + name + "' is not " +
              (step.enabled.empty() ? "an" : "an enabled") + " alternative of step '" + step.name + "'",
          suggestion_hint(name, names, "alternatives are")));
      return false;
    };
    if (step.choose->is_constant()) return known(text) || not_known(text, "choose");
    std::vector<TemplatePiece> pieces;
    try {
      pieces = split_template(text);
    } catch (const TemplateError&) {
      return false;  // reported by the template check
    }
    if (pieces.size() != 1 || pieces[0].kind != TemplatePiece::Kind::placeholder) return true;
    const std::string& path = pieces[0].text;
    if (pieces[0].fallback && pieces[0].fallback->find("${") == std::string::npos &&
        !known(*pieces[0].fallback))
      return not_known(*pieces[0].fallback, "the default");
    constexpr std::string_view kBody = "request.body.";
    if (path.rfind(kBody, 0) != 0) return true;
    const std::string field = path.substr(kBody.size());
    if (field.empty() || field.find_first_of(".[") != std::string::npos) return true;
    return constrain_request_field(entry, step, field, names, pieces[0].fallback);
  }

  bool constrain_request_field(Mapping& entry, const Step& step, const std::string& field,
                               const std::vector<std::string>& names,
                               const std::optional<std::string>& fallback) {
    LoadContext& context = entry.context();
    json& schema = pipeline_.trigger.request_schema;
    if (schema.is_null()) schema = {{"type", "object"}};
    if (!schema.is_object()) return true;
    json& property = schema["properties"][field];
    if (property.is_null()) property = json::object();
    if (!property.is_object()) return true;
    if (!property.contains("type")) property["type"] = "string";
    if (const auto it = property.find("enum"); it != property.end() && it->is_array()) {
      for (const json& allowed : *it)
        if (!allowed.is_string() ||
            std::find(names.begin(), names.end(), allowed.get<std::string>()) == names.end()) {
          context.report(context.document.at_value(
              entry.pointer("choose"),
              "request_schema allows " + field + " " + describe_value(allowed) +
                  ", which is not an alternative of step '" + step.name + "'",
              "leave the enum out: it is made from the alternatives"));
          return false;
        }
    } else {
      property["enum"] = names;
    }
    if (fallback && !property.contains("default")) property["default"] = *fallback;
    if (!property.contains("description"))
      property["description"] = "Chooses step '" + step.name + "'";
    return true;
  }

  bool read_runs(Mapping& entry, Step& step) {
    LoadContext& context = entry.context();
    if (!step.calls_provider()) {
      entry.reject("runs", "applies only to a step that calls a provider");
      return false;
    }
    const json& value = *entry.get("runs");
    if (value.is_object()) {
      Mapping block(context, entry.pointer("runs"), kRunsKeys);
      block.require("images");
      block.require("per_run");
      auto images = block.template_value("images");
      auto per_run = block.integer("per_run", 1, kMaxPerRun);
      if (!images || !per_run) return false;
      step.runs = std::move(*images);
      step.per_run = static_cast<int>(*per_run);
      return true;
    }
    if (value.is_number_integer()) {
      if (auto runs = entry.integer("runs", 1, kMaxPerRun)) {
        step.runs = Template::compile(json(*runs));
        return true;
      }
      return false;
    }
    if (value.is_string()) {
      auto runs = entry.template_value("runs");
      if (!runs) return false;
      step.runs = std::move(*runs);
      return true;
    }
    context.report(context.document.at_value(
        entry.pointer("runs"),
        "runs must be an integer, a template or {images, per_run}, got " + describe_value(value)));
    return false;
  }

  Mapping& root_;
  Pipeline& pipeline_;
  std::vector<std::string> broken_;
  std::vector<std::string> seen_;  // every name declared so far, loaded or not
};

// sink.images: the steps whose images are the results.
void read_sink_steps(Mapping& root, Pipeline& pipeline) {
  const json* sink = root.get("sink");
  if (!sink || !sink->is_object() || !sink->contains("images")) return;
  LoadContext& context = root.context();
  const std::string pointer = child_pointer(root.pointer("sink"), "images");
  const json& value = (*sink)["images"];
  std::vector<std::string> names;
  if (value.is_string()) names.push_back(value.get<std::string>());
  if (value.is_array())
    for (const json& name : value)
      if (name.is_string()) names.push_back(name.get<std::string>());
  if (names.empty() || (value.is_array() && names.size() != value.size())) {
    context.report(context.document.at_value(
        pointer, "sink.images must name one or more steps, got " + describe_value(value)));
    return;
  }
  std::vector<std::string> declared;
  for (const auto& step : pipeline.steps) declared.push_back(step.name);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto it = std::find(declared.begin(), declared.end(), names[i]);
    if (it != declared.end()) {
      pipeline.sink.steps.push_back(static_cast<int>(it - declared.begin()));
      continue;
    }
    std::vector<std::string> in_file;
    if (const json* steps = root.get("steps"); steps && steps->is_array())
      for (const json& step : *steps)
        if (step.is_object() && step.contains("name") && step["name"].is_string())
          in_file.push_back(step["name"].get<std::string>());
    const bool declared_in_file =
        std::find(in_file.begin(), in_file.end(), names[i]) != in_file.end();
    if (declared_in_file) continue;  // that step failed to load and said why
    context.report(context.document.at_value(
        value.is_array() ? child_pointer(pointer, i) : pointer,
        "sink.images: no step is named '" + names[i] + "'",
        suggestion_hint(names[i], in_file.empty() ? declared : in_file, "steps are")));
  }
}

}  // namespace

void read_steps(Mapping& root, Pipeline& pipeline) {
  StepReader reader(root, pipeline);
  if (root.has("steps")) {
    for (const char* key : {"provider", "transforms"})
      if (root.has(key))
        root.reject(key, "cannot be combined with 'steps'",
                    "move it into a step: '- name: ...' with '" + std::string(key) + ":' under it");
    reader.read_list();
  } else {
    reader.read_stages();
  }
  read_sink_steps(root, pipeline);
}

}  // namespace imagepipe::config
