// How the jobs API shows a job: the whole record (GET /jobs/{id}: summary, timings, a
// per-step timeline, callback attempts) and the short entry a listing holds.
#pragma once

#include <nlohmann/json.hpp>

#include "jobs/jobs.hpp"

namespace imagepipe::serve {

nlohmann::json job_record_json(const JobRecord& record);
nlohmann::json job_list_entry_json(const JobListEntry& entry);

// Each item's steps in the order they ran, with when each started relative to the item's
// start (steps of an item run one after another): {item, name, step, start_seconds,
// seconds, provider, images, usage, chain (the providers tried)}. From the per-step
// records the engine keeps in the result.
nlohmann::json step_timeline(const JobResult& result);

}  // namespace imagepipe::serve
