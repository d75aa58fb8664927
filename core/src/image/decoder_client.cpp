// imagepipe-decode helpers: started, fed, read with a deadline, and replaced when they
// fail. A helper costs OpenImageIO's start-up (a few hundred milliseconds: about 260
// shared libraries) once; later requests cost a round trip over a local socket.
#include "image/decoder_client.hpp"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>

#include "image/codecs.hpp"

extern char** environ;

// Configured by CMake (core/CMakeLists.txt); the default is the usual layout.
#ifndef IMAGEPIPE_DECODER_FROM_LIBDIR
#define IMAGEPIPE_DECODER_FROM_LIBDIR "../bin/imagepipe-decode"
#endif

namespace imagepipe::codec {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kIdleHelpers = 8;      // kept for later requests; more are stopped
constexpr std::size_t kLongestError = 4096;  // bytes of a reader's message

// Set by set_decoder_limits; 0: not set, the default applies.
std::atomic<std::uint64_t> memory_limit{0};
std::atomic<std::int64_t> timeout_ms{0};

// $IMAGEPIPE_DECODER_MEMORY_BYTES (at least 128 MB: OpenImageIO reads through a 64 MB
// buffer), else DecoderLimits' default.
std::uint64_t default_memory() {
  if (const char* text = std::getenv("IMAGEPIPE_DECODER_MEMORY_BYTES"); text && *text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end && *end == '\0' && value >= (128ull << 20)) return value;
  }
  return DecoderLimits{}.memory_bytes;
}

std::string mb(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MB"; }

std::string duration(std::chrono::milliseconds ms) {
  const auto n = ms.count();
  return n % 1000 == 0 ? std::to_string(n / 1000) + " s" : std::to_string(n) + " ms";
}

// One helper process and our end of its socket.
class Helper {
 public:
  Helper(pid_t pid, int fd, std::string path) : pid_(pid), fd_(fd), path_(std::move(path)) {}
  ~Helper() {
    ::close(fd_);  // an idle helper reads end-of-file and exits
    if (pid_ > 0) reap(false);
  }
  Helper(const Helper&) = delete;
  Helper& operator=(const Helper&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Kills it (when `kill`) and waits for it: how it ended, as words.
  std::string reap(bool kill) {
    if (kill) ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t got;
    do got = ::waitpid(pid_, &status, 0);
    while (got < 0 && errno == EINTR);
    pid_ = 0;
    if (got < 0) return "ended";
    if (WIFSIGNALED(status)) {
      const char* name = sigabbrev_np(WTERMSIG(status));
      return std::string("was killed by SIG") + (name ? name : std::to_string(WTERMSIG(status)));
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }

 private:
  pid_t pid_;
  int fd_;
  std::string path_;  // the executable: a helper of another one is not reused
};

struct Idle {
  std::mutex mutex;
  std::vector<std::unique_ptr<Helper>> helpers;
};
Idle& idle() {
  static Idle* pool = new Idle;  // never destroyed: helpers outlive static destruction
  return *pool;
}

std::unique_ptr<Helper> spawn_helper(const std::string& helper, const std::string& module) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error(std::string("cannot open a socket to it: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  // Nothing else of the daemon's (sockets, the job store) reaches the helper.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // A group of its own: a Ctrl-C meant for the daemon does not kill a decode under way;
  // the helper exits when the daemon closes its socket.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::string arg0 = "imagepipe-decode", arg1 = module;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int failed = ::posix_spawn(&pid, helper.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (failed) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + helper + ": " + std::strerror(failed));
  }
  return std::make_unique<Helper>(pid, fds[0], helper);
}

std::unique_ptr<Helper> take_helper() {
  const std::string path = decoder_path();
  std::vector<std::unique_ptr<Helper>> stale;  // of another executable; stopped unlocked
  {
    std::lock_guard lock(idle().mutex);
    auto& helpers = idle().helpers;
    while (!helpers.empty()) {
      auto helper = std::move(helpers.back());
      helpers.pop_back();
      if (helper->path() == path) return helper;
      stale.push_back(std::move(helper));
    }
  }
  return spawn_helper(path, oiio_module_path());
}

void give_back(std::unique_ptr<Helper> helper) {
  std::lock_guard lock(idle().mutex);
  if (idle().helpers.size() < kIdleHelpers) idle().helpers.push_back(std::move(helper));
}

// Why a transfer stopped short.
enum class Stop { none, timeout, closed };

// Waits until `fd` is ready for `events` or the deadline passes.
Stop wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Stop::timeout;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, int(std::min<std::int64_t>(left.count(), 1 << 30)));
    if (n > 0) return Stop::none;
    if (n < 0 && errno != EINTR) return Stop::closed;
  }
}

Stop send_all(int fd, const void* data, std::size_t size, Clock::time_point deadline) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    if (const Stop stop = wait_for(fd, POLLOUT, deadline); stop != Stop::none) return stop;
    // MSG_NOSIGNAL: a helper that died is an error to report, not a SIGPIPE for the daemon.
    const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Stop::closed;
    p += n, size -= std::size_t(n);
  }
  return Stop::none;
}

Stop receive_all(int fd, void* data, std::size_t size, Clock::time_point deadline) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    if (const Stop stop = wait_for(fd, POLLIN, deadline); stop != Stop::none) return stop;
    const ssize_t n = ::recv(fd, p, size, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Stop::closed;
    p += n, size -= std::size_t(n);
  }
  return Stop::none;
}

