#include "http/transport.hpp"

#include <poll.h>

#include <atomic>
#include <list>
#include <mutex>
#include <vector>

#include "imagepipe/asio.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "imagepipe/error.hpp"

namespace imagepipe::http_detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

struct Connection {
  std::string key;
  std::unique_ptr<beast::tcp_stream> tcp;  // plain http
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *tcp; }
  asio::any_io_executor executor() { return lowest().get_executor(); }
};
using ConnectionPtr = std::unique_ptr<Connection>;

// An idle keep-alive connection has nothing to read. If its socket is readable the peer
// has closed it (or sent something unsolicited); either way it must not carry a request.
bool looks_alive(Connection& c) {
  pollfd p{c.lowest().socket().native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

class ConnectionPool {
 public:
  ConnectionPool(std::size_t per_origin, std::size_t total, std::chrono::milliseconds idle_timeout)
      : per_origin_(per_origin), total_(total), idle_timeout_(idle_timeout) {}

  // Newest first: the most recently used connection is the least likely to be stale.
  ConnectionPtr take(const std::string& key) {
    std::vector<ConnectionPtr> discard;  // closed after the lock is released
    std::lock_guard lock(mu_);
    const auto now = SteadyClock::now();
    for (auto it = idle_.end(); it != idle_.begin();) {
      --it;
      if ((*it)->key != key) continue;
      ConnectionPtr c = std::move(*it);
      it = idle_.erase(it);
      if (now - c->idle_since < idle_timeout_ && looks_alive(*c)) return c;
      discard.push_back(std::move(c));
    }
    return nullptr;
  }

  void put(ConnectionPtr c) {
    std::vector<ConnectionPtr> discard;
    std::lock_guard lock(mu_);
    if (per_origin_ == 0 || total_ == 0) return;
    c->idle_since = SteadyClock::now();
    std::size_t same = 0;
    for (const auto& idle : idle_) same += idle->key == c->key;
    for (auto it = idle_.begin(); it != idle_.end() && same >= per_origin_;) {
      if ((*it)->key == c->key) {
        discard.push_back(std::move(*it));
        it = idle_.erase(it);
        --same;
      } else {
        ++it;
      }
    }
    idle_.push_back(std::move(c));
    while (idle_.size() > total_) {
      discard.push_back(std::move(idle_.front()));
      idle_.pop_front();
    }
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return idle_.size();
  }

  void clear() {
    std::list<ConnectionPtr> discard;
    std::lock_guard lock(mu_);
    discard.swap(idle_);
  }

 private:
  const std::size_t per_origin_;
  const std::size_t total_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::list<ConnectionPtr> idle_;  // oldest first
};

ssl::context make_tls_context(const HttpClientOptions& options) {
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (options.system_cas) {
    ctx.set_default_verify_paths(ec);
    // A machine without a CA store can still talk to hosts trusted through ca_file.
  }
  if (!options.ca_file.empty()) {
    ctx.load_verify_file(options.ca_file, ec);
    if (ec) {
      throw Error(ErrorClass::invalid_input,
                  "cannot load CA file '" + options.ca_file + "': " + ec.message());
    }
  }
  return ctx;
}

std::string pool_key(const Route& route) {
  if (!route.proxy) return route.target.origin();
  // Plain http through a proxy can share connections to the proxy; a CONNECT tunnel is
  // bound to its target.
  if (!route.target.is_https()) return "via " + route.proxy->origin();
  return route.target.origin() + " via " + route.proxy->origin();
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

[[noreturn]] void throw_overall_timeout(const RoundTrip& rt) {
  throw Error(ErrorClass::timeout, rt.what() + " timed out after " + format_seconds(rt.timeout));
}

std::string peer_name(const RoundTrip& rt) {
  return rt.route.proxy ? "proxy " + rt.route.proxy->authority() : rt.route.target.authority();
}

std::string tls_failure(const error_code& ec, SSL* ssl) {
  std::string msg = ec.message();
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) msg += std::string(": ") + X509_verify_cert_error_string(verify);
  return msg;
}

}  // namespace

struct Transport::State {
  State(asio::any_io_executor ex, const HttpClientOptions& options)
      : executor(std::move(ex)),
        max_response_bytes(options.max_response_bytes),
        egress(options.egress),
        tls(make_tls_context(options)),
        pool(options.max_idle_per_origin, options.max_idle_total, options.idle_timeout) {}

  asio::any_io_executor executor;
  const std::size_t max_response_bytes;
  const EgressPolicy egress;
  ssl::context tls;
  ConnectionPool pool;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> reused{0};
  std::atomic<std::uint64_t> stale_retries{0};

  Task<ConnectionPtr> connect(const RoundTrip& rt);
  Task<void> open_tunnel(beast::tcp_stream& stream, beast::flat_buffer& buffer, const RoundTrip& rt,
                         SteadyClock::time_point deadline);

  struct Outcome {
    HttpResponse response;
    bool keep_alive = false;
    bool stale = false;  // failed before any response byte: safe to resend if idempotent
    std::string failure;
  };
  Task<Outcome> exchange(Connection& c, const RoundTrip& rt);
  template <class Stream>
  Task<Outcome> exchange_on(Stream& stream, Connection& c, const RoundTrip& rt);
};

// Runs on a fresh strand: resolution, egress checks, TCP, proxy tunnel, TLS.
Task<ConnectionPtr> Transport::State::connect(const RoundTrip& rt) {
  const auto ex = co_await asio::this_coro::executor;
  const Url& peer = rt.route.proxy ? *rt.route.proxy : rt.route.target;
  const auto deadline = std::min(SteadyClock::now() + rt.connect_timeout, rt.deadline);
  const auto timed_out = [&]() -> Error {
    if (deadline < rt.deadline) {
      return Error(ErrorClass::timeout, "connecting to " + peer_name(rt) + " timed out after " +
                                            format_seconds(rt.connect_timeout));
    }
    return Error(ErrorClass::timeout, rt.what() + " timed out after " + format_seconds(rt.timeout));
  };

  // The resolver has no deadline of its own; a timer cancels it. Shared state because the
  // timer's handler may run after this frame has moved on.
  struct Resolution {
    explicit Resolution(const asio::any_io_executor& e) : resolver(e), timer(e) {}
    tcp::resolver resolver;
    asio::steady_timer timer;
    bool expired = false;
  };
  auto resolution = std::make_shared<Resolution>(ex);
  resolution->timer.expires_at(deadline);
  resolution->timer.async_wait([resolution](const error_code& ec) {
    if (ec) return;
    resolution->expired = true;
    resolution->resolver.cancel();
  });
  error_code ec;
  const tcp::resolver::results_type endpoints = co_await resolution->resolver.async_resolve(
      peer.host, std::to_string(peer.port), tcp::resolver::numeric_service,
      asio::redirect_error(asio::use_awaitable, ec));
  resolution->timer.cancel();
  if (resolution->expired) throw timed_out();
  if (ec)
    throw Error(ErrorClass::unavailable,
                "cannot connect to " + peer_name(rt) + ": " + ec.message());

  // Through a proxy the proxy resolves the target; the host was checked by name already.
  if (!rt.route.proxy) {
    for (const auto& entry : endpoints)
      egress.check_address(rt.route.target, entry.endpoint().address());
  }

  auto conn = std::make_unique<Connection>();
  conn->tcp = std::make_unique<beast::tcp_stream>(ex);
  conn->tcp->expires_at(deadline);
  ++opened;
  co_await conn->tcp->async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) throw timed_out();
  if (ec)
    throw Error(ErrorClass::unavailable,
                "cannot connect to " + peer_name(rt) + ": " + ec.message());
  conn->tcp->socket().set_option(tcp::no_delay(true), ec);

  if (rt.route.proxy && rt.route.target.is_https()) {
    co_await open_tunnel(*conn->tcp, conn->buffer, rt, deadline);
  }
  if (rt.route.target.is_https()) {
    const Url& target = rt.route.target;
    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*conn->tcp), tls);
    conn->tcp.reset();
    boost::system::error_code not_ip;
    asio::ip::make_address(target.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(conn->tls->native_handle(), target.host.c_str())) {
      throw Error(ErrorClass::internal, "cannot set TLS server name for " + target.authority());
    }
    // OpenSSL's own name check (rather than a verify callback) reports a precise reason,
    // "hostname mismatch", in the handshake error.
    X509_VERIFY_PARAM* param = SSL_get0_param(conn->tls->native_handle());
    const int name_set = not_ip ? X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), 0)
                                : X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
    if (name_set != 1) {
      throw Error(ErrorClass::internal, "cannot set TLS peer name for " + target.authority());
    }
    conn->tls->set_verify_mode(ssl::verify_peer);
    conn->tls->next_layer().expires_at(deadline);
    co_await conn->tls->async_handshake(ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) throw timed_out();
    if (ec) {
      throw Error(ErrorClass::unavailable,
                  "TLS handshake with " + target.authority() +
                      " failed: " + tls_failure(ec, conn->tls->native_handle()));
    }
  }
  co_return conn;
}

