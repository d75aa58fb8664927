// libFuzzer target for the daemon's request reading (runner/src/serve_http_parse.cpp): Beast's
// parser with our limits, our framing rules (RFC 9112 §6.3) and the Request handed to
// routes, on the bytes of one keep-alive connection, chunked bodies included. Besides not
// crashing:
//   - every request served has a length no one could read differently: no
//     Transfer-Encoding but a lone final "chunked", never beside a Content-Length;
//   - a body is within limits.body_bytes, and a Content-Length one is exactly that long;
//   - a refusal is an error status with a message.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve_http_parse.hpp"

using namespace imagepipe::serve;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ServerLimits limits;
  limits.body_bytes = 1024;
  limits.header_bytes = 2048;
  const auto connection = parse_connection(bytes, limits);
  std::size_t body_bytes = 0;
  for (const auto& request : connection.requests) {
    if (request.method.empty() || request.path.size() > request.target.size()) __builtin_trap();
    if (request.body.size() > limits.body_bytes) __builtin_trap();
    body_bytes += request.body.size();
    const auto* te = request.header("transfer-encoding");
    const auto* length = request.header("content-length");
    if (te && (length || lower(*te).find("chunked") == std::string::npos)) __builtin_trap();
    if (length && !te) {
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
      if (ec != std::errc{} || end != length->data() + length->size() || n != request.body.size())
        __builtin_trap();
    }
  }
  if (body_bytes > size) __builtin_trap();
  const auto& end = connection.end;
  if (end.status != 0 && (end.status < 400 || end.status > 599 || end.message.empty()))
    __builtin_trap();
  return 0;
}
