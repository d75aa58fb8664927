// limits.queued_jobs_per_pipeline's bookkeeping: places per pipeline, freed when a job
// starts; jobs it never counted (scheduled, re-queued at start) free nothing.
#include <gtest/gtest.h>

#include "serve_queue_limit.hpp"

namespace imagepipe::serve {
namespace {

TEST(QueuedJobs, EachPipelineHasItsOwnPlaces) {
  QueuedJobs queued(2);
  EXPECT_TRUE(queued.try_add("a", "1"));
  EXPECT_TRUE(queued.try_add("a", "2"));
  EXPECT_FALSE(queued.try_add("a", "3"));
  EXPECT_TRUE(queued.try_add("b", "4"));
  queued.remove("1");
  EXPECT_TRUE(queued.try_add("a", "5"));
  EXPECT_FALSE(queued.try_add("a", "6"));
}

TEST(QueuedJobs, JobsNeverCountedFreeNothing) {
  QueuedJobs queued(1);
  EXPECT_TRUE(queued.try_add("a", "1"));
  queued.remove("scheduled-job");
  queued.remove("1");
  queued.remove("1");  // a job claimed twice (after a restart) frees its place once
  EXPECT_TRUE(queued.try_add("a", "2"));
  EXPECT_FALSE(queued.try_add("a", "3"));
}

TEST(QueuedJobs, ZeroIsNoLimit) {
  QueuedJobs queued(0);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(queued.try_add("a", std::to_string(i)));
}

}  // namespace
}  // namespace imagepipe::serve
