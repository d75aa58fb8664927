// A YAML file turned into JSON without losing where each value came from: every node is
// indexed by its JSON pointer, with the position of its key and of its value, so a check
// made long after parsing can still say file:line:column and show the line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/pipeline.hpp"

namespace imagepipe::config {

// 0-based, like yaml-cpp's marks; line -1 when unknown.
struct YamlPosition {
  int line = -1;
  int column = 0;
};

enum class ScalarStyle { none, plain, quoted, other };

struct NodeInfo {
  std::string path;  // how messages name the node: "provider[0].with"; "" for the root
  YamlPosition key;  // the mapping key that holds the node (line -1 for list items)
  std::string key_text;
  YamlPosition value;
  ScalarStyle style = ScalarStyle::none;  // none for mappings, lists and nulls
  std::string written;                    // a scalar's text as parsed, before environment expansion
};

class YamlDocument {
 public:
  // Problems (syntax, duplicate keys, unsupported tags, size limits) are appended to
  // `diagnostics`. Returns nullopt when the text could not be parsed at all.
  static std::optional<YamlDocument> parse(std::string_view text, std::string file,
                                           std::vector<Diagnostic>& diagnostics);

  nlohmann::json root;

  const std::string& file() const { return file_; }
  // The node at `pointer`, or nullptr.
  const NodeInfo* find(const std::string& pointer) const;
  // How messages name the node at `pointer` (or its nearest known parent): "pipeline" for
  // the root.
  std::string describe(const std::string& pointer) const;

  // Diagnostics pointing at the key that holds a node (falling back to its value), at its
  // value, or at `length` bytes from `offset` inside a scalar's written text. A pointer
  // not in the document resolves to its nearest parent that is.
  Diagnostic at_key(const std::string& pointer, std::string message, std::string hint = {}) const;
  Diagnostic at_value(const std::string& pointer, std::string message, std::string hint = {}) const;
  Diagnostic at_text(const std::string& pointer, std::size_t offset, std::size_t length,
                     std::string message, std::string hint = {}) const;
  Diagnostic at_position(YamlPosition position, int span, std::string message,
                         std::string hint = {}) const;

  // The node at `from` (below `to`) takes the place of `to`'s children: what a `select:`
  // chose. Diagnostics inside it keep their line and column.
  void hoist(const std::string& from, const std::string& to);

 private:
  friend class YamlConverter;
  const NodeInfo* nearest(const std::string& pointer) const;
  int key_span(const NodeInfo& info) const;
  // Byte offset where a scalar's written text starts on its line, when the source shows
  // it verbatim on one line (plain, or quoted without escapes); nullopt otherwise.
  std::optional<int> verbatim_column(const NodeInfo& info) const;

  std::string file_;
  std::vector<std::string> lines_;
  std::unordered_map<std::string, NodeInfo> nodes_;
};

std::string child_pointer(const std::string& parent, std::string_view key);
std::string child_pointer(const std::string& parent, std::size_t index);
std::string child_path(const std::string& parent, std::string_view key);
std::string child_path(const std::string& parent, std::size_t index);

// YAML 1.2 core schema typing of an untagged, unquoted scalar: null, booleans, integers
// (decimal, 0x, 0o), floats; anything else stays a string.
nlohmann::json resolve_plain_scalar(const std::string& text);

}  // namespace imagepipe::config
