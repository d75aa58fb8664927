// The Redis job store against a real redis-server (started per test on a free loopback
// port, AOF on). Several stores on one Redis are several nodes: destroying one without
// finishing its jobs is a node that died.
#include <gmock/gmock.h>

#include "jobs/store_item_sink.hpp"
#include "store_fixture.hpp"
#include "support/processes.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (find_on_path("redis-server").empty())
      GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
    redis_ = std::make_unique<RedisProcess>();
  }

  std::unique_ptr<JobStore> node(std::string id = {}, int max_deliveries = 5,
                                 std::size_t queued_limit = 0) {
    RedisStoreOptions options;
    options.url = redis_->url();
    options.pipelines = {"p", "q"};
    options.node_id = std::move(id);
    options.claim_idle = 300ms;
    options.max_deliveries = max_deliveries;
    options.queued_per_pipeline = queued_limit;
    options.max_input_bytes = 1024;
    return open_redis_job_store(options);
  }

  template <class T>
  T run(Task<T> task) {
    return run_task(io_, std::move(task));
  }

  // The next job `store` can claim, waiting up to 5 s for another node's claim to go idle.
  std::optional<ClaimedJob> claim_within(JobStore& store) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      if (auto job = run(store.claim_next())) return job;
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(50ms);  // Redis' own idle clock: nothing to wait on
    }
  }

  NewJob make_job(std::string pipeline = "p", std::string image = "PNGBYTES") {
    NewJob job;
    job.id = new_job_id();
    job.pipeline = std::move(pipeline);
    job.request.body = {{"prompt", "add a dog"}, {"filename", "burger.jpeg"}};
    job.request.headers = {{"callbackurl", "http://127.0.0.1:9/cb"}, {"x-request-id", "req-1"}};
    job.inputs.push_back({"image_base64", std::make_shared<const std::string>(std::move(image))});
    job.notify = true;
    return job;
  }

  asio::io_context io_;
  std::unique_ptr<RedisProcess> redis_;
};

TEST_F(RedisStoreTest, ClaimsTheOldestQueuedJobWithItsImageBytes) {
  auto store = node();
  auto first = make_job("p", "first image");
  auto second = make_job("p", "second image");
  run(store->add(first));
  run(store->add(second));

  auto claimed = run(store->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, first.id);
  EXPECT_EQ(claimed->runs, 1);
  EXPECT_EQ(claimed->request.body["prompt"], "add a dog");
  EXPECT_EQ(*claimed->request.files.at("image_base64"), "first image");
  EXPECT_EQ(claimed->request.headers["callbackurl"], "http://127.0.0.1:9/cb");
  EXPECT_EQ(run(store->claim_next())->id, second.id);
  EXPECT_FALSE(run(store->claim_next()));
  auto record = run(store->get(first.id));
  ASSERT_TRUE(record);
  EXPECT_EQ(record->status, "running");
  EXPECT_EQ(record->request_id, "req-1");
}

TEST_F(RedisStoreTest, ManyConcurrentAddsAreAllStoredAndEachJobRunsOnOneNodeOnly) {
  auto a = node(), b = node();
  std::set<std::string> ids;
  int done = 0;
  for (int i = 0; i < 100; ++i) {
    auto job = make_job(i % 2 ? "p" : "q");
    ids.insert(job.id);
    asio::co_spawn(io_, (i % 3 ? a : b)->add(std::move(job)), [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++done;
    });
  }
  io_.run();
  EXPECT_EQ(done, 100);
  EXPECT_EQ(run(a->counts()).queued, 100);
  std::set<std::string> claimed;
  for (bool more = true; more;) {
    more = false;
    for (auto* store : {a.get(), b.get()})
      if (auto job = run(store->claim_next())) {
        EXPECT_TRUE(claimed.insert(job->id).second) << "claimed twice: " << job->id;
        more = true;
      }
  }
  EXPECT_EQ(claimed, ids);
  EXPECT_EQ(run(b->counts()).running, 100);
}

