#include "serve_http.hpp"

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/threads.hpp"

namespace imagepipe::serve {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// After refusing a body we stop reading it; closing a socket with unread data makes the
// kernel send RST, and the client may lose our answer. Reading and discarding for a
// moment lets the 413 arrive.
constexpr std::chrono::seconds kDrainTime{2};
constexpr std::size_t kDrainBytes = 64u << 20;

std::string error_body(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // between a request's last byte and its answer; on its loop only
};

std::string lower(boost::beast::string_view s) {
  std::string out(s.data(), s.size());
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct FramingProblem {
  int status = 0;  // 0: the request's length is unambiguous
  std::string message;
};

// RFC 9112 §6.3: a request whose length two parties could read differently is how requests
// are smuggled past a proxy. Beast frames "Transfer-Encoding: xchunked" with a
// Content-Length by the length (and without one, as bodiless), so the rest of the bytes
// would be read here as a second request that the proxy never saw. Such a request is
// refused and its connection closed. (Beast itself refuses chunked beside a length.)
FramingProblem framing_problem(const http::request_parser<http::string_body>& parser) {
  const auto& header = parser.get();
  std::string codings;
  const auto fields = header.equal_range(http::field::transfer_encoding);
  for (auto field = fields.first; field != fields.second; ++field)
    codings += (codings.empty() ? "" : ", ") + std::string(field->value());
  if (fields.first == fields.second) return {};
  const std::string shown = codings.size() > 100 ? codings.substr(0, 100) + "..." : codings;
  if (header.count(http::field::content_length))
    return {400,
            "Transfer-Encoding and Content-Length together: the request's length is "
            "ambiguous"};
  std::vector<std::string> list;
  for (const auto token : http::token_list{codings}) list.push_back(lower(token));
  if (list.empty() || list.back() != "chunked")
    return {400, "Transfer-Encoding '" + shown +
                     "' does not end in chunked: the request's length cannot be determined"};
  if (list.size() > 1)  // RFC 9112 §6.1: a coding the server cannot undo
    return {501, "Transfer-Encoding '" + shown + "' is not supported: only chunked"};
  return {};
}

}  // namespace

// The event loops besides the caller's, each run by a thread of its own.
struct HttpServer::Loops {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;

  void start() {
    for (auto& context : contexts)
      threads.emplace_back([&context = *context] {
        name_this_thread("imagepipe-http");
        context.run();
      });
  }
  void stop_and_join() {
    work.clear();
    // Connections were told to close by stop(); what is left (a handler still waiting)
    // is abandoned, as the caller's own loop abandons its handlers when it stops.
    for (auto& context : contexts) context->stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::vector<asio::io_context*> loops, ServerLimits limits,
       Handler handler, RequestObserver observer)
      : loops(std::move(loops)),
        acceptor(io),
        limits(limits),
        handler(std::move(handler)),
        observer(std::move(observer)) {}

  std::vector<asio::io_context*> loops;  // where connections go, in turn; loops[0] is io
  std::size_t next_loop = 0;             // touched by the accept loop only
  tcp::acceptor acceptor;
  ServerLimits limits;
  Handler handler;
  RequestObserver observer;
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::set<std::shared_ptr<Connection>> connections;

