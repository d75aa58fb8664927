// Everything a plugin may use from the process: logging, time, CPU pool, HTTP, metrics.
// Plugins open no sockets and start no threads of their own; that is what keeps retries,
// limits, tracing and tests uniform.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>

#include <spdlog/logger.h>

#include "imagepipe/asio.hpp"
#include "imagepipe/clock.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/image.hpp"
#include "imagepipe/metrics.hpp"

namespace imagepipe {

class PixelBudget;  // pixel_budget.hpp

class CpuPool {
  template <class R>
  struct CompletionOf {
    using type = void(std::exception_ptr, R);
  };
  template <class V>
    requires std::is_void_v<V>
  struct CompletionOf<V> {
    using type = void(std::exception_ptr);
  };

 public:
  explicit CpuPool(asio::thread_pool& pool) : pool_(pool) {}

  // Runs f() on the CPU pool and resumes the caller on its own executor with the result
  // (exceptions propagate). Image work goes here, never on the I/O threads.
  //
  // Capture by reference (`[&]`): the awaiting coroutine's frame outlives the work, and
  // g++ 12 mishandles lambdas created inside a coroutine that capture class types by value.
  //
  // The work crosses async_initiate as a raw pointer: g++ 12 copies class-type arguments
  // of Asio's use_awaitable initiation coroutine bitwise, which breaks short strings
  // captured by the lambda. A pointer is copied correctly whatever the compiler does.
  //
  // It takes the work by reference and moves it out before any suspension: g++ 12 may
  // destroy a temporary in a co_await expression twice, which is harmless for a
  // moved-from lambda but not for one still holding its captures.
  template <class F, class Fn = std::decay_t<F>, class R = std::invoke_result_t<Fn&>>
  Task<R> run(F&& f) {
    auto* work = new Fn(std::forward<F>(f));
    using Signature = typename CompletionOf<R>::type;
    return asio::async_initiate<decltype(asio::use_awaitable), Signature>(
        [this](auto handler, Fn* raw) {
          asio::post(pool_, [handler = std::move(handler), raw]() mutable {
            std::unique_ptr<Fn> owned(raw);
            std::exception_ptr error;
            if constexpr (std::is_void_v<R>) {
              try {
                (*owned)();
              } catch (...) {
                error = std::current_exception();
              }
              owned.reset();
              auto ex = asio::get_associated_executor(handler);
              asio::post(ex, [handler = std::move(handler), error]() mutable { handler(error); });
            } else {
              std::optional<R> result;
              try {
                result.emplace((*owned)());
              } catch (...) {
                error = std::current_exception();
              }
              owned.reset();
              auto ex = asio::get_associated_executor(handler);
              asio::post(ex, [handler = std::move(handler), error, result = std::move(result)]() mutable {
                handler(error, result ? std::move(*result) : R{});
              });
            }
          });
        },
        asio::use_awaitable, work);
  }
  asio::thread_pool& pool() { return pool_; }

 private:
  asio::thread_pool& pool_;
};

struct Host {
  std::shared_ptr<spdlog::logger> log;
  Clock* clock = nullptr;
  CpuPool* cpu = nullptr;
  HttpClient* http = nullptr;
  Metrics* metrics = nullptr;
  DecodeLimits decode_limits;
  // Decoded pixels in flight (pixel_budget.hpp); null: not counted.
  PixelBudget* pixels = nullptr;
};

}  // namespace imagepipe
