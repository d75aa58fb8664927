// W3C traceparent: what is valid, and that a trace set on an executor follows a coroutine
// across suspensions and threads (what carries it to the HTTP client's requests).
#include <gtest/gtest.h>

#include <boost/asio/strand.hpp>

#include "imagepipe/trace.hpp"
#include "serve_trace.hpp"

namespace imagepipe::serve {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Trace, ParsesValidHeadersAndRefusesTheRest) {
  auto t = parse_traceparent(kValid);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, "01");
  EXPECT_EQ(t->traceparent(), kValid);
  // A later version may add fields; version 00 may not.
  EXPECT_TRUE(parse_traceparent(std::string("01") + (kValid + 2) + "-extra"));
  for (const char* bad : {"", "junk", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
}

TEST(Trace, RequestsLeaveTheRouterWithAValidTraceparent) {
  std::map<std::string, std::string> headers{{"traceparent", kValid}};
  EXPECT_EQ(adopt_trace(headers).trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(headers["traceparent"], kValid);
  headers["traceparent"] = "junk";
  const auto fresh = adopt_trace(headers);
  EXPECT_EQ(headers["traceparent"], fresh.traceparent());
  EXPECT_TRUE(parse_traceparent(headers["traceparent"]));
  EXPECT_EQ(child_span(fresh).trace_id, fresh.trace_id);
  EXPECT_NE(child_span(fresh).span_id, fresh.span_id);
}

Task<void> observe(std::vector<std::string>& seen, asio::thread_pool& other) {
  auto read = [&] { seen.push_back(current_trace() ? current_trace()->trace_id : "none"); };
  read();
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
  co_await timer.async_wait(asio::use_awaitable);
  read();
  // Hop to another pool and back: the continuation comes through the traced executor.
  co_await asio::post(other.get_executor(), asio::use_awaitable);
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  read();
}

TEST(Trace, FollowsACoroutineAcrossSuspensionsAndThreads) {
  asio::io_context io;
  asio::thread_pool other(1);
  const auto trace = *parse_traceparent(kValid);
  std::vector<std::string> seen;
  asio::co_spawn(traced(asio::make_strand(io), trace), observe(seen, other), asio::detached);
  io.run();
  other.join();
  EXPECT_EQ(seen, (std::vector<std::string>(3, trace.trace_id)));
  EXPECT_EQ(current_trace(), nullptr) << "nothing left current after the work";
}

}  // namespace
}  // namespace imagepipe::serve
