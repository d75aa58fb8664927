#include <algorithm>
#include <cctype>

#include "imagepipe/ascii.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe {

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (ascii_iequals(key, name)) return value;
  }
  return std::nullopt;
}

}  // namespace imagepipe
