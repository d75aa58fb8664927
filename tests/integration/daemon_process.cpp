#include "daemon_process.hpp"

#include <cstdlib>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "imagepipe/http_client.hpp"

namespace imagepipe::testing {

namespace fs = std::filesystem;

namespace {

// Reads the child's stdout until it names its port ("listening on http://127.0.0.1:PORT").
std::uint16_t read_port(int fd, std::chrono::milliseconds timeout) {
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(1, left.count()))) <= 0) continue;
    char buf[256];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;  // the child exited
    seen.append(buf, static_cast<std::size_t>(n));
    const auto at = seen.find("listening on http://");
    const auto end = seen.find('\n', at);
    if (at != std::string::npos && end != std::string::npos) {
      const auto line = seen.substr(at, end - at);
      return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    }
  }
  return 0;
}

// scripts/sanitize.sh runs these tests against the daemon built with ASan and UBSan (the
// test binary need not be): these variables name that build's binary and test plugins.
std::string from_env_or(const char* name, const char* built) {
  const char* value = std::getenv(name);
  return value && *value ? value : built;
}

}  // namespace

DaemonProcess::DaemonProcess(DaemonOptions options) : options_(std::move(options)) {
  work_dir_ = make_temp_dir("imagepipe-daemon-");
  data_dir_ = options_.data_dir;
  if (data_dir_.empty()) {
    data_dir_ = work_dir_ / "data";
    owns_data_dir_ = true;
  }
  std::vector<std::string> args = {from_env_or("IMAGEPIPE_TEST_EXECUTABLE", IMAGEPIPE_EXECUTABLE)};
  if (options_.test_plugins) {
    args.push_back("--plugin-dir");
    args.push_back(from_env_or("IMAGEPIPE_TEST_PLUGIN_DIR", IMAGEPIPE_TEST_PLUGIN_DIR));
  }
  args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0", "--data", data_dir_.string()});
  if (!options_.config_yaml.empty()) {
    const auto config = work_dir_ / "serve.yaml";
    std::ofstream(config) << options_.config_yaml;
    args.push_back("--config");
    args.push_back(config.string());
  }
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  for (const auto& p : options_.pipelines) args.push_back(p);

  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  const auto log_path = work_dir_ / "stderr.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    const int err = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(err, STDERR_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::chdir(work_dir_.c_str());  // relative paths in pipelines (./cos) land here
    for (const auto& [k, v] : options_.env) ::setenv(k.c_str(), v.c_str(), 1);
    ::setenv("NO_PROXY", "*", 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  port_ = read_port(out[0], std::chrono::seconds(30));
  ::close(out[0]);
  if (port_ == 0) {
    kill_now();
    throw std::runtime_error("imagepipe serve did not start; its log:\n" + log());
  }
}

DaemonProcess::~DaemonProcess() {
  kill_now();
  std::error_code ignored;
  if (owns_data_dir_)
    fs::remove_all(work_dir_, ignored);
  else
    fs::remove_all(work_dir_ / "stderr.log", ignored);
}

std::string DaemonProcess::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string DaemonProcess::log() const {
  std::ifstream in(work_dir_ / "stderr.log");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

HttpResponse DaemonProcess::request(HttpRequest request) {
  asio::io_context io;
  HttpClientOptions options;
  options.proxy = ProxySettings{};
  BeastHttpClient client(io.get_executor(), options);
  std::optional<HttpResponse> response;
  std::exception_ptr error;
  asio::co_spawn(io, client.send(std::move(request)), [&](std::exception_ptr e, HttpResponse r) {
    error = e;
    response = std::move(r);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*response);
}

HttpResponse DaemonProcess::post(const std::string& path, const std::string& body,
                                 Headers headers) {
  headers.emplace_back("Content-Type", "application/json");
  return request({.method = "POST", .url = url(path), .headers = std::move(headers), .body = body});
}

HttpResponse DaemonProcess::get(const std::string& path) { return request({.url = url(path)}); }

std::string DaemonProcess::exchange_raw(const std::string& bytes,
                                        std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to the daemon");
  }
  for (std::size_t sent = 0; sent < bytes.size();) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the daemon may close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    received.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return received;
}

void DaemonProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

ExitStatus DaemonProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return {};
  // A pidfd becomes readable when the child exits: an event to wait on, not a poll loop.
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (fd < 0) throw std::runtime_error("pidfd_open failed");
  pollfd p{fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  ::close(fd);
  if (ready <= 0) throw std::runtime_error("imagepipe serve did not exit within the timeout");
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return {true, WEXITSTATUS(status)};
  return {false, WTERMSIG(status)};
}

void DaemonProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace imagepipe::testing