Task<void> Transport::State::open_tunnel(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                         const RoundTrip& rt, SteadyClock::time_point deadline) {
  const Url& proxy = *rt.route.proxy;
  const std::string authority = rt.route.target.authority();
  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  if (!proxy.userinfo.empty()) {
    req.set(http::field::proxy_authorization, basic_authorization(proxy.userinfo));
  }
  stream.expires_at(deadline);
  error_code ec;
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a successful CONNECT response has no body: the tunnel follows
  if (!ec) {
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
  }
  const std::string tunnel = "proxy " + proxy.authority() + " tunnel to " + authority;
  if (ec == beast::error::timeout) {
    throw Error(ErrorClass::timeout,
                "opening " + tunnel + " timed out after " + format_seconds(rt.connect_timeout));
  }
  if (ec) throw Error(ErrorClass::unavailable, "opening " + tunnel + " failed: " + ec.message());
  const auto& res = parser.get();
  if (res.result_int() / 100 != 2) {
    throw Error(ErrorClass::unavailable, "opening " + tunnel + " failed: the proxy answered " +
                                             std::to_string(res.result_int()) + " " +
                                             std::string(res.reason()));
  }
  if (buffer.size() != 0) {
    throw Error(ErrorClass::unavailable,
                "opening " + tunnel + " failed: unexpected data after the proxy's answer");
  }
}

