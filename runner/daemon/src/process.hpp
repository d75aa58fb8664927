// The process-wide services every command shares: I/O context, CPU pool, clock, HTTP
// client, metrics, logger and the plugin registry.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "imagepipe/host.hpp"
#include "imagepipe/logging.hpp"
#include "imagepipe/pixel_budget.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe::runner {

struct ProcessOptions {
  LogFormat log_format = LogFormat::text;
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::vector<std::filesystem::path> plugin_dirs;  // besides $IMAGEPIPE_PLUGIN_PATH
  // The plugin folder of an installed tree (lib/imagepipe/plugins), searched first when it
  // exists; the built-in plugins' own modules there are not loaded again.
  std::filesystem::path installed_plugin_dir;
  int cpu_threads = 0;                             // 0: one per core
  // The budget for decoded pixels in flight (pixel_budget.hpp), in bytes: unset, from
  // $IMAGEPIPE_DECODED_PIXEL_BYTES, else 1 GiB; 0: none. `pixel_budget_setting` names where
  // it is configured, for the error an image larger than all of it gets.
  std::optional<std::uint64_t> decoded_pixel_bytes;
  std::string pixel_budget_setting = "IMAGEPIPE_DECODED_PIXEL_BYTES";
  // What OpenImageIO's readers may allocate per image (DecoderLimits); unset: the default.
  std::optional<std::uint64_t> decoder_memory_bytes;
};

class Process {
 public:
  explicit Process(const ProcessOptions& options);
  ~Process();

  Host host();
  asio::io_context& io() { return io_; }
  PluginRegistry& registry() { return registry_; }
  Metrics& metrics() { return metrics_; }
  PixelBudget* pixel_budget() { return pixels_.get(); }
  std::shared_ptr<spdlog::logger> log() { return log_; }
  // Image work below request handling (the daemon); see thread_priority.hpp.
  void lower_cpu_priority();

 private:
  asio::io_context io_;
  int cpu_threads_;
  asio::thread_pool cpu_pool_;
  CpuPool cpu_;
  SystemClock clock_;
  Metrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<HttpClient> http_;
  PluginRegistry registry_;
  std::shared_ptr<PixelBudget> pixels_;  // null: no budget
};

// Exit codes, documented in docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitItemsFailed = 1,  // the job ran; some or all items failed
  kExitInvalid = 2,      // bad command line or pipeline
  kExitRuntime = 3,      // could not start: plugin load failure, unwritable output...
};

// .env beside the working directory, or the file given; empty map when none. Throws when
// the file given does not exist.
std::map<std::string, std::string> load_env_file(const std::string& explicit_file);

}  // namespace imagepipe::runner
