// Provider `openai`: OpenAI's image endpoints, or any OpenAI-compatible host by base_url.
//   generate  POST {base_url}/images/generations  (JSON)
//   edit      POST {base_url}/images/edits        (multipart: image or image[], mask)
//   respond   POST {base_url}/responses           (the image_generation tool, forced)
// The wire format lives in ../openai-common, shared with `azure-openai`.
#include "imagepipe/plugin.hpp"
#include "openai_client.hpp"
#include "openai_requests.hpp"
#include "openai_schema.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
namespace oa = imagepipe::openai;
using namespace imagepipe::openai_plugin;

const std::string kJson = "application/json";

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

class OpenAIProvider final : public Provider {
 public:
  explicit OpenAIProvider(const PluginArgs& args)
      : host_(args.host),
        options_(args.options),
        operation_(args.options.at(kOperation).get<std::string>()),
        base_url_(trim_slash(args.options.at(kBaseUrl).get<std::string>())),
        chat_model_(args.options.at(kChatModel).get<std::string>()),
        instructions_(args.options.at(kInstructions).get<std::string>()),
        detail_(args.options.at(kInputDetail).get<std::string>()),
        image_urls_(args.options.at(kImageUrls).get<std::vector<std::string>>()) {
    const std::string key = args.options.at(kApiKey).get<std::string>();
    conn_.provider = IMAGEPIPE_PLUGIN_NAME;
    conn_.http = host_.http;
    conn_.timeout = std::chrono::milliseconds(
        static_cast<long long>(args.options.at(kTimeout).get<double>() * 1000));
    conn_.limits = host_.decode_limits;
    has_key_ = !key.empty();
    if (has_key_) {
      conn_.headers.emplace_back("Authorization", "Bearer " + key);
      conn_.secrets.push_back(key);
    }
    for (auto [option, header] :
         {std::pair{kOrganization, "OpenAI-Organization"}, std::pair{kProject, "OpenAI-Project"}})
      if (auto v = args.options.at(option).get<std::string>(); !v.empty())
        conn_.headers.emplace_back(header, v);
    // Configuration mistakes (style on gpt-image-1, n: 2 on dall-e-3) fail at start-up.
    const auto params = oa::resolve_params(options_, json::object());
    if (operation_ != "auto" && operation_ != "text") oa::check_params(params, operation_);
  }

  Task<ProviderResult> run(ProviderRequest request) override {
    const std::string op = operation_ != "auto"     ? operation_
                           : request.images.empty() ? "generate"
                                                    : "edit";
    const oa::ImageParams params = oa::resolve_params(options_, request.params);
    if (op != "text") oa::check_params(params, op);
    oa::require_credential(has_key_, "api_key is empty (set OPENAI_API_KEY)");
    if (op == "text") co_return co_await text(request, params);
    if (op == "generate") co_return co_await generate(request, params);
    if (op == "respond") co_return co_await respond(request, params);  // images optional
    if (request.images.empty()) throw Error(ErrorClass::invalid_input, "edit needs an input image");
    co_return co_await edit(request, params);
  }

 private:
  // Chat Completions with the instructions as the system message: the answer's text is
  // the step's result (a rewritten prompt), its usage the tokens spent.
  Task<ProviderResult> text(const ProviderRequest& request, const oa::ImageParams& p) {
    if (request.prompt.empty()) throw Error(ErrorClass::invalid_input, "text needs a prompt");
    const std::string model = p.chat_model.empty() ? chat_model_ : p.chat_model;
    const json messages = json::array({{{"role", "system"}, {"content", instructions_}},
                                       {{"role", "user"}, {"content", request.prompt}}});
    std::string body = json{{"model", model}, {"messages", messages}}.dump();
    const std::string url = base_url_ + "/chat/completions";
    co_return co_await oa::post_for_text(conn_, url, body, model);
  }

  Task<ProviderResult> generate(const ProviderRequest& request, const oa::ImageParams& p) {
    if (request.prompt.empty()) throw Error(ErrorClass::invalid_input, "generate needs a prompt");
    std::string body = oa::generation_body(request.prompt, p, true).dump();
    const std::string url = base_url_ + "/images/generations";
    co_return co_await oa::post_for_images(conn_, url, kJson, body, oa::AnswerKind::images, p);
  }

  Task<ProviderResult> edit(const ProviderRequest& request, const oa::ImageParams& p) {
    if (oa::model_family(p.model) == oa::ModelFamily::dalle2 && request.images.size() > 1)
      throw Error(ErrorClass::invalid_input, "dall-e-2 edits take one image");
    oa::Inputs inputs = co_await oa::prepare_inputs(host_, request);
    MultipartBody form =
        encode_multipart(oa::edit_parts(request.prompt, inputs.images, inputs.mask, p, true));
    const std::string url = base_url_ + "/images/edits";
    co_return co_await oa::post_for_images(conn_, url, form.content_type, form.body,
                                           oa::AnswerKind::images, p);
  }

  Task<ProviderResult> respond(const ProviderRequest& request, const oa::ImageParams& p) {
    oa::Inputs inputs = co_await oa::prepare_inputs(host_, request);
    std::string body = oa::responses_body(request.prompt, inputs.images, image_urls_, inputs.mask,
                                          p, p.chat_model.empty() ? chat_model_ : p.chat_model,
                                          detail_)
                           .dump();
    const std::string url = base_url_ + "/responses";
    co_return co_await oa::post_for_images(conn_, url, kJson, body, oa::AnswerKind::responses, p);
  }

  const Host& host_;
  json options_;
  std::string operation_, base_url_, chat_model_, instructions_, detail_;
  std::vector<std::string> image_urls_;
  oa::Connection conn_;
  bool has_key_ = false;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary =
      "OpenAI image generation, edits and the Responses image tool; any OpenAI-compatible host.";
  d.description =
      "generate, edit (multipart with one image or several image[] parts and an optional mask) "
      "and respond (the image_generation tool of /responses, input images as data URLs). "
      "Results come as b64_json or as URLs downloaded at once; revised_prompt, the request "
      "id and usage are kept. Wire errors map onto error classes: billing_hard_limit_reached "
      "is billing_limit, insufficient_quota is quota_exceeded, 429 is rate_limited with the "
      "server's Retry-After, moderation blocks are content_policy, 401/403 unauthorized, 5xx "
      "and resets unavailable. With another base_url and model it drives OpenAI-compatible "
      "hosts, e.g. FLUX.1 [schnell] on Together (extra_body carries their extra fields).";
  d.options_schema = openai_plugin::options_schema();
  d.capabilities = openai_plugin::capabilities();
  d.examples = openai_plugin::examples();
  d.factory = ProviderFactory{
      [](const PluginArgs& args) { return std::make_unique<OpenAIProvider>(args); }};
  return d;
}
