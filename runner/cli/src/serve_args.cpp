// `imagepipe serve` and `imagepipe openapi`: from flags and a config file to a ServeConfig.
#include "serve_args.hpp"

#include "install_layout.hpp"

#include "serve_scheduler.hpp"

namespace imagepipe::runner {

using namespace imagepipe::serve;

ServeConfig load_serve_config(const ServeArgs& args) {
  ServeConfig config;
  if (!args.config.empty()) read_config_file(args.config, config);
  if (!args.listen.empty()) parse_listen(args.listen, config);
  if (!args.data.empty()) config.data_dir = args.data;
  if (!args.queue.empty()) config.queue = args.queue;
  if (!args.env_file.empty()) config.env_file = args.env_file;
  if (!args.pipelines.empty()) {
    config.pipelines.clear();
    for (const auto& p : args.pipelines) config.pipelines.emplace_back(p);
  }
  if (config.pipelines.empty()) config.pipelines.push_back(default_pipeline_dir());
  if (!args.schedule_clock.empty()) {
    config.schedule_clock_start = parse_utc(args.schedule_clock);
    if (!config.schedule_clock_start)
      throw ConfigError("--test-schedule-clock wants YYYY-MM-DDTHH:MM:SSZ, got '" +
                        args.schedule_clock + "'");
  }
  return config;
}

}  // namespace imagepipe::runner
