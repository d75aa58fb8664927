// Provider `azure-openai`: OpenAI's image models deployed on Azure. The body and answers
// are OpenAI's (../openai-common); what differs is the deployment-scoped URL with its
// api-version, and the credential: the resource's `api-key` header or an Entra ID token.
//   POST {endpoint}/openai/deployments/{deployment}/images/generations?api-version=...
//   POST {endpoint}/openai/deployments/{deployment}/images/edits?api-version=...
//   POST {endpoint}/openai/v1/responses   (respond: the chat deployment calls the image
//        tool; the image deployment goes in x-ms-oai-image-generation-deployment)
#include "imagepipe/plugin.hpp"
#include "openai_client.hpp"
#include "openai_requests.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;
namespace oa = imagepipe::openai;

constexpr const char* kName = IMAGEPIPE_PLUGIN_NAME;
constexpr const char* kEndpoint = "endpoint";
constexpr const char* kDeployment = "deployment";
constexpr const char* kApiVersion = "api_version";
constexpr const char* kApiKey = "api_key";
constexpr const char* kBearerToken = "bearer_token";
constexpr const char* kOperation = "operation";
constexpr const char* kTimeout = "timeout";
constexpr const char* kChatDeployment = "chat_deployment";
constexpr const char* kInputDetail = "input_detail";
const std::string kJson = "application/json";

class AzureOpenAIProvider final : public Provider {
 public:
  explicit AzureOpenAIProvider(const PluginArgs& args)
      : host_(args.host),
        options_(args.options),
        operation_(args.options.at(kOperation).get<std::string>()) {
    std::string endpoint = args.options.at(kEndpoint).get<std::string>();
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const std::string base = endpoint + "/openai/deployments/" +
                             url_encode(args.options.at(kDeployment).get<std::string>()) +
                             "/images/";
    const std::string query =
        "?api-version=" + url_encode(args.options.at(kApiVersion).get<std::string>());
    generations_url_ = base + "generations" + query;
    edits_url_ = base + "edits" + query;
    responses_url_ = endpoint + "/openai/v1/responses";
    deployment_ = args.options.at(kDeployment).get<std::string>();
    chat_deployment_ = args.options.at(kChatDeployment).get<std::string>();
    detail_ = args.options.at(kInputDetail).get<std::string>();
    if (operation_ == "respond" && chat_deployment_.empty())
      throw Error(ErrorClass::invalid_input,
                  "respond needs chat_deployment (the model that calls the image tool)");

    conn_.provider = kName;
    conn_.http = host_.http;
    conn_.timeout = std::chrono::milliseconds(
        static_cast<long long>(args.options.at(kTimeout).get<double>() * 1000));
    conn_.limits = host_.decode_limits;
    const std::string key = args.options.at(kApiKey).get<std::string>();
    const std::string token = args.options.at(kBearerToken).get<std::string>();
    if (!key.empty() && !token.empty())
      throw Error(ErrorClass::invalid_input, "set api_key or bearer_token, not both");
    if (!key.empty()) conn_.headers.emplace_back("api-key", key);
    if (!token.empty()) conn_.headers.emplace_back("Authorization", "Bearer " + token);
    has_credential_ = !key.empty() || !token.empty();
    for (const auto* s : {&key, &token})
      if (!s->empty()) conn_.secrets.push_back(*s);
    const auto params = oa::resolve_params(options_, json::object());
    if (operation_ != "auto") oa::check_params(params, operation_);
  }

  Task<ProviderResult> run(ProviderRequest request) override {
    const std::string op = operation_ != "auto"     ? operation_
                           : request.images.empty() ? "generate"
                                                    : "edit";
    const oa::ImageParams p = oa::resolve_params(options_, request.params);
    oa::check_params(p, op);
    oa::require_credential(has_credential_, "api_key and bearer_token are both empty");
    if (op == "generate") {
      // The deployment names the model: the body carries no `model`.
      std::string body = oa::generation_body(request.prompt, p, false).dump();
      co_return co_await oa::post_for_images(conn_, generations_url_, kJson, body,
                                             oa::AnswerKind::images, p);
    }
    if (op == "respond") co_return co_await respond(request, p);
    if (request.images.empty()) throw Error(ErrorClass::invalid_input, "edit needs an input image");
    oa::Inputs inputs = co_await oa::prepare_inputs(host_, request);
    MultipartBody form =
        encode_multipart(oa::edit_parts(request.prompt, inputs.images, inputs.mask, p, false));
    co_return co_await oa::post_for_images(conn_, edits_url_, form.content_type, form.body,
                                           oa::AnswerKind::images, p);
  }

 private:
  Task<ProviderResult> respond(const ProviderRequest& request, const oa::ImageParams& p) {
    oa::Inputs inputs = co_await oa::prepare_inputs(host_, request);
    std::string body = oa::responses_body(request.prompt, inputs.images, {}, inputs.mask, p,
                                          chat_deployment_, detail_)
                           .dump();
    // Azure routes the hosted tool to the image deployment named in this header; without
    // it the call fails with a generic 400.
    oa::Connection conn = conn_;
    conn.headers.emplace_back("x-ms-oai-image-generation-deployment", deployment_);
    co_return co_await oa::post_for_images(conn, responses_url_, kJson, body,
                                           oa::AnswerKind::responses, p);
  }

