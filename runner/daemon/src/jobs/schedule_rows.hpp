// The job store's memory of schedules: per schedule, the last due time that fired, so a
// restart neither skips a run nor repeats one. Kept in a table of its own, created with
// IF NOT EXISTS, so data directories written before schedules existed open unchanged.
#pragma once

#include <optional>
#include <string>

#include "jobs/jobs.hpp"
#include "jobs/sqlite_db.hpp"

namespace imagepipe::jobs {

inline constexpr const char* kScheduleSchema = R"sql(
CREATE TABLE IF NOT EXISTS schedules(
  key TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  last_due INTEGER NOT NULL,
  last_job_id TEXT NOT NULL);  -- '' until the schedule first fires
)sql";

// The schedule's row, inserted with `now` and no job when the schedule is new.
ScheduleRun open_schedule(Database& db, const std::string& key, const std::string& pipeline,
                          TimePoint now);

// In one transaction: the job (ignored when a job with its id exists: another start
// already queued this due time) and the schedule's last due time, which never moves back.
// Returns whether the job was queued by this call.
bool insert_scheduled_job(Database& db, const NewJob& job, const std::string& key, TimePoint due,
                          std::int64_t now_ms);

}  // namespace imagepipe::jobs
