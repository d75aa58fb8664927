// GET /jobs's store query with 100,000 jobs: fills a fresh job store (4 pipelines; a
// tenth finished, the rest queued) and prints the median and worst latency of a page for
// each kind of listing, deep pages included. Usage: bench_jobs_list [JOBS] [DIR] (a DIR
// given is kept afterwards).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <boost/asio/redirect_error.hpp>

#include "bench_common.hpp"
#include "jobs/jobs.hpp"

using namespace imagepipe;
using SteadyClock = std::chrono::steady_clock;

namespace {

template <class T>
T run(asio::io_context& io, Task<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) result.emplace(std::move(v));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

void run(asio::io_context& io, Task<void> task) {
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
}

const char* kPipelines[] = {"thumbnails", "wxo-edit-b64", "wxo-batch", "avatar"};

Task<void> add_chunk(JobStore& store, int first, int count) {
  // Accepts that arrive together share one commit (group commit), as under load.
  auto ex = co_await asio::this_coro::executor;
  auto pending = std::make_shared<int>(count);
  asio::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
  for (int i = first; i < first + count; ++i) {
    NewJob job;
    job.id = new_job_id();
    job.pipeline = kPipelines[i % 4];
    job.request.body = {{"prompt", "bench"}};
    job.request.headers["x-request-id"] = "bench-" + std::to_string(i);
    asio::co_spawn(ex, store.add(std::move(job)), [pending, &done](std::exception_ptr) {
      if (--*pending == 0) done.cancel();
    });
  }
  boost::system::error_code ignored;
  co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

Task<void> finish_some(JobStore& store, int count) {
  for (int i = 0; i < count; ++i) {
    auto claimed = co_await store.claim_next();
    if (!claimed) break;
    JobResult result;
    result.id = claimed->id;
    result.pipeline = claimed->pipeline;
    result.status = i % 5 == 0 ? "failed" : "completed";
    result.started_at = result.finished_at = std::chrono::system_clock::now();
    co_await store.finish(std::move(result));
  }
}

struct Timing {
  double median_ms, worst_ms;
  std::size_t jobs;
};

Timing time_page(asio::io_context& io, JobStore& store, const JobQuery& query, int runs = 30) {
  std::vector<double> ms;
  std::size_t n = 0;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = SteadyClock::now();
    n = run(io, store.list(query)).jobs.size();
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
  }
  return {bench::median(ms), *std::max_element(ms.begin(), ms.end()), n};
}

}  // namespace

int main(int argc, char** argv) {
  const int total = argc > 1 ? std::stoi(argv[1]) : 100000;
  const auto dir = argc > 2 ? std::filesystem::path(argv[2])
                            : std::filesystem::temp_directory_path() / "imagepipe-bench-jobs";
  std::filesystem::remove_all(dir);
  asio::io_context io;
  auto store = open_sqlite_job_store({dir});

  const auto t0 = SteadyClock::now();
  for (int first = 0; first < total; first += 1000)
    run(io, add_chunk(*store, first, std::min(1000, total - first)));
  const double fill_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const auto t1 = SteadyClock::now();
  run(io, finish_some(*store, total / 10));
  const double finish_s = std::chrono::duration<double>(SteadyClock::now() - t1).count();
  std::cout << "store: " << total << " jobs added in " << fill_s << " s, " << total / 10
            << " finished in " << finish_s << " s\n";

  // Where page 100 of the unfiltered listing starts, to time a deep page.
  JobQuery walk;
  for (int page = 0; page < 100; ++page) {
    auto p = run(io, store->list(walk));
    if (!p.next) break;
    walk.after = p.next;
  }
  JobQuery newest;
  JobQuery by_pipeline{.pipeline = "wxo-batch"};
  JobQuery by_status{.status = "completed"};
  JobQuery rare_status{.status = "failed"};
  JobQuery both{.pipeline = "avatar", .status = "queued"};
  JobQuery window{.since = std::chrono::system_clock::now() - std::chrono::hours(1)};
  JobQuery big_page{.limit = 500};
  const std::pair<const char*, JobQuery*> cases[] = {
      {"newest 50", &newest},           {"pipeline=wxo-batch", &by_pipeline},
      {"status=completed", &by_status}, {"status=failed", &rare_status},
      {"pipeline+status", &both},       {"since=1h ago", &window},
      {"page 100 (cursor)", &walk},     {"limit=500", &big_page}};
  std::cout << "GET /jobs store query, median and worst of 30 (ms):\n";
  for (const auto& [name, query] : cases) {
    const auto t = time_page(io, *store, *query);
    std::printf("  %-20s %7.2f  %7.2f  (%zu jobs)\n", name, t.median_ms, t.worst_ms, t.jobs);
  }
  store.reset();
  // A directory named on the command line is kept, to point a daemon at it
  // (imagepipe serve --data DIR) and time GET /jobs over HTTP.
  if (argc <= 2) std::filesystem::remove_all(dir);
}
