// Finds one large string member of a JSON object without parsing it. A request's
// base64 image is 99% of its body; handing it to a general JSON parser cost the daemon
// more than everything else it does to accept a job. The rest of the body (small) is
// still parsed and validated in full.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace imagepipe::serve {

struct CutField {
  std::string rest;        // the body with the member's value replaced by ""
  std::string_view value;  // the member's raw string contents (a view into the body)
};

// The top-level member `name` of the object in `body`, when its value is a string with
// no escapes or control characters (base64 and data URLs never need them). Anything
// else, including malformed JSON, gives nullopt: the caller then parses the whole body
// and reports errors as usual.
std::optional<CutField> cut_string_member(std::string_view body, std::string_view name);

// The shape a request body may have, checked before any parse (`limits:` in the serve
// config). A body within the byte limit can still hold a million tiny values or a string
// that no field needs, each costing far more once parsed than it did to send.
struct JsonLimits {
  int depth = 64;                         // arrays and objects inside one another
  std::size_t string_bytes = 256u << 10;  // one key or string value, as written
  std::size_t values = 10'000;            // members and elements of all containers together
};

enum class JsonLimit { none, depth, string_bytes, values };

// The first of `limits` that `body` goes over, counted without parsing (brackets and commas
// inside strings do not count). The string value of the top-level member `exempt` (a
// request's base64 image, which only the body size bounds) is not held to string_bytes.
// Checked before any parse: a body such as 100,000 nested '[' must be refused before code
// that walks a value recursively (describing it in an error, storing it, rendering
// templates) ever sees it. Malformed JSON is the parser's to report: counting stops at an
// unterminated string.
JsonLimit exceeded_json_limit(std::string_view body, const JsonLimits& limits,
                              std::string_view exempt = {});

// An object that holds one key twice. RFC 8259 leaves the meaning open and parsers differ
// (nlohmann keeps the last value, the image scan above the first), so a body where the
// image checked and the image used could differ is refused rather than interpreted.
struct DuplicateKey : std::runtime_error {
  explicit DuplicateKey(std::string key);
  std::string key;  // as decoded, cut to 64 bytes on a character boundary
};

// `text` parsed as nlohmann::json::parse would, at every depth refusing an object with a
// key twice (DuplicateKey, thrown even when `allow_exceptions` is false; malformed JSON
// follows `allow_exceptions`).
nlohmann::json parse_unique_keys(std::string_view text, bool allow_exceptions = true);

}  // namespace imagepipe::serve
