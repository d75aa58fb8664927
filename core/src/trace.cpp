#include "imagepipe/trace.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "imagepipe/error.hpp"

namespace imagepipe {

namespace {

thread_local const TraceContext* t_current = nullptr;

bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

std::string random_hex(std::size_t bytes) {
  unsigned char b[16];
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  // An all-zero id is invalid: draw again (one chance in 2^64 at worst).
  do {
    if (RAND_bytes(b, static_cast<int>(bytes)) != 1)
      throw Error(ErrorClass::internal, "no randomness for a trace id");
    out.clear();
    for (std::size_t i = 0; i < bytes; ++i) {
      out += kDigits[b[i] >> 4];
      out += kDigits[b[i] & 0xf];
    }
  } while (all_zero(out));
  return out;
}

}  // namespace

std::string TraceContext::traceparent() const {
  return "00-" + trace_id + "-" + span_id + "-" + flags;
}

std::optional<TraceContext> parse_traceparent(std::string_view v) {
  // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55 characters. A
  // later version may append fields after another '-', which we do not read.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const auto version = v.substr(0, 2);
  if (!lower_hex(version) || version == "ff") return std::nullopt;
  if (v.size() > 55 && (version == "00" || v[55] != '-')) return std::nullopt;
  TraceContext t{std::string(v.substr(3, 32)), std::string(v.substr(36, 16)),
                 std::string(v.substr(53, 2))};
  if (!lower_hex(t.trace_id) || all_zero(t.trace_id)) return std::nullopt;
  if (!lower_hex(t.span_id) || all_zero(t.span_id)) return std::nullopt;
  if (!lower_hex(t.flags)) return std::nullopt;
  return t;
}

TraceContext new_trace() { return {random_hex(16), random_hex(8), "01"}; }

TraceContext child_span(const TraceContext& parent) {
  return {parent.trace_id, random_hex(8), parent.flags};
}

const TraceContext* current_trace() { return t_current; }

TraceScope::TraceScope(const TraceContext* trace) : previous_(t_current) { t_current = trace; }
TraceScope::~TraceScope() { t_current = previous_; }

}  // namespace imagepipe
