#include "serve_config.hpp"
#include "serve_yaml.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>

namespace imagepipe::serve {

namespace fs = std::filesystem;

namespace {

class Reader {
 public:
  explicit Reader(fs::path file) : file_(std::move(file)), base_(file_.parent_path()) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail_at(file_, node, message);
  }

  // Calls the handler of each key; unknown keys are errors listing the allowed ones.
  void mapping(
      const YAML::Node& node, const std::string& where,
      const std::map<std::string, std::function<void(const YAML::Node&)>>& handlers) const {
    read_mapping(file_, node, where, handlers);
  }

  std::string text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key + " must be a string");
    return node.as<std::string>();
  }

  template <class T>
  T number(const YAML::Node& node, const std::string& key, T min, T max) const {
    T value{};
    if (!node.IsScalar() || !YAML::convert<T>::decode(node, value))
      fail(node, key + " must be a number");
    if (value < min || value > max)
      fail(node, key + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    return value;
  }

  bool boolean(const YAML::Node& node, const std::string& key) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
      fail(node, key + " must be true or false");
    return value;
  }

  std::vector<std::string> texts(const YAML::Node& node, const std::string& key) const {
    if (node.IsScalar()) return {node.as<std::string>()};
    if (!node.IsSequence()) fail(node, key + " must be a list of strings");
    std::vector<std::string> out;
    for (const auto& item : node) out.push_back(text(item, key));
    return out;
  }

  fs::path path(const std::string& p) const {
    return fs::path(p).is_absolute() ? fs::path(p) : base_ / p;
  }

 private:
  fs::path file_;
  fs::path base_;
};

}  // namespace

void parse_listen(const std::string& text, ServeConfig& config) {
  std::string host = config.host;
  std::string port = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos)
      throw ConfigError("listen address '" + text + "' must look like [::1]:8000");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    throw ConfigError("listen address '" + text +
                      "' needs a port between 0 and 65535, as in 0.0.0.0:8000");
  config.host = host;
  config.port = static_cast<std::uint16_t>(std::stoul(port));
}

