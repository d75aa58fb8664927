// Child processes for tests: servers (s3rver, Azurite) on a free loopback port, and
// programs (the imagepipe binary, aws, curl, python3 with botocore, node) run to
// completion with their output captured.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace imagepipe::testing {

struct ProgramResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// argv[0] is looked up on PATH (unless it is a path). `input` goes to stdin; `env` is added
// to the environment; `cwd` empty: the test's working directory.
ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input = {},
                          const std::map<std::string, std::string>& env = {},
                          const std::filesystem::path& cwd = {});

// Empty when `name` is not on PATH.
std::string find_on_path(const std::string& name);

std::uint16_t free_loopback_port();

// A server started in its own process group, waited for until it accepts TCP connections
// on 127.0.0.1:port, and killed (the whole group) on destruction.
class ServerProcess {
 public:
  ServerProcess(std::vector<std::string> argv, std::uint16_t port,
                std::map<std::string, std::string> env = {},
                std::chrono::seconds ready_within = std::chrono::seconds(30));
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string log() const;  // what it printed

 private:
  pid_t pid_ = -1;
  std::uint16_t port_;
  std::filesystem::path log_file_;
};

// tests/servers/node_modules/.bin/<name>, or empty when `npm ci --prefix tests/servers`
// has not run (or node is missing).
std::string node_tool(const std::string& name);
// A new, unique directory under the system's temporary directory.
std::filesystem::path make_temp_dir(const std::string& prefix);

// s3rver (npm) on a free loopback port with `buckets` created, path-style, its data in a
// temporary folder removed with it. Check node_tool("s3rver") first: it must exist.
class S3rverProcess {
 public:
  explicit S3rverProcess(const std::vector<std::string>& buckets);
  ~S3rverProcess();
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;
  const std::string& endpoint() const { return endpoint_; }  // http://127.0.0.1:PORT

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string endpoint_;
};

// redis-server (Debian package) on a free loopback port, its data in a temporary folder
// removed with it. AOF on with appendfsync always: what a 202 from the Redis job store
// needs to survive Redis itself crashing. Check find_on_path("redis-server") first.
class RedisProcess {
 public:
  RedisProcess();
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;
  std::string url(int db = 0) const;  // redis://127.0.0.1:PORT/db
  std::uint16_t port() const { return port_; }
  // SIGKILL (no shutdown save: what it kept is what the AOF had synced), then start again
  // on the same port and data.
  void kill();
  void start();
  std::string log() const;

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace imagepipe::testing
