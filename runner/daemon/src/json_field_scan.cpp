#include "json_field_scan.hpp"

#include <cstring>
#include <unordered_set>
#include <vector>

namespace imagepipe::serve {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && is_space(s[i])) ++i;
}

// At an opening quote: moves past the closing one. False when the string is unterminated.
bool skip_string(std::string_view s, std::size_t& i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      ++i;
      return true;
    }
  }
  return false;
}

// Skips any value without judging it: the full parse of what remains does that.
bool skip_value(std::string_view s, std::size_t& i) {
  if (i >= s.size()) return false;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        if (!skip_string(s, i)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          return true;
        }
      }
      ++i;
    }
    return false;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_space(s[i])) ++i;
  return true;
}

}  // namespace

std::optional<CutField> cut_string_member(std::string_view body, std::string_view name) {
  std::size_t i = 0;
  skip_space(body, i);
  if (i >= body.size() || body[i] != '{') return std::nullopt;
  ++i;
  std::optional<CutField> cut;
  for (;;) {
    skip_space(body, i);
    if (i >= body.size() || body[i] != '"') return std::nullopt;
    const std::size_t key_start = i + 1;
    if (!skip_string(body, i)) return std::nullopt;
    const auto key = body.substr(key_start, i - 1 - key_start);
    skip_space(body, i);
    if (i >= body.size() || body[i] != ':') return std::nullopt;
    ++i;
    skip_space(body, i);
    if (key == name) {
      // The member twice: a parser keeps one of them and this scan the other, so the
      // image checked and the image used could differ. The full parse refuses the body.
      if (cut) return std::nullopt;
      if (i >= body.size() || body[i] != '"') return std::nullopt;
      const std::size_t start = i + 1;
      const void* close = std::memchr(body.data() + start, '"', body.size() - start);
      if (!close) return std::nullopt;
      const std::size_t end =
          static_cast<std::size_t>(static_cast<const char*>(close) - body.data());
      const auto value = body.substr(start, end - start);
      // A backslash means escapes to undo; a control character is invalid JSON. Either
      // way the general parser decides.
      // No early exit: the loop vectorises, and the answer is nearly always "none".
      bool unusual = false;
      for (const char c : value) unusual |= (c == '\\') | (static_cast<unsigned char>(c) < 0x20);
      if (unusual) return std::nullopt;
      cut.emplace();
      cut->rest.reserve(body.size() - value.size());
      cut->rest.append(body.substr(0, start)).append(body.substr(end));
      cut->value = value;
      i = end + 1;
    } else if (!skip_value(body, i)) {
      return std::nullopt;
    }
    // The members after the image are scanned too (they are small), for a second one.
    skip_space(body, i);
    if (i < body.size() && body[i] == '}') return cut;
    if (i >= body.size() || body[i] != ',') return std::nullopt;
    ++i;
  }
}

JsonLimit exceeded_json_limit(std::string_view body, const JsonLimits& limits,
                              std::string_view exempt) {
  int depth = 0;
  std::size_t values = 0;
  char previous = 0;      // the last character outside strings other than white space
  std::string_view name;  // the last member name of the top-level object
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (is_space(c)) continue;
    if (c == '"') {
      const std::size_t start = i;
      if (!skip_string(body, i)) return JsonLimit::none;
      const auto text = body.substr(start + 1, i - start - 2);
      if (depth == 1 && (previous == '{' || previous == ',')) name = text;
      const bool exempted = depth == 1 && previous == ':' && !exempt.empty() && name == exempt;
      if (text.size() > limits.string_bytes && !exempted) return JsonLimit::string_bytes;
      --i;  // skip_string stops past the quote; the loop's ++i would skip one more
      previous = c;
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > limits.depth) return JsonLimit::depth;
      // A container that is not empty holds one value more than it has commas.
      std::size_t next = i + 1;
      skip_space(body, next);
      if (next < body.size() && body[next] != ']' && body[next] != '}' && ++values > limits.values)
        return JsonLimit::values;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && ++values > limits.values) {
      return JsonLimit::values;
    }
    previous = c;
  }
  return JsonLimit::none;
}

namespace {

// Keys go back to the client in an error message: a bounded piece, never half a character.
std::string shown_key(std::string key) {
  constexpr std::size_t kShown = 64;
  if (key.size() <= kShown) return key;
  std::size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
  key.resize(cut);
  return key + "...";
}

}  // namespace

DuplicateKey::DuplicateKey(std::string k)
    : std::runtime_error("duplicate key \"" + shown_key(k) + "\""), key(shown_key(std::move(k))) {}

nlohmann::json parse_unique_keys(std::string_view text, bool allow_exceptions) {
  using json = nlohmann::json;
  // One set of keys per open container (arrays get an unused one: the stack stays simple).
  std::vector<std::unordered_set<std::string>> open;
  const json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second)
          throw DuplicateKey(parsed.get<std::string>());
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  return json::parse(text.begin(), text.end(), check, allow_exceptions);
}

}  // namespace imagepipe::serve
