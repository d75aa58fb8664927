// Process metrics in Prometheus text format. Counters and histograms are keyed by name
// and a label set; everything is thread-safe and cheap enough for per-item use.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace imagepipe {

using Labels = std::map<std::string, std::string>;

class Metrics {
 public:
  void inc(const std::string& name, const Labels& labels = {}, double by = 1.0);
  void set(const std::string& name, const Labels& labels, double value);  // gauge
  void observe(const std::string& name, const Labels& labels, double seconds);  // histogram
  double value(const std::string& name, const Labels& labels = {}) const;  // counter or gauge
  // One HELP line per family; call before first use for nicer output.
  void describe(const std::string& name, const std::string& help);
  std::string prometheus_text() const;

 private:
  struct Histogram {
    std::vector<double> counts;  // per bucket, cumulative computed at render
    double sum = 0;
    double count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::string> help_;
  std::map<std::string, std::map<Labels, double>> counters_;
  std::map<std::string, std::map<Labels, double>> gauges_;
  std::map<std::string, std::map<Labels, Histogram>> histograms_;
};

}  // namespace imagepipe