  const Host& host_;
  json options_;
  std::string operation_, generations_url_, edits_url_, responses_url_, deployment_,
      chat_deployment_, detail_;
  oa::Connection conn_;
  bool has_credential_ = false;
};

json options_schema() {
  json props = oa::image_option_schemas();
  props.erase(oa::kExtraBody);
  props[kEndpoint] = {{"type", "string"},
                      {"pattern", "^https?://"},
                      {"description",
                       "The resource's endpoint: https://{resource}.openai.azure.com (or a "
                       "*.cognitiveservices.azure.com / *.services.ai.azure.com host)."},
                      {"examples", {"https://my-resource.openai.azure.com"}}};
  props[kDeployment] = {{"type", "string"},
                        {"minLength", 1},
                        {"description", "The deployment name of the image model."},
                        {"examples", {"gpt-image-1"}}};
  props[kApiVersion] = {{"type", "string"},
                        {"default", "2025-04-01-preview"},
                        {"description",
                         "api-version query parameter. 2025-04-01-preview is the first with "
                         "gpt-image-1 and edits; 2024-10-21 (GA) covers DALL-E 3 only."},
                        {"examples", {"2025-04-01-preview", "2024-10-21"}}};
  props[kApiKey] = {{"type", "string"},
                    {"default", ""},
                    {"writeOnly", true},
                    {"description", "The resource key, sent as the api-key header."},
                    {"examples", {"${AZURE_OPENAI_API_KEY}"}}};
  props[kBearerToken] = {{"type", "string"},
                         {"default", ""},
                         {"writeOnly", true},
                         {"description",
                          "Instead of api_key: an Entra ID access token for "
                          "https://cognitiveservices.azure.com/.default, sent as "
                          "Authorization: Bearer."},
                         {"examples", {"${AZURE_OPENAI_AD_TOKEN}"}}};
  props[kOperation] = {{"type", "string"},
                       {"enum", {"auto", "generate", "edit", "respond"}},
                       {"default", "auto"},
                       {"description",
                        "generate or edit (gpt-image deployments; DALL-E has no edits on "
                        "Azure); respond: the Responses API with the image_generation tool, "
                        "called by chat_deployment; auto: edit when the item has an image."},
                       {"examples", {"edit"}}};
  props[kChatDeployment] = {{"type", "string"},
                            {"default", ""},
                            {"description",
                             "respond: the deployment of the chat model (gpt-5, gpt-4.1...) that "
                             "calls the image tool; `deployment` is the image model's."},
                            {"examples", {"gpt-5"}}};
  props[kInputDetail] = {{"type", "string"},
                         {"enum", {"auto", "low", "high", "original"}},
                         {"default", "auto"},
                         {"description", "respond: detail of the input_image parts."},
                         {"examples", {"auto"}}};
  props[kTimeout] = {{"type", "number"},
                     {"minimum", 0.1},
                     {"maximum", 3600},
                     {"default", 600},
                     {"description", "Seconds for one request."},
                     {"examples", {600}}};
  props[oa::kModel] = {{"type", "string"},
                       {"default", "gpt-image-1"},
                       {"minLength", 1},
                       {"description",
                        "The model behind the deployment, for checking options at start-up "
                        "(not sent: the deployment decides)."},
                       {"examples", {"gpt-image-1", "dall-e-3"}}};
  return {{"type", "object"},
          {"additionalProperties", false},
          {"required", {kEndpoint, kDeployment}},
          {"properties", std::move(props)}};
}

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary =
      "OpenAI image models on Azure: deployment URLs with api-version, api-key or Entra ID.";
  d.description =
      "generate and edit against a deployment of gpt-image-1 (or dall-e-3 for generate). Same "
      "request and answer shapes and the same error classes as `openai`; content_policy_violation "
      "(Azure's content filter) is content_policy and 429s honour retry-after-ms. The answer's "
      "apim-request-id is kept as the request id. respond goes through the v1 Responses route "
      "with the image deployment in x-ms-oai-image-generation-deployment.";
  d.options_schema = options_schema();
  d.capabilities = {{"operations", {"generate", "edit", "respond"}},
                    {"sizes",
                     {{"gpt-image-1", {"auto", "1024x1024", "1536x1024", "1024x1536"}},
                      {"dall-e-3", {"1024x1024", "1792x1024", "1024x1792"}}}},
                    {"max_images_per_request", 10},
                    // By the `model` option (what the deployment runs), as openai's.
                    {"models",
                     {{"dall-e-3",
                       {{"sizes", {"1024x1024", "1792x1024", "1024x1792"}}, {"max_images", 1}}},
                      {"gpt-image-1",
                       {{"sizes", {"auto", "1024x1024", "1536x1024", "1024x1536"}},
                        {"max_images", 10}}}}},
                    {"max_input_images", 16},
                    {"seed", false},
                    {"style", "dall-e-3 only"},
                    {"quality", true},
                    {"output_formats", {"png", "jpeg"}},
                    {"typical_latency_ms", 30000}};
  d.examples = {{{kEndpoint, "https://my-resource.openai.azure.com"},
                 {kDeployment, "gpt-image-1"},
                 {kApiKey, "${AZURE_OPENAI_API_KEY}"},
                 {kOperation, "edit"},
                 {oa::kQuality, "high"}}};
  d.factory = ProviderFactory{
      [](const PluginArgs& args) { return std::make_unique<AzureOpenAIProvider>(args); }};
  return d;
}
