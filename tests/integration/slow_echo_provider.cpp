// Provider `slow-echo`, for integration tests and benchmarks of the daemon: answers after
// `delay_ms` with the input image unchanged (or a 1x1 PNG for text-to-image), so the
// daemon's own latency can be measured apart from any image work. Built as a loadable
// library only (never a built-in): tests pass its folder with --plugin-dir.
#include <fcntl.h>
#include <unistd.h>

#include <boost/config.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/http.hpp"
#include "imagepipe/plugin.hpp"

namespace imagepipe {
namespace {

constexpr const char* kDelayMs = "delay_ms";
constexpr const char* kFail = "fail";
constexpr const char* kLogFile = "log_file";

// The smallest valid PNG: one transparent pixel.
const char* kOnePixelPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg"
    "==";

class SlowEcho final : public Provider {
 public:
  explicit SlowEcho(const PluginArgs& args)
      : host_(args.host),
        delay_(args.options.at(kDelayMs).get<int>()),
        fail_(args.options.value(kFail, "")),
        log_file_(args.options.value(kLogFile, "")) {}

  Task<ProviderResult> run(ProviderRequest request) override {
    if (!log_file_.empty()) log_start();
    if (delay_.count() > 0) co_await host_.clock->sleep_for(delay_);
    if (!fail_.empty())
      throw Error(*error_class_from_string(fail_), "slow-echo was told to fail with " + fail_);
    ProviderResult result;
    if (request.images.empty())
      result.images.push_back(Artifact::from_bytes(base64_decode(kOnePixelPng)));
    else
      result.images.push_back(std::move(request.images.front()));
    co_return result;
  }

 private:
  // One line per call, "<unix ms>\n", appended in one write: several daemons may share
  // the file (O_APPEND keeps their lines whole), and the test reads when calls started.
  void log_start() const {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    const auto line = std::to_string(ms) + "\n";
    const int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
    ::close(fd);
  }

  const Host& host_;
  std::chrono::milliseconds delay_;
  std::string fail_;
  std::string log_file_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN(provider_slow_echo) {
  using namespace imagepipe;
  PluginDescriptor d;
  d.name = "slow-echo";
  d.version = "1.0.0";
  d.summary = "Test provider: echoes its input after a delay.";
  d.description = "For the daemon's tests and benchmarks: no image work, a configurable latency.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kDelayMs,
         {{"type", "integer"}, {"minimum", 0}, {"default", 0}, {"description", "Latency."}}},
        {kFail, {{"type", "string"}, {"description", "Error class to fail every call with."}}},
        {kLogFile,
         {{"type", "string"},
          {"description", "Appends each call's start (unix ms) to this file."}}}}}};
  d.factory =
      ProviderFactory{[](const PluginArgs& args) { return std::make_unique<SlowEcho>(args); }};
  return d;
}

extern "C" BOOST_SYMBOL_EXPORT const imagepipe_plugin_entry imagepipe_plugin{
    IMAGEPIPE_ABI_VERSION, "provider_slow_echo", &imagepipe_descriptor_provider_slow_echo,
    IMAGEPIPE_BUILD_SIGNATURE};