TEST_F(RedisStoreTest, AFinishedJobQueuesOneLeasedCallbackWithTheInlineResult) {
  auto a = node(), b = node();
  auto job = make_job();
  run(a->add(job));
  run(a->claim_next());
  run(a->finish(finished(job.id)));
  EXPECT_EQ(run(a->get(job.id))->status, "completed");

  auto due = run(b->due_callbacks(std::chrono::system_clock::now(), 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job_id, job.id);
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(due[0].request.body["filename"], "burger.jpeg");
  ASSERT_TRUE(due[0].result.items.at(0).outputs.at(0).data);
  EXPECT_EQ(*due[0].result.items[0].outputs[0].data, "RESULTBYTES");
  // Leased: no other node takes it while the delivery is under way...
  EXPECT_TRUE(run(a->due_callbacks(std::chrono::system_clock::now(), 10)).empty());
  // ...unless the lease (claim_idle) runs out: the delivering node died.
  EXPECT_EQ(run(a->due_callbacks(std::chrono::system_clock::now() + 1s, 10)).size(), 1u);

  const auto now = std::chrono::system_clock::now();
  CallbackAttempt retry{1, now, "retry", "callback answered HTTP 503", "unavailable", now + 30s};
  run(b->record_attempt(job.id, retry));
  EXPECT_TRUE(run(a->due_callbacks(now + 29s, 10)).empty());
  EXPECT_EQ(to_unix_ms(*run(a->next_callback_at())), to_unix_ms(now + 30s));
  auto again = run(a->due_callbacks(now + 31s, 10));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);
  run(a->record_attempt(job.id, {2, now + 31s, "delivered", "", "", std::nullopt}));

  auto record = run(b->get(job.id));
  ASSERT_TRUE(record && record->callback);
  EXPECT_EQ(record->callback->status, "delivered");
  EXPECT_EQ(record->callback->attempts, 2);
  ASSERT_EQ(record->callback->history.size(), 2u);
  EXPECT_EQ(record->callback->history[0].error, "callback answered HTTP 503");
  EXPECT_EQ(record->callback->history[1].outcome, "delivered");
  EXPECT_FALSE(run(a->next_callback_at()));
  EXPECT_EQ(run(a->retry_callback(job.id)), RetryOutcome::queued);
  EXPECT_EQ(run(a->due_callbacks(std::chrono::system_clock::now(), 10)).size(), 1u);
}

TEST_F(RedisStoreTest, ADeadNodesJobIsTakenByAnotherAfterTheIdleTimeout) {
  auto survivor = node();
  auto job = make_job();
  {
    auto dying = node();
    run(dying->add(job));
    ASSERT_EQ(run(dying->claim_next())->id, job.id);
    EXPECT_FALSE(run(survivor->claim_next())) << "taken while its node was alive";
  }
  auto again = claim_within(*survivor);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, job.id);
  EXPECT_EQ(again->runs, 2);
  EXPECT_EQ(*again->request.files.at("image_base64"), "PNGBYTES");
  run(survivor->finish(finished(job.id)));
  EXPECT_EQ(run(survivor->get(job.id))->status, "completed");
}

TEST_F(RedisStoreTest, ARunningJobIsNotStolenWhileItsNodeRefreshesTheClaim) {
  auto runner = node(), other = node();
  auto job = make_job();
  run(runner->add(job));
  ASSERT_TRUE(run(runner->claim_next()));
  // Four idle timeouts: the runner's store refreshes the claim on its own thread.
  const auto until = std::chrono::steady_clock::now() + 1200ms;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_FALSE(run(other->claim_next()));
    std::this_thread::sleep_for(100ms);
  }
  run(runner->finish(finished(job.id)));
  EXPECT_EQ(run(other->get(job.id))->runs, 1);
}

TEST_F(RedisStoreTest, AJobWhoseNodesKeepDyingIsDeadLetteredAfterMaxDeliveries) {
  auto job = make_job();
  for (int run_no = 1; run_no <= 2; ++run_no) {
    auto dying = node({}, 2);
    if (run_no == 1) run(dying->add(job));
    auto claimed = claim_within(*dying);
    ASSERT_TRUE(claimed);
    EXPECT_EQ(claimed->runs, run_no);
  }
  auto last = node({}, 2);
  // Once the second node's claim goes idle, the next claim fails the job instead of running it.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (run(last->get(job.id))->status != "failed" &&
         std::chrono::steady_clock::now() < deadline) {
    EXPECT_FALSE(run(last->claim_next()));
    std::this_thread::sleep_for(50ms);
  }
  auto record = run(last->get(job.id));
  ASSERT_TRUE(record && record->result);
  EXPECT_EQ(record->status, "failed");
  EXPECT_THAT(record->result->error, HasSubstr("dead-lettered after 2 deliveries"));
  EXPECT_EQ(record->runs, 2);
  // Its callback says so.
  auto due = run(last->due_callbacks(std::chrono::system_clock::now(), 10));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].result.status, "failed");
}

