// Provider `flux`: Black Forest Labs' asynchronous API. Submit to /v1/{model} with x-key,
// poll the returned polling_url (never one built by hand: the task may live on another
// cluster) with growing waits on the host clock, and download result.sample at once: the
// signed URL lives about ten minutes.
#include <algorithm>
#include <optional>

#include "flux_schema.hpp"
#include "flux_wire.hpp"
#include "imagepipe/plugin.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using namespace imagepipe::flux;

milliseconds ms_option(const json& options, const char* key) {
  return milliseconds(static_cast<long long>(options.at(key).get<double>() * 1000));
}

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void check_params(const json& params) {
  for (const auto& item : params.items()) {
    const std::string& key = item.key();
    bool known = key == "size";
    for (const char* b : body_keys()) known = known || key == b;
    if (!known)
      throw Error(ErrorClass::invalid_input, "params key '" + key + "' is not a FLUX parameter");
  }
}

class FluxProvider final : public Provider {
 public:
  explicit FluxProvider(const PluginArgs& args)
      : host_(args.host),
        options_(args.options),
        base_url_(trim_slash(args.options.at(kBaseUrl).get<std::string>())),
        key_(args.options.at(kApiKey).get<std::string>()),
        model_(args.options.at(kModel).get<std::string>()),
        operation_(args.options.at(kOperation).get<std::string>()),
        poll_interval_(ms_option(args.options, kPollInterval)),
        poll_max_(ms_option(args.options, kPollMaxInterval)),
        deadline_(ms_option(args.options, kDeadline)),
        timeout_(ms_option(args.options, kTimeout)) {
    if (operation_ == "edit" && !takes_input_image(model_))
      throw Error(
          ErrorClass::invalid_input,
          "model " + model_ + " takes no input image (edit needs flux-kontext-* or flux-2-*)");
  }

  Task<ProviderResult> run(ProviderRequest request) override {
    if (key_.empty())
      throw Error(ErrorClass::unauthorized, "no credential: api_key is empty (set BFL_API_KEY)");
    check_params(request.params);
    const bool edit = operation_ == "edit" || (operation_ == "auto" && takes_input_image(model_) &&
                                               !request.images.empty());
    if (edit && request.images.empty())
      throw Error(ErrorClass::invalid_input, "edit needs an input image");
    std::string input;
    if (edit) input = co_await input_base64(request.images.front());
    const json body = submit_body(request.prompt, options_, request.params, input);

    HttpRequest submit;
    submit.method = "POST";
    submit.url = base_url_ + "/v1/" + model_;
    submit.headers = {
        {"x-key", key_}, {"Content-Type", "application/json"}, {"accept", "application/json"}};
    submit.body = body.dump();
    submit.timeout = timeout_;
    const std::string what = "submit to " + model_;
    const HttpResponse accepted = co_await send(submit, what);
    if (accepted.status != 200) throw wire_error(accepted, what);
    const json task = json::parse(accepted.body, nullptr, false);
    if (!task.is_object() || !task.contains("polling_url") || !task["polling_url"].is_string())
      throw Error(ErrorClass::unavailable, "submit answer without polling_url");

    const std::string id = task.value("id", std::string());
    const std::string polling_url = task["polling_url"].get<std::string>();
    const json result = co_await poll(id, polling_url);
    const std::string sample = result.value("sample", std::string());
    std::string bytes = co_await download(sample);

    ProviderResult out;
    out.metadata = {
        {"provider", IMAGEPIPE_PLUGIN_NAME}, {"model", model_}, {"task_id", task.value("id", std::string())}};
    if (result.contains("seed")) out.metadata["seed"] = result["seed"];
    for (const char* k : {"cost", "input_mp", "output_mp"})
      if (task.contains(k) && task[k].is_number())
        out.usage[k == std::string("cost") ? "credits" : k] = task[k];
    out.images.push_back(Artifact::from_bytes(std::move(bytes)));
    co_return out;
  }

 private:
  // The host client's errors keep their class; the key never appears in a message.
  Task<HttpResponse> send(HttpRequest& request, const std::string& what) {
    std::optional<Error> failure;
    try {
      co_return co_await host_.http->send(std::move(request));
    } catch (const Error& e) {
      failure = Error(e.cls(), what + ": " + e.what(), e.retry_after());
    }
    throw *failure;
  }

