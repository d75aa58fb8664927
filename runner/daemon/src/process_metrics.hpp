// The process_* families every Prometheus client library exports (CPU, memory, open
// files, start time), read from /proc on Linux when /metrics is scraped, so dashboards
// and alerts written for any other service work unchanged. Elsewhere they are left out.
#pragma once

#include <mutex>

#include "imagepipe/metrics.hpp"

namespace imagepipe::serve {

class ProcessMetrics {
 public:
  explicit ProcessMetrics(Metrics& metrics);
  // Reads /proc/self and updates the families; called before each scrape.
  void update();

 private:
  Metrics& metrics_;
  std::mutex mu_;
  double cpu_reported_ = 0;  // the counter only goes up: add what was used since
};

// imagepipe_build_info{version, compiler, boost} 1: which build answers, for dashboards.
void set_build_info(Metrics& metrics, const std::string& version);

}  // namespace imagepipe::serve
