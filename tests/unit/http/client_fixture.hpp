// Shared by the client tests: runs a coroutine to completion on a test-owned io_context
// and captures the imagepipe::Error it throws.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "imagepipe/asio.hpp"
#include "imagepipe/error.hpp"
#include "imagepipe/http_client.hpp"
#include "support/http_test_server.hpp"

namespace imagepipe::testing {

template <class T>
T run_on(asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// Direct connections regardless of the machine's proxy variables.
inline HttpClientOptions test_client_options() {
  HttpClientOptions options;
  options.proxy = ProxySettings{};
  return options;
}

class ClientTest : public ::testing::Test {
 protected:
  void use_options(HttpClientOptions options) {
    client_ = std::make_unique<BeastHttpClient>(io_.get_executor(), std::move(options));
  }
  BeastHttpClient& client() {
    if (!client_) use_options(test_client_options());
    return *client_;
  }

  HttpResponse send(HttpRequest request) { return run_on(io_, client().send(std::move(request))); }
  HttpResponse get(const std::string& url) { return send({.url = url}); }

  // The Error that `request` fails with; a test failure if it succeeds.
  Error failure(HttpRequest request) {
    const std::string url = request.url;
    try {
      send(std::move(request));
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected " << url << " to fail";
    return Error(ErrorClass::internal, "no error");
  }

  asio::io_context io_;
  std::unique_ptr<BeastHttpClient> client_;
};

}  // namespace imagepipe::testing