TEST_F(RedisStoreTest, ANodeHandsBackItsJobsAtShutdownAndAStableNameTakesItsOwnBackAtStart) {
  auto other = node();
  auto a = make_job(), b = make_job();
  {
    auto leaving = node();
    run(leaving->add(a));
    ASSERT_TRUE(run(leaving->claim_next()));
    EXPECT_EQ(run(leaving->requeue_running()), 1);  // SIGTERM: the grace period ran out
  }
  auto handed = run(other->claim_next());  // at once, not after the idle timeout
  ASSERT_TRUE(handed);
  EXPECT_EQ(handed->id, a.id);
  {
    auto crashing = node("node-7");
    run(crashing->add(b));
    ASSERT_TRUE(run(crashing->claim_next()));
  }
  auto restarted = node("node-7");
  EXPECT_EQ(run(restarted->requeue_running()), 1);
  auto mine = run(restarted->claim_next());
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->id, b.id);
  EXPECT_EQ(mine->runs, 2);
  // A node with another name recovers nothing of others' at start.
  auto fresh = node();
  EXPECT_EQ(run(fresh->requeue_running()), 0);
}

TEST_F(RedisStoreTest, CancelRetryAndCounts) {
  auto store = node();
  auto queued = make_job(), done = make_job("q");
  run(store->add(queued));
  run(store->add(done));
  EXPECT_EQ(run(store->retry_callback(queued.id)), RetryOutcome::unfinished);
  auto c = run(store->cancel(queued.id));
  EXPECT_TRUE(c.found);
  EXPECT_EQ(c.status, "queued");
  EXPECT_EQ(run(store->get(queued.id))->status, "cancelled");
  EXPECT_EQ(run(store->cancel(queued.id)).status, "cancelled");
  EXPECT_FALSE(run(store->cancel("nope")).found);
  EXPECT_EQ(run(store->retry_callback(queued.id)), RetryOutcome::cancelled);
  EXPECT_EQ(run(store->retry_callback("nope")), RetryOutcome::not_found);
  auto claimed = run(store->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, done.id);  // the cancelled job is not run
  auto counts = run(store->counts());
  EXPECT_EQ(counts.running, 1);
  EXPECT_EQ((counts.by_pipeline_status[{"p", "cancelled"}]), 1);
  EXPECT_EQ((counts.by_pipeline_status[{"q", "running"}]), 1);
}

TEST_F(RedisStoreTest, ListsNewestFirstWithFiltersAndCursorPages) {
  auto store = node();
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    auto job = make_job(i < 5 ? "p" : "q");
    ids.push_back(job.id);
    run(store->add(job));  // several in one millisecond: the sequence orders them
  }
  JobQuery query;
  query.limit = 3;
  std::vector<std::string> seen;
  for (;;) {
    auto page = run(store->list(query));
    for (const auto& j : page.jobs) seen.push_back(j.id);
    if (!page.next) break;
    query.after = page.next;
  }
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));
  JobQuery only_q;
  only_q.pipeline = "q";
  only_q.status = "queued";
  auto q = run(store->list(only_q));
  ASSERT_EQ(q.jobs.size(), 2u);
  EXPECT_EQ(q.jobs[0].id, ids[6]);
  EXPECT_EQ(q.jobs[0].request_id, "req-1");
  JobQuery running;
  running.status = "running";
  EXPECT_TRUE(run(store->list(running)).jobs.empty());
  JobQuery future;
  future.since = std::chrono::system_clock::now() + 1h;
  EXPECT_TRUE(run(store->list(future)).jobs.empty());
}

