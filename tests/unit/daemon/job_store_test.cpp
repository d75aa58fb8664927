#include <fstream>

#include <gmock/gmock.h>

#include "imagepipe/http.hpp"
#include "store_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

JobResult finished(const std::string& id, std::string status = "completed") {
  JobResult r;
  r.id = id;
  r.pipeline = "p";
  r.status = std::move(status);
  r.started_at = std::chrono::system_clock::now();
  r.finished_at = r.started_at + 1500ms;
  ItemResult item;
  item.name = "burger.jpeg";
  item.stem = "burger";
  item.status = "completed";
  ItemOutput out;
  out.mime = "image/png";
  out.ext = "png";
  out.data = std::make_shared<const std::string>("RESULTBYTES");
  item.outputs.push_back(out);
  r.items.push_back(item);
  return r;
}

TEST_F(StoreTest, ClaimsTheOldestQueuedJobWithItsImageBytes) {
  auto first = make_job("p", "first image");
  auto second = make_job("p", "second image");
  run(store_->add(first));
  run(store_->add(second));

  auto claimed = run(store_->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, first.id);
  EXPECT_EQ(claimed->runs, 1);
  EXPECT_EQ(claimed->request.body["prompt"], "add a dog");
  // The image comes back as bytes beside the body, not base64 in it (no second decode).
  ASSERT_TRUE(claimed->request.files.count("image_base64"));
  EXPECT_EQ(*claimed->request.files.at("image_base64"), "first image");
  EXPECT_FALSE(claimed->request.body.contains("image_base64"));
  EXPECT_EQ(claimed->request.headers["callbackurl"], "http://127.0.0.1:9/cb");

  EXPECT_EQ(run(store_->claim_next())->id, second.id);
  EXPECT_FALSE(run(store_->claim_next()));
  EXPECT_EQ(run(store_->get(first.id))->status, "running");
}

TEST_F(StoreTest, JobsRunningAtACrashAreQueuedAgainAfterReopening) {
  auto job = make_job();
  run(store_->add(job));
  ASSERT_TRUE(run(store_->claim_next()));
  reopen();  // the process died while the job ran

  EXPECT_EQ(run(store_->requeue_running()), 1);
  auto again = run(store_->claim_next());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, job.id);
  EXPECT_EQ(again->runs, 2);
  ASSERT_TRUE(again->request.files.count("image_base64"));
  EXPECT_EQ(*again->request.files.at("image_base64"), "PNGBYTES");
}

TEST_F(StoreTest, ManyConcurrentAddsAreAllCommitted) {
  std::vector<std::string> ids;
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    auto job = make_job();
    ids.push_back(job.id);
    asio::co_spawn(io_, store_->add(std::move(job)), [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++done;
    });
  }
  io_.run();
  EXPECT_EQ(done, 50);
  reopen();
  EXPECT_EQ(run(store_->counts()).queued, 50);
  for (const auto& id : ids) EXPECT_TRUE(run(store_->get(id))) << id;
}

