// Runtime templates: "${job.id}", "${items[0].base64}", "${request.body.filename:-image.png}".
// A string that is exactly one placeholder renders to the value's own JSON type (so a
// callback body can carry numbers and arrays); anything else renders to a string.
// Environment placeholders (${OPENAI_API_KEY}) are expanded earlier, when the YAML loads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe {

// The roots a runtime placeholder may start with; any other name is an environment variable.
bool is_runtime_root(std::string_view identifier);
const std::vector<std::string>& runtime_roots();

class TemplateError : public std::runtime_error {
 public:
  TemplateError(std::string message, std::size_t offset)
      : std::runtime_error(std::move(message)), offset(offset) {}
  std::size_t offset;  // byte offset in the string where the problem starts
};

// One piece of a template string as written: literal text or one `${...}` placeholder.
// The YAML loader uses this to expand environment placeholders in place and to point
// diagnostics at the exact column.
struct TemplatePiece {
  enum class Kind { text, placeholder };
  Kind kind = Kind::text;
  std::size_t offset = 0;  // byte offset of the piece in the string
  std::size_t length = 0;  // bytes the piece spans in the string (a `$${` escape spans 3)
  std::string text;        // text: the literal, escapes resolved; placeholder: the path
  std::optional<std::string> fallback;  // placeholder: the text after ":-", when written
};
// Splits `text` into pieces. Throws TemplateError for an unterminated or empty placeholder;
// paths are not checked here (Template::compile does that).
std::vector<TemplatePiece> split_template(std::string_view text);

class Template {
 public:
  Template() = default;
  // Compiles every string inside `raw` (objects and arrays are walked). Throws TemplateError.
  static Template compile(const nlohmann::json& raw);
  static Template compile_string(std::string_view text) { return compile(nlohmann::json(text)); }

  nlohmann::json render(const nlohmann::json& scope) const;
  // Renders and converts to text (numbers printed, null as empty).
  std::string render_string(const nlohmann::json& scope) const;
  bool is_constant() const;
  const nlohmann::json& raw() const { return raw_; }

 private:
  struct Node;
  friend struct Segment;
  nlohmann::json raw_;
  std::shared_ptr<const Node> root_;
};

// Looks up "a.b[2].c" in scope; null when any step is missing. Header names under
// request.headers are matched case-insensitively.
const nlohmann::json* lookup_path(const nlohmann::json& scope, std::string_view path);

}  // namespace imagepipe
