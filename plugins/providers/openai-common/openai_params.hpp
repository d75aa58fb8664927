// Messages here and in the rest of openai-common carry no provider prefix: the engine
// names the chain entry when it reports them.
//
// The image parameters of an OpenAI-shaped request, resolved once from the plugin's
// options and per item from the pipeline's `params`, and checked against what each model
// family accepts, so a bad combination fails at start-up rather than as a 400 per item.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace imagepipe::openai {

// Option keys, shared by the plugins' schemas and the code reading them.
inline constexpr const char* kModel = "model";
inline constexpr const char* kSize = "size";
inline constexpr const char* kQuality = "quality";
inline constexpr const char* kStyle = "style";
inline constexpr const char* kN = "n";
inline constexpr const char* kOutputFormat = "output_format";
inline constexpr const char* kOutputCompression = "output_compression";
inline constexpr const char* kBackground = "background";
inline constexpr const char* kModeration = "moderation";
inline constexpr const char* kResponseFormat = "response_format";
inline constexpr const char* kInputFidelity = "input_fidelity";
inline constexpr const char* kImageField = "image_field";
inline constexpr const char* kUser = "user";
inline constexpr const char* kExtraBody = "extra_body";
inline constexpr const char* kSizeFields = "size_fields";
inline constexpr const char* kSeed = "seed";
// respond: the chat model that calls the image tool (a per-request `-m` in seed 002).
inline constexpr const char* kChatModelParam = "chat_model";

// Known families get their documented rules; `other` (FLUX on an OpenAI-compatible host,
// a future model) gets what the pipeline says, unchecked.
enum class ModelFamily { gpt_image, dalle3, dalle2, other };
ModelFamily model_family(std::string_view model);

struct ImageParams {
  std::string model;
  std::string size, quality, style, output_format, background, moderation, response_format,
      input_fidelity, user;
  std::string chat_model;  // respond only; empty: the plugin's option
  int n = 1;
  // Edits: the multipart name of the input images. "image[]" for one image too is what
  // clients that always send a list (seed 003's) put on the wire; "auto" sends "image"
  // for one image and "image[]" for several.
  std::string image_field = "auto";
  std::optional<int> output_compression;
  // OpenAI-compatible hosts: "width_height" sends size WxH as the host's width and height
  // fields (Together's FLUX), so one request schema's `size` reaches every host.
  std::string size_fields = "size";
  std::optional<long long> seed;  // hosts that take one (not OpenAI's own models)
  nlohmann::json extra_body = nlohmann::json::object();  // merged into JSON bodies as is
};

// `options` are the plugin's validated options; `overrides` the rendered `params` of the
// chain entry (any of the same keys). Throws Error(invalid_input) naming the key.
ImageParams resolve_params(const nlohmann::json& options, const nlohmann::json& overrides);

// Checks the documented combinations for the operation ("generate", "edit", "respond").
// Throws Error(invalid_input) with a message naming the option and the model.
void check_params(const ImageParams& p, std::string_view operation);

// JSON Schema fragments for the image options, so both plugins declare them identically.
nlohmann::json image_option_schemas();

}  // namespace imagepipe::openai
