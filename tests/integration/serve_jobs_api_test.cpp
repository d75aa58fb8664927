// The jobs API and `imagepipe jobs` against the real daemon: paging and filters over many
// jobs, cancel of queued, running and finished jobs, a callback sent again with the same
// Idempotency-Key, bad input named in a 400, and the daemon's authentication in front.
#include <thread>

#include "serve_fixture.hpp"
#include "support/cli.hpp"

namespace imagepipe::testing {
namespace {

// A pipeline on the slow-echo provider: its jobs take `delay_ms` each, so with one job in
// flight the rest wait in the queue.
std::string slow_pipeline(const std::string& name, int delay_ms, bool callback = false) {
  const auto dir = make_temp_dir("imagepipe-jobs-");
  std::ofstream(dir / (name + ".yaml"))
      << "name: " << name << R"(
trigger:
  http: {method: POST, path: /)"
      << name << R"(, mode: async)" << (callback ? ", callback_header: callbackUrl" : "") << R"(}
  request_schema: {type: object, required: [image_base64], properties: {image_base64: {type: string}}}
source: {from: request, field: image_base64}
provider: {use: slow-echo, with: {delay_ms: )"
      << delay_ms << R"(}}
sink: {inline: true}
)"
      << (callback ? R"(notifier:
  use: http-callback
  with: {url: "${request.headers.callbackUrl}", body: {status: "${job.status}"}}
)"
                   : "");
  return (dir / (name + ".yaml")).string();
}

const std::string kSlowBody = json{{"image_base64", png_base64(8, 8)}}.dump();

std::string post_job(DaemonProcess& daemon, const std::string& path, Headers headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  auto r = daemon.post(path, kSlowBody, headers);
  EXPECT_EQ(r.status, 202) << r.body;
  return json::parse(r.body).value("job_id", "");
}

// GET /jobs/{id} until `done` holds for it (at most 30 s).
json job_when(DaemonProcess& daemon, const std::string& id, std::function<bool(const json&)> done) {
  json job;
  for (int i = 0; i < 1500; ++i) {
    job = json::parse(daemon.get("/jobs/" + id).body);
    if (done(job)) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "job " << id << " never got there: " << job.dump();
  return job;
}

// Every page of GET /jobs?<query>, following next_cursor.
std::vector<json> all_pages(DaemonProcess& daemon, const std::string& query, int* pages = nullptr) {
  std::vector<json> jobs;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const auto r = daemon.get("/jobs?" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_EQ(r.status, 200) << r.body;
    const auto body = json::parse(r.body);
    for (const auto& j : body["jobs"]) jobs.push_back(j);
    if (pages) *pages = page + 1;
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  return jobs;
}

TEST(JobsApi, PagesAndFiltersManyJobsNewestFirst) {
  DaemonProcess daemon({.pipelines = {slow_pipeline("slowa", 60000), slow_pipeline("slowb", 60000)},
                        .config_yaml = "limits: {jobs_in_flight: 1}\n"});
  std::set<std::string> a, b;
  for (int i = 0; i < 45; ++i) a.insert(post_job(daemon, "/slowa"));
  for (int i = 0; i < 30; ++i) b.insert(post_job(daemon, "/slowb"));

  int pages = 0;
  const auto jobs = all_pages(daemon, "limit=20", &pages);
  EXPECT_EQ(pages, 4);  // 20 + 20 + 20 + 15
  ASSERT_EQ(jobs.size(), 75u);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    seen.insert(jobs[i]["job_id"].get<std::string>());
    if (i > 0) {
      EXPECT_GE(jobs[i - 1]["created_at"], jobs[i]["created_at"]) << "newest first";
    }
  }
  EXPECT_EQ(seen.size(), 75u) << "no job twice across pages";
  // The last posted job is the newest.
  EXPECT_TRUE(b.count(jobs.front()["job_id"].get<std::string>()));

  const auto only_b = all_pages(daemon, "pipeline=slowb&limit=500");
  ASSERT_EQ(only_b.size(), 30u);
  for (const auto& j : only_b) EXPECT_TRUE(b.count(j["job_id"].get<std::string>()));
  EXPECT_EQ(all_pages(daemon, "pipeline=nope").size(), 0u);

  // One runs (jobs_in_flight: 1, a minute each), every other one waits.
  const auto running = job_when(daemon, *a.begin(), [](const json&) { return true; });
  EXPECT_EQ(all_pages(daemon, "status=running").size(), 1u);
  EXPECT_EQ(all_pages(daemon, "status=queued&limit=7").size(), 74u);
  EXPECT_EQ(all_pages(daemon, "status=queued&pipeline=slowa").size(), 44u);
  EXPECT_EQ(all_pages(daemon, "status=completed").size(), 0u);

  // since is inclusive, until exclusive: the two halves around a job's time cover all.
  const std::string middle = jobs[37]["created_at"].get<std::string>();
  const auto newer = all_pages(daemon, "since=" + middle);
  const auto older = all_pages(daemon, "until=" + middle);
  EXPECT_EQ(newer.size() + older.size(), 75u);
  for (const auto& j : newer) EXPECT_GE(j["created_at"].get<std::string>(), middle);
  for (const auto& j : older) EXPECT_LT(j["created_at"].get<std::string>(), middle);
}

TEST(JobsApi, BadQueriesAreNamedIn400s) {
  DaemonProcess daemon({.pipelines = {slow_pipeline("slowa", 0)}});
  auto error = [&](const std::string& target) {
    const auto r = daemon.get(target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    return json::parse(r.body).value("error", "");
  };
  EXPECT_EQ(error("/jobs?status=done"),
            "status: 'done' is not a job status; one of queued, running, completed, "
            "completed_with_errors, failed, cancelled");
  EXPECT_EQ(error("/jobs?cursor=abc"),
            "cursor: 'abc' is not a cursor this server gave out (use next_cursor from the "
            "previous page)");
  EXPECT_EQ(error("/jobs?limit=0"), "limit: '0' is not a number from 1 to 500");
  EXPECT_EQ(error("/jobs?limit=ten"), "limit: 'ten' is not a number from 1 to 500");
  EXPECT_EQ(error("/jobs?since=yesterday"),
            "since: 'yesterday' is not a time in UTC such as 2026-03-29T01:00:00Z");
  EXPECT_EQ(error("/jobs?since=2026-03-29T01:00:00Z&until=2026-03-28T01:00:00Z"),
            "until must be later than since");
  EXPECT_EQ(error("/jobs?colour=red"),
            "unknown query parameter 'colour'; accepted: pipeline, status, since, until, limit, "
            "cursor");
  EXPECT_EQ(error("/jobs/not-a-job"),
            "'not-a-job' is not a job id: a job id is a UUID such as "
            "0b6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9b");
  const auto missing = daemon.post("/jobs/00000000-0000-4000-8000-000000000000/cancel", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["error"],
            "no job with id '00000000-0000-4000-8000-000000000000'");
  const auto wrong_method = daemon.get("/jobs/00000000-0000-4000-8000-000000000000/cancel");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("Allow"), "POST");
}

TEST(JobsApi, CancelQueuedRunningAndFinishedJobs) {
  DaemonProcess daemon({.pipelines = {slow_pipeline("slowa", 1500)},
                        .config_yaml = "limits: {jobs_in_flight: 1}\n"});
  const auto first = post_job(daemon, "/slowa");
  const auto second = post_job(daemon, "/slowa");
  const auto third = post_job(daemon, "/slowa");
  job_when(daemon, first, [](const json& j) { return j["status"] == "running"; });

  // Queued: cancelled at once, and never runs.
  auto r = daemon.post("/jobs/" + second + "/cancel", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"job_id", second}, {"status", "cancelled"}}));
  auto cancelled = json::parse(daemon.get("/jobs/" + second).body);
  EXPECT_EQ(cancelled["status"], "cancelled");
  EXPECT_EQ(cancelled["started_at"], nullptr);
  EXPECT_EQ(cancelled["runs"], 0);

  // Running: it stops after the item under way, and ends cancelled.
  r = daemon.post("/jobs/" + first + "/cancel", "");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body)["status"], "running");
  const auto stopped =
      job_when(daemon, first, [](const json& j) { return j["finished_at"] != nullptr; });
  EXPECT_EQ(stopped["status"], "cancelled");

  // The third was not touched: it runs to the end.
  const auto done =
      job_when(daemon, third, [](const json& j) { return j["finished_at"] != nullptr; });
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(json::parse(daemon.get("/jobs/" + second).body)["runs"], 0);

  // Finished: nothing to cancel.
  r = daemon.post("/jobs/" + third + "/cancel", "");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body),
            json({{"error", "job '" + third +
                                "' has already finished (completed): there is nothing to cancel"},
                  {"status", "completed"}}));
  EXPECT_EQ(all_pages(daemon, "status=cancelled").size(), 2u);
}

