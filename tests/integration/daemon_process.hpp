// The real `imagepipe serve` in a child process, for end-to-end tests: started on port 0
// in a fresh data directory (or a given one, to restart on the same jobs), killed with
// any signal, and talked to over HTTP.
//
//   DaemonProcess daemon({.pipelines = {pipeline_file}});
//   auto r = daemon.post("/process-image-async-b64", body, {{"callbackUrl", cb}});
//   daemon.kill(SIGKILL);
//   DaemonProcess again({.pipelines = {pipeline_file}, .data_dir = daemon.data_dir()});
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/processes.hpp"

#include "imagepipe/http.hpp"

namespace imagepipe::testing {

struct DaemonOptions {
  std::vector<std::string> pipelines;      // files or folders
  std::filesystem::path data_dir;          // empty: a fresh temporary directory
  std::string config_yaml;                 // written to a file and passed with --config
  std::map<std::string, std::string> env;  // added to the child's environment
  bool test_plugins = true;                // --plugin-dir with the slow-echo provider
  std::vector<std::string> args;           // more flags for serve
};

struct ExitStatus {
  bool exited = false;  // false: killed by a signal
  int code = 0;         // exit code or signal number
};

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonOptions options);
  ~DaemonProcess();  // SIGKILL if still running; removes the data directory it made
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  std::string url(const std::string& path = "") const;
  const std::filesystem::path& data_dir() const { return data_dir_; }
  void keep_data_dir() { owns_data_dir_ = false; }
  std::string log() const;  // what it wrote on stderr

  // Blocking HTTP to the daemon (a fresh connection each time).
  HttpResponse request(HttpRequest request);
  HttpResponse post(const std::string& path, const std::string& body, Headers headers = {});
  HttpResponse get(const std::string& path);
  // Writes `bytes` as they are on a fresh connection and returns everything the daemon
  // sends back until it closes the connection (or `timeout` passes): for requests an HTTP
  // client would refuse to send, and to see whether more than one answer comes.
  std::string exchange_raw(const std::string& bytes,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

  void signal(int sig);
  ExitStatus wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void kill_now();  // SIGKILL and reap

 private:
  DaemonOptions options_;
  std::filesystem::path data_dir_;
  std::filesystem::path work_dir_;
  bool owns_data_dir_ = false;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace imagepipe::testing
