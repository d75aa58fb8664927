// Runtime templates. A template is compiled once, when the pipeline loads, into a tree
// whose strings are already split into literal text and parsed paths; rendering then only
// walks that tree and looks values up, so it is cheap enough to run for every item.
#include "imagepipe/template.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace imagepipe {

namespace {

using nlohmann::json;

constexpr std::string_view kOpen = "${";
constexpr std::string_view kEscapedOpen = "$${";
constexpr std::string_view kFallbackMark = ":-";
// Each level of defaults is split and compiled again on its own (and checked again by the
// loader), so the work grows with depth times length; real defaults nest two or three deep.
constexpr int kMaxDefaultNesting = 16;

struct PathStep {
  std::string key;
  std::size_t index = 0;
  bool is_index = false;
};

struct CompiledPath {
  std::vector<PathStep> steps;
  // "[a:b]" as the last step: elements a (default 0) up to b (default all) of a list.
  std::optional<std::pair<std::size_t, std::size_t>> slice;
  // HTTP header names are case-insensitive, so request.headers.<name> is matched that way.
  bool header_lookup = false;
};

bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// '-' is allowed after the first character because header names use it (x-callback-url).
bool is_identifier_char(char c) {
  return is_identifier_start(c) || (c >= '0' && c <= '9') || c == '-';
}

std::optional<CompiledPath> parse_path(std::string_view path) {
  CompiledPath compiled;
  std::size_t i = 0;
  auto read_identifier = [&]() -> bool {
    if (i >= path.size() || !is_identifier_start(path[i])) return false;
    std::size_t start = i;
    while (i < path.size() && is_identifier_char(path[i])) ++i;
    compiled.steps.push_back({std::string(path.substr(start, i - start))});
    return true;
  };
  if (!read_identifier()) return std::nullopt;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      if (!read_identifier()) return std::nullopt;
    } else if (path[i] == '[') {
      std::size_t start = ++i;
      while (i < path.size() && path[i] >= '0' && path[i] <= '9') ++i;
      if (i < path.size() && path[i] == ':') {
        if (i - start > 9) return std::nullopt;
        const std::size_t from = i == start ? 0 : std::stoul(std::string(path.substr(start, i - start)));
        const std::size_t end_start = ++i;
        while (i < path.size() && path[i] >= '0' && path[i] <= '9') ++i;
        if (i >= path.size() || path[i] != ']' || i - end_start > 9 || i + 1 != path.size())
          return std::nullopt;  // a slice ends the path
        const std::size_t to = i == end_start ? std::numeric_limits<std::size_t>::max()
                                              : std::stoul(std::string(path.substr(end_start, i - end_start)));
        compiled.slice = std::pair(from, to);
        ++i;
        continue;
      }
      if (i == start || i >= path.size() || path[i] != ']' || i - start > 9) return std::nullopt;
      PathStep step;
      step.is_index = true;
      step.index = std::stoul(std::string(path.substr(start, i - start)));
      compiled.steps.push_back(std::move(step));
      ++i;
    } else {
      return std::nullopt;
    }
  }
  const auto& steps = compiled.steps;
  compiled.header_lookup = steps.size() >= 3 && steps[0].key == "request" && !steps[1].is_index &&
                           steps[1].key == "headers" && !steps[2].is_index;
  return compiled;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

const json* lookup(const json& scope, const CompiledPath& path) {
  const json* current = &scope;
  for (std::size_t i = 0; i < path.steps.size(); ++i) {
    const PathStep& step = path.steps[i];
    if (step.is_index) {
      if (!current->is_array() || step.index >= current->size()) return nullptr;
      current = &(*current)[step.index];
      continue;
    }
    if (!current->is_object()) return nullptr;
    auto found = current->find(step.key);
    if (found != current->end()) {
      current = &*found;
      continue;
    }
    if (!(path.header_lookup && i == 2)) return nullptr;
    const json* match = nullptr;
    for (const auto& [name, value] : current->items()) {
      if (equals_ignoring_case(name, step.key)) {
        match = &value;
        break;
      }
    }
    if (!match) return nullptr;
    current = match;
  }
  return current;
}

void append_as_text(std::string& out, const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      break;
    case json::value_t::string:
      out += value.get_ref<const std::string&>();
      break;
    default:
      out += value.dump();
  }
}

}  // namespace

