// The daemon (`imagepipe serve`): wires the job store, dispatcher, outbox and HTTP server together,
// and shuts them down in order on SIGTERM (stop accepting, let running jobs finish for
// shutdown_grace_seconds, re-queue the rest).
#include "daemon.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>

#include "imagepipe/http_client.hpp"
#include "imagepipe/threads.hpp"
#include "jobs/redis/redis_limits.hpp"
#include "serve_access_log.hpp"
#include "serve_auth.hpp"
#include "serve_dispatcher.hpp"
#include "serve_outbox.hpp"
#include "serve_routes.hpp"
#include "serve_scheduler.hpp"
#include "thread_priority.hpp"

namespace imagepipe::runner {

namespace fs = std::filesystem;
using namespace imagepipe::serve;

namespace {

constexpr std::chrono::minutes kRetentionSweep{10};
constexpr std::chrono::seconds kMaxCallbackDrain{10};
constexpr std::size_t kMaxIssuerDocumentBytes = 1u << 20;  // discovery and key set

void observe_request(Metrics& metrics, spdlog::logger& log, const Request& r, const Answered& a) {
  metrics.inc("imagepipe_http_requests_total",
              {{"route", r.route}, {"method", r.method}, {"status", std::to_string(a.status)}});
  metrics.observe("imagepipe_http_request_duration_seconds", {{"route", r.route}}, a.seconds);
  log_request(log, r, a);
}

Task<void> sweep_finished_jobs(JobStore& store, std::chrono::hours retention,
                               asio::steady_timer& timer, std::shared_ptr<spdlog::logger> log) {
  for (;;) {
    try {
      int removed = 0;
      for (int n; (n = co_await store.remove_finished_before(std::chrono::system_clock::now() -
                                                             retention)) > 0;)
        removed += n;
      if (removed)
        log->info("removed {} job(s) older than the retention of {} h", removed, retention.count());
    } catch (const std::exception& e) {
      log->warn("job retention sweep failed: {}", e.what());
    }
    timer.expires_after(kRetentionSweep);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

// The schedules of the pipelines that can run.
std::vector<ScheduledRun> scheduled_runs(const PipelineSet& pipelines) {
  std::vector<ScheduledRun> runs;
  for (const auto& served : pipelines.all) {
    if (!served->engine) continue;
    for (const auto& schedule : served->pipeline->trigger.schedules)
      runs.push_back({served->pipeline->name, &schedule, served->engine->has_notifiers()});
  }
  return runs;
}

// SQLite in the data directory, or Redis shared with other nodes (`queue:`). With Redis the
// node takes jobs only from the streams of the pipelines it can run, and the queued-jobs
// limit is counted across the cluster by the store.
std::unique_ptr<JobStore> open_job_store(const ServeConfig& config, const PipelineSet& pipelines) {
  if (config.queue.empty()) return open_sqlite_job_store({config.data_dir, config.durability});
  RedisStoreOptions options;
  options.url = config.queue;
  for (const auto& served : pipelines.all)
    if (served->engine) options.pipelines.push_back(served->pipeline->name);
  options.node_id = config.queue_node_id;
  options.claim_idle = config.queue_claim_idle;
  options.max_deliveries = config.queue_max_deliveries;
  options.max_input_bytes = config.http.body_bytes;
  options.queued_per_pipeline = config.queued_jobs_per_pipeline;
  try {
    return open_redis_job_store(std::move(options));
  } catch (const Error& e) {
    throw ConfigError(e.what());
  }
}

// The queue URL without its password, if it has one.
std::string queue_for_log(const std::string& url) {
  const auto at = url.rfind('@');
  return at == std::string::npos ? url : "redis://***@" + url.substr(at + 1);
}

// A loop that ends with an exception is logged, not lost.
auto log_failure(std::shared_ptr<spdlog::logger> log, const char* what) {
  return [log, what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("{} stopped: {}", what, ex.what());
    }
  };
}

}  // namespace

int run_daemon(const ServeConfig& config, Process& process) {
  auto log = process.log();
  auto& io = process.io();
  auto& metrics = process.metrics();

  const auto env = load_env_file(config.env_file);
  LoadOptions load;
  load.env_overrides = env;
  load.allow_missing_env = true;  // such pipelines are listed by /health/ready and answer 503

  // Jobs and callbacks run on their own threads, below the priority of the HTTP threads
  // (see thread_priority.hpp); so do their outbound requests (providers, storage,
  // callbacks), which would otherwise take the HTTP threads' time.
  asio::io_context job_io;
  auto job_io_work = asio::make_work_guard(job_io);
  HttpClientOptions http_options;
  http_options.log = log;
  http_options.egress = config.egress;
  BeastHttpClient http(job_io.get_executor(), http_options);
  Host host = process.host();
  host.http = &http;

  PipelineSet pipelines;
  std::unique_ptr<JobStore> store;
  std::optional<CredentialSealer> sealer_storage;
  try {
    if (config.credentials_key_file.empty())
      sealer_storage.emplace();
    else
      sealer_storage.emplace(config.credentials_key_file);
  } catch (const std::runtime_error& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }
  const CredentialSealer& sealer = *sealer_storage;
  try {
    // With a shared queue, provider limits are shared too: installed before the pipelines'
    // gates are built.
    if (!config.queue.empty()) {
      try {
        set_shared_limits(std::make_shared<jobs::redis::RedisLimits>(jobs::redis::RedisLimitsOptions{
            .url = config.queue, .window = config.queue_limit_window, .node_id = config.queue_node_id}));
      } catch (const std::invalid_argument& e) {
        throw ConfigError(e.what());
      }
    }
    pipelines = load_pipeline_set(pipeline_files(config.pipelines), process.registry(), load,
                                  config, &host);
    store = open_job_store(config, pipelines);
  } catch (const PipelineError& e) {
    std::cerr << e.format(::isatty(STDERR_FILENO)) << "\n";
    return kExitInvalid;
  } catch (const ConfigError& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }
  AccessConfig access;
  std::optional<BeastHttpClient> issuer_http;
  try {
    access = read_access_config(config.access, env_lookup(env));
    check_route_auth(access.auth, pipelines);
    if (access.auth.enabled && access.auth.oidc.configured()) {
      HttpClientOptions options{.max_response_bytes = kMaxIssuerDocumentBytes,
                                .ca_file = access.auth.oidc.ca_file,
                                .log = log};
      issuer_http.emplace(job_io.get_executor(), options);
    }
  } catch (const std::exception& e) {  // ConfigError, or Error for an unreadable ca_file
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitInvalid;
  }
  AccessGate gate(access, metrics, log, issuer_http ? &*issuer_http : nullptr);
  log_access(*log, access, config.host);
  forget_api_keys(access.auth);
  for (const auto& served : pipelines.all) {
    if (served->unavailable.empty()) continue;
    if (const auto& http = served->pipeline->trigger.http)
      log->warn("pipeline '{}' cannot run: {}; {} {} answers {}", served->pipeline->name,
                served->unavailable, http->method, http->path,
                http->unavailable ? http->unavailable->status : 503);
    if (!served->pipeline->trigger.schedules.empty())
      log->warn("pipeline '{}' cannot run: {}; its schedules do not fire", served->pipeline->name,
                served->unavailable);
  }

  const EgressPolicy egress(config.egress);
  JobWaiters waiters;
  process.lower_cpu_priority();
  Outbox outbox(job_io, *store, pipelines, config.callbacks, config.callbacks_in_flight, metrics,
                log, sealer);
  QueuedJobs queued(config.queued_jobs_per_pipeline);
  Dispatcher dispatcher(
      job_io, *store, pipelines, waiters, config.jobs_in_flight, metrics, log,
      [&] { outbox.wake(); }, [&](const std::string& id) { queued.remove(id); });
  // With Redis the store counts queued jobs across nodes; this process' count would never
  // see the jobs other nodes start.
  TriggerContext trigger{*store, waiters, egress, config.json, sealer, [&] { dispatcher.wake(); },
                         log,    config.queue.empty() ? &queued : nullptr};
  std::optional<OffsetClock> schedule_clock;
  if (config.schedule_clock_start)
    schedule_clock.emplace(*host.clock, *config.schedule_clock_start - host.clock->now());
  Scheduler scheduler(
      *store, schedule_clock ? *schedule_clock : *host.clock, scheduled_runs(pipelines),
      [&] { dispatcher.wake(); }, log);
  std::atomic<bool> shutting_down{false};
  ProcessMetrics process_metrics(metrics);
  set_build_info(metrics, IMAGEPIPE_VERSION);
  Router router(RouterContext{
      pipelines, trigger, metrics, config.public_url, shutting_down, host, &scheduler, &gate,
      &process_metrics,
      JobsApiHooks{&dispatcher.running(), [&](const std::string& id) { queued.remove(id); },
                   [&] { outbox.wake(); }}});
  metrics.describe("imagepipe_http_requests_total", "HTTP requests answered, by route and status");
  metrics.describe("imagepipe_http_request_duration_seconds",
                   "Time from a request's last byte to its answer");
  metrics.describe("imagepipe_jobs", "Jobs in the store, by pipeline and status");
  metrics.describe("imagepipe_queue_depth", "Jobs accepted and not yet started");
  metrics.describe("imagepipe_callbacks_pending", "Callbacks waiting for delivery or a retry");
  const int threads = config.io_threads > 0
                          ? config.io_threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  HttpServer server(
      io, config.host, config.port, config.http, [&](Request& r) { return router.handle(r); },
      [&](const Request& r, const Answered& a) { observe_request(metrics, *log, r, a); }, threads);

  asio::steady_timer sweep_timer(io);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  std::atomic<bool> stopped{false};

  auto shutdown = [&]() -> Task<void> {
    log->info("stopping: no new requests; waiting up to {} s for {} running job(s)",
              config.shutdown_grace.count(), dispatcher.in_flight());
    shutting_down = true;
    scheduler.stop();
    server.stop();
    const int left = co_await dispatcher.drain(config.shutdown_grace);
    co_await outbox.stop(
        std::min<std::chrono::milliseconds>(config.shutdown_grace, kMaxCallbackDrain));
    // With Redis this also hands back jobs claimed and not started, for the other nodes.
    if (left > 0 || !config.queue.empty()) {
      try {
        const int n = co_await store->requeue_running();
        if (n) log->info("{} job(s) not finished were queued again", n);
      } catch (const std::exception& e) {
        log->error("cannot re-queue running jobs ({}); the next start will", e.what());
      }
    }
    sweep_timer.cancel();
    stopped = true;
    io.stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) asio::co_spawn(io, shutdown(), asio::detached);
  });

  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        int requeued = 0;
        try {
          requeued = co_await store->requeue_running();
        } catch (const Error& e) {
          // A node may start before Redis: it answers 503 until Redis is reachable, and
          // what it held before comes back through the idle timeout.
          if (config.queue.empty()) throw;
          log->error("the job queue is unreachable at start ({}); serving 503 until it is back",
                     e.what());
        }
        if (requeued)
          log->warn("{} job(s) were running when the server last stopped; running them again",
                    requeued);
        dispatcher.start();
        outbox.start();
        if (scheduler.size())
          asio::co_spawn(job_io, scheduler.run(), log_failure(log, "scheduler"));
        server.start();
        asio::co_spawn(io, gate.warm_up(), asio::detached);
        asio::co_spawn(io, sweep_finished_jobs(*store, config.retention, sweep_timer, log),
                       asio::detached);
        std::string routes;
        for (const auto& served : pipelines.all) {
          const auto& p = *served->pipeline;
          if (p.trigger.http)
            routes += "\n  " + p.trigger.http->method + " " + p.trigger.http->path + " → " + p.name;
          for (const auto& schedule : p.trigger.schedules)
            routes += "\n  schedule \"" + schedule.cron.expression() + "\" " + schedule.timezone +
                      " → " + p.name;
        }
        log->info("serving {} pipeline(s), jobs in {}:{}", pipelines.all.size(),
                  config.queue.empty() ? config.data_dir.string() : queue_for_log(config.queue),
                  routes);
        // On stdout, for scripts and tests that asked for port 0.
        std::cout << "listening on http://"
                  << (config.host.find(':') != std::string::npos ? "[" + config.host + "]"
                                                                 : config.host)
                  << ":" << server.port() << std::endl;
      },
      [&](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log->critical("cannot start: {}", ex.what());
        }
        io.stop();
      });

  name_this_thread("imagepipe-http");  // `io` is run by this thread only: see serve_http.hpp
  std::vector<std::thread> job_workers;
  for (int i = 0; i < threads; ++i)
    job_workers.emplace_back([&job_io] {
      name_this_thread("imagepipe-jobs");
      lower_this_thread_priority();
      job_io.run();
    });
  io.run();
  // Shutdown has drained the dispatcher and the outbox by now.
  job_io_work.reset();
  job_io.stop();
  for (auto& w : job_workers) w.join();
  log->flush();
  return stopped ? kExitOk : kExitRuntime;
}

}  // namespace imagepipe::runner
