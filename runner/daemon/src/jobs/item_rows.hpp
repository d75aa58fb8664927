// The job store's per-item results: one row per finished item, keyed by (job, index), so a
// batch of any size is stored as it runs and read back a page at a time. A table of its
// own, created with IF NOT EXISTS: data directories written before it open unchanged (their
// jobs' items are in their results), and the schema version stays.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jobs/jobs.hpp"
#include "jobs/sqlite_db.hpp"

namespace imagepipe::jobs {

// WITHOUT ROWID: the rows live in (job_id, idx) order, which is how pages read them and how
// a removed job's rows are found for the cascade.
inline constexpr const char* kItemSchema = R"sql(
CREATE TABLE IF NOT EXISTS items(
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  item TEXT NOT NULL,
  PRIMARY KEY(job_id, idx)) WITHOUT ROWID;
)sql";

// In one transaction, replacing rows of the same index.
void insert_items(Database& db, const std::string& job_id, const std::vector<ItemResult>& items);

ItemPage select_item_page(Database& db, const std::string& job_id, std::optional<std::size_t> after,
                          int limit);

// A job run again lists its items afresh: what an earlier run stored goes.
void forget_items(Database& db, const std::string& job_id);

}  // namespace imagepipe::jobs