TEST_F(StoreTest, AFinishedJobQueuesItsCallbackWithTheInlineResult) {
  auto job = make_job();
  run(store_->add(job));
  run(store_->claim_next());
  run(store_->finish(finished(job.id)));
  reopen();  // callbacks survive a restart
  run(store_->requeue_running());

  auto due = run(store_->due_callbacks(std::chrono::system_clock::now(), 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job_id, job.id);
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(due[0].request.body["filename"], "burger.jpeg");
  ASSERT_EQ(due[0].result.items.size(), 1u);
  ASSERT_TRUE(due[0].result.items[0].outputs[0].data);
  EXPECT_EQ(*due[0].result.items[0].outputs[0].data, "RESULTBYTES");
  // Handed out once: not again while its delivery is under way.
  EXPECT_TRUE(run(store_->due_callbacks(std::chrono::system_clock::now(), 10)).empty());
}

TEST_F(StoreTest, NoCallbackIsQueuedForAJobThatDidNotAskForOne) {
  auto job = make_job();
  job.notify = false;
  run(store_->add(job));
  run(store_->claim_next());
  run(store_->finish(finished(job.id)));
  EXPECT_TRUE(run(store_->due_callbacks(std::chrono::system_clock::now() + 1h, 10)).empty());
  EXPECT_FALSE(run(store_->get(job.id))->callback);
}

TEST_F(StoreTest, EveryAttemptIsRecordedAndARetryWaitsForItsTime) {
  auto job = make_job();
  run(store_->add(job));
  run(store_->claim_next());
  run(store_->finish(finished(job.id)));
  const auto now = std::chrono::system_clock::now();
  run(store_->due_callbacks(now, 10));

  CallbackAttempt retry;
  retry.attempt = 1;
  retry.at = now;
  retry.outcome = "retry";
  retry.error = "callback to http://127.0.0.1:9/cb answered HTTP 503";
  retry.error_class = "unavailable";
  retry.next_at = now + 30s;
  run(store_->record_attempt(job.id, retry));

  EXPECT_TRUE(run(store_->due_callbacks(now + 29s, 10)).empty());
  auto next = run(store_->next_callback_at());
  ASSERT_TRUE(next);
  EXPECT_EQ(to_unix_ms(*next), to_unix_ms(now + 30s));
  auto due = run(store_->due_callbacks(now + 31s, 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].attempts, 1);

  CallbackAttempt delivered;
  delivered.attempt = 2;
  delivered.at = now + 31s;
  delivered.outcome = "delivered";
  run(store_->record_attempt(job.id, delivered));

  auto record = run(store_->get(job.id));
  ASSERT_TRUE(record && record->callback);
  EXPECT_EQ(record->status, "completed");
  EXPECT_EQ(record->callback->status, "delivered");
  EXPECT_EQ(record->callback->attempts, 2);
  ASSERT_EQ(record->callback->history.size(), 2u);
  EXPECT_EQ(record->callback->history[0].outcome, "retry");
  EXPECT_EQ(record->callback->history[0].error,
            "callback to http://127.0.0.1:9/cb answered HTTP 503");
  EXPECT_EQ(record->callback->history[1].outcome, "delivered");
  EXPECT_FALSE(run(store_->next_callback_at()));
}

TEST_F(StoreTest, RetentionRemovesSettledJobsAndTheirFilesButKeepsPendingCallbacks) {
  auto settled = make_job();
  settled.notify = false;
  auto pending = make_job();
  for (auto* job : {&settled, &pending}) {
    run(store_->add(*job));
    run(store_->claim_next());
    run(store_->finish(finished(job->id)));
  }
  const auto result_file = dir_ / "results" / (settled.id + ".r0.bin");
  EXPECT_TRUE(std::filesystem::exists(result_file));
  // Inputs are not needed once a job has finished.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "inputs" / (settled.id + ".0.bin")));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "inputs"));

  EXPECT_EQ(run(store_->remove_finished_before(std::chrono::system_clock::now() + 1h)), 1);
  EXPECT_FALSE(run(store_->get(settled.id)));
  EXPECT_FALSE(std::filesystem::exists(result_file));
  // The pending job's result stays: its callback still needs it.
  EXPECT_TRUE(std::filesystem::exists(dir_ / "results" / (pending.id + ".r0.bin")));
  EXPECT_TRUE(run(store_->get(pending.id)));
}

TEST_F(StoreTest, UnknownJobIsNotFound) {
  EXPECT_FALSE(run(store_->get("00000000-0000-4000-8000-000000000000")));
}

TEST_F(StoreTest, CountsByPipelineAndStatus) {
  run(store_->add(make_job("a")));
  run(store_->add(make_job("a")));
  run(store_->add(make_job("b")));
  run(store_->claim_next());
  auto counts = run(store_->counts());
  EXPECT_EQ(counts.queued, 2);
  EXPECT_EQ(counts.running, 1);
  EXPECT_EQ((counts.by_pipeline_status[{"a", "running"}]), 1);
  EXPECT_EQ((counts.by_pipeline_status[{"b", "queued"}]), 1);
}

TEST_F(StoreTest, RefusesAFileThatIsNotADatabase) {
  store_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "jobs.db") << "these are not the pages you are looking for, not at all, no";
  try {
    open_sqlite_job_store({dir_});
    FAIL() << "expected the store to refuse the file";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "job store " + (dir_ / "jobs.db").string() +
                                         ": cannot run SQL: file is not a database");
    EXPECT_EQ(e.cls(), ErrorClass::unavailable);
  }
}

}  // namespace
}  // namespace imagepipe::testing
