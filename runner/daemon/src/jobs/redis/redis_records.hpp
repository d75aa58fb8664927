// Reading the Redis job store's hashes back into the store's records: GET /jobs/{id},
// GET /jobs pages, counts and due callbacks. Pure functions of replies, apart from the
// connection they query, so the store file keeps to the queue itself.
#pragma once

#include <string>
#include <vector>

#include "jobs/jobs.hpp"
#include "jobs/redis/redis_connection.hpp"

namespace imagepipe::jobs::redis {

// "item:output" names an inline output's bytes in the job's :out hash.
std::string output_key(std::size_t item, std::size_t output);

std::optional<JobRecord> read_job_record(Connection& c, const std::string& prefix,
                                         const std::string& id);
JobPage read_job_page(Connection& c, const std::string& prefix, const JobQuery& query);
JobCounts read_counts(Connection& c, const std::string& prefix);
// One element of the kLeaseDue script's reply, with the inline bytes in the result.
DueCallback read_due_callback(const redisReply* entry);

}  // namespace imagepipe::jobs::redis
