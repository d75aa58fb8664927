// `imagepipe jobs list|show|cancel|retry`: the daemon's jobs API from a terminal, against
// a running daemon (--url), with its credentials passed as headers; or `list` and `show`
// read from a data directory (--data), the daemon running or not.
#pragma once

#include <string>

namespace imagepipe::runner {

struct JobsArgs {
  std::string action;  // list | show | cancel | retry
  std::string id;
  std::string url = "http://127.0.0.1:8080";
  std::string data_dir;  // set: read the job history there instead of asking --url
  std::string api_key;
  std::string api_key_header = "X-API-Key";
  std::string token;
  bool json = false;
  // list
  std::string pipeline, status, since, until, cursor;
  int limit = 0;  // 0: the daemon's default
};

// 0: done; 1: the daemon refused or the job is unknown (the message on stderr); 2: --data
// with cancel or retry; 3: the daemon or the data directory cannot be reached.
int jobs_command(const JobsArgs& args);

}  // namespace imagepipe::runner
