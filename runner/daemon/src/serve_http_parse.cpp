#include "serve_http_parse.hpp"
#include "imagepipe/ascii.hpp"

#include <algorithm>
#include <limits>

#include <boost/asio/error.hpp>
#include <boost/beast/core.hpp>

namespace imagepipe::serve {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// RFC 9112 §6.3: a request whose length two parties could read differently is how requests
// are smuggled past a proxy. Beast frames "Transfer-Encoding: xchunked" with a
// Content-Length by the length (and without one, as bodiless), so the rest of the bytes
// would be read here as a second request that the proxy never saw. Such a request is
// refused and its connection closed. (Beast itself refuses chunked beside a length.)
std::optional<Refusal> framing_problem(const RequestParser& parser) {
  const auto& header = parser.get();
  // Beast reads "Content-Length: 1,1" as 1 (RFC 9110 allows a list of equal values), but a
  // proxy in front may not: only one plain decimal number is a length both read alike.
  const auto lengths = header.equal_range(http::field::content_length);
  for (auto field = lengths.first; field != lengths.second; ++field) {
    const auto value = field->value();
    const bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::next(field) != lengths.second)
      return Refusal{400,
                     "Content-Length must be one decimal number: the request's length is "
                     "ambiguous"};
  }
  std::string codings;
  const auto fields = header.equal_range(http::field::transfer_encoding);
  for (auto field = fields.first; field != fields.second; ++field)
    codings += (codings.empty() ? "" : ", ") + std::string(field->value());
  if (fields.first == fields.second) return std::nullopt;
  const std::string shown = codings.size() > 100 ? codings.substr(0, 100) + "..." : codings;
  if (header.count(http::field::content_length))
    return Refusal{400,
                   "Transfer-Encoding and Content-Length together: the request's length is "
                   "ambiguous"};
  std::vector<std::string> list;
  for (const auto token : http::token_list{codings})
    list.push_back(ascii_lower({token.data(), token.size()}));
  if (list.empty() || list.back() != "chunked")
    return Refusal{400, "Transfer-Encoding '" + shown +
                            "' does not end in chunked: the request's length cannot be determined"};
  if (list.size() > 1)  // RFC 9112 §6.1: a coding the server cannot undo
    return Refusal{501, "Transfer-Encoding '" + shown + "' is not supported: only chunked"};
  return std::nullopt;
}

bool client_left(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == boost::asio::error::eof || ec == boost::asio::error::operation_aborted ||
         ec == boost::asio::error::connection_reset;
}

std::string over_body_limit(std::optional<std::uint64_t> length, const ServerLimits& limits) {
  return "request body is " + (length ? std::to_string(*length) + " bytes, " : "") +
         "over the limit of " + std::to_string(limits.body_bytes) + " bytes (limits.body_bytes)";
}

}  // namespace

void limit_parser(RequestParser& parser, const ServerLimits& limits) {
  // The body limit is ours to check once the header is read (Content-Length) and Beast's
  // for the body (chunked). Beast checks a length while still reading the header, where
  // the length cannot be read back for the message (content_length() requires a complete
  // header), so it is not told before. (Not boost::none: Beast 1.74 compares lengths with
  // the optional, and every length is greater than none.)
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
}

std::optional<Refusal> header_refusal(const error_code& ec, RequestParser& parser,
                                      const ServerLimits& limits) {
  if (ec == http::error::header_limit)
    return Refusal{431, "request headers are over the limit of " +
                            std::to_string(limits.header_bytes) + " bytes (limits.header_bytes)"};
  if (ec == beast::error::timeout)
    return Refusal{408, "request headers not received within " +
                            std::to_string(limits.header_timeout.count()) +
                            " s (limits.header_timeout_seconds)"};
  if (client_left(ec)) return Refusal{};
  if (ec) return Refusal{400, "malformed HTTP request: " + ec.message()};
  if (const auto length = parser.content_length(); length && *length > limits.body_bytes)
    return Refusal{413, over_body_limit(*length, limits)};
  if (auto problem = framing_problem(parser)) return problem;
  parser.body_limit(limits.body_bytes);
  return std::nullopt;
}

std::optional<Refusal> body_refusal(const error_code& ec, const ServerLimits& limits) {
  if (ec == http::error::body_limit) return Refusal{413, over_body_limit(std::nullopt, limits)};
  if (ec == beast::error::timeout)
    return Refusal{408, "request body not received within " +
                            std::to_string(limits.body_timeout.count()) +
                            " s (limits.body_timeout_seconds)"};
  if (client_left(ec)) return Refusal{};
  if (ec) return Refusal{400, "malformed HTTP request: " + ec.message()};
  return std::nullopt;
}

Request to_request(http::request<http::string_body>&& message, std::string remote) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const auto q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : message)
    request.headers[ascii_lower({field.name_string().data(), field.name_string().size()})] =
        std::string(field.value());
  request.body = std::move(message.body());
  request.remote = std::move(remote);
  return request;
}

ParsedConnection parse_connection(std::string_view bytes, const ServerLimits& limits) {
  ParsedConnection out;
  auto buffer = boost::asio::buffer(bytes.data(), bytes.size());
  // put() with every byte there is: "need more" with nothing taken is the end of the data.
  const auto feed = [&buffer](RequestParser& parser, error_code& ec) {
    if (buffer.size() == 0) {
      ec = http::error::end_of_stream;
      return;
    }
    const auto used = parser.put(buffer, ec);
    buffer += used;
    if (ec == http::error::need_more) ec = used ? error_code{} : http::error::end_of_stream;
  };
  while (true) {
    RequestParser parser;
    limit_parser(parser, limits);
    error_code ec;
    // Headers first, as the server reads them, so a framing refusal comes before the body.
    while (!ec && !parser.is_header_done()) feed(parser, ec);
    if (auto refusal = header_refusal(ec, parser, limits)) {
      out.end = std::move(*refusal);
      return out;
    }
    while (!ec && !parser.is_done()) feed(parser, ec);
    if (auto refusal = body_refusal(ec, limits)) {
      out.end = std::move(*refusal);
      return out;
    }
    const bool keep_alive = parser.get().keep_alive();
    out.requests.push_back(to_request(parser.release(), "fuzz"));
    if (!keep_alive) return out;
  }
}

}  // namespace imagepipe::serve
