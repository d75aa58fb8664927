// The store's side of the jobs API: listing newest first with filters and cursors,
// cancelling a queued job (its input bytes released), queuing a callback again.
#include <gmock/gmock.h>

#include "store_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;

JobResult finished_run(const ClaimedJob& job, std::string status = "completed") {
  JobResult r;
  r.id = job.id;
  r.pipeline = job.pipeline;
  r.status = std::move(status);
  r.started_at = r.finished_at = std::chrono::system_clock::now();
  return r;
}

class JobListingTest : public StoreTest {
 protected:
  // Added one at a time, so each has a created_at of its own or a later id order.
  std::vector<std::string> add_jobs(int n, const std::string& pipeline) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto job = make_job(pipeline);
      ids.push_back(job.id);
      run(store_->add(std::move(job)));
    }
    return ids;
  }
  std::vector<std::string> walk(JobQuery query, int* pages = nullptr) {
    std::vector<std::string> ids;
    for (int page = 1;; ++page) {
      auto p = run(store_->list(query));
      for (const auto& j : p.jobs) ids.push_back(j.id);
      if (pages) *pages = page;
      if (!p.next) return ids;
      query.after = p.next;
    }
  }
};

TEST_F(JobListingTest, PagesNewestFirstWithoutGapsOrRepeats) {
  auto a = add_jobs(12, "a");
  auto b = add_jobs(5, "b");
  int pages = 0;
  const auto ids = walk({.limit = 5}, &pages);
  EXPECT_EQ(pages, 4);  // 5 + 5 + 5 + 2
  ASSERT_EQ(ids.size(), 17u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 17u);
  EXPECT_EQ(ids.front(), b.back());  // the newest
  EXPECT_EQ(ids.back(), a.front());  // the oldest
  // Jobs added during a walk do not shift it.
  auto first = run(store_->list({.limit = 5}));
  add_jobs(3, "a");
  auto second = run(store_->list({.after = first.next, .limit = 5}));
  EXPECT_EQ(second.jobs.front().id, ids[5]);
}

TEST_F(JobListingTest, FiltersByPipelineStatusAndTime) {
  const auto before = std::chrono::system_clock::now() - 1s;
  add_jobs(4, "a");
  add_jobs(3, "b");
  auto claimed = run(store_->claim_next());  // the oldest "a" runs
  ASSERT_TRUE(claimed);
  EXPECT_EQ(walk({.pipeline = "a"}).size(), 4u);
  EXPECT_EQ(walk({.pipeline = "b"}).size(), 3u);
  EXPECT_EQ(walk({.status = "running"}), std::vector<std::string>{claimed->id});
  EXPECT_EQ(walk({.pipeline = "a", .status = "queued"}).size(), 3u);
  run(store_->finish(finished_run(*claimed)));
  EXPECT_EQ(walk({.status = "completed"}), std::vector<std::string>{claimed->id});
  EXPECT_EQ(walk({.since = before}).size(), 7u);
  EXPECT_EQ(walk({.until = before}).size(), 0u);
  EXPECT_EQ(walk({.since = std::chrono::system_clock::now() + 1h}).size(), 0u);
}

TEST_F(JobListingTest, CancelsAQueuedJobAndReleasesItsBytes) {
  auto ids = add_jobs(2, "a");
  auto outcome = run(store_->cancel(ids[0]));
  EXPECT_TRUE(outcome.found);
  EXPECT_EQ(outcome.status, "queued");
  auto record = run(store_->get(ids[0]));
  EXPECT_EQ(record->status, "cancelled");
  EXPECT_TRUE(record->finished_at);
  // The queue skips it: the next claim is the second job.
  auto claimed = run(store_->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, ids[1]);
  // Running or finished jobs are reported, not changed.
  EXPECT_EQ(run(store_->cancel(ids[1])).status, "running");
  EXPECT_EQ(run(store_->get(ids[1]))->status, "running");
  EXPECT_EQ(run(store_->cancel(ids[0])).status, "cancelled");
  EXPECT_FALSE(run(store_->cancel("00000000-0000-4000-8000-000000000000")).found);
  // A cancelled job's finish (it was running) sends no callback.
  run(store_->finish(finished_run(*claimed, "cancelled")));
  EXPECT_FALSE(run(store_->get(ids[1]))->callback);
  // Both jobs' inputs are released: the segment goes once a new one is in use.
  reopen();
  EXPECT_EQ(segments("inputs", 0), 0u);
}

TEST_F(JobListingTest, QueuesAFinishedJobsCallbackAgain) {
  auto ids = add_jobs(2, "a");
  EXPECT_EQ(run(store_->retry_callback(ids[0])), RetryOutcome::unfinished);
  auto claimed = run(store_->claim_next());
  run(store_->finish(finished_run(*claimed)));
  auto due = run(store_->due_callbacks(std::chrono::system_clock::now(), 10));
  ASSERT_EQ(due.size(), 1u);
  run(store_->record_attempt(
      ids[0], {.attempt = 1, .at = std::chrono::system_clock::now(), .outcome = "delivered"}));
  EXPECT_TRUE(run(store_->due_callbacks(std::chrono::system_clock::now(), 10)).empty());

  EXPECT_EQ(run(store_->retry_callback(ids[0])), RetryOutcome::queued);
  due = run(store_->due_callbacks(std::chrono::system_clock::now(), 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job_id, ids[0]);
  EXPECT_EQ(due[0].attempts, 1);  // the next attempt is number 2, after the first
  EXPECT_EQ(run(store_->get(ids[0]))->callback->status, "pending");

  EXPECT_EQ(run(store_->retry_callback("00000000-0000-4000-8000-000000000000")),
            RetryOutcome::not_found);
  run(store_->cancel(ids[1]));
  EXPECT_EQ(run(store_->retry_callback(ids[1])), RetryOutcome::cancelled);
}

}  // namespace
}  // namespace imagepipe::testing
