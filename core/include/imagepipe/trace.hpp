// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` a request
// brings is carried by the work it starts, so a provider, a store or a callback receiver
// sees the same trace id as the caller, and so does every log line the work writes.
//
// The context travels with the executor rather than through every plugin interface: work
// spawned on a TracedExecutor sees it as current_trace() whenever it runs, across
// suspensions and threads, and the HTTP client adds a child `traceparent` to each request
// made from there. Plugins need no change, and no ABI changes for them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/execution/execute.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>

#include "imagepipe/asio.hpp"

namespace imagepipe {

struct TraceContext {
  std::string trace_id;  // 32 lower-case hex digits, not all zero
  std::string span_id;   // 16 lower-case hex digits: the caller's span (parent-id)
  std::string flags = "01";

  // "00-<trace_id>-<span_id>-<flags>"
  std::string traceparent() const;
};

// The header's value when it is a valid version-00 traceparent (or a later version, read
// as 00 as the spec asks); nullopt otherwise, and the caller starts a new trace.
std::optional<TraceContext> parse_traceparent(std::string_view value);
// A new trace: random trace and span ids, sampled.
TraceContext new_trace();
// The same trace and flags with a new span id: what an outgoing request carries.
TraceContext child_span(const TraceContext& parent);

// The trace of the work running on this thread right now; null outside traced work.
const TraceContext* current_trace();

// Makes `trace` current on this thread until destroyed (the previous one comes back).
class TraceScope {
 public:
  explicit TraceScope(const TraceContext* trace);
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  const TraceContext* previous_;
};

// An executor that runs every function it is given with `trace` current. Coroutines
// spawned on it resume through it after each suspension, so the trace follows them.
// Properties are forwarded to the inner executor (a strand, usually).
template <class Inner>
class TracedExecutor {
 public:
  TracedExecutor(Inner inner, std::shared_ptr<const TraceContext> trace)
      : inner_(std::move(inner)), trace_(std::move(trace)) {}

  template <class Property>
  auto query(const Property& p) const
      noexcept(noexcept(asio::query(std::declval<const Inner&>(), p)))
          -> decltype(asio::query(std::declval<const Inner&>(), p)) {
    return asio::query(inner_, p);
  }
  template <class Property>
  auto require(const Property& p) const
      -> TracedExecutor<std::decay_t<decltype(asio::require(std::declval<const Inner&>(), p))>> {
    return {asio::require(inner_, p), trace_};
  }
  template <class Property>
  auto prefer(const Property& p) const
      -> TracedExecutor<std::decay_t<decltype(asio::prefer(std::declval<const Inner&>(), p))>> {
    return {asio::prefer(inner_, p), trace_};
  }

  template <class F>
  void execute(F&& f) const {
    asio::execution::execute(inner_, [trace = trace_, f = std::forward<F>(f)]() mutable {
      TraceScope scope(trace.get());
      std::move(f)();
    });
  }

  friend bool operator==(const TracedExecutor& a, const TracedExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.trace_ == b.trace_;
  }
  friend bool operator!=(const TracedExecutor& a, const TracedExecutor& b) noexcept {
    return !(a == b);
  }

  const Inner& inner() const { return inner_; }

 private:
  template <class>
  friend class TracedExecutor;
  Inner inner_;
  std::shared_ptr<const TraceContext> trace_;
};

template <class Inner>
TracedExecutor<Inner> traced(Inner inner, const TraceContext& trace) {
  return {std::move(inner), std::make_shared<const TraceContext>(trace)};
}

}  // namespace imagepipe
