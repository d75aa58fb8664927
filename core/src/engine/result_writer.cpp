// The sink for one item: each result image encoded once (or kept as it came), stored under
// its rendered key, never over another result of the same job, and copied locally when
// the runner asked for a copy.
#include <filesystem>

#include "engine_parts.hpp"

namespace imagepipe::detail {

namespace {

using nlohmann::json;

// s3://bucket/key for S3, the path for local storage, else "<storage>:<key>".
std::string storage_uri(const json& location, const std::string& key) {
  const auto storage = location.value("storage", "");
  if (storage == "s3") return "s3://" + location.value("bucket", "") + "/" + key;
  if (storage == "local") return (std::filesystem::path(location.value("root", "")) / key).string();
  if (storage == "azure-blob")
    return location.value("endpoint", "") + "/" + location.value("container", "") + "/" + key;
  return storage + ":" + key;
}

std::uint64_t key_hash(const std::string& key) { return std::hash<std::string>{}(key); }

using Encoded = std::pair<std::shared_ptr<const std::string>, ImageFormat>;

// Keeps the bytes as they are unless a format was asked for and pixels changed or the
// format differs: re-encoding an untouched JPEG only loses quality. Runs on the CPU pool.
Encoded encode_result(Artifact& a, const DecodeLimits& limits) {
  const bool keep =
      a.encoded && !a.pixels && (!a.encoding || a.encoding->format == a.encoded_format);
  if (keep) return {a.encoded, a.encoded_format};
  const EncodeSpec spec = a.encoding.value_or(EncodeSpec{});
  // Untouched bytes go file to file: a 16-bit or float source keeps its precision when the
  // output can hold it (transcode_image), rather than passing through 8-bit pixels.
  if (!a.pixels)
    return {std::make_shared<const std::string>(transcode_image(*a.encoded, spec, limits)),
            spec.format};
  return {std::make_shared<const std::string>(encode_image(*a.pixels, spec)), spec.format};
}

class ResultWriter {
 public:
  ResultWriter(ItemWork& work, Instances& instances) : work_(work), instances_(instances) {}

  Task<void> write(StepImage& image, std::size_t index, std::size_t count) {
    Artifact& a = image.artifact;
    const DecodeLimits limits = work_.limits;
    auto encoded = co_await work_.host.cpu->run([&a, limits] { return encode_result(a, limits); });
    ItemOutput out;
    if (image.step < work_.pipeline.steps.size()) out.step = work_.pipeline.steps[image.step].name;
    out.mime = std::string(mime_type(encoded.second));
    out.ext = std::string(file_extension(encoded.second));
    out.bytes = encoded.first->size();
    if (a.pixels) {
      out.width = a.pixels->width;
      out.height = a.pixels->height;
    } else {
      const auto info = probe_image(*encoded.first, limits);
      out.width = info.width;
      out.height = info.height;
    }
    out.metadata = a.metadata;
    a.pixels.reset();  // free memory before the upload

    if (instances_.sink_storage || instances_.copy_storage) {
      const json scope = key_scope(image, index, count, out);
      if (instances_.sink_storage) co_await store(out, encoded.first, scope);
      if (instances_.copy_storage) co_await copy(out, encoded.first, scope);
    }
    if (work_.pipeline.sink.inline_result || !instances_.sink_storage) out.data = encoded.first;
    work_.item.outputs.push_back(std::move(out));
  }

 private:
  json key_scope(const StepImage& image, std::size_t index, std::size_t count,
                 const ItemOutput& out) {
    json scope = work_.scope;
    scope["item"]["output_ext"] = out.ext;
    const auto& steps = work_.pipeline.steps;
    scope["output"] = {{"index", index},
                       {"count", count},
                       // "_1", "_2"... only when a step yields several images (grid-split).
                       {"suffix", image.count > 1 ? "_" + std::to_string(image.index + 1) : ""},
                       {"step", image.step < steps.size() ? steps[image.step].name : "item"},
                       {"step_index", image.index},
                       {"ext", out.ext},
                       {"mime", out.mime},
                       {"id", new_job_id()},
                       {"width", out.width},
                       {"height", out.height}};
    scope["output"]["metadata"] = out.metadata;
    return scope;
  }

  Task<void> store(ItemOutput& out, const std::shared_ptr<const std::string>& bytes,
                   const json& scope) {
    const auto& sink = work_.pipeline.sink;
    auto& job = work_.job;
    const std::size_t index = work_.item.index;
    out.key = sink.key.render_string(scope);
    if (auto [it, fresh] = job.keys_written.emplace(key_hash(out.key), index); !fresh)
      throw Error(ErrorClass::invalid_input,
                  "sink key '" + out.key + "' was already written by " + writer(it->second) +
                      " in this job; nothing was overwritten. Make sink.key unique per "
                      "result, e.g. with ${item.index} or ${output.suffix}");
    PutOptions put;
    put.content_type = out.mime;
    if (!sink.metadata.raw().is_null()) {
      auto rendered = sink.metadata.render(scope);
      for (const auto& [k, v] : rendered.items())
        put.metadata[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    co_await instances_.sink_storage->put(out.key, bytes, std::move(put));
    if (sink.url == SinkSpec::UrlMode::presigned) {
      out.url = co_await instances_.sink_storage->presign(out.key, sink.expires);
      out.expires_in = sink.expires.count();
    } else if (sink.url == SinkSpec::UrlMode::public_url) {
      out.url = instances_.sink_storage->public_url(out.key);
    }
    out.uri = storage_uri(job.result.sink, out.key);
  }

  Task<void> copy(ItemOutput& out, const std::shared_ptr<const std::string>& bytes,
                  const json& scope) {
    // Without a sink key: "<stem><suffix>.<ext>", with the step's name between when the
    // results come from several steps (an avatar's base and its tiles).
    const std::string step =
        work_.pipeline.sink.steps.size() > 1 ? "_" + scope["output"].value("step", "") : "";
    const std::string key = out.key.empty()
                                ? scope["item"].value("stem", "image") + step +
                                      scope["output"].value("suffix", "") + "." + out.ext
                                : out.key;
    const auto where = storage_uri(instances_.copy_storage->location(), key);
    if (where == out.uri) co_return;  // the sink may already be that very folder
    if (out.key.empty())
      if (auto [it, fresh] =
              work_.job.keys_written.emplace(key_hash("copy:" + key), work_.item.index);
          !fresh)
        throw Error(ErrorClass::invalid_input,
                    "local copy '" + key + "' was already written by item " +
                        std::to_string(it->second + 1) + " in this job; nothing was overwritten");
    PutOptions put;
    put.content_type = out.mime;
    co_await instances_.copy_storage->put(key, bytes, std::move(put));
    out.copy = where;
  }

  // The item that wrote a key first, named when the job still holds it.
  std::string writer(std::size_t index) const {
    if (index == work_.item.index) return "this item";
    const auto& kept = work_.job.result.items;
    const bool named = index < kept.size() && !kept[index].name.empty();
    const std::string name = named ? " (" + kept[index].name + ")" : "";
    return "item " + std::to_string(index + 1) + name;
  }

  ItemWork& work_;
  Instances& instances_;
};

}  // namespace

Task<void> write_results(ItemWork& work, Instances& instances, std::vector<StepImage> images) {
  ResultWriter writer(work, instances);
  for (std::size_t n = 0; n < images.size(); ++n)
    co_await writer.write(images[n], n, images.size());
}

}  // namespace imagepipe::detail
