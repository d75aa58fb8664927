// The daemon's reading of one HTTP/1.1 request, apart from the sockets: what to answer when
// Beast's parser stops on a header, which framings are refused, and the plain Request
// handed to routes. serve_http.cpp drives it on a connection; tests/fuzz/http_fuzz.cpp on
// bytes in memory, so the same code is fuzzed that serves.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>

#include "serve_http.hpp"

namespace imagepipe::serve {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// An answer sent before the handler runs, after which the connection closes. status 0:
// close without answering (the client left, or a timeout when nothing was sent yet).
struct Refusal {
  int status = 0;
  std::string message;
};

// A parser with the server's limits set.
void limit_parser(RequestParser& parser, const ServerLimits& limits);

// After the header was read (or failed to be): nullopt to read on (the parser then holds
// the body limit), else the refusal.
std::optional<Refusal> header_refusal(const boost::system::error_code& ec, RequestParser& parser,
                                      const ServerLimits& limits);

// After the body was read: nullopt when the request is complete.
std::optional<Refusal> body_refusal(const boost::system::error_code& ec,
                                    const ServerLimits& limits);

// The request as routes see it: header names lower-cased, target split at '?'.
Request to_request(boost::beast::http::request<boost::beast::http::string_body>&& message,
                   std::string remote);

// Every request in `bytes`, as one keep-alive connection would read them, and how the
// connection ended (a refusal, or status 0 at the end of the bytes). For the fuzzer and
// tests: the server reads the same way from a socket.
struct ParsedConnection {
  std::vector<Request> requests;
  Refusal end;
};
ParsedConnection parse_connection(std::string_view bytes, const ServerLimits& limits);

}  // namespace imagepipe::serve
