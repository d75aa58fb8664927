// The daemon's HTTP/1.1 server: keep-alive connections on Asio, requests handed to a
// coroutine handler as plain structs (Beast stays in serve_http.cpp). Bodies over the
// limit are answered 413 here, before the handler.
//
// One event loop per thread, each connection on one of them: a connection's operations
// never change threads, so it needs no strand, and a request costs no hand-offs between
// HTTP threads (strands and their wake-ups were a quarter of the accept path's time).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "imagepipe/asio.hpp"

namespace imagepipe::serve {

struct Request {
  std::string method;  // upper case
  std::string target;  // as sent
  std::string path;    // target without the query, percent-decoding left to routes
  std::string query;   // after '?', raw
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address
  std::string route;   // set by the router: the matched route, for metrics

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::string body;
  std::string job_id;  // the job the answer is about, for the access log; not sent
};

using Handler = std::function<Task<Response>(Request&)>;

// Each one names its key in the config file (limits.*) and in the error it causes.
struct ServerLimits {
  std::uint64_t body_bytes = 16u << 20;
  std::size_t header_bytes = 16u << 10;
  std::chrono::seconds idle_timeout{60};    // keep-alive connection waiting for a request
  std::chrono::seconds header_timeout{10};  // first byte to the end of the headers (slowloris)
  std::chrono::seconds body_timeout{60};    // reading one request's body
  // Open connections from one peer address; 0: no limit. Behind a proxy every client has
  // the proxy's address: raise it there.
  std::size_t connections_per_client = 128;
};

// What the access log and the metrics need of an answer once it is sent.
struct Answered {
  int status = 0;
  std::uint64_t bytes = 0;  // body bytes sent
  double seconds = 0;       // from the request's last byte to the answer's
  std::string job_id;       // Response::job_id
};

// Called after every answer the handler gave: metrics, access log.
using RequestObserver = std::function<void(const Request&, const Answered&)>;

class HttpServer {
 public:
  // Binds at once (throws Error(unavailable) naming the address when it cannot). `io`
  // accepts and serves some of the connections, on the thread that runs it (one thread
  // only: its connections have no strand); the server runs `threads - 1` loops of its own
  // for the others.
  HttpServer(asio::io_context& io, const std::string& host, std::uint16_t port, ServerLimits limits,
             Handler handler, RequestObserver observer = {}, int threads = 1);
  ~HttpServer();

  void start();
  // Stops accepting; idle keep-alive connections close, busy ones close after answering.
  void stop();
  std::uint16_t port() const;
  std::size_t open_connections() const;

 private:
  struct Impl;
  struct Loops;
  std::unique_ptr<Loops> loops_;  // outlives impl_'s connections: joined in the destructor
  std::shared_ptr<Impl> impl_;
};

}  // namespace imagepipe::serve
