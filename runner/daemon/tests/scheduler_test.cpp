// The daemon's scheduler on a virtual clock with a real SQLite store in a temporary
// directory: each due time queues exactly one job, across restarts too, and a restart
// after an outage runs the missed period once.
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include "serve_scheduler.hpp"
#include "store_fixture.hpp"

namespace imagepipe::testing {
namespace {

using namespace std::chrono;
using serve::ScheduledRun;
using serve::Scheduler;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours(h) + minutes(min) + seconds(s);
}

ScheduleTrigger trigger(std::string_view cron, nlohmann::json body = {{"prompt", "nightly"}},
                        std::string zone = "UTC") {
  ScheduleTrigger t;
  t.cron = CronSchedule::parse(cron, find_time_zone(zone));
  t.timezone = zone;
  t.body = std::move(body);
  return t;
}

// Time moves only when the scheduler sleeps, and by exactly as long.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override { return now_; }
  steady_clock::time_point steady_now() const override {
    return steady_clock::time_point(duration_cast<steady_clock::duration>(now_.time_since_epoch()));
  }
  Task<void> sleep_for(milliseconds d) override {
    now_ += d;
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
  TimePoint now_;
};

class SchedulerTest : public StoreTest {
 protected:
  // A daemon start: a new scheduler on the (reopened) store, opened at `now`.
  std::unique_ptr<Scheduler> start(TimePoint now, std::vector<const ScheduleTrigger*> triggers) {
    std::vector<ScheduledRun> runs;
    for (const auto* t : triggers) runs.push_back({"nightly", t, false});
    auto s = std::make_unique<Scheduler>(
        *store_, clock_, std::move(runs), [this] { ++wakes_; }, spdlog::default_logger());
    run(s->open(now));
    return s;
  }
  // The daemon stops and starts again at `now` on the same data directory.
  void restart(std::unique_ptr<Scheduler>& s, TimePoint now,
               std::vector<const ScheduleTrigger*> triggers) {
    s.reset();
    reopen();
    s = start(now, std::move(triggers));
  }
  // The jobs queued so far, oldest first, taken from the queue.
  std::vector<ClaimedJob> claim_all() {
    std::vector<ClaimedJob> jobs;
    while (auto job = run(store_->claim_next())) jobs.push_back(std::move(*job));
    return jobs;
  }
  // Jobs in the store, whatever their status.
  std::int64_t total() {
    std::int64_t n = 0;
    for (const auto& [key, count] : run(store_->counts()).by_pipeline_status) n += count;
    return n;
  }

  ManualClock clock_{utc(2026, 1, 1)};
  int wakes_ = 0;
};

TEST_F(SchedulerTest, EachDueTimeQueuesOneJobWithTheBody) {
  const auto nightly = trigger("0 2 * * *");
  auto s = start(utc(2026, 1, 1), {&nightly});
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 1, 1, 59, 59))), utc(2026, 1, 1, 2));
  EXPECT_EQ(total(), 0);

  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 1, 2))), utc(2026, 1, 2, 2));
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 1, 2, 0, 30))), utc(2026, 1, 2, 2));
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 2, 2, 0, 1))), utc(2026, 1, 3, 2));
  const auto jobs = claim_all();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(wakes_, 2);
  for (const auto& job : jobs) {
    EXPECT_EQ(job.pipeline, "nightly");
    EXPECT_EQ(job.request.body, (nlohmann::json{{"prompt", "nightly"}}));
  }
  EXPECT_EQ(jobs[0].id,
            serve::scheduled_job_id(serve::schedule_key("nightly", nightly), utc(2026, 1, 1, 2)));
  const auto status = s->status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].next_run, utc(2026, 1, 3, 2));
  ASSERT_TRUE(status[0].last_run);
  EXPECT_EQ(status[0].last_run->due, utc(2026, 1, 2, 2));
  EXPECT_EQ(status[0].last_run->job_id, jobs[1].id);
}

TEST_F(SchedulerTest, ARestartAcrossDueTimesRunsTheMissedPeriodOnce) {
  const auto nightly = trigger("0 2 * * *");
  auto s = start(utc(2026, 1, 1), {&nightly});
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 1, 2))), utc(2026, 1, 2, 2));
  // Down from 02:00 on the 1st to 03:00 on the 4th: three runs missed.
  restart(s, utc(2026, 1, 4, 3), {&nightly});
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 4, 3))), utc(2026, 1, 5, 2));
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 4, 3, 0, 1))), utc(2026, 1, 5, 2));
  const auto jobs = claim_all();
  ASSERT_EQ(jobs.size(), 2u);  // the first day's, and one for the missed period
  EXPECT_EQ(jobs[1].id,
            serve::scheduled_job_id(serve::schedule_key("nightly", nightly), utc(2026, 1, 4, 2)));
  // And again at once: nothing more.
  restart(s, utc(2026, 1, 4, 3, 1), {&nightly});
  run(s->fire_due(utc(2026, 1, 4, 3, 1)));
  EXPECT_EQ(total(), 2);
}

TEST_F(SchedulerTest, ARestartBeforeADueTimeDoesNotFireEarly) {
  const auto nightly = trigger("0 2 * * *");
  auto s = start(utc(2026, 1, 1), {&nightly});
  run(s->fire_due(utc(2026, 1, 1, 2)));
  restart(s, utc(2026, 1, 2, 1, 59), {&nightly});
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 2, 1, 59))), utc(2026, 1, 2, 2));
  EXPECT_EQ(total(), 1);
  run(s->fire_due(utc(2026, 1, 2, 2)));
  EXPECT_EQ(total(), 2);
}

