#include "process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <boost/version.hpp>

namespace imagepipe::serve {

namespace {

struct StatFields {
  double cpu_seconds = 0;
  double start_ticks = 0;  // since boot
  bool ok = false;
};

// /proc/self/stat: the command name may hold spaces and ')', so fields are counted from
// the last ')'. utime and stime are fields 14 and 15, starttime 22 (proc(5)).
StatFields read_stat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string v; rest >> v;) f.push_back(v);
  if (f.size() < 20) return {};
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  StatFields s;
  s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  s.start_ticks = std::stod(f[19]);
  s.ok = true;
  return s;
}

// Boot time in seconds since the epoch (/proc/stat's btime).
double boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return n - 1;  // the iterator's own descriptor
}

}  // namespace

ProcessMetrics::ProcessMetrics(Metrics& metrics) : metrics_(metrics) {
  metrics_.describe("process_cpu_seconds_total", "Total user and system CPU time spent in seconds");
  metrics_.describe("process_resident_memory_bytes", "Resident memory size in bytes");
  metrics_.describe("process_virtual_memory_bytes", "Virtual memory size in bytes");
  metrics_.describe("process_open_fds", "Number of open file descriptors");
  metrics_.describe("process_max_fds", "Maximum number of open file descriptors");
  metrics_.describe("process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds");
  const auto stat = read_stat();
  if (stat.ok)
    metrics_.set("process_start_time_seconds", {},
                 boot_time() + stat.start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

void ProcessMetrics::update() {
  std::lock_guard lock(mu_);
  if (const auto stat = read_stat(); stat.ok) {
    // Always present, even at 0, so the family exists from the first scrape.
    const double by = std::max(0.0, stat.cpu_seconds - cpu_reported_);
    metrics_.inc("process_cpu_seconds_total", {}, by);
    cpu_reported_ += by;
  }
  std::ifstream statm("/proc/self/statm");
  double pages_virtual = 0, pages_resident = 0;
  if (statm >> pages_virtual >> pages_resident) {
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    metrics_.set("process_virtual_memory_bytes", {}, pages_virtual * page);
    metrics_.set("process_resident_memory_bytes", {}, pages_resident * page);
  }
  metrics_.set("process_open_fds", {}, open_fds());
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    metrics_.set("process_max_fds", {}, static_cast<double>(limit.rlim_cur));
}

void set_build_info(Metrics& metrics, const std::string& version) {
  metrics.describe("imagepipe_build_info",
                   "Always 1; the labels name the build: version, compiler and Boost version");
  std::string compiler =
#if defined(__clang__)
      "clang " __clang_version__;
#elif defined(__GNUC__)
      "gcc " __VERSION__;
#else
      "unknown";
#endif
  metrics.set("imagepipe_build_info",
              {{"version", version}, {"compiler", compiler}, {"boost", BOOST_LIB_VERSION}}, 1);
}

}  // namespace imagepipe::serve
