#include <fstream>

#include <gmock/gmock.h>

#include "imagepipe/http.hpp"
#include "store_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

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

// The dashboard's thumbnails read inline results back by item and output.
TEST_F(StoreTest, AnInlineOutputIsReadBackByItsIndexes) {
  auto job = make_job();
  run(store_->add(job));
  run(store_->claim_next());
  EXPECT_FALSE(run(store_->inline_output(job.id, 0, 0))) << "not finished";
  run(store_->finish(finished(job.id)));
  reopen();
  EXPECT_EQ(run(store_->inline_output(job.id, 0, 0)).value_or(""), "RESULTBYTES");
  EXPECT_FALSE(run(store_->inline_output(job.id, 1, 0)));
  EXPECT_FALSE(run(store_->inline_output(job.id, 0, 1)));
  EXPECT_FALSE(run(store_->inline_output("0b6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9b", 0, 0)));
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

TEST_F(StoreTest, RetentionRemovesSettledJobsAndTheirBytesButKeepsPendingCallbacks) {
  segment_bytes_ = 1;  // every append starts a segment: one per job here
  reopen();
  auto settled = make_job();
  settled.notify = false;
  auto pending = make_job();
  for (auto* job : {&settled, &pending}) {
    run(store_->add(*job));
    run(store_->claim_next());
    run(store_->finish(finished(job->id)));
  }
  EXPECT_EQ(segments("results", 2), 2u);
  // Inputs are not needed once a job has finished: the settled job's segment is gone, the
  // other is the one being written (a restart removes it).
  EXPECT_EQ(segments("inputs", 1), 1u);

  EXPECT_EQ(run(store_->remove_finished_before(std::chrono::system_clock::now() + 1h)), 1);
  EXPECT_FALSE(run(store_->get(settled.id)));
  EXPECT_EQ(segments("results", 1), 1u);
  // The pending job's result stays, across a restart too: its callback still needs it.
  reopen();
  EXPECT_EQ(segments("inputs", 0), 0u);
  EXPECT_EQ(segments("results", 1), 1u);
  auto due = run(store_->due_callbacks(std::chrono::system_clock::now() + 1h, 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job_id, pending.id);
  ASSERT_TRUE(due[0].result.items.at(0).outputs.at(0).data);
  EXPECT_EQ(*due[0].result.items[0].outputs[0].data, "RESULTBYTES");
}

TEST_F(StoreTest, ASegmentGoesWhenTheLastJobInItHasFinished) {
  segment_bytes_ = 20;  // two 8-byte images fit, the third starts a new segment
  reopen();
  auto a = make_job("p", "IMAGE--A");
  auto b = make_job("p", "IMAGE--B");
  auto c = make_job("p", "IMAGE--C");
  for (auto* job : {&a, &b, &c}) run(store_->add(*job));
  EXPECT_EQ(segments("inputs", 2), 2u);

  for (const auto* expected : {&a, &b}) {
    auto claimed = run(store_->claim_next());
    ASSERT_TRUE(claimed);
    EXPECT_EQ(claimed->id, expected->id);
    EXPECT_EQ(*claimed->request.files.at("image_base64"), *expected->inputs[0].bytes);
    run(store_->finish(finished(claimed->id)));
    // b still holds the first segment after a has finished.
    const std::size_t left = expected == &a ? 2 : 1;
    EXPECT_EQ(segments("inputs", left), left);
  }
  // Finishing twice (a job run again after a restart) releases nothing twice.
  run(store_->finish(finished(a.id)));
  auto last = run(store_->claim_next());
  ASSERT_TRUE(last);
  EXPECT_EQ(*last->request.files.at("image_base64"), "IMAGE--C");
}

TEST_F(StoreTest, QueuedBytesSurviveARestartAndUnreferencedSegmentsAreRemoved) {
  auto a = make_job("p", "first image");
  auto b = make_job("p", "second image");
  run(store_->add(a));
  run(store_->add(b));
  store_.reset();
  // What a crash between appending and committing leaves: bytes no job refers to.
  std::ofstream(dir_ / "inputs" / "000000000007.seg") << "torn";
  reopen();
  EXPECT_EQ(segments("inputs", 1), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "inputs" / "000000000007.seg"));
  EXPECT_EQ(*run(store_->claim_next())->request.files.at("image_base64"), "first image");
  reopen();  // b is still queued, a was running: both are queued again, bytes intact
  EXPECT_EQ(run(store_->requeue_running()), 1);
  EXPECT_EQ(*run(store_->claim_next())->request.files.at("image_base64"), "first image");
  EXPECT_EQ(*run(store_->claim_next())->request.files.at("image_base64"), "second image");
}

TEST_F(StoreTest, AJobWhoseBytesAreGoneIsClaimedWithTheReasonAndDoesNotBlockTheQueue) {
  auto lost = make_job("p", "lost image");
  run(store_->add(lost));
  store_.reset();
  const auto segment = dir_ / "inputs" / "000000000001.seg";
  ASSERT_TRUE(std::filesystem::exists(segment));
  std::filesystem::remove(segment);
  reopen();
  auto next = make_job("p", "next image");
  run(store_->add(next));

  auto claimed = run(store_->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, lost.id);
  EXPECT_EQ(claimed->unreadable, "job store: missing file " + segment.string());
  EXPECT_TRUE(claimed->request.files.empty());
  EXPECT_EQ(run(store_->get(lost.id))->status, "running");
  auto after = run(store_->claim_next());
  ASSERT_TRUE(after);
  EXPECT_EQ(after->id, next.id);
  EXPECT_TRUE(after->unreadable.empty());
  EXPECT_EQ(*after->request.files.at("image_base64"), "next image");
}

TEST_F(StoreTest, TheWriteAheadLogIsCheckpointedWhileJobsKeepComing) {
  // Each add is a commit of about four pages: 4,000 of them make a WAL of some 60 MB
  // unless checkpoints keep starting it over (it stays near 4,000 pages, 16 MB).
  for (int i = 0; i < 4000; ++i) run(store_->add(make_job("p", "x")));
  const auto wal = std::filesystem::file_size(dir_ / "jobs.db-wal");
  EXPECT_LT(wal, 24u << 20) << "the WAL grew to " << wal << " bytes";
  EXPECT_EQ(run(store_->counts()).queued, 4000);
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