  Task<json> poll(const std::string& id, const std::string& url) {
    const auto give_up = host_.clock->steady_now() + deadline_;
    milliseconds wait = poll_interval_;
    std::string last = "never polled";
    const std::string what = "poll task " + id;
    for (;;) {
      if (host_.clock->steady_now() + wait > give_up)
        throw Error(ErrorClass::timeout, "task " + id + " not ready after " +
                                             std::to_string(deadline_.count() / 1000) +
                                             " s (last status: " + last + ")");
      co_await host_.clock->sleep_for(wait);
      wait = std::min(poll_max_, wait + wait / 2);
      HttpRequest get;
      get.url = url;
      get.headers = {{"x-key", key_}, {"accept", "application/json"}};
      get.timeout = timeout_;
      const HttpResponse r = co_await send(get, what);
      if (r.status == 429 || r.status >= 500) {
        last = "HTTP " + std::to_string(r.status);
        continue;  // the task keeps running: a busy poll endpoint is no reason to drop it
      }
      if (r.status != 200) throw wire_error(r, what);
      const json j = json::parse(r.body, nullptr, false);
      last = j.is_object() ? j.value("status", std::string("(none)")) : "(not JSON)";
      switch (poll_state(last)) {
        case PollState::pending:
          continue;
        case PollState::ready:
          if (!j.contains("result") || !j["result"].is_object() || !j["result"].contains("sample"))
            throw Error(ErrorClass::unavailable, "task " + id + " is Ready without result.sample");
          co_return j["result"];
        case PollState::moderated:
          throw Error(
              ErrorClass::content_policy,
              "task " + id + ": " + last +
                  (j.contains("details") && !j["details"].is_null() ? " " + j["details"].dump()
                                                                    : std::string()));
        case PollState::failed:
          throw Error(ErrorClass::unavailable, "task " + id + " ended with status " + last);
        case PollState::not_found:
          throw Error(ErrorClass::unavailable, "task " + id + ": Task not found");
        case PollState::unknown:
          throw Error(ErrorClass::unavailable,
                      "task " + id + ": unexpected answer " + r.body.substr(0, 300));
      }
    }
  }

  Task<std::string> download(const std::string& url) {
    HttpRequest get;
    get.url = url;
    get.timeout = timeout_;
    // Pre-signed: no x-key, which must not travel to the delivery host.
    const std::string what = "download result.sample";
    HttpResponse r = co_await send(get, what);
    if (r.status != 200)
      throw Error(ErrorClass::unavailable,
                  "downloading result.sample failed with HTTP " + std::to_string(r.status));
    if (sniff_format(r.body) == ImageFormat::unknown)
      throw Error(ErrorClass::unavailable, "result.sample is not an image");
    co_return std::move(r.body);
  }

  // Plain base64 (no data: prefix) of PNG, JPEG or WebP; other formats become PNG.
  Task<std::string> input_base64(const Artifact& image) {
    const ImageFormat f = image.encoded ? sniff_format(*image.encoded) : ImageFormat::unknown;
    if (f == ImageFormat::png || f == ImageFormat::jpeg || f == ImageFormat::webp)
      co_return base64_encode(*image.encoded);
    co_return co_await host_.cpu->run([&]() {
      EncodeSpec png;
      png.format = ImageFormat::png;
      const Image pixels =
          image.pixels ? *image.pixels : decode_image(*image.encoded, host_.decode_limits);
      return base64_encode(encode_image(pixels, png));
    });
  }

  const Host& host_;
  json options_;
  std::string base_url_, key_, model_, operation_;
  milliseconds poll_interval_, poll_max_, deadline_, timeout_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary =
      "Black Forest Labs FLUX: text-to-image and Kontext/FLUX.2 editing through the async API.";
  d.description =
      "Submits to /v1/{model} with the x-key header, polls the returned polling_url with "
      "growing waits (0.5 s up to 3 s by default) until Ready, and downloads result.sample "
      "at once (the signed URL expires after about ten minutes). Request Moderated and "
      "Content Moderated are content_policy; Error, Failed and Task not found are "
      "unavailable (retried, then the chain falls through); 402 (no credits) is "
      "quota_exceeded; 429 rate_limited. A task not Ready by `deadline` is a timeout. "
      "BFL limits active tasks (24, or 6 for kontext-max): set the chain entry's "
      "limit.in_flight to match. Usage records the credits charged.";
  d.options_schema = flux::options_schema();
  d.capabilities = flux::capabilities();
  d.examples = flux::examples();
  d.factory =
      ProviderFactory{[](const PluginArgs& args) { return std::make_unique<FluxProvider>(args); }};
  return d;
}
