// What an operator sees of the real daemon: an access log line per request with JSON
// fields, Prometheus text that promtool accepts (HELP and TYPE on every family, build
// and process metrics), and a W3C trace that reaches the provider and the callback.
#include <cstdio>
#include <regex>
#include <thread>

#include "fakes/fake_upstream.hpp"
#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// The JSON objects among the daemon's log lines.
std::vector<json> json_lines(const std::string& log) {
  std::vector<json> out;
  std::size_t start = 0;
  while (start < log.size()) {
    auto end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    auto line = json::parse(log.substr(start, end - start), nullptr, false);
    if (line.is_object()) out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

std::optional<json> access_line(const std::string& log, const std::string& route) {
  for (const auto& line : json_lines(log))
    if (line.value("event", "") == "http_request" && line.value("route", "") == route) return line;
  return std::nullopt;
}

// The trace id of a traceparent header: "00-<trace>-<span>-<flags>".
std::string trace_of(const std::string& traceparent) {
  return traceparent.size() == 55 ? traceparent.substr(3, 32) : std::string();
}
std::string span_of(const std::string& traceparent) {
  return traceparent.size() == 55 ? traceparent.substr(36, 16) : std::string();
}

class ObservabilityTest : public ServeTest {
 protected:
  DaemonOptions options() {
    return {.pipelines = {kWxoOfflineDir}, .config_yaml = "log: {format: json, level: info}\n"};
  }
  HttpResponse post_traced(DaemonProcess& daemon, const std::string& traceparent) {
    Headers headers = {{"X-Request-ID", "req-observe-1"},
                       {"traceparent", traceparent},
                       {"callbackUrl", receiver_.url("/callback")},
                       {"Content-Type", "application/json"}};
    return daemon.request({.method = "POST",
                           .url = daemon.url("/process-image-async-b64"),
                           .headers = headers,
                           .body = b64_request().dump()});
  }
};

TEST_F(ObservabilityTest, AccessLogLineHasJsonFields) {
  DaemonProcess daemon(options());
  const auto r = post_traced(daemon, kTraceparent);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto job_id = json::parse(r.body)["job_id"].get<std::string>();
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();

  // The line is written after the answer: wait for it rather than race it.
  std::optional<json> line;
  for (int i = 0; i < 100 && !line; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(20)))
    line = access_line(daemon.log(), "/process-image-async-b64");
  ASSERT_TRUE(line) << daemon.log();
  EXPECT_EQ((*line)["level"], "info");
  EXPECT_EQ((*line)["method"], "POST");
  EXPECT_EQ((*line)["path"], "/process-image-async-b64");
  EXPECT_EQ((*line)["status"], 202);
  EXPECT_EQ((*line)["bytes"], r.body.size());
  EXPECT_EQ((*line)["request_id"], "req-observe-1");
  EXPECT_EQ((*line)["job_id"], job_id);
  EXPECT_EQ((*line)["trace_id"], kTraceId);
  EXPECT_TRUE((*line)["duration_ms"].is_number()) << line->dump();
  EXPECT_GE((*line)["duration_ms"].get<double>(), 0.0);
  // msg stays readable text, not a JSON blob.
  EXPECT_THAT((*line)["msg"].get<std::string>(),
              ::testing::StartsWith("POST /process-image-async-b64 202 "));

  // GET /jobs/{id} names the job too, and its own trace (none sent: a new one).
  ASSERT_EQ(daemon.get("/jobs/" + job_id).status, 200);
  std::optional<json> show;
  for (int i = 0; i < 100 && !show; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(20)))
    show = access_line(daemon.log(), "/jobs/{id}");
  ASSERT_TRUE(show) << daemon.log();
  EXPECT_EQ((*show)["job_id"], job_id);
  EXPECT_THAT((*show)["trace_id"].get<std::string>(), ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE((*show)["trace_id"], kTraceId);

  // The job's own log lines carry the request's trace.
  bool job_line_traced = false;
  for (const auto& l : json_lines(daemon.log()))
    if (l.value("logger", "").rfind("job ", 0) == 0 && l.value("trace_id", "") == kTraceId)
      job_line_traced = true;
  EXPECT_TRUE(job_line_traced) << daemon.log();
}

TEST_F(ObservabilityTest, CallbackCarriesTheRequestsTrace) {
  DaemonProcess daemon(options());
  ASSERT_EQ(post_traced(daemon, kTraceparent).status, 202);
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  const auto sent = receiver_.requests()[0].header("traceparent");
  ASSERT_TRUE(sent) << "the callback came without a traceparent";
  EXPECT_EQ(trace_of(*sent), kTraceId);
  // A span of its own: the daemon's request is a child of the caller's.
  EXPECT_THAT(span_of(*sent), ::testing::MatchesRegex("[0-9a-f]{16}"));
  EXPECT_NE(span_of(*sent), "00f067aa0ba902b7");
}

TEST_F(ObservabilityTest, InvalidTraceparentIsReplacedByANewTrace) {
  DaemonProcess daemon(options());
  // All-zero trace id: invalid by the spec; so is anything not shaped like one.
  for (const auto* bad : {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "junk"}) {
    receiver_.clear_requests();
    ASSERT_EQ(post_traced(daemon, bad).status, 202);
    ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
    const auto sent = receiver_.requests()[0].header("traceparent");
    ASSERT_TRUE(sent);
    EXPECT_THAT(*sent, ::testing::MatchesRegex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"));
    EXPECT_NE(trace_of(*sent), "00000000000000000000000000000000");
  }
}

TEST_F(ObservabilityTest, MetricsPassPromtoolWithBuildAndProcessFamilies) {
  DaemonProcess daemon(options());
  accept(daemon, "/process-image-async-b64", b64_request());
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  daemon.get("/health");
  // Callbacks and job metrics are counted once their job is stored: ask until they show.
  std::string text;
  for (int i = 0; i < 100; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    text = daemon.get("/metrics").body;
    if (text.find("imagepipe_callback_attempts_total{") != std::string::npos) break;
  }
  for (const auto* family :
       {"imagepipe_jobs_total", "imagepipe_items_total", "imagepipe_item_duration_seconds",
        "imagepipe_http_requests_total", "imagepipe_callback_attempts_total"})
    EXPECT_NE(text.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
  EXPECT_THAT(
      text, ::testing::ContainsRegex("imagepipe_build_info\\{boost=\"[0-9_]+\",compiler=\"[^\"]+\","
                                     "version=\"[0-9]+\\.[0-9]+\\.[0-9]+\"\\} 1\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\nprocess_cpu_seconds_total [0-9.e+-]+\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\nprocess_resident_memory_bytes [1-9][0-9.e+]*\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\nprocess_open_fds [1-9][0-9]*\n"));
  std::smatch start;
  ASSERT_TRUE(
      std::regex_search(text, start, std::regex("\nprocess_start_time_seconds ([0-9.e+]+)\n")));
  const double started = std::stod(start[1]);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 600);  // this daemon started moments ago

  // promtool (Debian's `prometheus` package) lints the exposition: HELP, TYPE, names.
  ASSERT_NE(find_on_path("promtool"), "")
      << "promtool is not installed: scripts/setup.sh installs the `prometheus` package";
  const auto checked = run_program({"promtool", "check", "metrics"}, text);
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err << "\n" << text;
  EXPECT_EQ(checked.out + checked.err, "") << text;
}

TEST(ObservabilityProviderTest, ProviderAndCallbackSeeTheSameTraceId) {
  FakeUpstream fake;
  HttpTestServer receiver;
  receiver.on("POST", "/callback", TestResponse{.status = 200, .body = R"({"ok": true})"});
  DaemonProcess daemon(
      {.pipelines = {wxo("edit-b64.yaml")},
       .env = {{"OPENAI_API_KEY", fake.openai_key}, {"OPENAI_BASE_URL", fake.openai_base()}},
       .test_plugins = false});
  const auto r = daemon.request({.method = "POST",
                                 .url = daemon.url("/process-image-async-b64"),
                                 .headers = {{"traceparent", kTraceparent},
                                             {"callbackUrl", receiver.url("/callback")},
                                             {"Content-Type", "application/json"}},
                                 .body = b64_request().dump()});
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_TRUE(receiver.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  const auto edits = fake.received("/v1/images/edits");
  ASSERT_EQ(edits.size(), 1u) << daemon.log();
  const auto upstream = edits[0].header("traceparent");
  ASSERT_TRUE(upstream) << "the provider call came without a traceparent";
  EXPECT_EQ(trace_of(*upstream), kTraceId);
  const auto callback = receiver.requests()[0].header("traceparent");
  ASSERT_TRUE(callback);
  EXPECT_EQ(trace_of(*callback), kTraceId);
  EXPECT_NE(span_of(*upstream), span_of(*callback));  // two requests, two spans
}

}  // namespace
}  // namespace imagepipe::testing
