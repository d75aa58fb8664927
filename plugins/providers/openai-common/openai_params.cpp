#include "openai_params.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "imagepipe/error.hpp"

namespace imagepipe::openai {

using nlohmann::json;

namespace {

const std::initializer_list<const char*> kStringKeys = {
    kModel,      kSize,       kQuality,        kStyle,         kOutputFormat,
    kBackground, kModeration, kResponseFormat, kInputFidelity, kUser};

[[noreturn]] void bad(const std::string& message) {
  throw Error(ErrorClass::invalid_input, message);
}

bool one_of(const std::string& v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

std::string listed(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (auto a : allowed) out += (out.empty() ? "" : ", ") + std::string(a);
  return out;
}

std::optional<std::pair<int, int>> parse_size(const std::string& size) {
  const auto x = size.find('x');
  if (x == std::string::npos) return std::nullopt;
  int w = 0, h = 0;
  const char* b = size.data();
  auto r1 = std::from_chars(b, b + x, w);
  auto r2 = std::from_chars(b + x + 1, b + size.size(), h);
  if (r1.ec != std::errc() || r1.ptr != b + x || r2.ec != std::errc() ||
      r2.ptr != b + size.size() || w <= 0 || h <= 0)
    return std::nullopt;
  return std::pair{w, h};
}

// gpt-image-2 takes free-form sizes: multiples of 16, ratio 1:3..3:1, up to 3840x2160.
bool free_size_ok(const std::string& size) {
  auto wh = parse_size(size);
  if (!wh) return false;
  auto [w, h] = *wh;
  return w % 16 == 0 && h % 16 == 0 && std::max(w, h) <= 3840 && std::min(w, h) <= 2160 &&
         std::max(w, h) <= 3 * std::min(w, h);
}

void require(const std::string& key, const std::string& value, const std::string& model,
             std::initializer_list<std::string_view> allowed) {
  if (!value.empty() && !one_of(value, allowed))
    bad(key + " '" + value + "' is not accepted by " + model + " (allowed: " + listed(allowed) +
        ")");
}

void forbid(const std::string& key, bool set, const std::string& model, std::string_view why) {
  if (set) bad(key + " is not accepted by " + model + " (" + std::string(why) + ")");
}

}  // namespace

ModelFamily model_family(std::string_view model) {
  if (model.rfind("gpt-image", 0) == 0 || model.rfind("chatgpt-image", 0) == 0)
    return ModelFamily::gpt_image;
  if (model.rfind("dall-e-3", 0) == 0) return ModelFamily::dalle3;
  if (model.rfind("dall-e-2", 0) == 0) return ModelFamily::dalle2;
  return ModelFamily::other;
}

ImageParams resolve_params(const json& options, const json& overrides) {
  auto get = [&](const char* key) -> const json* {
    if (overrides.is_object())
      if (auto it = overrides.find(key); it != overrides.end() && !it->is_null()) return &*it;
    if (auto it = options.find(key); it != options.end() && !it->is_null()) return &*it;
    return nullptr;
  };
  ImageParams p;
  std::string* fields[] = {&p.model,          &p.size,       &p.quality,    &p.style,
                           &p.output_format,  &p.background, &p.moderation, &p.response_format,
                           &p.input_fidelity, &p.user};
  std::size_t i = 0;
  for (const char* key : kStringKeys) {
    if (const json* v = get(key)) {
      if (!v->is_string()) bad(std::string(key) + " must be a string, got " + v->dump());
      *fields[i] = v->get<std::string>();
    }
    ++i;
  }
  if (const json* v = get(kN)) {
    if (!v->is_number_integer() || v->get<long long>() < 1 || v->get<long long>() > 10)
      bad("n must be an integer 1..10, got " + v->dump());
    p.n = v->get<int>();
  }
  if (const json* v = get(kOutputCompression)) {
    if (!v->is_number_integer() || v->get<long long>() < 0 || v->get<long long>() > 100)
      bad("output_compression must be an integer 0..100, got " + v->dump());
    p.output_compression = v->get<int>();
  }
  if (overrides.is_object())
    if (auto it = overrides.find(kChatModelParam); it != overrides.end() && !it->is_null()) {
      if (!it->is_string()) bad(std::string(kChatModelParam) + " must be a string, got " + it->dump());
      p.chat_model = it->get<std::string>();
    }
  if (auto it = options.find(kImageField); it != options.end() && it->is_string())
    p.image_field = it->get<std::string>();
  if (auto it = options.find(kSizeFields); it != options.end() && it->is_string())
    p.size_fields = it->get<std::string>();
  if (const json* v = get(kSeed)) {
    if (!v->is_number_integer() || v->get<long long>() < 0)
      bad("seed must be a non-negative integer, got " + v->dump());
    p.seed = v->get<long long>();
  }
  if (const json* v = get(kExtraBody)) {
    if (!v->is_object()) bad("extra_body must be an object");
    p.extra_body = *v;
  }
  if (overrides.is_object())
    for (const auto& item : overrides.items()) {
      const std::initializer_list<std::string_view> known = {
          kModel,      kSize,           kQuality,           kStyle,
          kN,          kOutputFormat,   kOutputCompression, kBackground,
          kModeration, kResponseFormat, kInputFidelity,     kUser,
          kExtraBody,  kChatModelParam, kSeed};
      if (std::find(known.begin(), known.end(), item.key()) == known.end())
        bad("params key '" + item.key() + "' is not an image parameter (allowed: " + listed(known) +
            ")");
    }
  if (p.model.empty()) bad("model is empty");
  return p;
}

void check_params(const ImageParams& p, std::string_view op) {
  const std::string& m = p.model;
  switch (model_family(m)) {
    case ModelFamily::gpt_image: {
      if (!one_of(m, {"gpt-image-2", "gpt-image-2-2026-04-21"}) || !free_size_ok(p.size))
        require(kSize, p.size, m, {"auto", "1024x1024", "1536x1024", "1024x1536"});
      require(kQuality, p.quality, m, {"auto", "low", "medium", "high"});
      forbid(kStyle, !p.style.empty(), m, "style is for dall-e-3");
      forbid(kResponseFormat, !p.response_format.empty(), m,
             "GPT image models always return b64_json");
      if (p.output_compression && p.output_format != "jpeg" && p.output_format != "webp")
        bad("output_compression needs output_format jpeg or webp");
      if (p.background == "transparent" && p.output_format == "jpeg")
        bad("background transparent needs output_format png or webp");
      if (m.rfind("gpt-image-1-mini", 0) == 0)
        forbid(kInputFidelity, !p.input_fidelity.empty(), m, "not on the mini model");
      if (op == "generate") forbid(kInputFidelity, !p.input_fidelity.empty(), m, "edits only");
      if (op == "respond") forbid(kN, p.n != 1, m, "the image_generation tool has no n");
      break;
    }
    case ModelFamily::dalle3:
      if (op != "generate") bad(m + " only generates (no " + std::string(op) + ")");
      require(kSize, p.size, m, {"1024x1024", "1792x1024", "1024x1792"});
      require(kQuality, p.quality, m, {"standard", "hd"});
      forbid(kN, p.n != 1, m, "dall-e-3 makes one image per request");
      break;
    case ModelFamily::dalle2:
      if (op == "respond") bad(m + " cannot run the image_generation tool");
      require(kSize, p.size, m, {"256x256", "512x512", "1024x1024"});
      require(kQuality, p.quality, m, {"standard"});
      forbid(kStyle, !p.style.empty(), m, "style is for dall-e-3");
      break;
    case ModelFamily::other:
      return;  // an OpenAI-compatible host's own model: its rules are its own
  }
  forbid(kSeed, p.seed.has_value(), m, "OpenAI's image models take no seed");
  forbid(kSizeFields, p.size_fields != "size", m, "OpenAI's own models take size");
  if (model_family(m) != ModelFamily::gpt_image) {
    for (auto [key, set] : {std::pair{kOutputFormat, !p.output_format.empty()},
                            std::pair{kOutputCompression, p.output_compression.has_value()},
                            std::pair{kBackground, !p.background.empty()},
                            std::pair{kModeration, !p.moderation.empty()},
                            std::pair{kInputFidelity, !p.input_fidelity.empty()}})
      forbid(key, set, m, "GPT image models only");
    require(kResponseFormat, p.response_format, m, {"url", "b64_json"});
  }
}

json image_option_schemas() {
  auto str = [](const char* description, json examples) {
    return json{
        {"type", "string"}, {"description", description}, {"examples", std::move(examples)}};
  };
  auto choice = [](const char* description, json values) {
    json s = {{"type", "string"}, {"description", description}, {"enum", values}};
    s["examples"] = json::array({values[0]});
    return s;
  };
  return {
      {kSize,
       [&] {
         json s =
             str("WIDTHxHEIGHT or auto. GPT image models: auto, 1024x1024, 1536x1024, "
                 "1024x1536 (gpt-image-2: any multiple of 16 up to 3840x2160); dall-e-3: "
                 "1024x1024, 1792x1024, 1024x1792; dall-e-2: 256x256, 512x512, 1024x1024. "
                 "Not sent when absent.",
                 {"auto", "1536x1024"});
         s["pattern"] = "^(auto|[0-9]{2,5}x[0-9]{2,5})$";
         return s;
       }()},
      {kQuality, choice("GPT: low, medium, high, auto; dall-e-3: standard, hd; dall-e-2: standard.",
                        {"high", "medium", "low", "auto", "standard", "hd"})},
      {kStyle, choice("dall-e-3 only.", {"vivid", "natural"})},
      {kImageField,
       {{"type", "string"},
        {"enum", {"auto", "image[]"}},
        {"default", "auto"},
        {"description",
         "Edits: the multipart field of the input images. auto: 'image' for one, 'image[]' for "
         "several; image[]: always the list form, as clients that send a list write it."},
        {"examples", {"image[]"}}}},
      {kN,
       {{"type", "integer"},
        {"minimum", 1},
        {"maximum", 10},
        {"default", 1},
        {"description", "Images per request (dall-e-3: 1; not for respond)."},
        {"examples", {1, 4}}}},
      {kOutputFormat, choice("GPT image models only.", {"png", "jpeg", "webp"})},
      {kOutputCompression,
       {{"type", "integer"},
        {"minimum", 0},
        {"maximum", 100},
        {"description", "0-100, with output_format jpeg or webp (GPT image models)."},
        {"examples", {80}}}},
      {kBackground, choice("GPT image models only; transparent needs png or webp.",
                           {"auto", "transparent", "opaque"})},
      {kModeration, choice("GPT image models only.", {"auto", "low"})},
      {kResponseFormat,
       choice("dall-e models only (GPT image models reject it and always answer b64_json); "
              "url results are downloaded through the host's HTTP client. OpenAI-compatible "
              "hosts may want their own value, e.g. base64 for Together.",
              {"b64_json", "url", "base64"})},
      {kInputFidelity,
       choice("Edits and respond, GPT image models except -mini.", {"high", "low"})},
      {kUser, str("End-user id for abuse tracking.", {"job-8841"})},
      {kSizeFields,
       {{"type", "string"},
        {"enum", {"size", "width_height"}},
        {"default", "size"},
        {"description",
         "How size reaches the host: size (OpenAI's field), or width_height for "
         "OpenAI-compatible hosts that take width and height (Together's FLUX.1 [schnell]), "
         "so one request schema's size works for both."},
        {"examples", {"width_height"}}}},
      {kSeed,
       {{"type", "integer"},
        {"minimum", 0},
        {"description",
         "OpenAI-compatible hosts that take a seed (FLUX): the same seed and parameters give "
         "about the same image. Not sent when absent; OpenAI's own models refuse it."},
        {"examples", {42}}}},
      {kExtraBody,
       {{"type", "object"},
        {"description",
         "Extra JSON fields merged into generation and responses bodies: what an "
         "OpenAI-compatible host takes beyond OpenAI's fields (width, height, steps, seed)."},
        {"examples", {{{"width", 1024}, {"height", 768}, {"steps", 4}}}}}}};
}

}  // namespace imagepipe::openai
