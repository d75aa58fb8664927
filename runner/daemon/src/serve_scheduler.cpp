#include "serve_scheduler.hpp"
#include "serve_api_keys.hpp"

#include <array>
#include <cstdio>

namespace imagepipe::serve {

namespace {

// Each wait is cut short this often, so a change of the system clock (or a suspended
// machine) is noticed within this long.
constexpr std::chrono::seconds kMaxWait{60};
// After the store refused a run, the schedule tries again this much later.
constexpr std::chrono::seconds kRetryAfter{30};

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

std::optional<TimePoint> parse_utc(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char z = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &y, &mo, &d, &h, &mi, &s, &z,
                  &used) != 7 ||
      z != 'Z' || static_cast<std::size_t>(used) != text.size())
    return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0) return std::nullopt;
  return sys_days{date} + hours(h) + minutes(mi) + seconds(s);
}

std::string schedule_key(const std::string& pipeline, const ScheduleTrigger& trigger) {
  const auto digest = sha256(pipeline + '\n' + trigger.cron.expression() + '\n' + trigger.timezone +
                             '\n' + trigger.body.dump());
  return pipeline + ":" + hex(digest.data(), 8);
}

std::string scheduled_job_id(const std::string& key, TimePoint due) {
  auto d = sha256("imagepipe-schedule\n" + key + '\n' + std::to_string(to_unix_ms(due)));
  d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x80);  // version 8: custom
  d[8] = static_cast<unsigned char>((d[8] & 0x3f) | 0x80);  // RFC 9562 variant
  const std::string h = hex(d.data(), 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

namespace {
// From a due time, on to the last one not after `until`.
TimePoint last_until(const CronSchedule& cron, TimePoint due, TimePoint until) {
  while (auto later = cron.next_after(due)) {
    if (*later > until) break;
    due = *later;
  }
  return due;
}
}  // namespace

std::optional<TimePoint> latest_due(const CronSchedule& cron, TimePoint after, TimePoint until) {
  using std::chrono::hours;
  // Look back a little first, so a minutely schedule missed for a year is not walked
  // minute by minute from the start of the outage.
  for (const auto window : {hours(1), hours(24), hours(24 * 32), hours(24 * 366)}) {
    const TimePoint from = std::max(after, until - window);
    if (auto due = cron.next_after(from); due && *due <= until)
      return last_until(cron, *due, until);
    if (from == after) return std::nullopt;
  }
  auto due = cron.next_after(after);
  if (!due || *due > until) return std::nullopt;
  return last_until(cron, *due, until);
}

Scheduler::Scheduler(JobStore& store, Clock& clock, std::vector<ScheduledRun> runs,
                     std::function<void()> on_queued, std::shared_ptr<spdlog::logger> log)
    : store_(store), clock_(clock), on_queued_(std::move(on_queued)), log_(std::move(log)) {
  for (auto& run : runs) {
    Entry entry;
    entry.key = schedule_key(run.pipeline, *run.trigger);
    entry.run = std::move(run);
    entries_.push_back(std::move(entry));
  }
}

Task<void> Scheduler::open(TimePoint now) {
  for (auto& entry : entries_) {
    const auto last = co_await store_.open_schedule(entry.key, entry.run.pipeline, now);
    std::lock_guard lock(mu_);
    entry.last = last;
    entry.next = entry.run.trigger->cron.next_after(last.due);
    entry.opened = true;
  }
}

Task<std::optional<TimePoint>> Scheduler::fire_due(TimePoint now) {
  std::optional<TimePoint> wake;
  for (auto& entry : entries_) {
    if (!entry.opened || !entry.next) continue;
    if (*entry.next <= now) {
      // The most recent due time stands for all those missed since the last run.
      const auto due =
          latest_due(entry.run.trigger->cron, entry.last.due, now).value_or(*entry.next);
      if (due != *entry.next)
        log_->warn(
            "schedule '{}' of pipeline '{}' missed its runs from {} to {}; running once for them",
            entry.run.trigger->cron.expression(), entry.run.pipeline, iso8601(*entry.next),
            iso8601(due));
      try {
        co_await fire(entry, due);
      } catch (const std::exception& e) {
        log_->error(
            "schedule '{}' of pipeline '{}': cannot queue the run due {}: {}; trying again in {} s",
            entry.run.trigger->cron.expression(), entry.run.pipeline, iso8601(due), e.what(),
            kRetryAfter.count());
        const TimePoint retry = now + kRetryAfter;
        if (!wake || retry < *wake) wake = retry;
        continue;
      }
    }
    if (entry.next && (!wake || *entry.next < *wake)) wake = entry.next;
  }
  co_return wake;
}

Task<void> Scheduler::fire(Entry& entry, TimePoint due) {
  NewJob job;
  job.id = scheduled_job_id(entry.key, due);
  job.pipeline = entry.run.pipeline;
  job.request.body = entry.run.trigger->body;
  job.notify = entry.run.notify;
  const std::string id = job.id;
  const bool queued = co_await store_.add_scheduled(std::move(job), entry.key, due);
  {
    std::lock_guard lock(mu_);
    entry.last = ScheduleRun{due, id};
    entry.next = entry.run.trigger->cron.next_after(due);
  }
  if (queued) {
    log_->info("schedule '{}' of pipeline '{}' queued job {} (due {})",
               entry.run.trigger->cron.expression(), entry.run.pipeline, id, iso8601(due));
    if (on_queued_) on_queued_();
  } else {
    log_->info("schedule '{}' of pipeline '{}': job {} (due {}) was already queued",
               entry.run.trigger->cron.expression(), entry.run.pipeline, id, iso8601(due));
  }
}

Task<void> Scheduler::run() {
  // A store that cannot answer at start delays the schedules; it does not end them.
  for (;;) {
    try {
      co_await open(clock_.now());
      break;
    } catch (const std::exception& e) {
      log_->error("schedules cannot read their last runs: {}; trying again in {} s", e.what(),
                  kRetryAfter.count());
    }
    if (stopped_) co_return;
    co_await clock_.sleep_for(kRetryAfter);
  }
  while (!stopped_) {
    const auto wake = co_await fire_due(clock_.now());
    if (stopped_) break;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(
        wake ? *wake - clock_.now() : std::chrono::milliseconds(kMaxWait));
    wait = std::clamp<std::chrono::milliseconds>(wait, std::chrono::milliseconds(0), kMaxWait);
    co_await clock_.sleep_for(wait);
  }
}

std::vector<ScheduleStatus> Scheduler::status() const {
  std::lock_guard lock(mu_);
  std::vector<ScheduleStatus> out;
  for (const auto& entry : entries_) {
    ScheduleStatus s{entry.run.pipeline, entry.run.trigger->cron.expression(),
                     entry.run.trigger->timezone, entry.next, std::nullopt};
    if (!entry.last.job_id.empty()) s.last_run = entry.last;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace imagepipe::serve
