// Several daemons on one Redis (serve --queue redis://...): they share the queue, a killed
// node's jobs finish on the others, Redis itself may crash and come back, and in every
// case each accepted job calls back. The tests count callbacks, not just successes: every
// accepted job exactly once, duplicates (same Idempotency-Key) bounded by what a crash can
// interrupt, and no callback for a job nobody accepted.
#include <signal.h>

#include <algorithm>
#include <thread>

#include "serve_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kInFlight = 4;  // jobs and callbacks per node

std::string slow_pipeline(int delay_ms) {
  const auto file = make_temp_dir("imagepipe-cluster") / "slow.yaml";
  std::ofstream(file) << R"(name: slow-b64
trigger:
  http: {method: POST, path: /slow, mode: async, callback_header: callbackUrl}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64, filename_field: filename}
provider: {use: slow-echo, with: {delay_ms: )"
                      << delay_ms << R"(}}
sink: {inline: true}
notifier:
  use: http-callback
  with:
    url: "${request.headers.callbackUrl}"
    body: {status: "${job.status}", job_id: "${job.id}"}
)";
  return file.string();
}

class ClusterTest : public ServeTest {
 protected:
  void SetUp() override {
    if (find_on_path("redis-server").empty())
      GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
    redis_ = std::make_unique<RedisProcess>();
  }

  // A short idle timeout so a dead node's jobs come back within the test's time.
  DaemonOptions node(const std::string& pipeline, int idle_seconds = 2) const {
    return {.pipelines = {pipeline},
            .config_yaml = "queue: " + redis_->url() +
                           "\nqueue_claim_idle_seconds: " + std::to_string(idle_seconds) +
                           "\nshutdown_grace_seconds: 0\n"
                           "limits: {jobs_in_flight: " +
                           std::to_string(kInFlight) +
                           ", callbacks_in_flight: " + std::to_string(kInFlight) +
                           "}\ncallbacks: {base_delay_ms: 100, max_delay_ms: 500}\n"};
  }

  struct Tally {
    std::set<std::string> ids;  // distinct jobs called back
    int duplicates = 0;         // callbacks for a job already called back
  };
  // Waits until every accepted job has called back (or `within` passes), checking each
  // callback on the way.
  Tally wait_for_callbacks(const std::set<std::string>& accepted, std::chrono::seconds within) {
    Tally tally;
    const auto deadline = std::chrono::steady_clock::now() + within;
    for (std::size_t seen = 0; tally.ids.size() < accepted.size();) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !receiver_.wait_for_requests(seen + 1, left)) break;
      const auto requests = receiver_.requests();
      for (; seen < requests.size(); ++seen) {
        const auto body = json::parse(requests[seen].body);
        const auto id = body["job_id"].get<std::string>();
        EXPECT_TRUE(accepted.count(id)) << "a callback for a job nobody accepted: " << id;
        EXPECT_EQ(requests[seen].header("Idempotency-Key"), id);
        EXPECT_EQ(body["status"], "completed") << id;
        if (!tally.ids.insert(id).second) ++tally.duplicates;
      }
    }
    return tally;
  }

  std::unique_ptr<RedisProcess> redis_;
};

TEST_F(ClusterTest, AKilledNodesJobsFinishOnTheOthersAndEachCallsBack) {
  const auto pipeline = slow_pipeline(1000);
  std::vector<std::unique_ptr<DaemonProcess>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<DaemonProcess>(node(pipeline)));
  std::set<std::string> accepted;
  for (int i = 0; i < 60; ++i)
    accepted.insert(accept(*nodes[i % 3], "/slow", {{"image_base64", png_base64(8, 8)}}));
  ASSERT_EQ(accepted.size(), 60u);

  // Mid-way: some jobs done, the first node busy with others.
  ASSERT_TRUE(receiver_.wait_for_requests(12, 30s)) << nodes[0]->log();
  nodes[0]->signal(SIGKILL);
  EXPECT_EQ(nodes[0]->wait().code, SIGKILL);
  const int crashes = 1;

  const auto tally = wait_for_callbacks(accepted, 45s);
  EXPECT_EQ(tally.ids, accepted) << tally.ids.size() << " of 60 called back\n" << nodes[1]->log();
  // A duplicate needs a delivery the killed node made but had not recorded.
  EXPECT_LE(tally.duplicates, kInFlight * crashes);
  RecordProperty("duplicate_callbacks", tally.duplicates);

  // Any node answers for any job; the killed node's running jobs ran again elsewhere.
  int ran_twice = 0;
  for (const auto& id : accepted) {
    const auto job = json::parse(nodes[1 + ran_twice % 2]->get("/jobs/" + id).body);
    EXPECT_EQ(job["status"], "completed") << job.dump();
    if (job.value("runs", 1) > 1) ++ran_twice;
  }
  EXPECT_LE(ran_twice, kInFlight * crashes);
  std::cerr << "callbacks: " << tally.ids.size() << " jobs, " << tally.duplicates
            << " duplicate(s); " << ran_twice << " job(s) run twice\n";
}

