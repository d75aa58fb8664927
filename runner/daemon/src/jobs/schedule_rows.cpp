#include "jobs/schedule_rows.hpp"

#include "jobs/store_rows.hpp"

namespace imagepipe::jobs {

ScheduleRun open_schedule(Database& db, const std::string& key, const std::string& pipeline,
                          TimePoint now) {
  db.prepare(
        "INSERT OR IGNORE INTO schedules(key, pipeline, last_due, last_job_id) "
        "VALUES(?, ?, ?, '')")
      .bind(1, key)
      .bind(2, pipeline)
      .bind(3, to_unix_ms(now))
      .run();
  auto q = db.prepare("SELECT last_due, last_job_id FROM schedules WHERE key=?");
  q.bind(1, key);
  q.step();
  return ScheduleRun{from_unix_ms(q.integer(0)), q.text(1)};
}

bool insert_scheduled_job(Database& db, const NewJob& job, const std::string& key, TimePoint due,
                          std::int64_t now_ms) {
  // Scheduled bodies come from the pipeline file: no images moved out to segment files.
  if (!job.inputs.empty())
    throw Error(ErrorClass::internal, "a scheduled job carries no input files");
  Transaction tx(db);
  db.prepare(
        "INSERT OR IGNORE INTO jobs(id, pipeline, status, request, inputs, input_segment, "
        "notify, request_id, created_at) VALUES(?, ?, 'queued', ?, '[]', NULL, ?, '', ?)")
      .bind(1, job.id)
      .bind(2, job.pipeline)
      .bind(3, request_to_json(job.request).dump())
      .bind(4, std::int64_t{job.notify})
      .bind(5, now_ms)
      .run();
  const bool queued = db.changes() > 0;
  db.prepare(
        "INSERT INTO schedules(key, pipeline, last_due, last_job_id) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET last_due=excluded.last_due, "
        "last_job_id=excluded.last_job_id WHERE excluded.last_due > schedules.last_due")
      .bind(1, key)
      .bind(2, job.pipeline)
      .bind(3, to_unix_ms(due))
      .bind(4, job.id)
      .run();
  tx.commit();
  return queued;
}

}  // namespace imagepipe::jobs
