// Everything a plugin may use from the process: logging, time, CPU pool, HTTP, metrics.
// Plugins open no sockets and start no threads of their own; that is what keeps retries,
// limits, tracing and tests uniform.
#pragma once

#include <memory>
#include <type_traits>

#include <spdlog/logger.h>

#include "imagepipe/asio.hpp"
#include "imagepipe/clock.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/image.hpp"
#include "imagepipe/metrics.hpp"

namespace imagepipe {

class CpuPool {
 public:
  explicit CpuPool(asio::thread_pool& pool) : pool_(pool) {}

  // Runs f() on the CPU pool and resumes the caller on its own executor with the result
  // (exceptions propagate). Image work goes here, never on the I/O threads.
  template <class F>
  Task<std::invoke_result_t<F>> run(F f) {
    using R = std::invoke_result_t<F>;
    co_return co_await asio::co_spawn(
        pool_.get_executor(), [f = std::move(f)]() mutable -> Task<R> { co_return f(); },
        asio::use_awaitable);
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
};

}  // namespace imagepipe