const std::vector<std::string>& runtime_roots() {
  static const std::vector<std::string> roots = {"job",    "request",  "items", "item",
                                                 "metrics", "sink",  "output", "provider",
                                                 "now",    "steps", "error"};
  return roots;
}

bool is_runtime_root(std::string_view identifier) {
  const auto& roots = runtime_roots();
  return std::find(roots.begin(), roots.end(), identifier) != roots.end();
}

std::vector<TemplatePiece> split_template(std::string_view text) {
  std::vector<TemplatePiece> pieces;
  std::size_t literal_start = 0;
  auto flush_literal = [&](std::size_t end) {
    if (end > literal_start) {
      pieces.push_back({TemplatePiece::Kind::text, literal_start, end - literal_start,
                        std::string(text.substr(literal_start, end - literal_start)),
                        std::nullopt});
    }
  };
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, kEscapedOpen.size()) == kEscapedOpen) {
      flush_literal(i);
      pieces.push_back(
          {TemplatePiece::Kind::text, i, kEscapedOpen.size(), std::string(kOpen), std::nullopt});
      i += kEscapedOpen.size();
      literal_start = i;
      continue;
    }
    if (text.substr(i, kOpen.size()) != kOpen) {
      ++i;
      continue;
    }
    flush_literal(i);
    const std::size_t inner_start = i + kOpen.size();
    std::size_t close = text.find('}', inner_start);
    if (close == std::string_view::npos) throw TemplateError("unterminated placeholder", i);
    std::size_t mark = text.substr(inner_start, close - inner_start).find(kFallbackMark);
    const std::string_view path = text.substr(inner_start, std::min(mark, close - inner_start));
    // "${a ${b}" is an unclosed placeholder followed by another, not a path with "${" in it.
    if (path.find(kOpen) != std::string_view::npos)
      throw TemplateError("unterminated placeholder", i);
    if (path.empty()) throw TemplateError("empty placeholder", i);
    if (mark != std::string_view::npos) {
      // A default may hold placeholders of its own, as in a shell: ${A:-${B:-x}}. The
      // placeholder then ends at the brace that balances its opening.
      mark += inner_start;
      int depth = 1;
      close = std::string_view::npos;
      for (std::size_t j = mark + kFallbackMark.size(); j < text.size(); ++j) {
        if (text.substr(j, kEscapedOpen.size()) == kEscapedOpen) {
          j += kEscapedOpen.size() - 1;
        } else if (text.substr(j, kOpen.size()) == kOpen) {
          if (++depth > kMaxDefaultNesting)
            throw TemplateError("defaults nested deeper than " +
                                    std::to_string(kMaxDefaultNesting) + " levels (the limit)",
                                j);
          ++j;
        } else if (text[j] == '}' && --depth == 0) {
          close = j;
          break;
        }
      }
      if (close == std::string_view::npos) throw TemplateError("unterminated placeholder", i);
    }
    TemplatePiece piece{TemplatePiece::Kind::placeholder, i, close + 1 - i, std::string(path),
                        std::nullopt};
    if (mark != std::string_view::npos) {
      const std::size_t from = mark + kFallbackMark.size();
      piece.fallback = std::string(text.substr(from, close - from));
    }
    pieces.push_back(std::move(piece));
    i = close + 1;
    literal_start = i;
  }
  flush_literal(text.size());
  return pieces;
}

struct Segment;

struct Template::Node {
  enum class Kind { constant, single_placeholder, text, object, array };
  Kind kind = Kind::constant;
  json constant;
  std::vector<Segment> segments;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> members;
  std::vector<std::unique_ptr<Node>> elements;

  static std::unique_ptr<Node> compile(const json& raw);
  static std::unique_ptr<Node> compile_string(const std::string& text);

  json render(const json& scope) const;
};

// One run of literal text, or one placeholder.
struct Segment {
  std::string literal;
  std::optional<CompiledPath> path;     // set for a placeholder
  std::shared_ptr<const Template::Node> fallback;  // the default, itself a template

  // Shell ":-" semantics: the default also replaces null and the empty string.
  json value(const json& scope) const {
    const json* found = lookup(scope, *path);
    if (fallback && (!found || found->is_null() ||
                     (found->is_string() && found->get_ref<const std::string&>().empty())))
      return fallback->render(scope);
    if (!found) return json();
    if (!path->slice) return *found;
    const auto [from, to] = *path->slice;
    // Text slices by bytes: an id that carries its date ("20261205-ab12...") gives the
    // date folders of a storage key (`${request.path.image_id[0:4]}`).
    if (found->is_string()) {
      const auto& text = found->get_ref<const std::string&>();
      return from >= text.size() ? std::string() : text.substr(from, std::min(to, text.size()) - from);
    }
    if (!found->is_array()) return json();
    json out = json::array();
    for (std::size_t i = from; i < std::min(to, found->size()); ++i) out.push_back((*found)[i]);
    return out;
  }
};

