// A data directory's job history, read without opening its job store: `imagepipe jobs
// --data DIR` on a host whose daemon is stopped, or beside the daemon that owns the
// directory. Read-only (no schema created, no segment touched, no job changed), so it
// never races the daemon; cancelling and re-sending callbacks stay the daemon's.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "jobs/jobs.hpp"
#include "jobs/sqlite_db.hpp"

namespace imagepipe::jobs {

// The schema this build reads and writes (meta 'schema' in jobs.db).
inline constexpr const char* kSchemaVersion = "imagepipe-jobs-2";

class JobHistoryReader {
 public:
  // Throws Error(not_found) when the directory holds no job store, Error(unavailable) when
  // jobs.db cannot be read or another build wrote it.
  explicit JobHistoryReader(const std::filesystem::path& directory);

  std::optional<JobRecord> get(const std::string& id);
  JobPage list(const JobQuery& query);

 private:
  Database db_;
};

}  // namespace imagepipe::jobs
