#include "openai_schema.hpp"

#include "openai_params.hpp"

namespace imagepipe::openai_plugin {

using nlohmann::json;
namespace oa = imagepipe::openai;

json options_schema() {
  json props = oa::image_option_schemas();
  props[kOperation] = {{"type", "string"},
                       {"enum", {"auto", "generate", "edit", "respond", "text"}},
                       {"default", "auto"},
                       {"description",
                        "generate: POST /images/generations; edit: POST /images/edits "
                        "(multipart, the item's image plus mask); respond: POST /responses with "
                        "the image_generation tool; text: POST /chat/completions with chat_model and "
                        "instructions, answering the rewritten prompt as text (a step that "
                        "enhances a prompt before generation); auto: edit when the item has an "
                        "input image, else generate."},
                       {"examples", {"edit", "generate"}}};
  props[kBaseUrl] = {{"type", "string"},
                     {"default", "https://api.openai.com/v1"},
                     {"pattern", "^https?://"},
                     {"description",
                      "API root. Any OpenAI-compatible host works (Together, DeepInfra, a "
                      "local gateway): the paths /images/generations, /images/edits and "
                      "/responses are appended."},
                     {"examples", {"https://api.openai.com/v1", "https://api.together.xyz/v1"}}};
  props[kApiKey] = {{"type", "string"},
                    {"default", ""},
                    {"writeOnly", true},
                    {"description",
                     "Sent as Authorization: Bearer. Empty: the item fails as unauthorized, "
                     "without a request (unless the chain entry is optional)."},
                    {"examples", {"${OPENAI_API_KEY}"}}};
  props[kOrganization] = {{"type", "string"},
                          {"default", ""},
                          {"description", "OpenAI-Organization header; empty: not sent."},
                          {"examples", {"org-123abc"}}};
  props[kProject] = {{"type", "string"},
                     {"default", ""},
                     {"description", "OpenAI-Project header; empty: not sent."},
                     {"examples", {"proj_123abc"}}};
  props[kTimeout] = {{"type", "number"},
                     {"minimum", 0.1},
                     {"maximum", 3600},
                     {"default", 600},
                     {"description",
                      "Seconds for one request, as the official SDK (high-quality images take "
                      "minutes). Past it the call fails as timeout and is retried."},
                     {"examples", {600, 120}}};
  props[oa::kModel] = {
      {"type", "string"},
      {"default", "gpt-image-1"},
      {"minLength", 1},
      {"description",
       "Image model. gpt-image-*, dall-e-3 and dall-e-2 get their documented "
       "rules checked at start-up; other names (an OpenAI-compatible host's "
       "models) are sent unchecked."},
      {"examples", {"gpt-image-1", "gpt-image-1.5", "black-forest-labs/FLUX.1-schnell"}}};
  props[kChatModel] = {{"type", "string"},
                       {"default", "gpt-5"},
                       {"description",
                        "respond: the model that calls the image_generation tool; text: the "
                        "model that rewrites the prompt."},
                       {"examples", {"gpt-5", "gpt-4.1"}}};
  props[kInstructions] = {
      {"type", "string"},
      {"default",
       "Rewrite the user's image prompt into one richer prompt for an image model: keep its "
       "subject and intent, add concrete detail about composition, lighting and style. Answer "
       "with the prompt only."},
      {"description", "text: the system message sent before the prompt."},
      {"examples", {"Translate the prompt to English. Answer with the translation only."}}};
  props[kInputDetail] = {{"type", "string"},
                         {"enum", {"auto", "low", "high", "original"}},
                         {"default", "auto"},
                         {"description", "respond: detail of the input_image parts."},
                         {"examples", {"auto"}}};
  props[kImageUrls] = {{"type", "array"},
                       {"items", {{"type", "string"}, {"pattern", "^https://"}}},
                       {"default", json::array()},
                       {"description",
                        "respond: extra input images by https URL (fetched by OpenAI), after "
                        "the item's own image."},
                       {"examples", {{"https://example.com/style-reference.png"}}}};
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", std::move(props)}};
}

json capabilities() {
  return {{"operations", {"generate", "edit", "respond", "text"}},
          {"sizes",
           {{"gpt-image", {"auto", "1024x1024", "1536x1024", "1024x1536"}},
            {"gpt-image-2", "any WxH in multiples of 16 up to 3840x2160, ratio 1:3..3:1"},
            {"dall-e-3", {"1024x1024", "1792x1024", "1024x1792"}},
            {"dall-e-2", {"256x256", "512x512", "1024x1024"}}}},
          {"max_images_per_request", 10},
          // By model, for pipelines to check requests against before any call
          // (alternatives' accepts: sizes and images per request).
          {"models",
           {{"dall-e-3", {{"sizes", {"1024x1024", "1792x1024", "1024x1792"}}, {"max_images", 1}}},
            {"dall-e-2", {{"sizes", {"256x256", "512x512", "1024x1024"}}, {"max_images", 10}}},
            {"gpt-image-1",
             {{"sizes", {"auto", "1024x1024", "1536x1024", "1024x1536"}}, {"max_images", 10}}},
            {"gpt-image-1-mini",
             {{"sizes", {"auto", "1024x1024", "1536x1024", "1024x1536"}}, {"max_images", 10}}},
            {"gpt-image-1.5",
             {{"sizes", {"auto", "1024x1024", "1536x1024", "1024x1536"}}, {"max_images", 10}}}}},
          {"max_input_images", 16},
          {"mask", true},
          {"seed", false},
          {"style", "dall-e-3 only"},
          {"quality", true},
          {"output_formats", {"png", "jpeg", "webp"}},
          {"typical_latency_ms", 30000},
          {"error_classes",
           {"billing_limit", "quota_exceeded", "rate_limited", "content_policy", "unauthorized",
            "unavailable", "timeout", "invalid_input"}}};
}

std::vector<json> examples() {
  return {{{kOperation, "edit"},
           {kApiKey, "${OPENAI_API_KEY}"},
           {oa::kModel, "gpt-image-1"},
           {oa::kQuality, "high"},
           {oa::kOutputFormat, "png"}},
          {{kOperation, "generate"},
           {oa::kModel, "gpt-image-1.5"},
           {oa::kSize, "1536x1024"},
           {oa::kOutputFormat, "webp"},
           {oa::kOutputCompression, 80}},
          {{kOperation, "generate"},
           {kBaseUrl, "https://api.together.xyz/v1"},
           {kApiKey, "${TOGETHER_API_KEY}"},
           {oa::kModel, "black-forest-labs/FLUX.1-schnell"},
           {oa::kResponseFormat, "base64"},
           {oa::kExtraBody, {{"width", 1024}, {"height", 768}, {"steps", 4}}}},
          {{kOperation, "respond"},
           {kChatModel, "gpt-5"},
           {oa::kModel, "gpt-image-1"},
           {oa::kBackground, "transparent"},
           {oa::kQuality, "high"}}};
}

}  // namespace imagepipe::openai_plugin