Task<Transport::State::Outcome> Transport::State::exchange(Connection& c, const RoundTrip& rt) {
  if (c.tls) co_return co_await exchange_on(*c.tls, c, rt);
  co_return co_await exchange_on(*c.tcp, c, rt);
}

template <class Stream>
Task<Transport::State::Outcome> Transport::State::exchange_on(Stream& stream, Connection& c,
                                                              const RoundTrip& rt) {
  const Url& target = rt.route.target;
  const bool absolute_form = rt.route.proxy && !target.is_https();
  http::request<http::span_body<const char>> req;
  if (const http::verb verb = http::string_to_verb(rt.method); verb != http::verb::unknown) {
    req.method(verb);
  } else {
    req.method_string(rt.method);
  }
  req.target(absolute_form ? target.without_userinfo() : target.target);
  req.version(11);
  for (const auto& [name, value] : rt.headers) req.insert(name, value);
  req.set(http::field::host, target.host_header());
  if (absolute_form && !rt.route.proxy->userinfo.empty()) {
    req.set(http::field::proxy_authorization, basic_authorization(rt.route.proxy->userinfo));
  }
  if (rt.body) req.body() = beast::span<const char>(rt.body->data(), rt.body->size());
  try {
    req.prepare_payload();
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorClass::invalid_input, rt.what() + ": " + e.what());
  }

  const std::string connection = "connection to " + peer_name(rt);
  Outcome out;
  error_code ec;
  c.lowest().expires_at(rt.deadline);
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) throw_overall_timeout(rt);
  if (ec) {
    out.stale = true;
    out.failure = connection + " failed while sending " + rt.what() + ": " + ec.message();
    co_return out;
  }

  std::optional<http::response_parser<http::string_body>> parser;
  for (;;) {
    parser.emplace();
    parser->body_limit(max_response_bytes);
    parser->header_limit(kMaxHeaderBytes);
    if (rt.method == "HEAD") parser->skip(true);
    // Header first: Beast 1.74 skips the Content-Length check against body_limit when a
    // whole message is read eagerly, so the declared length is checked here.
    co_await http::async_read_header(stream, c.buffer, *parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !parser->is_done()) {
      if (const auto length = parser->content_length(); length && *length > max_response_bytes) {
        ec = http::error::body_limit;
      } else {
        co_await http::async_read(stream, c.buffer, *parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (ec == beast::error::timeout) throw_overall_timeout(rt);
    if (ec == http::error::body_limit) {
      throw Error(ErrorClass::invalid_input,
                  "response to " + rt.what() + " is larger than the limit of " +
                      std::to_string(max_response_bytes) + " bytes (max_response_bytes)");
    }
    if (ec && !parser->got_some()) {
      out.stale = true;
      out.failure = connection + " closed before a response to " + rt.what() + " was received (" +
                    ec.message() + ")";
      co_return out;
    }
    if (ec) {
      throw Error(ErrorClass::unavailable, connection + " failed while reading the response to " +
                                               rt.what() + ": " + ec.message());
    }
    const unsigned status = parser->get().result_int();
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (status >= 200 || status == 101) break;
  }

  auto& res = parser->get();
  out.response.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    out.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.keep_alive = parser->keep_alive() && c.buffer.size() == 0 && out.response.status != 101;
  out.response.body = std::move(res.body());
  co_return out;
}

Transport::Transport(asio::any_io_executor executor, const HttpClientOptions& options)
    : state_(std::make_shared<State>(std::move(executor), options)) {}

Transport::~Transport() = default;

Task<HttpResponse> Transport::round_trip(const RoundTrip& rt) {
  const std::shared_ptr<State> state = state_;
  state->egress.check_host(rt.route.target);
  const std::string key = pool_key(rt.route);
  for (int attempt = 0;; ++attempt) {
    // The retry goes to a fresh connection: another pooled one may be just as stale.
    ConnectionPtr conn = attempt == 0 ? state->pool.take(key) : nullptr;
    const bool reused = conn != nullptr;
    if (reused) {
      ++state->reused;
    } else {
      conn = co_await asio::co_spawn(
          asio::make_strand(state->executor), [&]() { return state->connect(rt); },
          asio::use_awaitable);
      conn->key = key;
    }
    ++state->requests;
    Connection* c = conn.get();
    State::Outcome out = co_await asio::co_spawn(
        c->executor(), [&]() { return state->exchange(*c, rt); }, asio::use_awaitable);
    if (out.stale) {
      if (reused && attempt == 0 && is_idempotent(rt.method)) {
        ++state->stale_retries;
        continue;
      }
      throw Error(ErrorClass::unavailable, out.failure);
    }
    if (out.keep_alive) state->pool.put(std::move(conn));
    co_return std::move(out.response);
  }
}

HttpClientStats Transport::stats() const {
  HttpClientStats s;
  s.requests = state_->requests;
  s.connections_opened = state_->opened;
  s.connections_reused = state_->reused;
  s.stale_retries = state_->stale_retries;
  s.idle_connections = state_->pool.size();
  return s;
}

void Transport::close_idle() { state_->pool.clear(); }

std::string format_seconds(std::chrono::milliseconds d) {
  const auto ms = d.count();
  std::string s = std::to_string(ms / 1000);
  if (const auto frac = ms % 1000; frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    s += "." + digits;
  }
  return s + "s";
}

}  // namespace imagepipe::http_detail