TEST_F(RedisStoreTest, SchedulesFireOnceAcrossNodes) {
  auto a = node(), b = node();
  const auto t0 = from_unix_ms(1'700'000'000'000);
  auto first = run(a->open_schedule("p#0", "p", t0));
  EXPECT_EQ(to_unix_ms(first.due), to_unix_ms(t0));
  EXPECT_EQ(first.job_id, "");
  EXPECT_EQ(to_unix_ms(run(b->open_schedule("p#0", "p", t0 + 1h)).due), to_unix_ms(t0));
  NewJob job;
  job.id = "6f1c1d2e-0000-4000-8000-000000000001";  // deterministic per due time
  job.pipeline = "p";
  EXPECT_TRUE(run(a->add_scheduled(job, "p#0", t0 + 1min)));
  EXPECT_FALSE(run(b->add_scheduled(job, "p#0", t0 + 1min)));
  auto after = run(b->open_schedule("p#0", "p", t0));
  EXPECT_EQ(to_unix_ms(after.due), to_unix_ms(t0 + 1min));
  EXPECT_EQ(after.job_id, job.id);
  EXPECT_EQ(run(a->counts()).queued, 1);
}

TEST_F(RedisStoreTest, RetentionRemovesSettledJobsButKeepsPendingCallbacks) {
  auto store = node();
  auto settled = make_job(), pending = make_job();
  settled.notify = false;
  for (auto* job : {&settled, &pending}) {
    run(store->add(*job));
    run(store->claim_next());
    run(store->finish(finished(job->id)));
  }
  EXPECT_EQ(run(store->remove_finished_before(std::chrono::system_clock::now() + 1h)), 1);
  EXPECT_FALSE(run(store->get(settled.id)));
  EXPECT_TRUE(run(store->get(pending.id)));
  JobQuery all;
  auto page = run(store->list(all));
  ASSERT_EQ(page.jobs.size(), 1u);
  EXPECT_EQ(page.jobs[0].id, pending.id);
}

TEST_F(RedisStoreTest, LimitsAreClearErrors) {
  auto store = node({}, 5, 2);
  run(store->add(make_job()));
  run(store->add(make_job()));
  try {
    run(store->add(make_job()));
    FAIL() << "expected the cluster-wide queue limit";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has 2 jobs waiting to start across the cluster"));
  }
  run(store->add(make_job("q")));  // another pipeline's queue
  try {
    run(store->add(make_job("q", std::string(2000, 'x'))));
    FAIL() << "expected the size limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::invalid_input);
    EXPECT_THAT(e.what(), HasSubstr("more than the Redis queue keeps per job (1024"));
  }
  try {
    RedisStoreOptions bad;
    bad.url = "http://127.0.0.1:6379";
    open_redis_job_store(bad);
    FAIL() << "expected a bad URL to be refused";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("must start with redis://"));
  }
}

TEST_F(RedisStoreTest, WithoutRedisCallsFailNamingItAndResumeWhenItIsBackWithNothingLost) {
  auto store = node();
  auto job = make_job();
  run(store->add(job));
  redis_->kill();  // SIGKILL: only what the AOF synced survives
  try {
    run(store->add(make_job()));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.cls(), ErrorClass::unavailable);
    EXPECT_THAT(e.what(), HasSubstr("redis at 127.0.0.1:" + std::to_string(redis_->port())));
  }
  EXPECT_THROW(run(store->ping()), Error);
  EXPECT_THROW(run(store->claim_next()), Error);
  redis_->start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {  // the reconnect backoff: at most 5 s
    try {
      run(store->ping());
      break;
    } catch (const Error&) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no reconnect";
      std::this_thread::sleep_for(100ms);
    }
  }
  auto claimed = run(store->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, job.id);
  EXPECT_EQ(*claimed->request.files.at("image_base64"), "PNGBYTES");
}

// /health/ready pings on one connection, accepts are written on another. Once the ping
// reconnects, an accept must not wait out its own connection's backoff (up to 5 s of 503s
// after the node said it was ready).
TEST_F(RedisStoreTest, OnceOneConnectionIsBackTheOthersTryAgainAtOnce) {
  auto store = node();
  run(store->ping());
  redis_->kill();
  // Each failed connect doubles the writer's backoff: 100, 200, 400, 800 ms, then 1.6 s
  // from the last add here.
  for (int i = 0; i < 6; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << (i - 1)) + 20ms);
    EXPECT_THROW(run(store->add(make_job())), Error);
  }
  redis_->start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    try {
      run(store->ping());
      break;
    } catch (const Error&) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no reconnect";
      std::this_thread::sleep_for(50ms);
    }
  }
  auto job = make_job();
  run(store->add(job));  // would throw "reconnecting with backoff" for up to 1.6 s more
  auto claimed = run(store->claim_next());
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, job.id);
}

