// `imagepipe serve` settings: embedded defaults, then the --config YAML file, then flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "imagepipe/egress.hpp"
#include "jobs/jobs.hpp"
#include "imagepipe/logging.hpp"
#include "json_field_scan.hpp"
#include "serve_auth_section.hpp"
#include "serve_http.hpp"

namespace imagepipe::serve {

struct ServeConfig {
  // Tests only (serve --test-schedule-clock): what the schedules' clock reads at start.
  std::optional<std::chrono::system_clock::time_point> schedule_clock_start;
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;
  std::vector<std::filesystem::path> pipelines;  // files or folders (searched recursively)
  std::vector<std::filesystem::path> plugin_dirs;
  std::filesystem::path data_dir = "imagepipe-data";
  std::string env_file;    // empty: ./.env when present
  std::string public_url;  // servers[0].url of the OpenAPI document; empty: from the Host header

  ServerLimits http;
  JsonLimits json;                     // request bodies of triggers
  std::uint64_t max_image_pixels = 0;  // 0: each pipeline's own limit
  std::size_t max_batch_items = 0;     // 0: each pipeline's own limit
  int jobs_in_flight = 8;
  // Jobs a pipeline's route accepts while as many wait to start: a 503 beyond. 0: no limit.
  std::size_t queued_jobs_per_pipeline = 1000;
  int callbacks_in_flight = 32;
  // Decoded pixels every running job holds, together (pixel_budget.hpp); 0: no budget.
  // Unset: $IMAGEPIPE_DECODED_PIXEL_BYTES, else 1 GiB.
  std::optional<std::uint64_t> decoded_pixel_bytes;
  // What OpenImageIO's readers may allocate for one image, in their helper process.
  // Unset: $IMAGEPIPE_DECODER_MEMORY_BYTES, else 1 GiB.
  std::optional<std::uint64_t> decoder_memory_bytes;
  int io_threads = 0;  // 0: one per core

  Durability durability = Durability::process;
  // Empty: jobs in SQLite under data_dir. redis://host:port/db: in Redis, shared by every
  // daemon given the same URL (docs/daemon.md, "Several nodes on one Redis").
  std::string queue;
  std::string queue_node_id;  // empty: hostname-pid-random
  std::chrono::seconds queue_claim_idle{60};
  int queue_max_deliveries = 5;
  // Tests only: the window of provider limits' per_minute when shared through Redis.
  std::chrono::milliseconds queue_limit_window{std::chrono::minutes(1)};
  std::chrono::hours retention{24 * 7};
  CallbackPolicy callbacks;
  // Its SHA-256 seals callback URLs' credentials at rest; empty: a random key per process.
  std::filesystem::path credentials_key_file;
  EgressOptions egress;
  std::chrono::seconds shutdown_grace{30};

  AccessSection access;  // auth and cors, typed by read_access_config (serve_auth_config.hpp)

  std::optional<LogFormat> log_format;  // unset: the global --log-format
  std::string log_level;                // empty: info
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a config file over `config`. Throws ConfigError naming file:line and the key,
// with the allowed keys when one is unknown.
void read_config_file(const std::filesystem::path& file, ServeConfig& config);

// "HOST:PORT", ":PORT", "PORT" or "[v6]:PORT". Throws ConfigError.
void parse_listen(const std::string& text, ServeConfig& config);

}  // namespace imagepipe::serve
