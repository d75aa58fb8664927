// A minimal forward proxy for the client's proxy tests: absolute-form http requests are
// rewritten to origin form and forwarded, CONNECT opens a raw tunnel. Every upstream is
// 127.0.0.1 at the port named in the request, so tests can use names that do not resolve.
// One request per connection for plain http, which is all the tests need.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "imagepipe/asio.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace imagepipe::testing {

class TinyProxy {
 public:
  TinyProxy() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TinyProxy() {
    io_.stop();
    thread_.join();
  }

  std::string url() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  // Request heads as received ("CONNECT host:port HTTP/1.1\r\nHost: ...").
  std::vector<std::string> heads() const {
    std::lock_guard lock(mu_);
    return heads_;
  }

 private:
  using tcp = asio::ip::tcp;

  Task<void> accept_loop() {
    for (;;) {
      tcp::socket client = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, handle(std::move(client)), asio::detached);
    }
  }

  static std::string port_of(const std::string& authority) {
    return authority.substr(authority.rfind(':') + 1);
  }
  static tcp::endpoint local(const std::string& port) {
    return {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))};
  }

  Task<void> handle(tcp::socket client) {
    boost::system::error_code ec;
    asio::streambuf buffer;
    const std::size_t head_size = co_await asio::async_read_until(
        client, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::string head(asio::buffers_begin(buffer.data()),
                     asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(head_size));
    buffer.consume(head_size);
    {
      std::lock_guard lock(mu_);
      heads_.push_back(head);
    }
    const std::string request_line = head.substr(0, head.find("\r\n"));
    const std::string method = request_line.substr(0, request_line.find(' '));
    std::string target = request_line.substr(method.size() + 1);
    target = target.substr(0, target.find(' '));

    tcp::socket upstream(io_);
    if (method == "CONNECT") {
      const tcp::endpoint to = local(port_of(target));
      co_await upstream.async_connect(to, asio::redirect_error(asio::use_awaitable, ec));
      const std::string answer =
          ec ? "HTTP/1.1 502 Bad Gateway\r\n\r\n" : "HTTP/1.1 200 Connection established\r\n\r\n";
      co_await asio::async_write(client, asio::buffer(answer),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    } else {
      // "http://host:port/path" -> connect to 127.0.0.1:port, send "/path".
      const std::size_t authority_begin = target.find("://") + 3;
      const std::size_t path_begin = target.find('/', authority_begin);
      const std::string authority = target.substr(authority_begin, path_begin - authority_begin);
      const tcp::endpoint to = local(port_of(authority));
      co_await upstream.async_connect(to, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::string rewritten = head;
      rewritten.replace(method.size() + 1, target.size(), target.substr(path_begin));
      // Proxy credentials are for the proxy alone.
      if (const std::size_t auth = rewritten.find("\r\nProxy-Authorization:");
          auth != std::string::npos) {
        rewritten.erase(auth, rewritten.find("\r\n", auth + 2) - auth);
      }
      co_await asio::async_write(upstream, asio::buffer(rewritten),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (buffer.size() > 0) {
      co_await asio::async_write(upstream, buffer.data(),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    auto up = std::make_shared<tcp::socket>(std::move(upstream));
    auto down = std::make_shared<tcp::socket>(std::move(client));
    asio::co_spawn(io_, pipe(up, down), asio::detached);
    asio::co_spawn(io_, pipe(down, up), asio::detached);
  }

  static Task<void> pipe(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    char data[16384];
    boost::system::error_code ec;
    for (;;) {
      const std::size_t n = co_await from->async_read_some(
          asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(*to, asio::buffer(data, n),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    to->shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> heads_;
};

}  // namespace imagepipe::testing
