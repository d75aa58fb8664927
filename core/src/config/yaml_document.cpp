#include "config/yaml_document.hpp"

#include <charconv>
#include <regex>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace imagepipe::config {

namespace {

using nlohmann::json;

// Untrusted files: aliases can make a tiny file expand into a huge tree.
constexpr std::size_t kMaxNodes = 100'000;
constexpr int kMaxDepth = 64;

constexpr std::string_view kMergeKey = "<<";
constexpr std::string_view kStringTag = "tag:yaml.org,2002:str";
constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

YamlPosition position_of(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line, mark.column};
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

template <class Number>
std::optional<Number> parse_number(std::string_view text, int base = 10) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Where each document of the stream starts, read as events (no nodes built), at most
// `most` of them. yaml-cpp 0.7's LoadAll never returns on some malformed streams (a lone
// ',' at the top: jbeder/yaml-cpp#1040, fixed upstream after 0.8): its parser reports a
// null document without consuming the token, again and again, and each one is kept. Here
// a document that starts where the one before it did is that loop, and ends the read.
struct DocumentStarts final : YAML::EventHandler {
  std::vector<YAML::Mark> starts;  // of each document
  std::vector<YAML::Mark> roots;   // of each document's first node, where it has one
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (roots.size() < starts.size()) roots.push_back(mark);
  }
};

struct StreamShape {
  std::size_t documents = 0;
  std::optional<YAML::Mark> second;  // where a second document starts
  std::optional<YAML::Mark> stuck;   // where the parser stopped making progress
};

StreamShape read_stream_shape(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts handler;
  StreamShape shape;
  while (shape.documents < 2 && parser.HandleNextDocument(handler)) ++shape.documents;
  const auto& starts = handler.starts;
  if (starts.size() >= 2 && starts[1].pos == starts[0].pos) {
    shape.stuck = starts[0];
    return shape;
  }
  if (shape.documents >= 2 && starts.size() >= 2)
    shape.second = handler.roots.size() >= 2 ? handler.roots[1] : starts[1];
  return shape;
}

}  // namespace

json resolve_plain_scalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;

  static const std::regex decimal(R"([-+]?[0-9]+)");
  static const std::regex hexadecimal(R"(0x[0-9a-fA-F]+)");
  static const std::regex octal(R"(0o[0-7]+)");
  static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(text, decimal)) {
    if (auto value = parse_number<std::int64_t>(text)) return *value;
    if (auto value = parse_number<std::uint64_t>(text)) return *value;
    if (auto value = parse_double(text)) return *value;
  } else if (std::regex_match(text, hexadecimal)) {
    if (auto value = parse_number<std::uint64_t>(std::string_view(text).substr(2), 16)) {
      return *value;
    }
  } else if (std::regex_match(text, octal)) {
    if (auto value = parse_number<std::uint64_t>(std::string_view(text).substr(2), 8)) {
      return *value;
    }
  } else if (std::regex_match(text, floating)) {
    if (auto value = parse_double(text)) return *value;
  }
  return text;
}

std::string child_pointer(const std::string& parent, std::string_view key) {
  return parent + "/" + escape_pointer_token(key);
}

