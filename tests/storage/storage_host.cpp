#include "storage_host.hpp"

#include <cstdio>
#include <random>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

namespace imagepipe::testing {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<std::string> numbered_keys(const std::string& prefix, int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%04d.png", i);
    keys.push_back(prefix + name);
  }
  return keys;
}

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

void StorageHost::put_all(Storage& storage, const std::vector<std::string>& keys,
                          const std::shared_ptr<const std::string>& data) {
  constexpr std::size_t kInFlight = 50;
  for (std::size_t start = 0; start < keys.size(); start += kInFlight) {
    std::vector<std::future<ObjectInfo>> batch;
    for (std::size_t i = start; i < std::min(keys.size(), start + kInFlight); ++i)
      batch.push_back(asio::co_spawn(io_, storage.put(keys[i], data, {}), asio::use_future));
    for (auto& f : batch) f.get();
  }
}

StorageHost::Listing StorageHost::list_all(Storage& storage, const std::string& prefix,
                                           int page_size, int max_pages) {
  Listing listing;
  std::string token;
  do {
    auto page = run(storage.list(prefix, token, page_size));
    ++listing.pages;
    for (auto& o : page.objects) listing.objects.push_back(std::move(o));
    token = page.next_token;
  } while (!token.empty() && listing.pages < max_pages);
  return listing;
}

void expect_lists_2500_objects_over_3_pages(StorageHost& host, Storage& storage) {
  const auto keys = numbered_keys("many/", 2500);
  host.put_all(storage, keys, std::make_shared<const std::string>("x"));
  const auto listing = host.list_all(storage, "many/");
  EXPECT_EQ(listing.pages, 3);
  std::vector<std::string> listed;
  for (const auto& o : listing.objects) {
    listed.push_back(o.key);
    EXPECT_EQ(o.size, 1u) << o.key;
  }
  EXPECT_EQ(listed, keys);
}

}  // namespace imagepipe::testing
