// multipart/form-data (RFC 7578). Names and filenames are escaped the way browsers do it
// (WHATWG HTML: '"' -> %22, CR -> %0D, LF -> %0A) so no part can break out of its header.
#include <random>

#include "imagepipe/http.hpp"

namespace imagepipe {

namespace {

std::string escape(std::string_view s, bool quotes) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += quotes ? "%22" : "\"";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      default:
        out += c;
    }
  }
  return out;
}
std::string escape_quoted(std::string_view s) { return escape(s, true); }
std::string escape_line_breaks(std::string_view s) { return escape(s, false); }

std::string random_boundary() {
  static constexpr char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof kChars - 2);
  std::string b = "imagepipe-";
  for (int i = 0; i < 32; ++i) b += kChars[pick(rng)];
  return b;
}

bool appears_in(const std::vector<MultipartPart>& parts, const std::string& boundary) {
  for (const auto& p : parts) {
    for (const std::string* s : {&p.name, &p.value, &p.filename, &p.content_type}) {
      if (s->find(boundary) != std::string::npos) return true;
    }
  }
  return false;
}

}  // namespace

MultipartBody encode_multipart(const std::vector<MultipartPart>& parts) {
  std::string boundary = random_boundary();
  // 190 random bits make a collision astronomically unlikely, but image bytes are
  // arbitrary, so check rather than hope.
  while (appears_in(parts, boundary)) boundary = random_boundary();

  std::size_t size = boundary.size() + 8;
  for (const auto& p : parts) size += p.value.size() + p.name.size() + p.filename.size() + 160;
  std::string body;
  body.reserve(size);
  for (const auto& p : parts) {
    body += "--" + boundary + "\r\n";
    body += "Content-Disposition: form-data; name=\"" + escape_quoted(p.name) + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + escape_quoted(p.filename) + "\"";
    body += "\r\n";
    if (!p.content_type.empty())
      body += "Content-Type: " + escape_line_breaks(p.content_type) + "\r\n";
    body += "\r\n";
    body += p.value;
    body += "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return {"multipart/form-data; boundary=" + boundary, std::move(body)};
}

}  // namespace imagepipe
