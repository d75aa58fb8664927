// The job store's queries for operators (GET /jobs, cancel, callback retry), apart from
// the queue's own: they run on the store's thread like every other query.
#pragma once

#include <optional>
#include <string>

#include "jobs/jobs.hpp"
#include "jobs/sqlite_db.hpp"

namespace imagepipe::jobs {

// Indexes GET /jobs reads in order, newest first, whatever the filter: without them a
// page would sort every matching row (100,000 jobs: tens of milliseconds and growing).
// A status filter reads the queue's own jobs_by_status(status, created_at). An index ends
// with the rowid, the order in which jobs were stored. Created on open, so stores from
// before them gain them too.
extern const char* const kListingIndexes;

JobPage select_job_page(Database& db, const JobQuery& query);

// Queued → cancelled, in one statement (a claim cannot slip in between). The status
// before, "" when there is no such job; `input_segment` is what the job held, to release.
std::string cancel_queued_job(Database& db, const std::string& id, std::int64_t now_ms,
                              std::optional<std::uint64_t>& input_segment);

RetryOutcome queue_callback_again(Database& db, const std::string& id, std::int64_t now_ms);

}  // namespace imagepipe::jobs
