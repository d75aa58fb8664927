// Compiler-style rendering of configuration errors:
//
//   pipelines/x.yaml:12:5: error: unknown key 'concurency' in pipeline
//      12 |     concurency: 4
//         |     ^~~~~~~~~~
//   hint: did you mean 'concurrency'? allowed keys: ...
#include <algorithm>
#include <string>

#include "imagepipe/pipeline.hpp"

namespace imagepipe {

namespace {

constexpr std::size_t kGutterWidth = 5;

constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kRed = "\x1b[1;31m";
constexpr std::string_view kGreen = "\x1b[1;32m";
constexpr std::string_view kCyan = "\x1b[1;36m";
constexpr std::string_view kReset = "\x1b[0m";

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t count_code_points(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation_byte(c); }));
}

std::string location(const SourceMark& mark) {
  std::string out = mark.file;
  if (mark.line > 0) {
    out += ":" + std::to_string(mark.line);
    if (mark.column > 0) out += ":" + std::to_string(mark.column);
  }
  return out;
}

// Spaces under the text before the caret, keeping tabs so the caret lines up with them.
std::string caret_padding(std::string_view before) {
  std::string out;
  for (char c : before) {
    if (c == '\t') {
      out += '\t';
    } else if (!is_continuation_byte(c)) {
      out += ' ';
    }
  }
  return out;
}

}  // namespace

std::string Diagnostic::format(bool color) const {
  auto paint = [color](std::string_view style, const std::string& text) {
    return color ? std::string(style) + text + std::string(kReset) : text;
  };
  std::string out;
  const std::string where = location(mark);
  if (!where.empty()) out += paint(kBold, where + ":") + " ";
  out += paint(kRed, "error:") + " " + paint(kBold, message);

  if (mark.line > 0 && !source_line.empty()) {
    std::string number = std::to_string(mark.line);
    const std::size_t width = std::max(kGutterWidth, number.size());
    out += "\n" + std::string(width - number.size(), ' ') + number + " | " + source_line;
    if (mark.column > 0) {
      const std::size_t start = std::min<std::size_t>(mark.column - 1, source_line.size());
      const std::string_view marked =
          std::string_view(source_line).substr(start, static_cast<std::size_t>(std::max(1, span)));
      const std::size_t width_in_chars = std::max<std::size_t>(1, count_code_points(marked));
      const std::string caret = "^" + std::string(width_in_chars - 1, '~');
      out += "\n" + std::string(width, ' ') + " | " +
             caret_padding(std::string_view(source_line).substr(0, start)) + paint(kGreen, caret);
    }
  }
  if (!hint.empty()) out += "\n" + paint(kCyan, "hint:") + " " + hint;
  return out;
}

namespace {

std::string format_all(const std::vector<Diagnostic>& diagnostics, bool color) {
  std::string out;
  for (const Diagnostic& diagnostic : diagnostics) out += diagnostic.format(color) + "\n\n";
  const std::size_t count = diagnostics.size();
  out += std::to_string(count) + (count == 1 ? " error" : " errors");
  return out;
}

}  // namespace

PipelineError::PipelineError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(format_all(diagnostics, false)), diagnostics_(std::move(diagnostics)) {}

std::string PipelineError::format(bool color) const { return format_all(diagnostics_, color); }

}  // namespace imagepipe
