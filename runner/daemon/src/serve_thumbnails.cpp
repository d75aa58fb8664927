#include "serve_thumbnails.hpp"

#include <charconv>

#include "imagepipe/image.hpp"
#include "imagepipe/registry.hpp"
#include "imagepipe/threads.hpp"
#include "serve_responses.hpp"

namespace imagepipe::serve {

namespace {

constexpr const char* kMetric = "imagepipe_thumbnails_total";

// An index as it stood in the path or query: digits only, no sign, no spaces.
std::optional<std::size_t> read_index(std::string_view text) {
  std::size_t value = 0;
  if (text.empty() || text.size() > 9) return std::nullopt;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// `output=` of the query; "" when absent.
std::string_view output_parameter(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.substr(0, 7) == "output=") return pair.substr(7);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

Response jpeg_response(std::shared_ptr<const std::string> jpeg, const char* cache) {
  Response r{.status = 200, .content_type = "image/jpeg", .body = *jpeg};
  // A job's results do not change once it has finished (the cache key holds its finish time).
  r.headers["Cache-Control"] = "private, max-age=86400";
  r.headers["X-Thumbnail-Cache"] = cache;
  return r;
}

}  // namespace

struct Thumbnails::Worker {
  asio::thread_pool thread{1};
  CpuPool pool{thread};
  ~Worker() { thread.join(); }
};

Thumbnails::Thumbnails(JobStore& store, const PipelineSet& pipelines, const Host& host,
                       Metrics& metrics, ThumbnailOptions options)
    : store_(store),
      pipelines_(pipelines),
      host_(host),
      metrics_(metrics),
      options_(options),
      worker_(std::make_unique<Worker>()) {
  metrics_.describe(kMetric,
                    "Thumbnails answered by GET /jobs/{id}/items/{n}/thumbnail, by outcome: made "
                    "(decoded and resized now) or cached");
  // The resize transform every pipeline uses: the same filter and JPEG decode-time scaling.
  PluginRegistry registry;
  register_builtin_plugins(registry);
  const auto* resize = registry.find(PluginKind::transform, "resize");
  const auto* factory =
      resize ? std::get_if<TransformFactory>(&resize->descriptor->factory) : nullptr;
  if (!factory) throw Error(ErrorClass::internal, "the resize transform is not built in");
  const auto checked = check_options(
      *resize->descriptor, {{"mode", "fit"}, {"width", options_.size}, {"height", options_.size}});
  if (!checked.ok())
    throw Error(ErrorClass::internal, "thumbnail size: " + checked.issues[0].message);
  PluginArgs args{host_, checked.options};
  resize_ = (*factory)(args);
  asio::post(worker_->thread, [] { name_this_thread("imagepipe-thumb"); });
}

Thumbnails::~Thumbnails() = default;

std::shared_ptr<const std::string> Thumbnails::cached(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return nullptr;
  recent_.splice(recent_.begin(), recent_, it->second);
  return it->second->jpeg;
}

void Thumbnails::keep(const std::string& key, std::shared_ptr<const std::string> jpeg) {
  std::lock_guard lock(mutex_);
  if (by_key_.count(key) || jpeg->size() > options_.cache_bytes) return;
  cached_bytes_ += jpeg->size();
  recent_.push_front({key, std::move(jpeg)});
  by_key_[key] = recent_.begin();
  while (cached_bytes_ > options_.cache_bytes) {
    cached_bytes_ -= recent_.back().jpeg->size();
    by_key_.erase(recent_.back().key);
    recent_.pop_back();
  }
}

Storage* Thumbnails::storage_for(const std::string& pipeline) {
  std::lock_guard lock(mutex_);
  if (auto it = storages_.find(pipeline); it != storages_.end()) return it->second.get();
  for (const auto& served : pipelines_.all) {
    if (served->pipeline->name != pipeline) continue;
    const auto& storage = served->pipeline->sink.storage;
    if (!storage || !storage->descriptor) break;
    const auto* factory = std::get_if<StorageFactory>(&storage->descriptor->factory);
    if (!factory || !*factory) break;
    PluginArgs args{host_, storage->with};
    return (storages_[pipeline] = (*factory)(args)).get();
  }
  return nullptr;
}

Task<std::optional<std::string>> Thumbnails::result_bytes(const std::string& id,
                                                          const std::string& pipeline,
                                                          std::size_t item, std::size_t output,
                                                          const ItemOutput& out) {
  if (!out.key.empty()) {
    if (auto* storage = storage_for(pipeline)) {
      try {
        co_return co_await storage->get(out.key);
      } catch (const Error& e) {
        // Removed from the storage since (a lifecycle rule, by hand): the store may still
        // hold an inline copy.
        if (e.cls() != ErrorClass::not_found) throw;
      }
    }
  }
  co_return co_await store_.inline_output(id, item, output);
}

std::string Thumbnails::make(const std::string& bytes) const {
  const auto [min_w, min_h] = resize_->min_decode_size(probe_image(bytes, host_.decode_limits));
  Image decoded = decode_image(bytes, host_.decode_limits, min_w, min_h);
  auto small = resize_->apply(Artifact::from_pixels(std::move(decoded)), ItemContext{});
  if (small.empty() || !small.front().pixels)
    throw Error(ErrorClass::internal, "resize gave no pixels");
  return encode_image(*small.front().pixels,
                      {.format = ImageFormat::jpeg, .quality = options_.quality});
}

Task<Response> Thumbnails::handle(const std::string& id, const std::string& item_text,
                                  const std::string& query) {
  const auto item = read_index(item_text);
  if (!item)
    co_return error_response(404, "no item '" + item_text.substr(0, 32) +
                                      "': items are "
                                      "numbered from 0");
  const auto output_text = output_parameter(query);
  const auto output = output_text.empty() ? std::optional<std::size_t>(0) : read_index(output_text);
  if (!output) co_return error_response(400, "output must be an output's index (0, 1, ...)");

  std::optional<JobRecord> record;
  try {
    record = co_await store_.get(id);
  } catch (const std::exception& e) {
    co_return error_response(503, std::string("the job store is unavailable: ") + e.what());
  }
  if (!record) co_return error_response(404, "no job with id '" + id + "'");
  if (!record->result || !record->finished_at)
    co_return error_response(404, "job '" + id + "' has no results yet (" + record->status + ")");
  const auto& items = record->result->items;
  if (*item >= items.size())
    co_return error_response(404, "job '" + id + "' has " + std::to_string(items.size()) +
                                      " item(s): no item " + std::to_string(*item));
  const auto& outputs = items[*item].outputs;
  if (*output >= outputs.size())
    co_return error_response(404, "item " + std::to_string(*item) + " has " +
                                      std::to_string(outputs.size()) + " output(s): no output " +
                                      std::to_string(*output));

  const std::string key = id + "/" + std::to_string(*item) + "/" + std::to_string(*output) + "/" +
                          std::to_string(to_unix_ms(*record->finished_at));
  if (auto jpeg = cached(key)) {
    metrics_.inc(kMetric, {{"outcome", "cached"}});
    co_return jpeg_response(std::move(jpeg), "hit");
  }
  std::optional<std::string> bytes;
  try {
    bytes = co_await result_bytes(id, record->pipeline, *item, *output, outputs[*output]);
  } catch (const Error& e) {
    co_return error_response(502, std::string("cannot read the result: ") + e.what());
  }
  if (!bytes)
    co_return error_response(404, "the daemon does not hold output " + std::to_string(*output) +
                                      " of item " + std::to_string(*item) +
                                      " (its sink kept no copy it can read)");

  // On the thumbnail thread, one at a time; the cache is asked again there, so requests
  // that queued behind the one making it find it made.
  bool made = false;
  std::shared_ptr<const std::string> jpeg;
  std::string problem;
  co_await worker_->pool.run([&] {
    if ((jpeg = cached(key))) return;
    try {
      jpeg = std::make_shared<const std::string>(make(*bytes));
      keep(key, jpeg);
      made = true;
    } catch (const std::exception& e) {
      problem = e.what();
    }
  });
  if (!jpeg)
    co_return error_response(422, "output " + std::to_string(*output) + " of item " +
                                      std::to_string(*item) + " is not an image: " + problem);
  metrics_.inc(kMetric, {{"outcome", made ? "made" : "cached"}});
  co_return jpeg_response(std::move(jpeg), made ? "miss" : "hit");
}

}  // namespace imagepipe::serve
