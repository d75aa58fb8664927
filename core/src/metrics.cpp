#include "imagepipe/metrics.hpp"

#include <array>
#include <cmath>
#include <sstream>

namespace imagepipe {

namespace {
// Seconds: from a fast local transform to a slow image model.
constexpr std::array<double, 14> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,     2.5,  5,     10,   30,  120};

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string render_labels(const Labels& labels, const std::string& extra_key = {},
                          const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + escape(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(15);
  s << v;
  return s.str();
}
}  // namespace

void Metrics::inc(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(mu_);
  counters_[name][labels] += by;
}

void Metrics::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  gauges_[name][labels] = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard lock(mu_);
  auto& h = histograms_[name][labels];
  if (h.counts.empty()) h.counts.assign(kBuckets.size(), 0);
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) {
      h.counts[i] += 1;
      break;
    }
  h.sum += seconds;
  h.count += 1;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  for (const auto* family : {&counters_, &gauges_}) {
    auto f = family->find(name);
    if (f == family->end()) continue;
    auto v = f->second.find(labels);
    if (v != f->second.end()) return v->second;
  }
  return 0;
}

void Metrics::describe(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  help_[name] = help;
}

std::string Metrics::prometheus_text() const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  auto header = [&](const std::string& name, const char* type) {
    auto h = help_.find(name);
    if (h != help_.end()) out << "# HELP " << name << ' ' << h->second << '\n';
    out << "# TYPE " << name << ' ' << type << '\n';
  };
  for (const auto& [name, series] : counters_) {
    header(name, "counter");
    for (const auto& [labels, v] : series) out << name << render_labels(labels) << ' ' << number(v) << '\n';
  }
  for (const auto& [name, series] : gauges_) {
    header(name, "gauge");
    for (const auto& [labels, v] : series) out << name << render_labels(labels) << ' ' << number(v) << '\n';
  }
  for (const auto& [name, series] : histograms_) {
    header(name, "histogram");
    for (const auto& [labels, h] : series) {
      double cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.counts[i];
        out << name << "_bucket" << render_labels(labels, "le", number(kBuckets[i])) << ' '
            << number(cumulative) << '\n';
      }
      out << name << "_bucket" << render_labels(labels, "le", "+Inf") << ' ' << number(h.count) << '\n';
      out << name << "_sum" << render_labels(labels) << ' ' << number(h.sum) << '\n';
      out << name << "_count" << render_labels(labels) << ' ' << number(h.count) << '\n';
    }
  }
  return out.str();
}

}  // namespace imagepipe