TEST_F(SchedulerTest, ARestartRightAfterAFireDoesNotRepeatIt) {
  const auto nightly = trigger("0 2 * * *");
  auto s = start(utc(2026, 1, 1), {&nightly});
  run(s->fire_due(utc(2026, 1, 1, 2)));
  restart(s, utc(2026, 1, 1, 2, 0, 5), {&nightly});
  run(s->fire_due(utc(2026, 1, 1, 2, 0, 5)));
  EXPECT_EQ(total(), 1);
}

TEST_F(SchedulerTest, ANewScheduleDoesNotCatchUpOnTimeBeforeItExisted) {
  const auto nightly = trigger("0 2 * * *");
  auto s = start(utc(2026, 1, 1, 3), {&nightly});
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 1, 3))), utc(2026, 1, 2, 2));
  EXPECT_EQ(total(), 0);
  // Down before its first due time and up after it: that run was missed, and is made up.
  restart(s, utc(2026, 1, 2, 5), {&nightly});
  run(s->fire_due(utc(2026, 1, 2, 5)));
  EXPECT_EQ(total(), 1);
}

TEST_F(SchedulerTest, TwoStartsRacingOnOneStoreQueueADueTimeOnce) {
  const auto nightly = trigger("0 2 * * *");
  auto a = start(utc(2026, 1, 1), {&nightly});
  auto b = start(utc(2026, 1, 1), {&nightly});
  run(a->fire_due(utc(2026, 1, 1, 2)));
  run(b->fire_due(utc(2026, 1, 1, 2)));
  EXPECT_EQ(total(), 1);
  EXPECT_EQ(wakes_, 1);
  EXPECT_EQ(a->status()[0].last_run->job_id, b->status()[0].last_run->job_id);
}

TEST_F(SchedulerTest, TwoSchedulesOnOnePipelineKeepTheirOwnTimesAndBodies) {
  const auto nightly = trigger("0 2 * * *", {{"prompt", "night"}});
  const auto weekdays = trigger("30 14 * * MON-FRI", {{"prompt", "afternoon"}}, "Europe/Paris");
  // Friday 2 January 2026; Paris is UTC+1, so 14:30 there is 13:30 UTC.
  auto s = start(utc(2026, 1, 2), {&nightly, &weekdays});
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 2, 2))), utc(2026, 1, 2, 13, 30));
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 2, 13, 30))), utc(2026, 1, 3, 2));
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 3, 2))), utc(2026, 1, 4, 2));  // Saturday
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 4, 2))), utc(2026, 1, 5, 2));
  EXPECT_EQ(run(s->fire_due(utc(2026, 1, 5, 2))), utc(2026, 1, 5, 13, 30));
  std::vector<std::string> prompts;
  for (const auto& job : claim_all()) prompts.push_back(job.request.body.at("prompt"));
  EXPECT_EQ(prompts, (std::vector<std::string>{"night", "afternoon", "night", "night", "night"}));
  EXPECT_NE(serve::schedule_key("nightly", nightly), serve::schedule_key("nightly", weekdays));
}

TEST_F(SchedulerTest, RunsOnTheInjectedClockUntilStopped) {
  const auto nightly = trigger("0 2 * * *");
  clock_.now_ = utc(2026, 1, 1, 1, 58, 30);
  std::vector<ScheduledRun> runs{{"nightly", &nightly, false}};
  std::vector<TimePoint> fired_at;
  Scheduler* self = nullptr;
  Scheduler s(
      *store_, clock_, runs,
      [&] {
        fired_at.push_back(clock_.now());
        if (fired_at.size() == 3) self->stop();
      },
      spdlog::default_logger());
  self = &s;
  run(s.run());
  EXPECT_EQ(fired_at,
            (std::vector<TimePoint>{utc(2026, 1, 1, 2), utc(2026, 1, 2, 2), utc(2026, 1, 3, 2)}));
  EXPECT_EQ(total(), 3);
}

TEST(ScheduledJobIds, AreUuidsOfKeyAndTime) {
  const auto id = serve::scheduled_job_id("nightly:0011223344556677", utc(2026, 1, 1, 2));
  EXPECT_EQ(id, serve::scheduled_job_id("nightly:0011223344556677", utc(2026, 1, 1, 2)));
  EXPECT_NE(id, serve::scheduled_job_id("nightly:0011223344556677", utc(2026, 1, 2, 2)));
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '8');  // version 8
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
}

TEST(LatestDue, IsTheMostRecentInTheWindow) {
  const auto minutely = CronSchedule::parse("* * * * *", find_time_zone("UTC"));
  // A year of missed minutes is not walked one by one from its start.
  EXPECT_EQ(serve::latest_due(minutely, utc(2025, 1, 1), utc(2026, 1, 1, 0, 0, 30)),
            utc(2026, 1, 1));
  const auto yearly = CronSchedule::parse("0 0 1 1 *", find_time_zone("UTC"));
  EXPECT_EQ(serve::latest_due(yearly, utc(2020, 6, 1), utc(2026, 6, 1)), utc(2026, 1, 1));
  EXPECT_EQ(serve::latest_due(yearly, utc(2026, 6, 1), utc(2026, 7, 1)), std::nullopt);
}

}  // namespace
}  // namespace imagepipe::testing
