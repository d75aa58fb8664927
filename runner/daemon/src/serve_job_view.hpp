// How the jobs API shows a job: the whole record (GET /jobs/{id}: summary, timings, a
// per-step timeline, callback attempts) and the short entry a listing holds.
#pragma once

#include <nlohmann/json.hpp>

#include "jobs/jobs.hpp"

namespace imagepipe::serve {

// GET /jobs/{id} shows a job's first items; GET /jobs/{id}/items pages through all of them,
// from the cursor in `items_next` (null when the job has no more).
constexpr std::size_t kInlineItems = 100;
// An ISO 8601 time, or null when there is none.
nlohmann::json time_or_null(const std::optional<TimePoint>& t);
nlohmann::json job_record_json(const JobRecord& record);
nlohmann::json job_list_entry_json(const JobListEntry& entry);

// Each item's steps in the order they ran, with when each started relative to the item's
// start (steps of an item run one after another): {item, name, step, start_seconds,
// seconds, provider, images, usage, chain (the providers tried)}. From the per-step
// records the engine keeps in the result; the items below index `items` only.
nlohmann::json step_timeline(const JobResult& result, std::size_t items = kInlineItems);

}  // namespace imagepipe::serve
