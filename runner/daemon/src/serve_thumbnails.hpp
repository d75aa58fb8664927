// GET /jobs/{id}/items/{n}/thumbnail[?output=k]: a result image made small (JPEG that fits
// 256 x 256, never enlarged) for the dashboard, so a page of jobs does not pull full-size
// results. The bytes come from where the job left them: the pipeline's storage (the
// output's key) or, for inline sinks, the job store.
//
// Each thumbnail is made once: the answers are kept in memory, least recently used first
// out past a byte budget, keyed by job, item, output and the job's finish time (a job run
// again after a crash has other results). Making one decodes an image, so it runs on a
// thread of its own, one at a time: a burst of requests queues there instead of taking
// the job threads' CPU, and a request for one being made meanwhile finds it made.
// imagepipe_thumbnails_total{outcome="made|cached"} counts the answers.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "imagepipe/host.hpp"
#include "imagepipe/metrics.hpp"
#include "imagepipe/plugin_interfaces.hpp"
#include "jobs/jobs.hpp"
#include "serve_http.hpp"
#include "serve_pipelines.hpp"

namespace imagepipe::serve {

struct ThumbnailOptions {
  int size = 256;                       // the box the thumbnail fits
  int quality = 80;                     // JPEG
  std::size_t cache_bytes = 32u << 20;  // about 2,000 thumbnails of 256 px
};

class Thumbnails {
 public:
  Thumbnails(JobStore& store, const PipelineSet& pipelines, const Host& host, Metrics& metrics,
             ThumbnailOptions options = {});
  ~Thumbnails();

  // `id` is a valid job id; `item` is what stood in the path ("3"); `query` the raw query.
  Task<Response> handle(const std::string& id, const std::string& item, const std::string& query);

 private:
  struct Cached {
    std::string key;
    std::shared_ptr<const std::string> jpeg;
  };
  std::shared_ptr<const std::string> cached(const std::string& key);
  void keep(const std::string& key, std::shared_ptr<const std::string> jpeg);
  // The output's bytes where the job left them; nullopt when the daemon cannot reach them.
  Task<std::optional<std::string>> result_bytes(const std::string& id, const std::string& pipeline,
                                                std::size_t item, std::size_t output,
                                                const ItemOutput& out);
  Storage* storage_for(const std::string& pipeline);
  std::string make(const std::string& bytes) const;

  JobStore& store_;
  const PipelineSet& pipelines_;
  const Host& host_;
  Metrics& metrics_;
  ThumbnailOptions options_;
  std::unique_ptr<Transform> resize_;

  std::mutex mutex_;          // HTTP threads and the thumbnail thread share the cache
  std::list<Cached> recent_;  // most recent first
  std::unordered_map<std::string, std::list<Cached>::iterator> by_key_;
  std::size_t cached_bytes_ = 0;
  // Opened on first use: a pipeline's storage may need credentials no thumbnail needs.
  std::map<std::string, std::unique_ptr<Storage>> storages_;

  struct Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace imagepipe::serve