std::string child_pointer(const std::string& parent, std::size_t index) {
  return parent + "/" + std::to_string(index);
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string child_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Walks yaml-cpp's tree once, building the JSON value and the pointer index together.
class YamlConverter {
 public:
  YamlConverter(YamlDocument& document, std::vector<Diagnostic>& diagnostics)
      : document_(document), diagnostics_(diagnostics) {}

  json convert(const YAML::Node& node, const std::string& pointer, NodeInfo info, int depth) {
    if (++node_count_ > kMaxNodes || depth > kMaxDepth) {
      if (!limit_reported_) {
        limit_reported_ = true;
        diagnostics_.push_back(document_.at_position(
            position_of(node.Mark()), 1,
            "the document is too large or too deeply nested (aliases included)",
            "at most " + std::to_string(kMaxNodes) + " values and " + std::to_string(kMaxDepth) +
                " levels are read"));
      }
      return nullptr;
    }
    info.value = position_of(node.Mark());
    json value;
    if (node.IsMap()) {
      document_.nodes_[pointer] = info;
      value = convert_mapping(node, pointer, info.path, depth);
    } else if (node.IsSequence()) {
      document_.nodes_[pointer] = info;
      value = json::array();
      std::size_t index = 0;
      for (const YAML::Node& element : node) {
        NodeInfo element_info;
        element_info.path = child_path(info.path, index);
        value.push_back(convert(element, child_pointer(pointer, index), element_info, depth + 1));
        ++index;
      }
    } else if (node.IsScalar()) {
      value = convert_scalar(node, info);
      document_.nodes_[pointer] = info;
    } else {
      // yaml-cpp marks an empty value at the next token, often the next line: the key
      // is the better place to point at.
      if (!written_null_at(info.value) && info.key.line >= 0) info.value = info.key;
      document_.nodes_[pointer] = info;
      value = nullptr;
    }
    return value;
  }

 private:
  json convert_mapping(const YAML::Node& node, const std::string& pointer, const std::string& path,
                       int depth) {
    json object = json::object();
    std::vector<YAML::Node> merges;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: the iterator hands out a temporary pair.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        diagnostics_.push_back(
            document_.at_position(position_of(key.Mark()), 1, "mapping keys must be plain names"));
        continue;
      }
      const std::string name = key.Scalar();
      if (name == kMergeKey && key.Tag() == "?") {
        merges.push_back(value);
        continue;
      }
      const std::string child = child_pointer(pointer, name);
      if (object.contains(name)) {
        const NodeInfo& first = document_.nodes_[child];
        diagnostics_.push_back(document_.at_position(
            position_of(key.Mark()), static_cast<int>(name.size()),
            "duplicate key '" + name + "' in " + (path.empty() ? "pipeline" : path),
            "first defined on line " + std::to_string(first.key.line + 1)));
        continue;
      }
      NodeInfo info;
      info.path = child_path(path, name);
      info.key = position_of(key.Mark());
      info.key_text = name;
      object[name] = convert(value, child, std::move(info), depth + 1);
    }
    // "<<: *defaults" fills in keys the mapping does not set itself; with a list of
    // mappings, earlier ones win.
    for (const YAML::Node& merge : merges) {
      std::vector<YAML::Node> sources;
      if (merge.IsMap()) {
        sources.push_back(merge);
      } else if (merge.IsSequence()) {
        for (const YAML::Node& element : merge) sources.push_back(element);
      }
      for (const YAML::Node& source : sources) {
        if (!source.IsMap()) {
          diagnostics_.push_back(
              document_.at_position(position_of(merge.Mark()), 1, "'<<' can only merge mappings"));
          continue;
        }
        for (auto it = source.begin(); it != source.end(); ++it) {
          const YAML::Node key = it->first;
          if (!key.IsScalar() || object.contains(key.Scalar())) continue;
          const std::string name = key.Scalar();
          NodeInfo info;
          info.path = child_path(path, name);
          info.key = position_of(key.Mark());
          info.key_text = name;
          object[name] =
              convert(it->second, child_pointer(pointer, name), std::move(info), depth + 1);
        }
      }
    }
    return object;
  }

  json convert_scalar(const YAML::Node& node, NodeInfo& info) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    info.written = text;
    if (tag == "?") {
      info.style = ScalarStyle::plain;
      return resolve_plain_scalar(text);
    }
    if (tag == "!") {
      // Quoted, or a block scalar (| or >): always a string.
      info.style = quoted_at(info.value) ? ScalarStyle::quoted : ScalarStyle::other;
      return text;
    }
    info.style = ScalarStyle::other;
    if (tag == kStringTag) return text;
    if (tag.rfind(kCoreTagPrefix, 0) == 0) return resolve_plain_scalar(text);
    diagnostics_.push_back(document_.at_position(info.value, 1,
                                                 "unsupported YAML tag '" + tag + "'",
                                                 "only the standard tags such as !!str are read"));
    return text;
  }

  bool quoted_at(YamlPosition position) const {
    const std::string* line = line_at(position);
    if (!line || position.column >= static_cast<int>(line->size())) return false;
    const char c = (*line)[position.column];
    return c == '"' || c == '\'';
  }

  bool written_null_at(YamlPosition position) const {
    const std::string* line = line_at(position);
    if (!line) return false;
    const std::string_view rest =
        std::string_view(*line).substr(std::min<std::size_t>(position.column, line->size()));
    for (std::string_view word : {"~", "null", "Null", "NULL"}) {
      if (rest.substr(0, word.size()) == word) return true;
    }
    return false;
  }

  const std::string* line_at(YamlPosition position) const {
    if (position.line < 0 || position.line >= static_cast<int>(document_.lines_.size())) {
      return nullptr;
    }
    return &document_.lines_[position.line];
  }

  YamlDocument& document_;
  std::vector<Diagnostic>& diagnostics_;
  std::size_t node_count_ = 0;
  bool limit_reported_ = false;
};

