#include "serve_queue_limit.hpp"

namespace imagepipe::serve {

bool QueuedJobs::try_add(const std::string& pipeline, const std::string& id) {
  if (limit_ == 0) return true;
  std::lock_guard lock(mu_);
  auto& waiting = waiting_[pipeline];
  if (waiting >= limit_) return false;
  ++waiting;
  pipeline_of_.emplace(id, pipeline);
  return true;
}

void QueuedJobs::remove(const std::string& id) {
  if (limit_ == 0) return;
  std::lock_guard lock(mu_);
  const auto it = pipeline_of_.find(id);
  if (it == pipeline_of_.end()) return;
  if (auto w = waiting_.find(it->second); w != waiting_.end() && --w->second == 0)
    waiting_.erase(w);
  pipeline_of_.erase(it);
}

}  // namespace imagepipe::serve
