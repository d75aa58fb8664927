#include "serve_http.hpp"

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/threads.hpp"
#include "serve_http_parse.hpp"

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

// A connection's reads each have a deadline of their own (idle, header, body). Beast's
// stream closes the socket when its timer fires, so nothing could be answered; this timer
// only cancels the read, and a 408 can still be sent.
struct Connection {
  Connection(tcp::socket socket, std::string remote)
      : stream(std::move(socket)), timer(stream.get_executor()), remote(std::move(remote)) {}
  beast::tcp_stream stream;
  asio::steady_timer timer;
  std::string remote;      // peer address, "" when unknown
  bool busy = false;       // between a request's last byte and its answer; on its loop only
  bool timed_out = false;  // the current read's deadline passed
};

// Arms `c`'s deadline for the read about to start.
void arm(const std::shared_ptr<Connection>& c, std::chrono::seconds limit) {
  c->stream.expires_never();  // a write's deadline must not cut the read short
  c->timed_out = false;
  c->timer.expires_after(limit);
  c->timer.async_wait([c](error_code ec) {
    if (ec) return;
    c->timed_out = true;
    c->stream.socket().cancel(ec);
  });
}

// After the read: its own error, or timeout when the deadline cancelled it.
error_code disarm(Connection& c, error_code ec) {
  c.timer.cancel();
  return c.timed_out ? error_code(beast::error::timeout) : ec;
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
  std::map<std::string, std::size_t> per_client;  // open connections by peer address

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
      std::string remote;
      if (const auto endpoint = socket.remote_endpoint(ec); !ec)
        remote = endpoint.address().to_string();
      auto executor = socket.get_executor();
      auto c = std::make_shared<Connection>(std::move(socket), std::move(remote));
      if (!admit(c->remote)) {
        asio::co_spawn(executor, too_many_connections(self, c), asio::detached);
        continue;
      }
      asio::co_spawn(executor, session(self, std::move(c)), asio::detached);
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
  Task<void> refuse(Connection& c, int status, const std::string& message, unsigned version,
                    std::chrono::milliseconds drain_time = kDrainTime) {
    Response r{.status = status, .body = error_body(message)};
    auto res = to_beast(std::move(r), version, false);
    if (co_await write(c, res)) co_return;
    error_code ec;
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    c.stream.expires_after(drain_time);
    std::vector<char> sink(64 << 10);
    std::size_t drained = 0;
    while (drained < kDrainBytes) {
      auto n = co_await c.stream.async_read_some(asio::buffer(sink),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
  }

  // Counts a connection from `remote` in, or refuses it when that address has
  // limits.connections_per_client open already. One client cannot take every socket.
  bool admit(const std::string& remote) {
    std::lock_guard lock(mu);
    auto& open = per_client[remote];
    if (limits.connections_per_client && open >= limits.connections_per_client) {
      if (open == 0) per_client.erase(remote);
      return false;
    }
    ++open;
    return true;
  }
  void release(const std::string& remote) {
    std::lock_guard lock(mu);
    auto it = per_client.find(remote);
    if (it != per_client.end() && --it->second == 0) per_client.erase(it);
  }

  // Answers a connection over the per-client limit with a 429 and closes it.
  Task<void> too_many_connections(std::shared_ptr<Impl> self, std::shared_ptr<Connection> c) {
    const std::string message = "too many connections from " + c->remote + ": the limit is " +
                                std::to_string(self->limits.connections_per_client) +
                                " per client address (limits.connections_per_client)";
    co_await refuse(*c, 429, message, 11, std::chrono::milliseconds(500));
    error_code ec;
    c->stream.socket().close(ec);
  }

  Task<void> session(std::shared_ptr<Impl> self, std::shared_ptr<Connection> c) {
    // `self` keeps the server alive for as long as one of its connections is open.
    {
      std::lock_guard lock(self->mu);
      self->connections.insert(c);
    }
    co_await self->serve(c);
    error_code ec;
    c->timer.cancel();
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    c->stream.socket().close(ec);
    self->release(c->remote);
    std::lock_guard lock(self->mu);
    self->connections.erase(c);
  }

  Task<void> serve(std::shared_ptr<Connection> connection) {
    Connection& c = *connection;
    beast::flat_buffer buffer;
    while (!stopping) {
      RequestParser parser;
      limit_parser(parser, limits);
      error_code ec;
      // Waiting for a request is the idle timeout; its first byte starts the header's.
      if (buffer.size() == 0) {
        arm(connection, limits.idle_timeout);
        const auto n = co_await c.stream.async_read_some(
            buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        if (disarm(c, ec)) co_return;
        buffer.commit(n);
      }
      arm(connection, limits.header_timeout);
      co_await http::async_read_header(c.stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      ec = disarm(c, ec);
      // Messages are named before the co_await: g++ 12 destroys a temporary bound to a
      // coroutine's reference parameter twice.
      if (const auto refusal = header_refusal(ec, parser, limits)) {
        if (refusal->status) co_await refuse(c, refusal->status, refusal->message, 11);
        co_return;
      }
      const auto& header = parser.get();
      if (boost::beast::iequals(header[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, header.version()};
        if (co_await write(c, go_on)) co_return;
      }
      arm(connection, limits.body_timeout);
      co_await http::async_read(c.stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      ec = disarm(c, ec);
      if (const auto refusal = body_refusal(ec, limits)) {
        if (refusal->status) co_await refuse(c, refusal->status, refusal->message, header.version());
        co_return;
      }

      c.busy = true;
      const auto started = std::chrono::steady_clock::now();
      const unsigned version = parser.get().version();
      const bool wants_keep_alive = parser.get().keep_alive();
      Request request = to_request(parser.release(), c.remote);

      Response response;
      try {
        response = co_await handler(request);
      } catch (const std::exception& e) {
        response =
            Response{.status = 500, .body = error_body(std::string("internal error: ") + e.what())};
      }
      Answered answered{.status = response.status,
                        .bytes = response.body.size(),
                        .job_id = std::move(response.job_id)};
      const bool keep_alive = wants_keep_alive && !stopping;
      auto res = to_beast(std::move(response), version, keep_alive);
      ec = co_await write(c, res);
      c.busy = false;
      answered.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (observer) observer(request, answered);
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
