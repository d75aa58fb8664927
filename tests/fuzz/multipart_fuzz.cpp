// libFuzzer target for multipart/form-data bodies (core/src/http/multipart.cpp), which carry
// request text (prompts, file names) to providers' upload endpoints. Whatever the fields
// hold, the body must split back into exactly the parts given, each with its own name:
// no field can close its part early or add a header.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imagepipe/http.hpp"

using namespace imagepipe;

namespace {

// Four fields per part, separated by NUL bytes in the input.
std::vector<MultipartPart> parts_from(std::string_view data) {
  std::vector<std::string> fields;
  std::size_t at = 0;
  while (at <= data.size() && fields.size() < 32) {
    const std::size_t end = std::min(data.find('\0', at), data.size());
    fields.emplace_back(data.substr(at, end - at));
    at = end + 1;
  }
  std::vector<MultipartPart> parts;
  for (std::size_t i = 0; i + 3 < fields.size() + 3; i += 4) {
    MultipartPart p;
    p.name = i < fields.size() ? fields[i] : "";
    p.value = i + 1 < fields.size() ? fields[i + 1] : "";
    p.filename = i + 2 < fields.size() ? fields[i + 2] : "";
    p.content_type = i + 3 < fields.size() ? fields[i + 3] : "";
    parts.push_back(std::move(p));
  }
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = parts_from({reinterpret_cast<const char*>(data), size});
  const auto body = encode_multipart(parts);
  const std::string prefix = "multipart/form-data; boundary=";
  if (body.content_type.rfind(prefix, 0) != 0) __builtin_trap();
  const std::string delimiter = "--" + body.content_type.substr(prefix.size());
  // Split on the delimiter the way a receiver does (RFC 2046 §5.1.1).
  std::vector<std::string_view> pieces;
  const std::string_view all = body.body;
  std::size_t at = 0;
  while (true) {
    const std::size_t next = all.find(delimiter, at);
    if (next == std::string_view::npos) break;
    pieces.push_back(all.substr(at, next - at));
    at = next + delimiter.size();
  }
  // pieces[0] is the empty preamble; then one per part; the rest after the last is "--\r\n".
  if (pieces.size() != parts.size() + 1 || all.substr(at) != "--\r\n") __builtin_trap();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view piece = pieces[i + 1];
    const std::size_t blank = piece.find("\r\n\r\n");
    if (blank == std::string_view::npos) __builtin_trap();
    const std::string_view headers = piece.substr(0, blank);
    std::size_t lines = 0;
    for (std::size_t p = headers.find("\r\n"); p != std::string_view::npos;
         p = headers.find("\r\n", p + 2))
      ++lines;
    // "\r\n" before Content-Disposition, and one before Content-Type when there is one.
    if (lines != 1 + (parts[i].content_type.empty() ? 0 : 1)) __builtin_trap();
    if (piece.substr(blank + 4) != parts[i].value + "\r\n") __builtin_trap();
  }
  return 0;
}
