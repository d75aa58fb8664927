#include "support/processes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

namespace imagepipe::testing {
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

bool accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

fs::path make_temp_dir(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  auto dir = fs::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
  fs::create_directories(dir);
  return dir;
}

ProgramResult run_program(const std::vector<std::string>& argv, const std::string& input,
                          const std::map<std::string, std::string>& env,
                          const std::filesystem::path& cwd) {
  const auto dir = make_temp_dir("ip-prog");
  const auto in_file = dir / "in", out_file = dir / "out", err_file = dir / "err";
  std::ofstream(in_file, std::ios::binary) << input;
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(::open(in_file.c_str(), O_RDONLY), 0);
    ::dup2(::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    exec_child(argv, env);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ProgramResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_file);
  r.err = slurp(err_file);
  fs::remove_all(dir);
  return r;
}

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    auto candidate = fs::path(p.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

ServerProcess::ServerProcess(std::vector<std::string> argv, std::uint16_t port,
                             std::map<std::string, std::string> env,
                             std::chrono::seconds ready_within)
    : port_(port), log_file_(make_temp_dir("ip-server") / "log") {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);  // node may start children: kill them all together
    ::dup2(::open("/dev/null", O_RDONLY), 0);
    int log = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    exec_child(argv, env);
  }
  ::setpgid(pid_, pid_);
  const auto deadline = std::chrono::steady_clock::now() + ready_within;
  while (!accepts(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(argv[0] + " exited before listening: " + log());
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(argv[0] + " did not listen on port " + std::to_string(port_) + ": " +
                               log());
    // Polling a port that is not open yet: there is no event to wait on from outside.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  fs::remove_all(log_file_.parent_path(), ec);
}

std::string ServerProcess::log() const { return slurp(log_file_); }

std::string node_tool(const std::string& name) {
  if (find_on_path("node").empty()) return {};
  auto p = fs::path(IMAGEPIPE_SOURCE_DIR) / "tests/servers/node_modules/.bin" / name;
  return fs::exists(p) ? p.string() : std::string();
}

S3rverProcess::S3rverProcess(const std::vector<std::string>& buckets)
    : dir_(make_temp_dir("ip-s3rver")) {
  const auto port = free_loopback_port();
  std::vector<std::string> argv = {node_tool("s3rver"), "--directory", dir_.string(), "--address",
                                   "127.0.0.1", "--port", std::to_string(port), "--silent",
                                   "--no-vhost-buckets"};
  for (const auto& bucket : buckets) argv.insert(argv.end(), {"--configure-bucket", bucket});
  // Node >= 17 needs the legacy provider for s3rver's continuation tokens.
  server_ = std::make_unique<ServerProcess>(argv, port,
                                            std::map<std::string, std::string>{
                                                {"NODE_OPTIONS", "--openssl-legacy-provider"}});
  endpoint_ = "http://127.0.0.1:" + std::to_string(port);
}

S3rverProcess::~S3rverProcess() {
  server_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

RedisProcess::RedisProcess() : dir_(make_temp_dir("ip-redis")), port_(free_loopback_port()) {
  start();
}

RedisProcess::~RedisProcess() {
  server_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string RedisProcess::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

void RedisProcess::kill() { server_.reset(); }

void RedisProcess::start() {
  server_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind",
                               "127.0.0.1", "--dir", dir_.string(), "--appendonly", "yes",
                               "--appendfsync", "always", "--save", "", "--daemonize", "no"},
      port_);
}

std::string RedisProcess::log() const { return server_ ? server_->log() : std::string(); }

}  // namespace imagepipe::testing
