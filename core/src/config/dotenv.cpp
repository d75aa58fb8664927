// .env files: KEY=VALUE lines, as docker compose and most dotenv libraries read them.
// A malformed line is reported like a pipeline error, with its line and column.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "imagepipe/pipeline.hpp"

namespace imagepipe {

namespace {

constexpr std::string_view kExport = "export";

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool is_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name) {
    if (!is_name_start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::size_t skip_spaces(std::string_view line, std::size_t at) {
  while (at < line.size() && is_space(line[at])) ++at;
  return at;
}

class DotenvParser {
 public:
  explicit DotenvParser(std::string file) : file_(std::move(file)) {}

  void parse_line(const std::string& line, int number) {
    line_ = &line;
    number_ = number;
    std::size_t at = skip_spaces(line, 0);
    if (at == line.size() || line[at] == '#') return;
    // "export KEY=value" reads like a shell script; the prefix changes nothing.
    if (line.compare(at, kExport.size(), kExport) == 0 && at + kExport.size() < line.size() &&
        is_space(line[at + kExport.size()])) {
      at = skip_spaces(line, at + kExport.size());
    }
    const std::size_t equals = line.find('=', at);
    if (equals == std::string::npos) {
      error(at, line.size() - at, "expected KEY=VALUE", "comment lines start with '#'");
      return;
    }
    std::size_t name_end = equals;
    while (name_end > at && is_space(line[name_end - 1])) --name_end;
    const std::string name = line.substr(at, name_end - at);
    if (!is_name(name)) {
      error(at, std::max<std::size_t>(1, name.size()), "invalid variable name '" + name + "'",
            "names use letters, digits and '_', and do not start with a digit");
      return;
    }
    if (auto value = parse_value(skip_spaces(line, equals + 1))) values_[name] = *value;
  }

  std::map<std::string, std::string> values() { return std::move(values_); }
  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }

 private:
  std::optional<std::string> parse_value(std::size_t at) {
    const std::string& line = *line_;
    if (at < line.size() && (line[at] == '"' || line[at] == '\'')) return parse_quoted(at);
    // Unquoted: up to a " #" comment, trailing spaces dropped.
    std::size_t end = at;
    while (end < line.size() && !(line[end] == '#' && end > at && is_space(line[end - 1]))) ++end;
    while (end > at && is_space(line[end - 1])) --end;
    return line.substr(at, end - at);
  }

  std::optional<std::string> parse_quoted(std::size_t open) {
    const std::string& line = *line_;
    const char quote = line[open];
    std::string value;
    std::size_t at = open + 1;
    for (; at < line.size() && line[at] != quote; ++at) {
      // Double quotes take the usual escapes; single quotes are literal.
      if (quote == '"' && line[at] == '\\' && at + 1 < line.size()) {
        const char next = line[++at];
        switch (next) {
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          case 'r':
            value += '\r';
            break;
          default:
            value += next;
        }
        continue;
      }
      value += line[at];
    }
    if (at >= line.size()) {
      std::string hint = "close it with ";
      hint += quote;
      hint += " on the same line";
      error(open, line.size() - open, "unterminated quoted value", hint);
      return std::nullopt;
    }
    const std::size_t rest = skip_spaces(line, at + 1);
    if (rest < line.size() && line[rest] != '#') {
      error(rest, line.size() - rest, "unexpected text after the closing quote");
      return std::nullopt;
    }
    return value;
  }

  void error(std::size_t column, std::size_t span, std::string_view message,
             std::string_view hint = {}) {
    Diagnostic diagnostic;
    diagnostic.mark = {file_, number_, static_cast<int>(column) + 1};
    diagnostic.message = message;
    diagnostic.hint = hint;
    diagnostic.source_line = *line_;
    diagnostic.span = static_cast<int>(std::max<std::size_t>(1, span));
    diagnostics_.push_back(std::move(diagnostic));
  }

  std::string file_;
  const std::string* line_ = nullptr;
  int number_ = 0;
  std::map<std::string, std::string> values_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

std::map<std::string, std::string> parse_dotenv(std::string_view text, const std::string& file) {
  DotenvParser parser(file);
  int number = 0;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string line(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    parser.parse_line(line, ++number);
  }
  if (!parser.diagnostics().empty()) throw PipelineError(std::move(parser.diagnostics()));
  return parser.values();
}

std::map<std::string, std::string> read_dotenv(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    Diagnostic diagnostic;
    diagnostic.mark.file = file.string();
    diagnostic.message = "cannot read the .env file";
    throw PipelineError({diagnostic});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_dotenv(text.str(), file.string());
}

}  // namespace imagepipe
