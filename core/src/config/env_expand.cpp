#include "config/env_expand.hpp"

#include <algorithm>
#include <cstdlib>

#include "config/suggest.hpp"
#include "config/template_refs.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_environment_name(std::string_view name) {
  return !name.empty() && is_name_start(name.front()) &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

// "request.body.x" → "request"; "items[0]" → "items".
std::string_view first_name(std::string_view path) {
  return path.substr(0, std::min(path.find('.'), path.find('[')));
}

bool has_uppercase(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

std::string template_hint(std::string_view message) {
  if (message == "unterminated placeholder")
    return "close it with '}' or write $${ for a literal ${";
  if (message == "empty placeholder") return "write $${ for a literal ${";
  if (message.rfind("invalid path", 0) == 0) {
    return "paths look like job.id, items[0].base64 or request.headers.callbackUrl";
  }
  return {};
}

class Expander {
 public:
  Expander(YamlDocument& document, const LoadOptions& options, std::vector<Diagnostic>& diagnostics)
      : document_(document), options_(options), diagnostics_(diagnostics) {}

  EnvironmentExpansion run() {
    walk(document_.root, "");
    return std::move(result_);
  }

 private:
  void walk(json& value, const std::string& pointer) {
    if (is_selection(value)) {
      select(value, pointer);
      return;
    }
    if (value.is_object()) {
      for (auto& [key, child] : value.items()) walk(child, child_pointer(pointer, key));
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) walk(value[i], child_pointer(pointer, i));
    } else if (value.is_string()) {
      expand_string(value, pointer);
    }
  }

  // `{select: "${STORAGE_BACKEND:-local}", cases: {local: {...}, s3: {...}}}`: a block
  // chosen by configuration when the file loads. Only the chosen case is expanded, so the
  // variables of the others (S3_BUCKET while storing locally) are never asked for.
  static bool is_selection(const json& value) {
    return value.is_object() && value.size() == 2 && value.contains("select") &&
           value.contains("cases") && value["select"].is_string() && value["cases"].is_object();
  }

  void select(json& value, const std::string& pointer) {
    const std::string select_pointer = child_pointer(pointer, "select");
    json name = value["select"];
    expand_string(name, select_pointer);
    if (!name.is_string() || result_.unresolved.count(select_pointer)) return;
    const std::string chosen = name.get<std::string>();
    json& cases = value["cases"];
    if (!cases.contains(chosen)) {
      std::vector<std::string> names;
      for (auto it = cases.begin(); it != cases.end(); ++it) names.push_back(it.key());
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      diagnostics_.push_back(document_.at_value(
          select_pointer, "select chose '" + chosen + "', which is not one of its cases (" + list + ")",
          suggestion_hint(chosen, names, "cases are")));
      value = nullptr;  // reported once: the readers see nothing there rather than select
      return;
    }
    json picked = std::move(cases[chosen]);
    document_.hoist(child_pointer(child_pointer(pointer, "cases"), chosen), pointer);
    value = std::move(picked);
    walk(value, pointer);
  }

  void expand_string(json& value, const std::string& pointer) {
    const std::string text = value.get<std::string>();
    if (text.find("${") == std::string::npos) return;
    std::vector<TemplatePiece> pieces;
    try {
      pieces = split_template(text);
    } catch (const TemplateError& error) {
      report_template_error(pointer, text, error);
      return;
    }
    std::string expanded;
    bool substituted = false, defaults_expanded = false;
    for (const TemplatePiece& piece : pieces) {
      const std::string_view written = std::string_view(text).substr(piece.offset, piece.length);
      if (piece.kind == TemplatePiece::Kind::text) {
        // Escapes stay escaped: the string may still be compiled as a template later.
        expanded += written;
        continue;
      }
      const std::string_view root = first_name(piece.text);
      if (is_runtime_root(root)) {
        if (check_runtime_placeholder(pointer, text, piece)) check_references(pointer, text, piece, 0);
        // `${request.body.provider:-${DEFAULT_PROVIDER:-dalle3}}`: the deployment's
        // default, read now like any variable; the request's value still wins at run time.
        if (piece.fallback && piece.fallback->find("${") != std::string::npos) {
          if (auto inner = expand_in_default(pointer, *piece.fallback)) {
            expanded += "${" + piece.text + ":-" + *inner + "}";
            defaults_expanded = true;
            continue;
          }
        }
        expanded += written;
        continue;
      }
      if (!is_environment_name(piece.text)) {
        report_not_a_name(pointer, text, piece);
        expanded += written;
        continue;
      }
      if (!check_default(pointer, text, piece, 0)) {
        expanded += written;
        continue;
      }
      substituted = true;
      auto& values = result_.substituted[pointer];  // listed even when nothing was found
      if (auto replacement = resolve(pointer, piece, 0)) {
        values.push_back(*replacement);
        expanded += *replacement;
      }
    }
    if (pieces.size() == 1 && pieces.front().kind == TemplatePiece::Kind::placeholder &&
        is_runtime_root(first_name(pieces.front().text))) {
      result_.runtime_only.insert(pointer);
    }
    if (pieces.size() == 1 && substituted) result_.whole_variable.insert(pointer);
    if (!substituted) {
      if (defaults_expanded) value = expanded;
      return;
    }
    // A plain scalar is typed after expansion, so `concurrency: ${CONC:-4}` is a number;
    // a quoted one stays a string (see whole_variable for where it is read as a number).
    const NodeInfo* info = document_.find(pointer);
    if (info && info->style == ScalarStyle::plain) {
      value = resolve_plain_scalar(expanded);
    } else {
      value = expanded;
    }
  }

  // The variables in a runtime placeholder's default, replaced (runtime placeholders in it
  // kept, theirs expanded in turn). A value's "${" is escaped so it stays text. nullopt
  // when a variable is unset with no default (recorded or reported by resolve).
  std::optional<std::string> expand_in_default(const std::string& pointer, const std::string& text) {
    std::vector<TemplatePiece> pieces;
    try {
      pieces = split_template(text);
    } catch (const TemplateError&) {
      return std::nullopt;  // the whole string's check reports it
    }
    std::string out;
    for (const TemplatePiece& piece : pieces) {
      const std::string written = text.substr(piece.offset, piece.length);
      if (piece.kind == TemplatePiece::Kind::text) {
        out += written;
      } else if (is_runtime_root(first_name(piece.text))) {
        auto inner = piece.fallback ? expand_in_default(pointer, *piece.fallback) : std::nullopt;
        out += inner ? "${" + piece.text + ":-" + *inner + "}" : written;
      } else {
        auto value = resolve(pointer, piece, 0);
        if (!value) return std::nullopt;
        for (std::size_t at = 0; (at = value->find("${", at)) != std::string::npos; at += 3)
          value->insert(at, "$");
        out += *value;
      }
    }
    return out;
  }

  // Where the default of `piece` starts in the string, when the piece starts at `base`.
  static std::size_t default_offset(const TemplatePiece& piece, std::size_t base) {
    return base + piece.offset + 2 + piece.text.size() + 2;  // "${" NAME ":-"
  }

  // "${A:-${B:-x}}": a default may name other variables, never a runtime value, since
  // every variable of a file is known when it loads. Checked whether or not it is used.
  bool check_default(const std::string& pointer, const std::string& text,
                     const TemplatePiece& piece, std::size_t base) {
    if (!piece.fallback || piece.fallback->find("${") == std::string::npos) return true;
    const std::size_t at = default_offset(piece, base);
    std::vector<TemplatePiece> nested;
    try {
      nested = split_template(*piece.fallback);
    } catch (const TemplateError& error) {
      report_template_error(pointer, text, TemplateError(error.what(), at + error.offset));
      return false;
    }
    for (const TemplatePiece& inner : nested) {
      if (inner.kind == TemplatePiece::Kind::text) continue;
      if (!is_environment_name(inner.text)) {
        result_.template_errors.insert(pointer);
        diagnostics_.push_back(document_.at_text(
            pointer, at + inner.offset, inner.length,
            "a default can name environment variables only, not '" + inner.text + "'",
            "write the default as text, or name a variable"));
        return false;
      }
      if (!check_default(pointer, text, inner, at)) return false;
    }
    return true;
  }

  // A default as written, with the variables it names expanded (see check_default).
  std::optional<std::string> expand_default(const std::string& pointer, const TemplatePiece& piece,
                                            std::size_t base) {
    const std::string& text = *piece.fallback;
    if (text.find("${") == std::string::npos) return text;
    std::string out;
    for (const TemplatePiece& inner : split_template(text)) {
      if (inner.kind == TemplatePiece::Kind::text) {
        out += text.substr(inner.offset, inner.length);
        continue;
      }
      auto value = resolve(pointer, inner, default_offset(piece, base));
      if (!value) return std::nullopt;
      out += *value;
    }
    return out;
  }

  // The variable's value, else the default, else nothing (reported or recorded as missing).
  // `base`: where the string `piece` was split from starts in the value (a default's offset).
  std::optional<std::string> resolve(const std::string& pointer, const TemplatePiece& piece,
                                     std::size_t base) {
    std::optional<std::string> found;
    if (auto it = options_.env_overrides.find(piece.text); it != options_.env_overrides.end()) {
      found = it->second;
    } else if (const char* from_process = std::getenv(piece.text.c_str())) {
      found = from_process;
    }
    // Shell ":-" semantics: an empty value also takes the default.
    if (piece.fallback && (!found || found->empty())) return expand_default(pointer, piece, base);
    if (found) return found;

    if (options_.allow_missing_env) {
      auto& missing = result_.missing;
      if (std::find(missing.begin(), missing.end(), piece.text) == missing.end()) {
        missing.push_back(piece.text);
      }
      result_.unresolved.insert(pointer);
      return std::nullopt;
    }
    std::string hint = "set it, add it to .env, or write ${" + piece.text + ":-default}";
    if (!has_uppercase(piece.text)) {
      if (auto root = closest_match(piece.text, runtime_roots())) {
        hint = "did you mean '" + *root + "'? otherwise " + hint;
      }
    }
    diagnostics_.push_back(document_.at_text(pointer, base + piece.offset, piece.length,
                                             "environment variable " + piece.text + " is not set",
                                             std::move(hint)));
    return std::nullopt;
  }

  // False when the placeholder does not compile (and that was reported).
  bool check_runtime_placeholder(const std::string& pointer, const std::string& text,
                                 const TemplatePiece& piece) {
    try {
      Template::compile_string(std::string_view(text).substr(piece.offset, piece.length));
      return true;
    } catch (const TemplateError& error) {
      report_template_error(pointer, text,
                            TemplateError(error.what(), piece.offset + error.offset));
      return false;
    }
  }

  // Whether the placeholder names something its root can hold, defaults included
  // (${item.stme} would render empty at run time). `base` is where `piece`'s text starts
  // in the string as written. Schemas only document: their examples are not checked.
  void check_references(const std::string& pointer, const std::string& text,
                        const TemplatePiece& piece, std::size_t base) {
    if (pointer.rfind("/trigger/request_schema", 0) == 0 ||
        pointer.rfind("/trigger/callback_schema", 0) == 0)
      return;
    // A step's `choose` may name a body field the schema lacks: the step reader adds it
    // (an enum of the alternatives).
    const bool adds_field = pointer.size() > 7 && pointer.compare(pointer.size() - 7, 7, "/choose") == 0;
    if (is_runtime_root(first_name(piece.text))) {
      if (auto problem =
              check_reference(piece.text, adds_field ? json() : request_schema(), step_names(),
                              path_params())) {
        result_.template_errors.insert(pointer);
        diagnostics_.push_back(document_.at_text(pointer, base + piece.offset, piece.length,
                                                 document_.describe(pointer) + ": " + problem->message,
                                                 problem->hint));
        return;
      }
    }
    if (!piece.fallback || piece.fallback->find("${") == std::string::npos) return;
    for (const TemplatePiece& inner : split_template(*piece.fallback))
      if (inner.kind == TemplatePiece::Kind::placeholder)
        check_references(pointer, text, inner, default_offset(piece, base));
  }

  // The names under `steps:`, as written: the step reader checks them.
  std::vector<std::string> step_names() const {
    std::vector<std::string> names;
    const auto steps = document_.root.find("steps");
    if (steps == document_.root.end() || !steps->is_array()) {
      // The five-stage form's steps are named after their sections.
      for (const char* stage : {"provider", "transforms"})
        if (document_.root.is_object() && document_.root.contains(stage)) names.push_back(stage);
      return names;
    }
    for (const json& step : *steps)
      if (step.is_object())
        if (const auto name = step.find("name"); name != step.end() && name->is_string())
          names.push_back(name->get<std::string>());
    return names;
  }

  // The `{name}` segments of trigger.http.path; nullopt when the file has no such path (a
  // pipeline only run from the command line), where request.path is not checked.
  std::optional<std::vector<std::string>> path_params() const {
    const json& root = document_.root;
    if (!root.is_object()) return std::nullopt;
    const auto trigger = root.find("trigger");
    if (trigger == root.end() || !trigger->is_object()) return std::nullopt;
    const auto http = trigger->find("http");
    if (http == trigger->end() || !http->is_object()) return std::nullopt;
    const auto path = http->find("path");
    if (path == http->end() || !path->is_string()) return std::nullopt;
    std::vector<std::string> names;
    const auto& text = path->get_ref<const std::string&>();
    std::size_t open = text.find('{');
    while (open != std::string::npos) {
      const auto close = text.find('}', open);
      if (close == std::string::npos) break;
      names.push_back(text.substr(open + 1, close - open - 1));
      open = text.find('{', close);
    }
    return names;
  }

  const json& request_schema() const {
    static const json none;
    const auto trigger = document_.root.find("trigger");
    if (trigger == document_.root.end() || !trigger->is_object()) return none;
    const auto schema = trigger->find("request_schema");
    return schema == trigger->end() ? none : *schema;
  }

  void report_not_a_name(const std::string& pointer, const std::string& text,
                         const TemplatePiece& piece) {
    check_runtime_placeholder(pointer, text, piece);
    if (result_.template_errors.count(pointer)) return;
    const std::string root(first_name(piece.text));
    result_.template_errors.insert(pointer);
    diagnostics_.push_back(document_.at_text(
        pointer, piece.offset, piece.length,
        "'" + piece.text + "' is neither an environment variable nor a runtime value",
        suggestion_hint(root, runtime_roots(), "runtime values start with")));
  }

  void report_template_error(const std::string& pointer, const std::string& text,
                             const TemplateError& error) {
    if (!result_.template_errors.insert(pointer).second) return;
    diagnostics_.push_back(template_diagnostic(document_, pointer, text, error));
  }

  YamlDocument& document_;
  const LoadOptions& options_;
  std::vector<Diagnostic>& diagnostics_;
  EnvironmentExpansion result_;
};

}  // namespace

Diagnostic template_diagnostic(const YamlDocument& document, const std::string& pointer,
                               const std::string& text, const TemplateError& error) {
  const std::size_t offset = std::min(error.offset, text.size());
  const std::size_t close = text.find('}', offset);
  const std::size_t length = close == std::string::npos ? text.size() - offset : close - offset;
  return document.at_text(pointer, offset, std::max<std::size_t>(1, length),
                          document.describe(pointer) + ": " + error.what(),
                          template_hint(error.what()));
}

EnvironmentExpansion expand_environment(YamlDocument& document, const LoadOptions& options,
                                        std::vector<Diagnostic>& diagnostics) {
  return Expander(document, options, diagnostics).run();
}

}  // namespace imagepipe::config