TEST(JobsApi, ShowHasAPerStepTimeline) {
  DaemonProcess daemon({.pipelines = {slow_pipeline("slowa", 50)}});
  const auto id = post_job(daemon, "/slowa");
  const auto job = job_when(daemon, id, [](const json& j) { return j["finished_at"] != nullptr; });
  ASSERT_EQ(job["status"], "completed") << job.dump();
  ASSERT_EQ(job["timeline"].size(), 1u) << job.dump();
  const auto& step = job["timeline"][0];
  EXPECT_EQ(step["item"], 0);
  EXPECT_EQ(step["provider"], "slow-echo");
  EXPECT_EQ(step["start_seconds"], 0.0);
  EXPECT_GE(step["seconds"].get<double>(), 0.05);  // the provider's delay
  EXPECT_EQ(step["chain"][0]["outcome"], "ok");
}

class JobsCallbackTest : public ServeTest {};

TEST_F(JobsCallbackTest, RetrySendsTheCallbackAgainWithTheSameIdempotencyKey) {
  DaemonProcess daemon({.pipelines = {slow_pipeline("slowa", 0, true)}});
  auto r = daemon.post(
      "/slowa", kSlowBody,
      {{"Content-Type", "application/json"}, {"callbackUrl", receiver_.url("/callback")}});
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = json::parse(r.body)["job_id"].get<std::string>();
  ASSERT_TRUE(receiver_.wait_for_requests(1, std::chrono::seconds(30))) << daemon.log();
  job_when(daemon, id, [](const json& j) { return j["callback"]["status"] == "delivered"; });

  r = daemon.post("/jobs/" + id + "/callbacks/retry", "");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"job_id", id}, {"callback", "pending"}}));
  ASSERT_TRUE(receiver_.wait_for_requests(2, std::chrono::seconds(30))) << daemon.log();
  const auto received = receiver_.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].header("Idempotency-Key"), id);
  EXPECT_EQ(received[1].header("Idempotency-Key"), id);
  EXPECT_EQ(received[0].body, received[1].body);
  EXPECT_EQ(json::parse(received[1].body), json({{"status", "completed"}}));
  const auto job = job_when(daemon, id, [](const json& j) {
    return j["callback"]["status"] == "delivered" && j["callback"]["attempts"] == 2;
  });
  EXPECT_EQ(job["callback"]["history"].size(), 2u);

  // A job still waiting has no callback to send again.
  DaemonProcess slow({.pipelines = {slow_pipeline("slowb", 60000, true)},
                      .config_yaml = "limits: {jobs_in_flight: 1}\n"});
  post_job(slow, "/slowb", callback_header());
  const auto waiting = post_job(slow, "/slowb", callback_header());
  r = slow.post("/jobs/" + waiting + "/callbacks/retry", "");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body)["error"],
            "job '" + waiting + "' has not finished: its callback goes out when it does");
}

