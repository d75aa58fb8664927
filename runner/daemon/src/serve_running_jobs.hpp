// The jobs this process is running, each with a flag POST /jobs/{id}/cancel raises; the
// engine reads it before starting each item. Another process sharing the data directory
// runs its own jobs, so a cancel reaches only the jobs running here.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace imagepipe::serve {

class RunningJobs {
 public:
  using Flag = std::shared_ptr<std::atomic<bool>>;

  Flag started(const std::string& id) {
    std::lock_guard lock(mu_);
    return jobs_[id] = std::make_shared<std::atomic<bool>>(false);
  }
  void ended(const std::string& id) {
    std::lock_guard lock(mu_);
    jobs_.erase(id);
  }
  // False when the job does not run in this process.
  bool cancel(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return false;
    *it->second = true;
    return true;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Flag> jobs_;
};

}  // namespace imagepipe::serve
