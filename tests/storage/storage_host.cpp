#include "storage_host.hpp"

#include <spdlog/sinks/null_sink.h>

namespace imagepipe::testing {

StorageHost::StorageHost() : work_(asio::make_work_guard(io_)) {
  http_ = std::make_unique<BeastHttpClient>(io_.get_executor());
  register_builtin_plugins(registry_);
  host.log = std::make_shared<spdlog::logger>("storage-test",
                                              std::make_shared<spdlog::sinks::null_sink_mt>());
  host.clock = &clock;
  host.cpu = &cpu_;
  host.http = http_.get();
  thread_ = std::thread([this] { io_.run(); });
}

StorageHost::~StorageHost() {
  work_.reset();
  // Pooled keep-alive connections would keep io_context busy: close them first.
  asio::post(io_, [this] { http_->close_idle_connections(); });
  io_.stop();
  thread_.join();
  pool_.join();
}

std::unique_ptr<Storage> StorageHost::make(const std::string& name, const nlohmann::json& with) {
  const auto* plugin = registry_.find(PluginKind::storage, name);
  if (!plugin) throw std::runtime_error("no storage plugin " + name);
  auto checked = check_options(*plugin->descriptor, with);
  if (!checked.ok())
    throw std::runtime_error("bad options for " + name + ": " + checked.issues[0].message);
  PluginArgs args{host, checked.options};
  return std::get<StorageFactory>(plugin->descriptor->factory)(args);
}

}  // namespace imagepipe::testing
