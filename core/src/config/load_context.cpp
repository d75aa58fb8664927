#include "config/load_context.hpp"

#include <algorithm>

namespace imagepipe::config {

std::optional<Template> LoadContext::compile_template(const std::string& pointer,
                                                      const nlohmann::json& raw) {
  try {
    return Template::compile(raw);
  } catch (const TemplateError& error) {
    // The environment pass reports syntax errors where it sees them; what is left here is
    // text an environment value brought in.
    const auto& reported = environment.template_errors;
    const bool already =
        std::any_of(reported.begin(), reported.end(), [&](const std::string& other) {
          return other == pointer || other.rfind(pointer + "/", 0) == 0;
        });
    if (!already) {
      if (raw.is_string()) {
        report(template_diagnostic(document, pointer, raw.get<std::string>(), error));
      } else {
        report(document.at_key(pointer, document.describe(pointer) + ": " + error.what()));
      }
    }
    return std::nullopt;
  }
}

std::optional<nlohmann::json> LoadContext::typed_variable(const std::string& pointer,
                                                          const nlohmann::json& value) const {
  if (!value.is_string() || !environment.whole_variable.count(pointer)) return std::nullopt;
  nlohmann::json typed = resolve_plain_scalar(value.get<std::string>());
  if (typed.is_string() || typed.is_null()) return std::nullopt;
  return typed;
}

}  // namespace imagepipe::config
