// trigger.schedule in the daemon: queues a job in the store at each due time of each
// schedule. The store remembers every schedule's last due time, so a restart neither
// skips nor repeats a run; a job's id is derived from (schedule, due time), so two starts
// racing on one data directory cannot queue the same run twice.
//
// Missed runs: when the daemon was down (or asleep) across one or more due times, the most
// recent of them runs once, at start; the others are not made up.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "imagepipe/clock.hpp"
#include "jobs/jobs.hpp"
#include "imagepipe/logging.hpp"

namespace imagepipe::serve {

// Another clock, moved by a fixed offset (serve --test-schedule-clock).
class OffsetClock final : public Clock {
 public:
  OffsetClock(Clock& base, std::chrono::system_clock::duration offset)
      : base_(base), offset_(offset) {}
  TimePoint now() const override { return base_.now() + offset_; }
  std::chrono::steady_clock::time_point steady_now() const override { return base_.steady_now(); }
  Task<void> sleep_for(std::chrono::milliseconds d) override { return base_.sleep_for(d); }

 private:
  Clock& base_;
  std::chrono::system_clock::duration offset_;
};

// "2026-01-01T02:00:00Z" (UTC, whole seconds); nullopt for anything else.
std::optional<TimePoint> parse_utc(const std::string& text);

// One schedule of one pipeline, as the scheduler runs it.
struct ScheduledRun {
  std::string pipeline;
  const ScheduleTrigger* trigger = nullptr;  // owned by the pipeline, which outlives this
  bool notify = false;                       // the pipeline has notifiers
};

// What /health/ready shows of a schedule.
struct ScheduleStatus {
  std::string pipeline;
  std::string cron;
  std::string timezone;
  std::optional<TimePoint> next_run;
  std::optional<ScheduleRun> last_run;
};

// The key under which the store keeps a schedule: a digest of what defines it (pipeline,
// expression, zone, body). Editing any of them makes a new schedule.
std::string schedule_key(const std::string& pipeline, const ScheduleTrigger& trigger);
// The id of the job for one due time: a UUID (version 8, SHA-256 based) of key and time.
std::string scheduled_job_id(const std::string& key, TimePoint due);
// The most recent due time in (after, until], if any.
std::optional<TimePoint> latest_due(const CronSchedule& cron, TimePoint after, TimePoint until);

class Scheduler {
 public:
  Scheduler(JobStore& store, Clock& clock, std::vector<ScheduledRun> runs,
            std::function<void()> on_queued, std::shared_ptr<spdlog::logger> log);

  // Reads each schedule's last run from the store (a new schedule starts counting at `now`).
  Task<void> open(TimePoint now);
  // Queues the runs due at `now` (at most one per schedule); returns when the next is due.
  Task<std::optional<TimePoint>> fire_due(TimePoint now);
  // open(), then fire_due() at each due time on the clock, until stop().
  Task<void> run();
  void stop() { stopped_ = true; }

  std::vector<ScheduleStatus> status() const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    ScheduledRun run;
    std::string key;
    ScheduleRun last;  // no job id: nothing fired yet, counting from last.due
    std::optional<TimePoint> next;
    bool opened = false;
  };
  Task<void> fire(Entry& entry, TimePoint due);

  JobStore& store_;
  Clock& clock_;
  std::vector<Entry> entries_;
  std::function<void()> on_queued_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mu_;  // entries_' times, read by /health/ready on another thread
  std::atomic<bool> stopped_{false};
};

}  // namespace imagepipe::serve
