// A job store in a fresh temporary directory, and a way to run its coroutines to the end.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "jobs/jobs.hpp"

namespace imagepipe::testing {

template <class T>
T run_task(asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

inline void run_task(asio::io_context& io, Task<void> task) {
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
}

// A finished job `id` with one completed item holding one inline PNG output.
inline JobResult finished(const std::string& id, std::string status = "completed") {
  using namespace std::chrono_literals;
  JobResult r;
  r.id = id;
  r.pipeline = "p";
  r.status = std::move(status);
  r.started_at = std::chrono::system_clock::now();
  r.finished_at = r.started_at + 1500ms;
  ItemResult item;
  item.name = "burger.jpeg";
  item.stem = "burger";
  item.status = "completed";
  ItemOutput out;
  out.mime = "image/png";
  out.ext = "png";
  out.data = std::make_shared<const std::string>("RESULTBYTES");
  item.outputs.push_back(out);
  r.items.push_back(item);
  return r;
}

// Item `index` of a batch, finished, with one inline PNG output.
inline ItemResult item_at(std::size_t index, std::string status = "completed") {
  ItemResult item;
  item.index = index;
  item.name = "batch/img" + std::to_string(index) + ".png";
  item.stem = "img" + std::to_string(index);
  item.status = std::move(status);
  ItemOutput out;
  out.mime = "image/png";
  out.ext = "png";
  out.key = "out/" + item.stem + ".png";
  out.data = std::make_shared<const std::string>("BYTES");
  item.outputs.push_back(out);
  return item;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng{std::random_device{}()};
    dir_ = std::filesystem::temp_directory_path() / ("imagepipe-store-" + std::to_string(rng()));
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  // Closes and opens the store again: what a restart sees.
  void reopen() {
    store_.reset();
    store_ = open_sqlite_job_store({dir_, Durability::process, segment_bytes_});
  }
  // Segment files (job bytes) in inputs/ or results/, once their number is `expected`
  // or a second has passed: the store removes segments on a background thread.
  std::size_t segments(const char* folder, std::size_t expected) const {
    std::size_t n = 0;
    for (int tries = 0; tries < 100; ++tries) {
      n = 0;
      for (const auto& entry : std::filesystem::directory_iterator(dir_ / folder))
        if (entry.path().extension() == ".seg") ++n;
      if (n == expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return n;
  }

  template <class T>
  T run(Task<T> task) {
    return run_task(io_, std::move(task));
  }

  NewJob make_job(std::string pipeline = "p", std::string image = "PNGBYTES") {
    NewJob job;
    job.id = new_job_id();
    job.pipeline = std::move(pipeline);
    job.request.body = {{"prompt", "add a dog"}, {"filename", "burger.jpeg"}};
    job.request.headers = {{"callbackurl", "http://127.0.0.1:9/cb"}};
    job.inputs.push_back({"image_base64", std::make_shared<const std::string>(std::move(image))});
    job.notify = true;
    return job;
  }

  asio::io_context io_;
  std::filesystem::path dir_;
  std::uint64_t segment_bytes_ = 64u << 20;  // a test sets it, then reopen()s
  std::unique_ptr<JobStore> store_;
};

}  // namespace imagepipe::testing
