// guard `blocklist`: refuses a prompt holding a listed word or phrase, or matching a
// pattern, before any provider is paid for it (seed 004's BLOCKED_WORDS).
#include <regex>

#include "imagepipe/plugin.hpp"
#include "text_fold.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kName = IMAGEPIPE_PLUGIN_NAME;
constexpr const char* kWords = "words";
constexpr const char* kPatterns = "patterns";

std::string to_utf8(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Folded, with every run of non-word characters as one space: "hate  -speech" and
// "hate speech" compare equal, and a phrase matches across punctuation.
std::u32string comparable(std::string_view text) {
  std::u32string out;
  for (char32_t c : blocklist::fold(text)) {
    if (blocklist::is_word_char(c)) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != U' ') {
      out.push_back(U' ');
    }
  }
  while (!out.empty() && out.back() == U' ') out.pop_back();
  return out;
}

std::vector<std::string> listed_words(const json& value) {
  std::vector<std::string> words;
  auto add = [&](std::string word) {
    const auto first = word.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return;
    words.push_back(word.substr(first, word.find_last_not_of(" \t\r\n") - first + 1));
  };
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    std::size_t start = 0;
    for (std::size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
      add(text.substr(start, comma - start));
    add(text.substr(start));
  } else if (value.is_array()) {
    for (const auto& word : value)
      if (word.is_string()) add(word.get<std::string>());
  }
  return words;
}

class BlocklistGuard final : public Guard {
 public:
  explicit BlocklistGuard(const PluginArgs& args) {
    for (const auto& word : listed_words(args.options.value(kWords, json()))) {
      auto folded = comparable(word);
      if (!folded.empty()) terms_.push_back({word, std::move(folded)});
    }
    for (const auto& pattern : args.options.value(kPatterns, json::array())) {
      const std::string text = pattern.get<std::string>();
      try {
        patterns_.push_back({text, std::regex(text, std::regex::ECMAScript | std::regex::icase)});
      } catch (const std::regex_error& e) {
        throw Error(ErrorClass::invalid_input,
                    "pattern '" + text + "' is not a regular expression: " + e.what());
      }
    }
  }

  Task<GuardVerdict> check(GuardRequest request) override { co_return verdict(request.prompt); }

 private:
  struct Term {
    std::string as_listed;
    std::u32string folded;
  };
  struct Pattern {
    std::string text;
    std::regex regex;
  };

  GuardVerdict verdict(const std::string& prompt) const {
    GuardVerdict out;
    if (terms_.empty() && patterns_.empty()) return out;
    const std::u32string text = comparable(prompt);
    for (const auto& term : terms_) {
      for (auto at = text.find(term.folded); at != std::u32string::npos;
           at = text.find(term.folded, at + 1)) {
        // Whole words only: "ass" must not refuse "class".
        const auto end = at + term.folded.size();
        const bool starts = at == 0 || text[at - 1] == U' ';
        const bool ends = end == text.size() || text[end] == U' ';
        if (!starts || !ends) continue;
        out.allowed = false;
        out.reason = "blocked term '" + term.as_listed + "'";
        out.details = {{"term", term.as_listed}};
        return out;
      }
    }
    const std::string folded = to_utf8(blocklist::fold(prompt));
    for (const auto& pattern : patterns_) {
      if (!std::regex_search(folded, pattern.regex)) continue;
      out.allowed = false;
      out.reason = "matches blocked pattern '" + pattern.text + "'";
      out.details = {{"pattern", pattern.text}};
      return out;
    }
    return out;
  }

  std::vector<Term> terms_;
  std::vector<Pattern> patterns_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary =
      "Refuses prompts holding blocked words, phrases or patterns, before any provider call.";
  d.description =
      "Words and phrases match whole words only, ignoring case, accents and Unicode "
      "compatibility forms (fullwidth letters, ligatures) and treating any run of spaces or "
      "punctuation as one space: 'Bad Word' refuses 'ＢＡＤ-word' and 'bád word' but not "
      "'badword'. Patterns are ECMAScript regular expressions, case-insensitive, searched in "
      "the case-folded prompt. A refusal fails the item as content_policy; nothing is sent.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kWords,
         {{"type", {"string", "array"}},
          {"items", {{"type", "string"}}},
          {"default", ""},
          {"description",
           "Words and phrases: a list, or one comma-separated string (as BLOCKED_WORDS)."},
          {"examples", {"${BLOCKED_WORDS:-}", json::array({"gore", "hate speech"})}}}},
        {kPatterns,
         {{"type", "array"},
          {"items", {{"type", "string"}}},
          {"default", json::array()},
          {"description", "Regular expressions (ECMAScript), case-insensitive."},
          {"examples", {json::array({"\\b\\d{3}-\\d{2}-\\d{4}\\b"})}}}}}}};
  d.capabilities = {{"checks", {"prompt"}}};
  d.examples = {{{kWords, "gore, hate speech"}}, {{kPatterns, json::array({"\\bssn\\b"})}}};
  d.factory =
      GuardFactory{[](const PluginArgs& args) { return std::make_unique<BlocklistGuard>(args); }};
  return d;
}
