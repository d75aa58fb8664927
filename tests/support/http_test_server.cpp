#include "support/http_test_server.hpp"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "imagepipe/asio.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace imagepipe::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

struct Route {
  std::string method;  // "*": any
  std::string path;    // trailing '*': prefix
  TestHandler handler;

  bool matches(const RecordedRequest& r) const {
    if (method != "*" && method != r.method) return false;
    if (!path.empty() && path.back() == '*') {
      return r.path.compare(0, path.size() - 1, path, 0, path.size() - 1) == 0;
    }
    return path == r.path;
  }
};

// A throwaway self-signed certificate, so HTTPS tests need no files in the repository and
// nothing that can expire.
struct SelfSignedCertificate {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};

  explicit SelfSignedCertificate(const std::vector<std::string>& names) {
    key.reset(EVP_EC_gen("P-256"));
    cert.reset(X509_new());
    if (!key || !cert) throw std::runtime_error("cannot create a test certificate");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), std::random_device{}() & 0x7fffffff);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("imagepipe test server"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), subject);
    std::string san = "IP:127.0.0.1";
    for (const auto& n : names) san += ",DNS:" + n;
    add_extension(NID_subject_alt_name, san);
    add_extension(NID_basic_constraints, "critical,CA:TRUE");
    add_extension(NID_key_usage, "critical,digitalSignature,keyCertSign");
    add_extension(NID_subject_key_identifier, "hash");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
      throw std::runtime_error("cannot sign the test certificate");
    }
  }

  void add_extension(int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("cannot add test certificate extension " + value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }

  std::string pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), cert.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  }
};

std::filesystem::path make_temp_dir() {
  std::mt19937_64 rng{std::random_device{}()};
  for (;;) {
    auto dir =
        std::filesystem::temp_directory_path() / ("imagepipe-test-tls-" + std::to_string(rng()));
    if (std::filesystem::create_directory(dir)) return dir;
  }
}

}  // namespace

struct HttpTestServer::Impl {
  explicit Impl(const HttpTestServerOptions& options)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (options.tls) setup_tls(options.tls_names);
    port = acceptor.local_endpoint().port();
    asio::co_spawn(io, accept_loop(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  ~Impl() {
    asio::post(io, [this] {
      error_code ignored;
      acceptor.close(ignored);
    });
    io.stop();
    thread.join();
    if (!temp_dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(temp_dir, ignored);
    }
  }

  void setup_tls(const std::vector<std::string>& names) {
    SelfSignedCertificate certificate(names);
    tls.emplace(ssl::context::tls_server);
    SSL_CTX_use_certificate(tls->native_handle(), certificate.cert.get());
    SSL_CTX_use_PrivateKey(tls->native_handle(), certificate.key.get());
    temp_dir = make_temp_dir();
    ca_path = (temp_dir / "ca.pem").string();
    std::ofstream(ca_path) << certificate.pem();
  }

  Task<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      std::size_t id = 0;
      {
        std::lock_guard lock(mu);
        id = ++connections;
      }
      asio::co_spawn(io, session(std::move(socket), id), asio::detached);
    }
  }

  Task<void> session(tcp::socket socket, std::size_t id) {
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(stream, id);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await serve(stream, id);
  }

  // What to do with a request, decided under the lock in arrival order.
  struct Decision {
    bool drop = false;
    std::optional<TestResponse> fixed;
    TestHandler handler;
  };

  Decision record(const RecordedRequest& r) {
    std::lock_guard lock(mu);
    recorded.push_back(r);
    cv.notify_all();
    Decision d;
    if (drop_count > 0) {
      --drop_count;
      d.drop = true;
    } else if (refuse_count > 0) {
      --refuse_count;
      d.fixed = TestResponse{.status = refuse_status, .body = refuse_body};
    } else {
      for (auto it = routes.rbegin(); it != routes.rend(); ++it) {
        if (it->matches(r)) {
          d.handler = it->handler;
          break;
        }
      }
      if (!d.handler) d.handler = fallback;
      if (!d.handler)
        d.fixed = TestResponse{.status = 404, .body = "no route for " + r.method + " " + r.path};
    }
    return d;
  }

  template <class Stream>
  Task<void> serve(Stream& stream, std::size_t id) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{1} << 31);
      error_code ec;
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      auto& req = parser.get();

      RecordedRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.path = r.target.substr(0, r.target.find('?'));
      for (const auto& field : req) r.headers.emplace_back(field.name_string(), field.value());
      r.body = req.body();
      r.connection = id;

      Decision d = record(r);
      if (d.drop) {
        auto& socket = beast::get_lowest_layer(stream).socket();
        socket.set_option(asio::socket_base::linger(true, 0), ec);  // RST, not FIN
        socket.close(ec);
        co_return;
      }
      TestResponse answer;
      if (d.fixed) {
        answer = std::move(*d.fixed);
      } else {
        try {
          answer = d.handler(r);
        } catch (const std::exception& e) {
          answer = TestResponse{.status = 500, .body = std::string("handler threw: ") + e.what()};
        }
      }
      if (answer.delay.count() > 0) {
        asio::steady_timer timer(io, answer.delay);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }

      http::response<http::string_body> res{static_cast<http::status>(answer.status),
                                            req.version()};
      for (const auto& [name, value] : answer.headers) res.insert(name, value);
      res.body() = std::move(answer.body);
      res.keep_alive(req.keep_alive() && !answer.close);
      res.prepare_payload();
      if (req.method() == http::verb::head) {
        // Announce the length a GET would have, send no body.
        const auto length = res.body().size();
        res.body().clear();
        res.content_length(length);
      }
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) {
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
        co_return;
      }
    }
  }

  asio::io_context io;
  tcp::acceptor acceptor;
  std::optional<ssl::context> tls;
  std::filesystem::path temp_dir;
  std::string ca_path;
  std::uint16_t port = 0;
  std::thread thread;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<Route> routes;
  TestHandler fallback;
  int refuse_count = 0;
  int refuse_status = 503;
  std::string refuse_body;
  int drop_count = 0;
  std::vector<RecordedRequest> recorded;
  std::size_t connections = 0;
};

HttpTestServer::HttpTestServer(HttpTestServerOptions options)
    : impl_(std::make_unique<Impl>(options)) {}

HttpTestServer::~HttpTestServer() = default;

void HttpTestServer::on(std::string method, std::string path, TestHandler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->routes.push_back({std::move(method), std::move(path), std::move(handler)});
}

void HttpTestServer::on(std::string method, std::string path, TestResponse response) {
  on(std::move(method), std::move(path),
     [response = std::move(response)](const RecordedRequest&) { return response; });
}

void HttpTestServer::otherwise(TestHandler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->fallback = std::move(handler);
}

void HttpTestServer::refuse_next(int count, int status, std::string body) {
  std::lock_guard lock(impl_->mu);
  impl_->refuse_count = count;
  impl_->refuse_status = status;
  impl_->refuse_body = std::move(body);
}

void HttpTestServer::drop_next(int count) {
  std::lock_guard lock(impl_->mu);
  impl_->drop_count = count;
}

std::uint16_t HttpTestServer::port() const { return impl_->port; }

std::string HttpTestServer::url(std::string_view path) const {
  return std::string(impl_->tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

std::string HttpTestServer::ca_file() const { return impl_->ca_path; }

std::vector<RecordedRequest> HttpTestServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t HttpTestServer::request_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded.size();
}

std::size_t HttpTestServer::connections_accepted() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

bool HttpTestServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->recorded.size() >= count; });
}

void HttpTestServer::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->recorded.clear();
}

}  // namespace imagepipe::testing