json Template::Node::render(const json& scope) const {
    switch (kind) {
      case Kind::constant:
        return constant;
      case Kind::single_placeholder:
        return segments.front().value(scope);
      case Kind::text: {
        std::string out;
        for (const Segment& segment : segments) {
          if (!segment.path) {
            out += segment.literal;
            continue;
          }
          append_as_text(out, segment.value(scope));
        }
        return out;
      }
      case Kind::object: {
        json out = json::object();
        for (const auto& [key, child] : members) out[key] = child->render(scope);
        return out;
      }
      case Kind::array: {
        json out = json::array();
        for (const auto& child : elements) out.push_back(child->render(scope));
        return out;
      }
    }
    return nullptr;
}

std::unique_ptr<Template::Node> Template::Node::compile_string(const std::string& text) {
  auto node = std::make_unique<Node>();
  std::vector<Segment> segments;
  for (TemplatePiece& piece : split_template(text)) {
    if (piece.kind == TemplatePiece::Kind::text) {
      // Merge neighbouring literals (an escape is a piece of its own).
      if (!segments.empty() && !segments.back().path) {
        segments.back().literal += piece.text;
      } else {
        segments.push_back({std::move(piece.text), std::nullopt, nullptr});
      }
      continue;
    }
    auto path = parse_path(piece.text);
    if (!path)
      throw TemplateError("invalid path '" + piece.text + "'", piece.offset + kOpen.size());
    std::shared_ptr<const Node> fallback;
    if (piece.fallback) {
      try {
        fallback = compile_string(*piece.fallback);
      } catch (const TemplateError& e) {
        throw TemplateError(e.what(), piece.offset + kOpen.size() + piece.text.size() +
                                          kFallbackMark.size() + e.offset);
      }
    }
    segments.push_back({"", std::move(path), std::move(fallback)});
  }
  const bool has_placeholder = std::any_of(segments.begin(), segments.end(),
                                           [](const Segment& s) { return s.path.has_value(); });
  if (!has_placeholder) {
    node->kind = Kind::constant;
    node->constant = segments.empty() ? std::string() : segments.front().literal;
  } else if (segments.size() == 1) {
    node->kind = Kind::single_placeholder;
  } else {
    node->kind = Kind::text;
  }
  node->segments = std::move(segments);
  return node;
}

std::unique_ptr<Template::Node> Template::Node::compile(const json& raw) {
  auto node = std::make_unique<Node>();
  bool all_constant = true;
  if (raw.is_string()) return compile_string(raw.get_ref<const std::string&>());
  if (raw.is_object()) {
    node->kind = Kind::object;
    for (const auto& [key, value] : raw.items()) {
      auto child = compile(value);
      all_constant = all_constant && child->kind == Kind::constant;
      node->members.emplace_back(key, std::move(child));
    }
  } else if (raw.is_array()) {
    node->kind = Kind::array;
    for (const auto& value : raw) {
      auto child = compile(value);
      all_constant = all_constant && child->kind == Kind::constant;
      node->elements.push_back(std::move(child));
    }
  }
  // A subtree without placeholders renders to one precomputed value.
  if (all_constant) {
    json value = raw.is_primitive() ? raw : node->render(json());
    node = std::make_unique<Node>();
    node->constant = std::move(value);
  }
  return node;
}

Template Template::compile(const json& raw) {
  Template compiled;
  compiled.raw_ = raw;
  compiled.root_ = Node::compile(raw);
  return compiled;
}

json Template::render(const json& scope) const { return root_ ? root_->render(scope) : raw_; }

std::string Template::render_string(const json& scope) const {
  std::string out;
  append_as_text(out, render(scope));
  return out;
}

bool Template::is_constant() const { return !root_ || root_->kind == Node::Kind::constant; }

const json* lookup_path(const json& scope, std::string_view path) {
  auto compiled = parse_path(path);
  return compiled ? lookup(scope, *compiled) : nullptr;
}

}  // namespace imagepipe
