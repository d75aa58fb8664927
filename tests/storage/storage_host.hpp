// A real host for driving a storage plugin from a test: an I/O thread, a CPU pool, the
// host's HTTP client and a clock that can be set back (for expired presigned URLs).
//
//   StorageHost h;
//   auto s3 = h.make("s3", {{"bucket", "b"}, {"endpoint", url}});
//   h.run(s3->put("k", data, {}));
#pragma once

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "imagepipe/http_client.hpp"

#include <boost/asio/use_future.hpp>
#include "imagepipe/registry.hpp"

namespace imagepipe::testing {

// System time plus an offset, so a test can sign "two hours ago".
class ShiftedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now() + offset;
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  Task<void> sleep_for(std::chrono::milliseconds d) override { return system_.sleep_for(d); }
  std::chrono::seconds offset{0};

 private:
  SystemClock system_;
};

// `n` bytes of noise, the same for the same seed (incompressible test objects).
std::string random_bytes(std::size_t n, unsigned seed);

// prefix + "0000.png", prefix + "0001.png", ...: sorted as listed.
std::vector<std::string> numbered_keys(const std::string& prefix, int n);

// Passes each request on to another client and notes it as "METHOD /path?query", so a
// test against a real server can count what the plugin sent.
class RecordingHttp final : public HttpClient {
 public:
  explicit RecordingHttp(HttpClient& inner) : inner_(inner) {}
  Task<HttpResponse> send(HttpRequest request) override {
    {
      std::lock_guard lock(mu_);
      const auto path = request.url.find('/', request.url.find("://") + 3);
      requests_.push_back(request.method + " " + request.url.substr(path));
    }
    co_return co_await inner_.send(std::move(request));
  }
  std::size_t count(const std::string& request) const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(std::count(requests_.begin(), requests_.end(), request));
  }

 private:
  HttpClient& inner_;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
};

class StorageHost;

// The listing contract every storage plugin keeps: 2,500 one-byte objects come back in
// key order, over three pages of 1,000, each with its size (gtest expectations).
void expect_lists_2500_objects_over_3_pages(StorageHost& host, Storage& storage);

class StorageHost {
 public:
  StorageHost();
  ~StorageHost();

  // Validates `with` against the plugin's schema (defaults filled) and builds it.
  std::unique_ptr<Storage> make(const std::string& name, const nlohmann::json& with);

  template <class T>
  T run(Task<T> task) {
    return asio::co_spawn(io_, std::move(task), asio::use_future).get();
  }
  void run(Task<void> task) { asio::co_spawn(io_, std::move(task), asio::use_future).get(); }

  asio::io_context& io() { return io_; }

  // Puts `data` under every key, 50 uploads in flight at a time (a few seconds for 2,500).
  void put_all(Storage& storage, const std::vector<std::string>& keys,
               const std::shared_ptr<const std::string>& data);

  // Every object under `prefix`, following continuation tokens `page_size` at a time; stops
  // after `max_pages` so a token that never ends fails the test instead of hanging it.
  struct Listing {
    std::vector<ObjectInfo> objects;
    int pages = 0;
  };
  Listing list_all(Storage& storage, const std::string& prefix, int page_size = 1000,
                   int max_pages = 10);

  ShiftedClock clock;
  Host host;

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::thread_pool pool_{2};
  CpuPool cpu_{pool_};
  std::unique_ptr<BeastHttpClient> http_;
  PluginRegistry registry_;
  std::thread thread_;
};

}  // namespace imagepipe::testing