// The most a well-behaved helper answers for `call`: anything larger is refused before a
// byte of it is allocated here.
std::uint64_t largest_payload(const DecoderCall& call, const ImagepipeDecoderReply& reply,
                              std::uint64_t memory) {
  if (reply.status != IMAGEPIPE_DECODER_OK) return kLongestError;
  switch (call.op) {
    case IMAGEPIPE_DECODER_DECODE: {
      const auto& i = reply.info;
      if (i.width <= 0 || i.height <= 0 || i.channels < 1 || i.channels > 4 ||
          std::uint64_t(i.width) * std::uint64_t(i.height) > call.max_pixels)
        return 0;
      return std::uint64_t(i.width) * std::uint64_t(i.height) * std::uint64_t(i.channels);
    }
    case IMAGEPIPE_DECODER_TRANSCODE:
      return memory;
    default:
      return 0;
  }
}

}  // namespace

std::string decoder_path() {
  if (const char* path = std::getenv("IMAGEPIPE_DECODER"); path && *path) return path;
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&decoder_path), &self) && self.dli_fname) {
    const auto lib = std::filesystem::path(self.dli_fname).parent_path();
    // The installed tree (bin/ relative to lib/, as configured), then the build tree.
    for (const auto& candidate :
         {lib / IMAGEPIPE_DECODER_FROM_LIBDIR, lib / "../bin/imagepipe-decode"})
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal().string();
  }
  return "imagepipe-decode";
}

DecoderResult run_decoder(ImageFormat format, const DecoderCall& call) {
  const DecoderLimits limits = imagepipe::decoder_limits();
  const std::string name(to_string(format));
  std::string upper = name;  // as fail_corrupt names formats: "truncated or corrupt DPX"
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  std::unique_ptr<Helper> helper;
  try {
    helper = take_helper();
  } catch (const std::runtime_error& e) {
    throw Error(ErrorClass::invalid_input,
                "cannot read " + name + " images on this host: " + e.what());
  }
  const auto deadline = Clock::now() + limits.timeout;

  ImagepipeDecoderRequest request{};
  request.magic = IMAGEPIPE_DECODER_MAGIC;
  request.op = call.op;
  request.apply_orientation = call.apply_orientation ? 1 : 0;
  request.out_bits = call.out_bits;
  request.out_quality = call.out_quality;
  request.format_size = std::uint32_t(std::strlen(call.format));
  request.out_format_size = std::uint32_t(std::strlen(call.out_format));
  request.max_pixels = call.max_pixels;
  request.memory_bytes = limits.memory_bytes;
  request.data_size = call.data.size();

  ImagepipeDecoderReply reply{};
  DecoderResult result;
  Stop stop = send_all(helper->fd(), &request, sizeof request, deadline);
  if (stop == Stop::none) stop = send_all(helper->fd(), call.format, request.format_size, deadline);
  if (stop == Stop::none)
    stop = send_all(helper->fd(), call.out_format, request.out_format_size, deadline);
  if (stop == Stop::none)
    stop = send_all(helper->fd(), call.data.data(), call.data.size(), deadline);
  if (stop == Stop::none) stop = receive_all(helper->fd(), &reply, sizeof reply, deadline);
  if (stop == Stop::none &&
      (reply.magic != IMAGEPIPE_DECODER_MAGIC ||
       reply.payload_size > largest_payload(call, reply, limits.memory_bytes)))
    stop = Stop::closed;  // not an answer we asked for: treated as a helper gone wrong
  if (stop == Stop::none) {
    try {
      result.payload.resize(reply.payload_size);
    } catch (const std::bad_alloc&) {
      helper->reap(true);
      throw;
    }
    stop = receive_all(helper->fd(), result.payload.data(), result.payload.size(), deadline);
  }
  if (stop == Stop::timeout) {
    helper->reap(true);
    throw Error(ErrorClass::invalid_input, "cannot decode this " + upper +
                                               " image: the decoder took over " +
                                               duration(limits.timeout) + " on it and was stopped");
  }
  if (stop == Stop::closed) {
    const std::string how = helper->reap(true);
    throw Error(
        ErrorClass::invalid_input,
        "cannot decode this " + upper + " image: the decoder crashed on it (it " + how + ")");
  }
  if (reply.status == IMAGEPIPE_DECODER_OUT_OF_MEMORY) {
    helper->reap(false);  // it exits by itself after the reply
    throw Error(ErrorClass::invalid_input, "cannot decode this " + upper +
                                               " image: not enough memory to decode it (limit " +
                                               mb(limits.memory_bytes) + ")");
  }
  give_back(std::move(helper));
  if (reply.status == IMAGEPIPE_DECODER_UNAVAILABLE)
    throw Error(ErrorClass::invalid_input,
                "cannot read " + name + " images on this host: " +
                    std::string(result.payload.begin(), result.payload.end()));
  if (reply.status != IMAGEPIPE_DECODER_OK)
    fail_corrupt(format, std::string(result.payload.begin(), result.payload.end()));
  result.info = reply.info;
  return result;
}

}  // namespace imagepipe::codec

namespace imagepipe {

void set_decoder_limits(const DecoderLimits& limits) {
  codec::memory_limit = limits.memory_bytes;
  codec::timeout_ms = limits.timeout.count();
}

DecoderLimits decoder_limits() {
  DecoderLimits limits;
  const std::uint64_t memory = codec::memory_limit.load();
  limits.memory_bytes = memory ? memory : codec::default_memory();
  if (const std::int64_t ms = codec::timeout_ms.load(); ms > 0)
    limits.timeout = std::chrono::milliseconds(ms);
  return limits;
}

}  // namespace imagepipe
