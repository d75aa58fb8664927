// The daemon: serves the pipelines of a ServeConfig over HTTP (routes, auth, the job store,
// the callback outbox, schedules) until SIGTERM or SIGINT. The command line that builds the
// config is runner/cli; nothing here reads flags.
#pragma once

#include "process.hpp"
#include "serve_config.hpp"

namespace imagepipe::runner {

// Returns the process exit code (process.hpp).
int run_daemon(const serve::ServeConfig& config, Process& process);

}  // namespace imagepipe::runner