TEST(JobsApi, AuthenticationGuardsTheApiAndTheCliPassesCredentials) {
  // sha256("test"): the key is "test".
  DaemonProcess daemon(
      {.pipelines = {slow_pipeline("slowa", 0)},
       .config_yaml = "auth: {api_keys: [{name: ci, sha256: "
                      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}]}\n"});
  EXPECT_EQ(daemon.get("/jobs").status, 401);
  EXPECT_EQ(daemon.post("/jobs/00000000-0000-4000-8000-000000000000/cancel", "").status, 401);
  auto r = daemon.request({.method = "POST",
                           .url = daemon.url("/slowa"),
                           .headers = {{"X-API-Key", "test"}, {"Content-Type", "application/json"}},
                           .body = kSlowBody});
  ASSERT_EQ(r.status, 202) << r.body;
  const auto id = json::parse(r.body)["job_id"].get<std::string>();

  auto list = run_cli({"jobs", "list", "--url", daemon.url(), "--api-key", "test", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto listed = json::parse(list.out);
  ASSERT_EQ(listed["jobs"].size(), 1u);
  EXPECT_EQ(listed["jobs"][0]["job_id"], id);
  EXPECT_EQ(listed["next_cursor"], nullptr);

  auto refused = run_cli({"jobs", "list", "--url", daemon.url()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, ::testing::StartsWith("imagepipe: the daemon answered 401: "));

  // The text form: one line per job under a header.
  for (int i = 0; i < 1500; ++i) {
    auto show = run_cli({"jobs", "show", id, "--url", daemon.url(), "--api-key", "test", "--json"});
    if (json::parse(show.out).value("finished_at", json()) != nullptr) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto text = run_cli({"jobs", "list", "--url", daemon.url(), "--api-key", "test"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, ::testing::MatchesRegex("JOB +PIPELINE +STATUS +CREATED\n" + id +
                                                " +slowa +completed +[0-9TZ:.-]+\n"));
  auto show = run_cli({"jobs", "show", id, "--url", daemon.url(), "--api-key", "test"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, ::testing::HasSubstr("status    completed\n"));
  EXPECT_THAT(show.out,
              ::testing::ContainsRegex("  item 0  \\S+ +\\+0.000s  [0-9.]+s  slow-echo\n"));

  auto cancel = run_cli({"jobs", "cancel", id, "--url", daemon.url(), "--api-key", "test"});
  EXPECT_EQ(cancel.exit_code, 1);
  EXPECT_EQ(cancel.err, "imagepipe: the daemon answered 409: job '" + id +
                            "' has already finished (completed): there is nothing to cancel\n");
  auto retry = run_cli({"jobs", "retry", id, "--url", daemon.url(), "--api-key", "test"});
  EXPECT_EQ(retry.exit_code, 1);  // no callback URL: nothing to send again
  EXPECT_THAT(retry.err, ::testing::HasSubstr("has no callback"));

  auto unreachable = run_cli({"jobs", "list", "--url", "http://127.0.0.1:1"});
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_THAT(unreachable.err,
              ::testing::StartsWith("imagepipe: cannot reach the daemon at http://127.0.0.1:1: "));
}

// `--data DIR` reads list and show from a data directory, beside the running daemon and
// after it stopped, with the same JSON and text as over HTTP; nothing in it is changed.
TEST(JobsApi, TheCliReadsListAndShowFromADataDirectoryWhileTheDaemonRunsAndAfter) {
  std::string id;
  std::filesystem::path data;
  std::string over_http;
  {
    DaemonProcess daemon({.pipelines = {slow_pipeline("slowa", 0)}});
    daemon.keep_data_dir();
    data = daemon.data_dir();
    id = post_job(daemon, "/slowa", {});
    job_when(daemon, id, [](const json& j) { return j["status"] == "completed"; });
    auto beside = run_cli({"jobs", "list", "--data", data.string(), "--json"});
    ASSERT_EQ(beside.exit_code, 0) << beside.err;
    EXPECT_EQ(json::parse(beside.out)["jobs"].at(0)["job_id"], id);
    over_http = json::parse(daemon.get("/jobs/" + id).body).dump();
    EXPECT_EQ(daemon.get("/health/ready").status, 200);  // the reader took nothing from it
  }
  const auto db_before = read_file(data / "jobs.db");

  auto show = run_cli({"jobs", "show", id, "--data", data.string(), "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out).dump(), over_http);
  auto text = run_cli({"jobs", "list", "--data", data.string(), "--status", "completed"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, ::testing::MatchesRegex("JOB +PIPELINE +STATUS +CREATED\n" + id +
                                                " +slowa +completed +[0-9TZ:.-]+\n"));
  auto none = run_cli({"jobs", "list", "--data", data.string(), "--status", "failed", "--json"});
  EXPECT_EQ(json::parse(none.out)["jobs"].size(), 0u);
  EXPECT_EQ(read_file(data / "jobs.db"), db_before);

  // Problems, named.
  auto unknown = run_cli({"jobs", "show", "00000000-0000-4000-8000-000000000000", "--data",
                          data.string()});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "imagepipe: no job 00000000-0000-4000-8000-000000000000 in " +
                             data.string() + "\n");
  auto bad_query = run_cli({"jobs", "list", "--data", data.string(), "--since", "yesterday"});
  EXPECT_EQ(bad_query.exit_code, 1);
  EXPECT_THAT(bad_query.err, ::testing::StartsWith("imagepipe: since: 'yesterday'"));
  auto cancel = run_cli({"jobs", "cancel", id, "--data", data.string()});
  EXPECT_EQ(cancel.exit_code, 2);
  EXPECT_THAT(cancel.err, ::testing::HasSubstr("only its daemon does: use --url"));
  const auto empty = make_temp_dir("imagepipe-nodata");
  auto missing = run_cli({"jobs", "list", "--data", empty.string()});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(missing.err, "imagepipe: cannot read the job history: no job store in " +
                             empty.string() +
                             " (jobs.db is missing; is it the --data of `imagepipe serve`?)\n");
  EXPECT_FALSE(std::filesystem::exists(empty / "jobs.db"));
  std::filesystem::remove_all(empty);
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace imagepipe::testing