  Task<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      error_code ec;
      auto& loop = *loops[next_loop++ % loops.size()];
      tcp::socket socket =
          co_await acceptor.async_accept(loop, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open() || stopping) co_return;
        continue;  // EMFILE and friends: keep serving the connections we have
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(self, std::make_shared<Connection>(std::move(socket))),
                     asio::detached);
    }
  }

  template <class Body>
  static Task<error_code> write(Connection& c, http::response<Body>& res) {
    error_code ec;
    c.stream.expires_after(std::chrono::seconds(60));
    co_await http::async_write(c.stream, res, asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }

  static http::response<http::string_body> to_beast(Response&& r, unsigned version,
                                                    bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res.set(name, value);
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
  }

  // Answers a request we refuse before reading its body, then lets the client finish.
  Task<void> refuse(Connection& c, int status, const std::string& message, unsigned version) {
    Response r{.status = status, .body = error_body(message)};
    auto res = to_beast(std::move(r), version, false);
    if (co_await write(c, res)) co_return;
    error_code ec;
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    c.stream.expires_after(kDrainTime);
    std::vector<char> sink(64 << 10);
    std::size_t drained = 0;
    while (drained < kDrainBytes) {
      auto n = co_await c.stream.async_read_some(asio::buffer(sink),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
  }

  Task<void> session(std::shared_ptr<Impl> self, std::shared_ptr<Connection> c) {
    // `self` keeps the server alive for as long as one of its connections is open.
    {
      std::lock_guard lock(self->mu);
      self->connections.insert(c);
    }
    co_await self->serve(*c);
    error_code ec;
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    c->stream.socket().close(ec);
    std::lock_guard lock(self->mu);
    self->connections.erase(c);
  }

  Task<void> serve(Connection& c) {
    beast::flat_buffer buffer;
    std::string remote;
    {
      error_code ec;
      auto endpoint = c.stream.socket().remote_endpoint(ec);
      if (!ec) remote = endpoint.address().to_string();
    }
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(limits.body_bytes);
      parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
      error_code ec;
      c.stream.expires_after(limits.idle_timeout);
      co_await http::async_read_header(c.stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      // Messages are named before the co_await: g++ 12 destroys a temporary bound to a
      // coroutine's reference parameter twice.
      if (ec == http::error::body_limit) {
        const auto length = parser.content_length();
        const std::string message =
            "request body is " + (length ? std::to_string(*length) + " bytes, " : "") +
            "over the limit of " + std::to_string(limits.body_bytes) + " bytes (limits.body_bytes)";
        co_await refuse(c, 413, message, 11);
        co_return;
      }
      if (ec == http::error::header_limit) {
        const std::string message = "request headers are too large";
        co_await refuse(c, 431, message, 11);
        co_return;
      }
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset)
        co_return;
      if (ec) {
        const std::string message = "malformed HTTP request: " + ec.message();
        co_await refuse(c, 400, message, 11);
        co_return;
      }

      if (const auto framing = framing_problem(parser); framing.status) {
        co_await refuse(c, framing.status, framing.message, 11);
        co_return;
      }
      const auto& header = parser.get();
      if (lower(header[http::field::expect]) == "100-continue") {
        http::response<http::empty_body> go_on{http::status::continue_, header.version()};
        if (co_await write(c, go_on)) co_return;
      }
      c.stream.expires_after(limits.request_timeout);
      co_await http::async_read(c.stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::body_limit) {
        const std::string message = "request body is over the limit of " +
                                    std::to_string(limits.body_bytes) +
                                    " bytes (limits.body_bytes)";
        co_await refuse(c, 413, message, header.version());
        co_return;
      }
      if (ec) co_return;

      c.busy = true;
      const auto started = std::chrono::steady_clock::now();
      auto message = parser.release();
      Request request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      const auto q = request.target.find('?');
      request.path = request.target.substr(0, q);
      if (q != std::string::npos) request.query = request.target.substr(q + 1);
      for (const auto& field : message)
        request.headers[lower(field.name_string())] = std::string(field.value());
      request.body = std::move(message.body());
      request.remote = remote;

      Response response;
      try {
        response = co_await handler(request);
      } catch (const std::exception& e) {
        response =
            Response{.status = 500, .body = error_body(std::string("internal error: ") + e.what())};
      }
      const int status = response.status;
      const bool keep_alive = message.keep_alive() && !stopping;
      auto res = to_beast(std::move(response), message.version(), keep_alive);
      ec = co_await write(c, res);
      c.busy = false;
      if (observer)
        observer(request, status,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (ec || !keep_alive) co_return;
    }
  }
};

HttpServer::HttpServer(asio::io_context& io, const std::string& host, std::uint16_t port,
                       ServerLimits limits, Handler handler, RequestObserver observer, int threads)
    : loops_(std::make_unique<Loops>()) {
  std::vector<asio::io_context*> loops{&io};
  for (int i = 1; i < threads; ++i) {
    loops_->contexts.push_back(std::make_unique<asio::io_context>(1));
    loops_->work.push_back(asio::make_work_guard(*loops_->contexts.back()));
    loops.push_back(loops_->contexts.back().get());
  }
  impl_ =
      std::make_shared<Impl>(io, std::move(loops), limits, std::move(handler), std::move(observer));
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec)
    throw Error(ErrorClass::invalid_input, "listen address '" + host + "' is not an IP address");
  tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error(ErrorClass::unavailable,
                "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  impl_->port = acceptor.local_endpoint().port();
}

HttpServer::~HttpServer() {
  stop();
  loops_->stop_and_join();
}

void HttpServer::start() {
  loops_->start();
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
}

void HttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ec;
    impl->acceptor.close(ec);
  });
  std::lock_guard lock(impl_->mu);
  for (const auto& c : impl_->connections) {
    // Idle connections wait in a read: close them. Busy ones see `stopping` after
    // answering and close themselves.
    asio::post(c->stream.get_executor(), [c] {
      if (!c->busy) c->stream.socket().cancel();
    });
  }
}

std::uint16_t HttpServer::port() const { return impl_->port; }

std::size_t HttpServer::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace imagepipe::serve