void read_config_file(const fs::path& file, ServeConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read config file " + file.string());
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return;
  Reader r(file);
  using Node = const YAML::Node&;
  r.mapping(
      root, "the config file",
      {{"listen",
        [&](Node n) {
          try {
            parse_listen(r.text(n, "listen"), config);
          } catch (const ConfigError& e) {
            r.fail(n, e.what());
          }
        }},
       {"data", [&](Node n) { config.data_dir = r.path(r.text(n, "data")); }},
       {"queue",
        [&](Node n) {
          config.queue = r.text(n, "queue");
          if (config.queue.rfind("redis://", 0) != 0)
            r.fail(n, "queue must be a redis:// URL (redis://host:port/db)");
        }},
       {"queue_node_id", [&](Node n) { config.queue_node_id = r.text(n, "queue_node_id"); }},
       {"queue_claim_idle_seconds",
        [&](Node n) {
          config.queue_claim_idle =
              std::chrono::seconds(r.number(n, "queue_claim_idle_seconds", 1, 86'400));
        }},
       {"queue_limit_window_ms",
        [&](Node n) {
          config.queue_limit_window =
              std::chrono::milliseconds(r.number(n, "queue_limit_window_ms", 100, 3'600'000));
        }},
       {"queue_max_deliveries",
        [&](Node n) { config.queue_max_deliveries = r.number(n, "queue_max_deliveries", 1, 1000); }},
       {"pipelines",
        [&](Node n) {
          for (const auto& p : r.texts(n, "pipelines")) config.pipelines.push_back(r.path(p));
        }},
       {"plugin_dirs",
        [&](Node n) {
          for (const auto& p : r.texts(n, "plugin_dirs")) config.plugin_dirs.push_back(r.path(p));
        }},
       {"env_file", [&](Node n) { config.env_file = r.path(r.text(n, "env_file")).string(); }},
       {"public_url", [&](Node n) { config.public_url = r.text(n, "public_url"); }},
       {"io_threads", [&](Node n) { config.io_threads = r.number(n, "io_threads", 0, 256); }},
       {"shutdown_grace_seconds",
        [&](Node n) {
          config.shutdown_grace =
              std::chrono::seconds(r.number(n, "shutdown_grace_seconds", 0, 3600));
        }},
       {"log",
        [&](Node n) {
          r.mapping(
              n, "log",
              {{"format",
                [&](Node v) {
                  const auto f = r.text(v, "log.format");
                  if (f != "text" && f != "json") r.fail(v, "log.format must be text or json");
                  config.log_format = f == "json" ? LogFormat::json : LogFormat::text;
                }},
               {"level", [&](Node v) {
                  const auto l = r.text(v, "log.level");
                  if (l != "debug" && l != "info" && l != "warn" && l != "error" && l != "off")
                    r.fail(v, "log.level must be debug, info, warn, error or off");
                  config.log_level = l;
                }}});
        }},
       {"limits",
        [&](Node n) {
          r.mapping(n, "limits",
                    {{"body_bytes",
                      [&](Node v) {
                        config.http.body_bytes =
                            r.number<std::uint64_t>(v, "limits.body_bytes", 1024, 4ull << 30);
                      }},
                     {"json_depth",
                      [&](Node v) {
                        config.json.depth = r.number(v, "limits.json_depth", 1, 512);
                      }},
                     {"json_string_bytes",
                      [&](Node v) {
                        config.json.string_bytes = r.number<std::size_t>(
                            v, "limits.json_string_bytes", 1, std::size_t(4) << 30);
                      }},
                     {"json_values",
                      [&](Node v) {
                        config.json.values =
                            r.number<std::size_t>(v, "limits.json_values", 1, 100'000'000);
                      }},
                     {"image_pixels",
                      [&](Node v) {
                        config.max_image_pixels =
                            r.number<std::uint64_t>(v, "limits.image_pixels", 1, 1ull << 40);
                      }},
                     {"batch_items",
                      [&](Node v) {
                        config.max_batch_items =
                            r.number<std::size_t>(v, "limits.batch_items", 1, 1'000'000);
                      }},
                     {"jobs_in_flight",
                      [&](Node v) {
                        config.jobs_in_flight = r.number(v, "limits.jobs_in_flight", 1, 10'000);
                      }},
                     {"callbacks_in_flight",
                      [&](Node v) {
                        config.callbacks_in_flight =
                            r.number(v, "limits.callbacks_in_flight", 1, 10'000);
                      }},
                     {"header_bytes",
                      [&](Node v) {
                        config.http.header_bytes =
                            r.number<std::size_t>(v, "limits.header_bytes", 1024, 1u << 20);
                      }},
                     {"idle_timeout_seconds",
                      [&](Node v) {
                        config.http.idle_timeout =
                            std::chrono::seconds(r.number(v, "limits.idle_timeout_seconds", 1, 3600));
                      }},
                     {"header_timeout_seconds",
                      [&](Node v) {
                        config.http.header_timeout = std::chrono::seconds(
                            r.number(v, "limits.header_timeout_seconds", 1, 3600));
                      }},
                     {"body_timeout_seconds",
                      [&](Node v) {
                        config.http.body_timeout =
                            std::chrono::seconds(r.number(v, "limits.body_timeout_seconds", 1, 3600));
                      }},
                     {"connections_per_client",
                      [&](Node v) {
                        config.http.connections_per_client = r.number<std::size_t>(
                            v, "limits.connections_per_client", 0, 1'000'000);
                      }},
                     {"decoded_pixel_bytes",
                      [&](Node v) {
                        config.decoded_pixel_bytes = r.number<std::uint64_t>(
                            v, "limits.decoded_pixel_bytes", 0, 1ull << 50);
                      }},
                     {"decoder_memory_bytes",
                      [&](Node v) {
                        config.decoder_memory_bytes = r.number<std::uint64_t>(
                            v, "limits.decoder_memory_bytes", 128ull << 20, 1ull << 50);
                      }},
                     {"queued_jobs_per_pipeline", [&](Node v) {
                        config.queued_jobs_per_pipeline = r.number<std::size_t>(
                            v, "limits.queued_jobs_per_pipeline", 0, 100'000'000);
                      }}});
        }},
       {"jobs",
        [&](Node n) {
          r.mapping(n, "jobs",
                    {{"retention_hours",
                      [&](Node v) {
                        config.retention =
                            std::chrono::hours(r.number(v, "jobs.retention_hours", 1, 24 * 3650));
                      }},
                     {"durability", [&](Node v) {
                        const auto d = r.text(v, "jobs.durability");
                        if (d != "process" && d != "power")
                          r.fail(v, "jobs.durability must be process or power");
                        config.durability = d == "power" ? Durability::power : Durability::process;
                      }}});
        }},
       {"callbacks",
        [&](Node n) {
          auto& p = config.callbacks;
          r.mapping(
              n, "callbacks",
              {{"max_attempts",
                [&](Node v) { p.max_attempts = r.number(v, "callbacks.max_attempts", 1, 1000); }},
               {"max_age_seconds",
                [&](Node v) {
                  p.max_age =
                      std::chrono::seconds(r.number(v, "callbacks.max_age_seconds", 1, 30 * 86400));
                }},
               {"base_delay_ms",
                [&](Node v) {
                  p.base_delay = std::chrono::milliseconds(
                      r.number(v, "callbacks.base_delay_ms", 1, 3'600'000));
                }},
               {"max_delay_ms",
                [&](Node v) {
                  p.max_delay = std::chrono::milliseconds(
                      r.number(v, "callbacks.max_delay_ms", 1, 86'400'000));
                }},
               {"credentials_key_file", [&](Node v) {
                  config.credentials_key_file = r.path(r.text(v, "callbacks.credentials_key_file"));
                }}});
        }},
       {"auth", [&](Node n) { config.access = {file, n, config.access.cors}; }},
       {"cors", [&](Node n) { config.access = {file, config.access.auth, n}; }},
       {"egress", [&](Node n) {
          r.mapping(n, "egress",
                    {{"allow", [&](Node v) { config.egress.allow = r.texts(v, "egress.allow"); }},
                     {"deny_private", [&](Node v) {
                        config.egress.deny_private = r.boolean(v, "egress.deny_private");
                      }}});
        }}});
}

}  // namespace imagepipe::serve