TEST_F(ClusterTest, RedisRestartedUnderLoadLosesNoAcceptedJob) {
  const auto pipeline = slow_pipeline(50);
  DaemonProcess a(node(pipeline)), b(node(pipeline));
  std::set<std::string> accepted;
  int refused = 0;
  bool restarted = false;
  for (int i = 0; accepted.size() < 80; ++i) {
    ASSERT_LT(i, 2000) << "the daemons never took jobs again after Redis came back";
    auto& daemon = i % 2 ? a : b;
    if (accepted.size() == 40 && !restarted) {
      redis_->kill();  // SIGKILL: what it answered 202 for must be in its AOF
      // While it is away, both nodes refuse with an error naming Redis, and say they are
      // not ready.
      for (auto* node : {&a, &b}) {
        auto r =
            node->post("/slow", json{{"image_base64", png_base64(8, 8)}}.dump(), callback_header());
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_THAT(r.body, ::testing::HasSubstr("redis at 127.0.0.1:"));
        auto ready = node->get("/health/ready");
        EXPECT_EQ(ready.status, 503);
        EXPECT_THAT(json::parse(ready.body)["job_store"].get<std::string>(),
                    ::testing::HasSubstr("redis"));
        ++refused;
      }
      redis_->start();
      restarted = true;
      continue;
    }
    auto r =
        daemon.post("/slow", json{{"image_base64", png_base64(8, 8)}}.dump(), callback_header());
    if (r.status == 202) {
      accepted.insert(json::parse(r.body)["job_id"].get<std::string>());
    } else {
      EXPECT_EQ(r.status, 503) << r.body;
      ++refused;
      std::this_thread::sleep_for(50ms);  // the client backs off, as a 503 asks
    }
  }
  const auto tally = wait_for_callbacks(accepted, 45s);
  EXPECT_EQ(tally.ids, accepted) << tally.ids.size() << " of 80 called back\n"
                                 << a.log() << "\n"
                                 << b.log();
  // Deliveries made while Redis was away could not be recorded and are made again.
  EXPECT_LE(tally.duplicates, 2 * kInFlight);
  EXPECT_EQ(a.get("/health/ready").status, 200);
  for (const auto& id : accepted) {  // each job's record, with its error if it has one
    const auto record = json::parse(a.get("/jobs/" + id).body);
    EXPECT_EQ(record["status"], "completed") << record.dump();
  }
  std::cerr << refused << " request(s) refused while Redis was away; " << tally.duplicates
            << " duplicate callback(s)\n";
}

TEST_F(ClusterTest, ANodeStoppedWithSigtermHandsItsJobsToAnotherAtOnce) {
  const auto pipeline = slow_pipeline(3000);
  // An idle timeout far longer than the test: only the hand-back can move the jobs.
  const auto options = node(pipeline, 300);
  std::set<std::string> accepted;
  auto leaving = std::make_unique<DaemonProcess>(options);
  for (int i = 0; i < kInFlight; ++i)
    accepted.insert(accept(*leaving, "/slow", {{"image_base64", png_base64(8, 8)}}));
  // All of them running on the first node.
  for (int i = 0; i < 200; ++i) {
    const auto page = json::parse(leaving->get("/jobs?status=running").body);
    if (page["jobs"].size() == accepted.size()) break;
    std::this_thread::sleep_for(10ms);
  }
  DaemonProcess staying(options);
  leaving->signal(SIGTERM);
  EXPECT_EQ(leaving->wait().code, 0) << leaving->log();
  EXPECT_THAT(leaving->log(), ::testing::HasSubstr("4 job(s) not finished were queued again"));

  const auto tally = wait_for_callbacks(accepted, 20s);
  EXPECT_EQ(tally.ids, accepted) << staying.log();
  EXPECT_EQ(tally.duplicates, 0);
  for (const auto& id : accepted)
    EXPECT_EQ(json::parse(staying.get("/jobs/" + id).body)["runs"], 2) << id;
}

