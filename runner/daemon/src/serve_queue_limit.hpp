// How many jobs each pipeline's route may have waiting to start (limits.
// queued_jobs_per_pipeline). Without a bound, a client posting faster than the provider
// answers fills the disk with jobs no one will see finish; past it, the route answers 503
// and the client knows to come back. Counts the jobs this process accepted over HTTP until
// the dispatcher starts them (scheduled and re-queued jobs are not refused, so not counted).
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace imagepipe::serve {

class QueuedJobs {
 public:
  explicit QueuedJobs(std::size_t per_pipeline) : limit_(per_pipeline) {}

  // Takes a place for job `id` of `pipeline`; false when the pipeline's places are taken.
  bool try_add(const std::string& pipeline, const std::string& id);
  // The job started, or was never stored: its place is free again. Unknown ids are ignored.
  void remove(const std::string& id);
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;  // 0: no limit
  std::mutex mu_;
  std::map<std::string, std::string> pipeline_of_;  // by job id
  std::map<std::string, std::size_t> waiting_;      // by pipeline
};

}  // namespace imagepipe::serve
