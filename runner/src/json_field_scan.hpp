// Finds one large string member of a JSON object without parsing it. A request's
// base64 image is 99% of its body; handing it to a general JSON parser cost the daemon
// more than everything else it does to accept a job. The rest of the body (small) is
// still parsed and validated in full.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

// Whether arrays and objects in `body` nest deeper than `max_depth`, counted without
// parsing (brackets inside strings do not count). Checked before any parse: a body such
// as 100,000 nested '[' must be refused before code that walks a value recursively
// (describing it in an error, storing it, rendering templates) ever sees it.
bool nests_deeper_than(std::string_view body, int max_depth);

}  // namespace imagepipe::serve