TEST_F(ClusterTest, ANodeStartedBeforeRedisServesOnceRedisIsUp) {
  redis_->kill();
  DaemonProcess daemon(node(slow_pipeline(0)));
  EXPECT_EQ(daemon.get("/health/ready").status, 503);
  auto refused =
      daemon.post("/slow", json{{"image_base64", png_base64(8, 8)}}.dump(), callback_header());
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body, ::testing::HasSubstr("redis at 127.0.0.1:"));
  redis_->start();
  for (int i = 0; daemon.get("/health/ready").status != 200; ++i) {
    ASSERT_LT(i, 200) << "not ready 10 s after Redis came back\n" << daemon.log();
    std::this_thread::sleep_for(50ms);  // the reconnect backoff runs in the daemon
  }
  const auto id = accept(daemon, "/slow", {{"image_base64", png_base64(8, 8)}});
  const auto tally = wait_for_callbacks({id}, 20s);
  EXPECT_EQ(tally.ids.count(id), 1u) << daemon.log();
}

// `limit: {per_minute: 60}` over two nodes, its window scaled from 60 s to 3 s
// (queue_limit_window_ms) so 200 calls take seconds, not minutes. The provider logs when
// each call starts; no window of the log may hold more than 60. A call starts a few
// milliseconds after its grant, so windows are checked 100 ms shorter (0.2% of a real
// minute's window).
TEST_F(ClusterTest, ProviderLimitsHoldAcrossNodes) {
  constexpr int kWindowMs = 3000, kPerWindow = 60, kCalls = 200;
  const auto dir = make_temp_dir("imagepipe-limit");
  const auto calls = dir / "calls.log";
  const auto file = dir / "limited.yaml";
  std::ofstream(file) << R"(name: limited
trigger:
  http: {method: POST, path: /limited, mode: async, callback_header: callbackUrl}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
provider:
  use: slow-echo
  with: {delay_ms: 10, log_file: ")"
                      << calls.string() << R"("}
  limit: {in_flight: 6, per_minute: 60}
sink: {inline: true}
notifier:
  use: http-callback
  with: {url: "${request.headers.callbackUrl}", body: {status: "${job.status}", job_id: "${job.id}"}}
)";
  auto options = node(file.string());
  options.config_yaml += "queue_limit_window_ms: " + std::to_string(kWindowMs) + "\n";
  DaemonProcess a(options), b(options);
  std::set<std::string> accepted;
  for (int i = 0; i < kCalls; ++i)
    accepted.insert(accept(i % 2 ? a : b, "/limited", {{"image_base64", png_base64(8, 8)}}));
  const auto tally = wait_for_callbacks(accepted, 40s);
  ASSERT_EQ(tally.ids, accepted) << a.log() << b.log();

  std::vector<std::int64_t> starts;
  std::ifstream log(calls);
  for (std::int64_t ms; log >> ms;) starts.push_back(ms);
  ASSERT_EQ(starts.size(), static_cast<std::size_t>(kCalls));
  std::sort(starts.begin(), starts.end());
  std::size_t busiest = 0;
  for (std::size_t i = 0, j = 0; i < starts.size(); ++i) {
    while (j < starts.size() && starts[j] < starts[i] + kWindowMs - 100) ++j;
    busiest = std::max(busiest, j - i);
  }
  EXPECT_LE(busiest, static_cast<std::size_t>(kPerWindow));
  // Limited, not merely fast: 200 calls at 60 per window need three full windows.
  EXPECT_GE(starts.back() - starts.front(), 3 * kWindowMs - 100);
  std::cerr << kCalls << " calls over " << (starts.back() - starts.front())
            << " ms; busiest window: " << busiest << " calls\n";
  std::filesystem::remove_all(dir);
}

TEST_F(ClusterTest, ABadQueueUrlIsRefusedAtStartWithTheReason) {
  const auto pipeline = slow_pipeline(0);
  for (const auto& [url, reason] : std::vector<std::pair<std::string, std::string>>{
           {"http://127.0.0.1:6379", "must start with redis://"},
           {"redis://127.0.0.1:notaport/0", "the port must be a number"},
           {"redis://:secret@127.0.0.1:99999/0", "the port must be a number"}}) {
    const auto r = run_program({IMAGEPIPE_EXECUTABLE, "--plugin-dir", IMAGEPIPE_TEST_PLUGIN_DIR,
                                "serve", "--listen", "127.0.0.1:0", "--queue", url, pipeline});
    EXPECT_EQ(r.exit_code, 2) << url << ": " << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr(reason)) << url;
    EXPECT_THAT(r.err, ::testing::Not(::testing::HasSubstr("secret")));
  }
}

}  // namespace
}  // namespace imagepipe::testing