std::optional<YamlDocument> YamlDocument::parse(std::string_view text, std::string file,
                                                std::vector<Diagnostic>& diagnostics) {
  YamlDocument document;
  document.file_ = std::move(file);
  document.lines_ = split_lines(text);
  const std::string owned(text);
  YAML::Node first;
  StreamShape shape;
  try {
    shape = read_stream_shape(owned);
    if (shape.stuck) {
      const std::size_t at = std::min<std::size_t>(std::max(shape.stuck->pos, 0), owned.size());
      const std::string what = at < owned.size() ? "'" + owned.substr(at, 1) + "'" : "text";
      diagnostics.push_back(
          document.at_position(position_of(*shape.stuck), 1, "invalid YAML: unexpected " + what));
      return std::nullopt;
    }
    if (shape.documents > 0) first = YAML::Load(owned);
  } catch (const YAML::ParserException& error) {
    Diagnostic diagnostic =
        document.at_position(position_of(error.mark), 1, "invalid YAML: " + error.msg);
    // `{width: ${SIZE}}` reads the placeholder's braces as YAML's own.
    if (error.msg.find("flow") != std::string::npos &&
        diagnostic.source_line.find("${") != std::string::npos) {
      diagnostic.hint = "inside { } and [ ], put placeholders in quotes: \"${NAME}\"";
    }
    diagnostics.push_back(std::move(diagnostic));
    return std::nullopt;
  } catch (const YAML::Exception& error) {
    diagnostics.push_back(
        document.at_position({}, 1, std::string("invalid YAML: ") + error.what()));
    return std::nullopt;
  }
  if (shape.documents == 0) return document;
  if (shape.second) {
    diagnostics.push_back(document.at_position(position_of(*shape.second), 1,
                                               "a pipeline file holds one YAML document",
                                               "split the documents into separate files"));
  }
  YamlConverter converter(document, diagnostics);
  document.root = converter.convert(first, "", NodeInfo{}, 0);
  return document;
}

void YamlDocument::hoist(const std::string& from, const std::string& to) {
  const NodeInfo* target = find(to);
  const NodeInfo* source = find(from);
  const std::string to_path = target ? target->path : "";
  const std::string from_path = source ? source->path : "";
  std::unordered_map<std::string, NodeInfo> moved;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    const std::string& pointer = it->first;
    if (pointer.size() > from.size() && pointer.compare(0, from.size() + 1, from + "/") == 0) {
      NodeInfo info = std::move(it->second);
      if (!from_path.empty() && info.path.rfind(from_path, 0) == 0)
        info.path = to_path + info.path.substr(from_path.size());
      moved.emplace(to + pointer.substr(from.size()), std::move(info));
    }
    if (pointer.size() > to.size() && pointer.compare(0, to.size() + 1, to + "/") == 0)
      it = nodes_.erase(it);
    else
      ++it;
  }
  for (auto& [pointer, info] : moved) nodes_.insert_or_assign(pointer, std::move(info));
}