// A batch's items go to Redis as they finish, so GET /jobs/{id}/items answers on any node.
TEST_F(RedisStoreTest, ItemsWrittenOnOneNodeArePagedByIndexOnAnotherEachOnce) {
  auto runner = node(), other = node();
  auto job = make_job();
  run(runner->add(job));
  ASSERT_EQ(run(runner->claim_next())->id, job.id);
  ASSERT_TRUE(runner->item_store());
  StoreItemSink sink(*runner->item_store(), job.id, 100);
  // Finished out of order, as concurrent workers finish them.
  for (std::size_t i = 0; i < 2500; ++i) run(sink.add(item_at(i % 2 ? 2500 - i : i)));
  run(sink.flush());

  std::vector<ItemResult> items;
  std::optional<std::size_t> after;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    auto page = run(other->item_store()->item_page(job.id, after, 300));
    EXPECT_LE(page.items.size(), 300u);
    for (auto& item : page.items) items.push_back(std::move(item));
    more = page.more;
    if (!items.empty()) after = items.back().index;
  }
  ASSERT_EQ(items.size(), 2500u);
  EXPECT_EQ(pages, 9);
  for (std::size_t i = 0; i < items.size(); ++i) ASSERT_EQ(items[i].index, i);
  EXPECT_EQ(items[7].name, "batch/img7.png");
  EXPECT_EQ(items[7].outputs.at(0).key, "out/img7.png");
  EXPECT_FALSE(items[7].outputs.at(0).data);  // bytes are the result's, not the items'
  const auto tail = run(other->item_store()->item_page(job.id, 2497, 10));
  ASSERT_EQ(tail.items.size(), 2u);
  EXPECT_EQ(tail.items[1].index, 2499u);
  EXPECT_FALSE(tail.more);
}

// A job taken up by another node starts with no items; the node that went silent cannot
// write into the new run; a removed job takes its items.
TEST_F(RedisStoreTest, AJobRunAgainStartsWithNoItemsAndASilentNodesItemsAreRefused) {
  auto job = make_job();
  job.notify = false;  // nothing pending: removable once finished
  {
    auto dying = node("node-a");
    run(dying->add(job));
    ASSERT_TRUE(run(dying->claim_next()));
    run(dying->item_store()->put_items(job.id, {item_at(0), item_at(1), item_at(2)}));
  }
  auto survivor = node("node-b");
  auto again = claim_within(*survivor);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->runs, 2);
  EXPECT_TRUE(run(survivor->item_store()->item_page(job.id, std::nullopt, 10)).items.empty());

  run(survivor->item_store()->put_items(job.id, {item_at(0, "failed"), item_at(1)}));
  run(survivor->item_store()->put_items(job.id, {item_at(0)}));  // the same index replaced
  auto revenant = node("node-a");  // the silent node, back with its old name
  run(revenant->item_store()->put_items(job.id, {item_at(5)}));
  auto page = run(survivor->item_store()->item_page(job.id, std::nullopt, 10));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].status, "completed");
  EXPECT_EQ(page.items[1].index, 1u);

  run(survivor->finish(finished(job.id)));
  EXPECT_EQ(run(survivor->remove_finished_before(std::chrono::system_clock::now() + 1h)), 1);
  EXPECT_TRUE(run(survivor->item_store()->item_page(job.id, std::nullopt, 10)).items.empty());
}

// The dashboard's thumbnails read an inline result's bytes back on whichever node serves
// the page.
TEST_F(RedisStoreTest, AnInlineOutputIsReadBackOnAnyNode) {
  auto a = node(), b = node();
  auto job = make_job();
  run(a->add(job));
  run(a->claim_next());
  run(a->finish(finished(job.id)));
  EXPECT_EQ(run(b->inline_output(job.id, 0, 0)), std::optional<std::string>("RESULTBYTES"));
  EXPECT_FALSE(run(b->inline_output(job.id, 0, 1)));
  EXPECT_FALSE(run(b->inline_output(job.id, 3, 0)));
  EXPECT_FALSE(run(b->inline_output("no-such-job", 0, 0)));
}

}  // namespace
}  // namespace imagepipe::testing
