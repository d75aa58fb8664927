// Queries of the job store that need nothing but its connection: the callback outbox
// (due callbacks, attempts) and the record GET /jobs/{id} shows. The store runs them on
// its own thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "jobs/jobs.hpp"
#include "jobs/segment_log.hpp"
#include "jobs/sqlite_db.hpp"

namespace imagepipe::jobs {

// The request as stored: body (image members taken out), headers, query.
nlohmann::json request_to_json(const JobRequest& r);
JobRequest request_from_json(const nlohmann::json& j);

std::optional<JobRecord> select_job_record(Database& db, const std::string& id);

// Where one inline output's bytes are in the results log; nullopt when the job, the item
// or the output is not there or was not kept inline.
std::optional<BlobRef> select_inline_output(Database& db, const std::string& id, std::size_t item,
                                            std::size_t output);

// An output kept inline for a base64 callback: where its bytes are in the results log.
struct InlineOutput {
  std::size_t item = 0, output = 0;
  BlobRef bytes;
};
struct DueRow {
  DueCallback callback;  // without the inline outputs' bytes, which the caller reads
  std::vector<InlineOutput> inline_outputs;
};

// Callbacks due at `now`, oldest first, leased for `lease_for` so no other delivery takes
// them meanwhile.
std::vector<DueRow> lease_due_callbacks(Database& db, TimePoint now, int limit,
                                        std::chrono::milliseconds lease_for);
void record_callback_attempt(Database& db, const std::string& job_id,
                             const CallbackAttempt& attempt);
std::optional<TimePoint> next_callback_time(Database& db);

}  // namespace imagepipe::jobs