const NodeInfo* YamlDocument::find(const std::string& pointer) const {
  auto found = nodes_.find(pointer);
  return found == nodes_.end() ? nullptr : &found->second;
}

const NodeInfo* YamlDocument::nearest(const std::string& pointer) const {
  std::string current = pointer;
  while (true) {
    if (const NodeInfo* info = find(current)) return info;
    if (current.empty()) return nullptr;
    current.erase(current.rfind('/'));
  }
}

std::string YamlDocument::describe(const std::string& pointer) const {
  const NodeInfo* info = nearest(pointer);
  return info && !info->path.empty() ? info->path : "pipeline";
}

int YamlDocument::key_span(const NodeInfo& info) const {
  return std::max(1, static_cast<int>(info.key_text.size()));
}

std::optional<int> YamlDocument::verbatim_column(const NodeInfo& info) const {
  if (info.value.line < 0 || info.value.line >= static_cast<int>(lines_.size()))
    return std::nullopt;
  const std::string& line = lines_[info.value.line];
  const std::size_t column = static_cast<std::size_t>(info.value.column);
  if (info.style == ScalarStyle::plain &&
      line.compare(column, info.written.size(), info.written) == 0) {
    return info.value.column;
  }
  if (info.style == ScalarStyle::quoted && column < line.size()) {
    const char quote = line[column];
    const std::size_t close = column + 1 + info.written.size();
    if (line.compare(column + 1, info.written.size(), info.written) == 0 && close < line.size() &&
        line[close] == quote) {
      return info.value.column + 1;
    }
  }
  return std::nullopt;
}

Diagnostic YamlDocument::at_position(YamlPosition position, int span, std::string message,
                                     std::string hint) const {
  Diagnostic diagnostic;
  diagnostic.mark.file = file_;
  diagnostic.message = std::move(message);
  diagnostic.hint = std::move(hint);
  if (position.line >= 0) {
    diagnostic.mark.line = position.line + 1;
    diagnostic.mark.column = position.column + 1;
    if (position.line < static_cast<int>(lines_.size())) {
      diagnostic.source_line = lines_[position.line];
    }
  }
  diagnostic.span = std::max(1, span);
  return diagnostic;
}

Diagnostic YamlDocument::at_key(const std::string& pointer, std::string message,
                                std::string hint) const {
  const NodeInfo* info = nearest(pointer);
  if (info && info->key.line >= 0) {
    return at_position(info->key, key_span(*info), std::move(message), std::move(hint));
  }
  return at_value(pointer, std::move(message), std::move(hint));
}

Diagnostic YamlDocument::at_value(const std::string& pointer, std::string message,
                                  std::string hint) const {
  const NodeInfo* info = nearest(pointer);
  if (!info) return at_position({}, 1, std::move(message), std::move(hint));
  if (info->style == ScalarStyle::none) {
    // A mapping, list or empty value: its key names it best.
    if (info->key.line >= 0) {
      return at_position(info->key, key_span(*info), std::move(message), std::move(hint));
    }
    return at_position(info->value, 1, std::move(message), std::move(hint));
  }
  int span = 1;
  if (auto column = verbatim_column(*info)) {
    span = static_cast<int>(info->written.size()) + 2 * (*column - info->value.column);
  }
  return at_position(info->value, span, std::move(message), std::move(hint));
}

Diagnostic YamlDocument::at_text(const std::string& pointer, std::size_t offset, std::size_t length,
                                 std::string message, std::string hint) const {
  const NodeInfo* info = find(pointer);
  if (info && info->style != ScalarStyle::none) {
    if (auto column = verbatim_column(*info)) {
      YamlPosition position{info->value.line, *column + static_cast<int>(offset)};
      return at_position(position, static_cast<int>(length), std::move(message), std::move(hint));
    }
  }
  return at_value(pointer, std::move(message), std::move(hint));
}

}  // namespace imagepipe::config
