#include "jobs/job_history_reader.hpp"

#include "imagepipe/error.hpp"
#include "jobs/job_listing.hpp"
#include "jobs/store_rows.hpp"

namespace imagepipe::jobs {

namespace {

std::filesystem::path existing_store(const std::filesystem::path& directory) {
  auto file = directory / "jobs.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(ErrorClass::not_found,
                "no job store in " + directory.string() +
                    " (jobs.db is missing; is it the --data of `imagepipe serve`?)");
  return file;
}

}  // namespace

JobHistoryReader::JobHistoryReader(const std::filesystem::path& directory)
    : db_(existing_store(directory), Database::Access::read_only) {
  std::string schema;
  try {
    auto q = db_.prepare("SELECT value FROM meta WHERE key='schema'");
    if (q.step()) schema = q.text(0);
  } catch (const Error&) {
    // No meta table: not a job store (or an empty file); said below.
  }
  if (schema != kSchemaVersion)
    throw Error(ErrorClass::unavailable,
                "job store " + (directory / "jobs.db").string() +
                    (schema.empty() ? std::string(" is not an imagepipe job store")
                                    : " has schema '" + schema + "', this build reads '" +
                                          kSchemaVersion + "'"));
}

std::optional<JobRecord> JobHistoryReader::get(const std::string& id) {
  return select_job_record(db_, id);
}

JobPage JobHistoryReader::list(const JobQuery& query) { return select_job_page(db_, query); }

}  // namespace imagepipe::jobs
