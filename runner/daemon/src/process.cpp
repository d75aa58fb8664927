#include "process.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>

#include "imagepipe/http_client.hpp"
#include "imagepipe/pipeline.hpp"
#include "imagepipe/threads.hpp"
#include "thread_priority.hpp"

namespace imagepipe::runner {

namespace {
std::vector<std::filesystem::path> env_plugin_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* path = std::getenv("IMAGEPIPE_PLUGIN_PATH")) {
    std::string s = path;
    std::size_t start = 0;
    while (start <= s.size()) {
      auto end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.emplace_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  return dirs;
}

// The installed plugin folder also holds the built-in plugins' modules (for the SDK):
// loading those would only dlopen code that is linked in already, at every start.
std::vector<std::string> load_installed_plugins(PluginRegistry& registry,
                                                const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return {};
  std::set<std::string> built_in;
  for (const auto& p : registry.all())
    if (p.origin == "built-in")
      built_in.insert("imagepipe-" + std::string(to_string(p.descriptor->kind())) + "-" +
                      p.descriptor->name + ".so");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".so" && !built_in.count(e.path().filename().string()))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> refused;
  for (const auto& f : files) {
    try {
      registry.load_library(f);
    } catch (const PluginLoadError& e) {
      refused.push_back(e.what());
    }
  }
  return refused;
}

// $IMAGEPIPE_DECODED_PIXEL_BYTES when it is a number, else 1 GiB.
std::uint64_t default_pixel_budget() {
  if (const char* text = std::getenv("IMAGEPIPE_DECODED_PIXEL_BYTES"); text && *text) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end && *end == '\0') return value;
  }
  return 1ull << 30;
}

int cpu_threads(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
}  // namespace

Process::Process(const ProcessOptions& options)
    : cpu_threads_(cpu_threads(options.cpu_threads)),
      cpu_pool_(static_cast<std::size_t>(cpu_threads_)),
      cpu_(cpu_pool_),
      log_(make_process_logger(options.log_format, options.log_level)) {
  HttpClientOptions http_options;
  http_options.log = log_;
  http_ = std::make_unique<BeastHttpClient>(io_.get_executor(), http_options);
  register_builtin_plugins(registry_);
  for (const auto& refused : load_installed_plugins(registry_, options.installed_plugin_dir))
    log_->warn("{}", refused);
  auto dirs = env_plugin_dirs();
  dirs.insert(dirs.end(), options.plugin_dirs.begin(), options.plugin_dirs.end());
  for (const auto& refused : registry_.load_directories(dirs)) log_->warn("{}", refused);
  on_each_pool_thread(cpu_pool_, cpu_threads_, [] { name_this_thread("imagepipe-cpu"); });
  const std::uint64_t budget = options.decoded_pixel_bytes.value_or(default_pixel_budget());
  if (budget > 0) pixels_ = PixelBudget::create(budget, options.pixel_budget_setting, &metrics_);
  if (options.decoder_memory_bytes) {
    DecoderLimits decoder = decoder_limits();
    decoder.memory_bytes = *options.decoder_memory_bytes;
    set_decoder_limits(decoder);
  }
}

Process::~Process() { cpu_pool_.join(); }

void Process::lower_cpu_priority() { lower_pool_priority(cpu_pool_, cpu_threads_); }

Host Process::host() {
  Host host;
  host.log = log_;
  host.clock = &clock_;
  host.cpu = &cpu_;
  host.http = http_.get();
  host.metrics = &metrics_;
  host.pixels = pixels_.get();
  return host;
}

std::map<std::string, std::string> load_env_file(const std::string& explicit_file) {
  if (!explicit_file.empty()) {
    if (!std::filesystem::exists(explicit_file))
      throw std::runtime_error("--env-file " + explicit_file + " does not exist");
    return read_dotenv(explicit_file);
  }
  if (std::filesystem::exists(".env")) return read_dotenv(".env");
  return {};
}

}  // namespace imagepipe::runner
