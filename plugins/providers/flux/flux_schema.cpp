// The `flux` plugin's declaration: options, capabilities, examples.
#include "flux_schema.hpp"

#include "flux_wire.hpp"

namespace imagepipe::flux {

using nlohmann::json;

namespace {
json integer(const char* description, int min, int max, json examples) {
  return {{"type", "integer"},
          {"minimum", min},
          {"maximum", max},
          {"description", description},
          {"examples", std::move(examples)}};
}
json seconds(const char* description, double fallback, double min, json examples) {
  return {{"type", "number"},
          {"minimum", min},
          {"maximum", 3600},
          {"default", fallback},
          {"description", description},
          {"examples", std::move(examples)}};
}
}  // namespace

json options_schema() {
  json props = {
      {kBaseUrl,
       {{"type", "string"},
        {"default", "https://api.bfl.ai"},
        {"pattern", "^https?://"},
        {"description",
         "API host: https://api.bfl.ai (global), api.eu.bfl.ai or api.us.bfl.ai for "
         "data residency. Polling always uses the polling_url the API returns."},
        {"examples", {"https://api.bfl.ai", "https://api.eu.bfl.ai"}}}},
      {kApiKey,
       {{"type", "string"},
        {"default", ""},
        {"writeOnly", true},
        {"description",
         "Sent as x-key. Empty: the item fails as unauthorized, without a request "
         "(unless the chain entry is optional)."},
        {"examples", {"${BFL_API_KEY}"}}}},
      {kModel,
       {{"type", "string"},
        {"default", "flux-pro-1.1"},
        {"pattern", "^[a-z0-9][a-z0-9.-]*$"},
        {"description",
         "Endpoint under /v1/: flux-dev, flux-pro-1.1, flux-pro-1.1-ultra, "
         "flux-kontext-pro, flux-kontext-max, flux-2-pro, ..."},
        {"examples", {"flux-pro-1.1", "flux-kontext-pro"}}}},
      {kOperation,
       {{"type", "string"},
        {"enum", {"auto", "generate", "edit"}},
        {"default", "auto"},
        {"description",
         "edit sends the item's image as input_image (Kontext and FLUX.2 models); "
         "generate sends the prompt only; auto edits when the model takes input "
         "images and the item has one."},
        {"examples", {"auto", "edit"}}}},
      {kSeed, integer("Same seed and parameters give about the same image; absent: random.", 0,
                      2147483647, {42})},
      {kWidth, integer("FLUX.1 endpoints: 256-1440, multiple of 32; FLUX.2: multiple of 16.", 64,
                       4096, {1024})},
      {kHeight, integer("As width.", 64, 4096, {768})},
      {kAspectRatio,
       {{"type", "string"},
        {"pattern", "^[0-9]{1,2}:[0-9]{1,2}$"},
        {"description", "Ultra and Kontext size by ratio, between 21:9 and 9:21."},
        {"examples", {"16:9", "1:1"}}}},
      {kSteps, integer("flux-dev, flux-pro, flux-2-flex: 1-50.", 1, 50, {28})},
      {kGuidance,
       {{"type", "number"},
        {"minimum", 1.5},
        {"maximum", 100},
        {"description", "flux-dev/pro/fill/flex: prompt adherence."},
        {"examples", {3}}}},
      {kSafetyTolerance, integer("0 strictest .. 6 most permissive (BFL default 2).", 0, 6, {2})},
      {kOutputFormat,
       {{"type", "string"},
        {"enum", {"jpeg", "png"}},
        {"default", "png"},
        {"description", "Always sent: the endpoints' own defaults differ."},
        {"examples", {"png", "jpeg"}}}},
      {kPromptUpsampling,
       {{"type", "boolean"},
        {"description", "Let BFL rewrite the prompt."},
        {"examples", {false}}}},
      {kRaw,
       {{"type", "boolean"},
        {"description", "flux-pro-1.1-ultra: raw mode."},
        {"examples", {true}}}},
      {kPollInterval,
       seconds("First wait before polling; grows by half each poll.", 0.5, 0.05, {0.5})},
      {kPollMaxInterval, seconds("Longest wait between polls.", 3, 0.05, {3})},
      {kDeadline,
       seconds("Give up on a task not Ready after this long (timeout).", 300, 1, {300, 900})},
      {kTimeout, seconds("Seconds for each HTTP request.", 60, 0.1, {60})}};
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", std::move(props)}};
}

json capabilities() {
  return {{"operations", {"generate", "edit"}},
          {"sizes",
           "width/height 256-1440 in multiples of 32 (FLUX.1), multiples of 16 up to 4 MP "
           "(FLUX.2); aspect_ratio 21:9..9:21 for ultra and Kontext"},
          {"max_images_per_request", 1},
          {"max_input_images", 4},
          {"seed", true},
          {"style", false},
          {"quality", false},
          {"steps", true},
          {"output_formats", {"jpeg", "png"}},
          {"typical_latency_ms", 10000},
          {"asynchronous", "submit, poll polling_url, download result.sample within 10 minutes"},
          {"error_classes",
           {"quota_exceeded", "rate_limited", "content_policy", "unauthorized", "unavailable",
            "timeout", "invalid_input"}}};
}

std::vector<json> examples() {
  return {{{kModel, "flux-pro-1.1"},
           {kApiKey, "${BFL_API_KEY}"},
           {kWidth, 1024},
           {kHeight, 768},
           {kSeed, 42}},
          {{kModel, "flux-kontext-pro"},
           {kOperation, "edit"},
           {kApiKey, "${BFL_API_KEY}"},
           {kAspectRatio, "16:9"},
           {kSafetyTolerance, 2},
           {kOutputFormat, "png"}}};
}

}  // namespace imagepipe::flux
