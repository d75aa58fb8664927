// OpenAI, Azure OpenAI and an OpenAI-compatible FLUX.1 [schnell] host, as strict as the
// wire reference (../../../shared/reference/openai-images.md) allows.
#include <cmath>
#include <cstdio>
#include <set>
#include <tuple>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/image.hpp"

namespace imagepipe::testing {

using nlohmann::json;

namespace {

const std::set<std::string> kGptModels = {
    "gpt-image-1", "gpt-image-1.5",          "gpt-image-1-mini",
    "gpt-image-2", "gpt-image-2-2026-04-21", "chatgpt-image-latest"};
const std::vector<std::string> kGptSizes = {"1024x1024", "1024x1536", "1536x1024", "auto"};
const std::vector<std::string> kDalle3Sizes = {"1024x1024", "1792x1024", "1024x1792"};
const std::vector<std::string> kDalle2Sizes = {"256x256", "512x512", "1024x1024"};

// "Supported values are: 'a', 'b', and 'c'." as OpenAI words it.
std::string supported(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += values.size() > 2 ? ", " : " ";
    if (i + 1 == values.size() && i > 0) out += "and ";
    out += "'" + values[i] + "'";
  }
  return out;
}

struct Reject {
  int status;
  std::string body;
};

Reject invalid_value(const std::string& param, const std::string& value,
                     const std::vector<std::string>& allowed) {
  return {400, openai_error("Invalid value: '" + value +
                                "'. Supported values are: " + supported(allowed) + ".",
                            "invalid_request_error", param, "invalid_value")};
}
Reject unknown_parameter(const std::string& param) {
  return {400, openai_error("Unknown parameter: '" + param + "'.", "invalid_request_error", param,
                            "unknown_parameter")};
}
Reject missing(const std::string& param) {
  return {400, openai_error("Missing required parameter: '" + param + "'.", "invalid_request_error",
                            param, "missing_required_parameter")};
}
Reject bad(const std::string& param, const std::string& message,
           const std::string& code = "invalid_value") {
  return {400, openai_error(message, "invalid_request_error",
                            param.empty() ? json(nullptr) : json(param), code)};
}

bool in(const std::string& v, const std::vector<std::string>& list) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::optional<std::pair<int, int>> dims(const std::string& size) {
  int w = 0, h = 0;
  char x = 0;
  if (std::sscanf(size.c_str(), "%d%c%d", &w, &x, &h) != 3 || x != 'x' || w <= 0 || h <= 0)
    return std::nullopt;
  return std::pair{w, h};
}

std::string family(const std::string& model) {
  if (kGptModels.count(model)) return "gpt";
  if (model == "dall-e-3" || model == "dall-e-2") return model;
  return "";
}

bool gpt2(const std::string& model) { return model.rfind("gpt-image-2", 0) == 0; }

bool free_size_ok(const std::string& size) {
  auto d = dims(size);
  if (!d) return false;
  auto [w, h] = *d;
  return w % 16 == 0 && h % 16 == 0 && std::max(w, h) <= 3840 && std::min(w, h) <= 2160 &&
         std::max(w, h) <= 3 * std::min(w, h);
}

// The GPT-only fields, with their allowed values, shared by generations and edits.
std::optional<Reject> check_gpt_fields(const json& b, const std::string& model) {
  auto s = [&](const char* k) { return b.contains(k) ? b[k].get<std::string>() : std::string(); };
  if (b.contains("size") && !in(s("size"), kGptSizes) && !(gpt2(model) && free_size_ok(s("size"))))
    return invalid_value("size", s("size"), kGptSizes);
  if (b.contains("quality") && !in(s("quality"), {"low", "medium", "high", "auto"}))
    return invalid_value("quality", s("quality"), {"low", "medium", "high", "auto"});
  if (b.contains("output_format") && !in(s("output_format"), {"png", "jpeg", "webp"}))
    return invalid_value("output_format", s("output_format"), {"png", "jpeg", "webp"});
  if (b.contains("background") && !in(s("background"), {"transparent", "opaque", "auto"}))
    return invalid_value("background", s("background"), {"transparent", "opaque", "auto"});
  if (b.contains("moderation") && !in(s("moderation"), {"low", "auto"}))
    return invalid_value("moderation", s("moderation"), {"low", "auto"});
  if (b.contains("output_compression")) {
    const auto& c = b["output_compression"];
    if (!c.is_number_integer() || c.get<int>() < 0 || c.get<int>() > 100)
      return bad("output_compression", "Invalid 'output_compression': integer 0-100 expected.");
    if (!in(s("output_format"), {"jpeg", "webp"}))
      return bad("output_compression",
                 "output_compression is only supported for jpeg and webp output formats.");
  }
  if (s("background") == "transparent" && s("output_format") == "jpeg")
    return bad("background", "Transparent background is not supported for the jpeg output format.");
  for (const char* k : {"response_format", "style"})
    if (b.contains(k)) return unknown_parameter(k);
  return std::nullopt;
}

std::optional<Reject> check_n(const json& b, const std::string& model) {
  if (!b.contains("n")) return std::nullopt;
  if (!b["n"].is_number_integer() || b["n"].get<int>() < 1 || b["n"].get<int>() > 10)
    return bad("n", "Invalid 'n': integer below minimum value or above maximum value (1-10).",
               "integer_out_of_range");
  if (model == "dall-e-3" && b["n"].get<int>() != 1)
    return bad("n", "Invalid 'n': dall-e-3 only supports n=1.");
  return std::nullopt;
}

json usage_json(int input_tokens, int image_tokens) {
  return {{"input_tokens", input_tokens},
          {"output_tokens", image_tokens},
          {"total_tokens", input_tokens + image_tokens},
          {"input_tokens_details", {{"text_tokens", input_tokens}, {"image_tokens", 0}}},
          {"output_tokens_details", {{"image_tokens", image_tokens}, {"text_tokens", 0}}}};
}

std::string query_param(const std::string& target, const std::string& key) {
  const auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string rest = target.substr(q + 1);
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    auto amp = rest.find('&', pos);
    if (amp == std::string::npos) amp = rest.size();
    const std::string kv = rest.substr(pos, amp - pos);
    if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
    pos = amp + 1;
  }
  return {};
}

TestResponse from(const Reject& r, const std::string& rid) {
  return json_answer(r.status, r.body, rid);
}

}  // namespace

// ---- /v1/... ---------------------------------------------------------------------------

TestResponse FakeUpstream::openai(const RecordedRequest& r, FakeRequest& rec,
                                  const std::string& route, const std::string& model_override,
                                  bool azure) {
  std::lock_guard lock(mu_);
  const std::string rid = "req_" + std::to_string(++counter_);
  if (!azure) {
    const auto auth = r.header("Authorization");
    if (!auth)
      return json_answer(
          401,
          openai_error("You didn't provide an API key. You need to provide your API key in an "
                       "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                       "YOUR_KEY).",
                       "invalid_request_error", nullptr, nullptr),
          rid);
    if (*auth != "Bearer " + openai_key) {
      std::string given = auth->rfind("Bearer ", 0) == 0 ? auth->substr(7) : *auth;
      // The real API shows the first and last characters only.
      std::string masked = given.size() > 8
                               ? given.substr(0, 3) + std::string(given.size() - 7, '*') +
                                     given.substr(given.size() - 4)
                               : "****";
      return json_answer(401,
                         openai_error("Incorrect API key provided: " + masked +
                                          ". You can find your API "
                                          "key at https://platform.openai.com/account/api-keys.",
                                      "invalid_request_error", nullptr, "invalid_api_key"),
                         rid);
    }
  }
  if (r.method != "POST")
    return json_answer(404,
                       openai_error("Invalid URL (" + r.method + " /v1" + route + ")",
                                    "invalid_request_error", nullptr, nullptr),
                       rid);
  const std::string content_type = r.header("Content-Type").value_or("");
  if (route == "/images/edits") {
    std::string why;
    auto parts = parse_multipart(content_type, r.body, why);
    if (!parts)
      return json_answer(400,
                         openai_error("Invalid multipart/form-data body: " + why,
                                      "invalid_request_error", nullptr, nullptr),
                         rid);
    rec.parts = std::move(*parts);
  } else {
    if (content_type.rfind("application/json", 0) != 0 || !json::accept(r.body) ||
        !json::parse(r.body).is_object())
      return json_answer(
          400,
          openai_error("We could not parse the JSON body of your request. (HINT: This likely "
                       "means you aren't using your HTTP library correctly.)",
                       "invalid_request_error", nullptr, nullptr),
          rid);
    rec.json = json::parse(r.body);
  }
  std::chrono::milliseconds delay{0};
  if (auto s = scripted(azure, false, nullptr)) {
    if (s->status != -1) return *s;
    delay = s->delay;
  }
  TestResponse out;
  if (route == "/images/generations")
    out = generations(rec, model_override, azure);
  else if (route == "/images/edits")
    out = edits(r, rec, model_override);
  else if (route == "/responses")
    out = responses(rec);
  else if (route == "/moderations")
    out = moderations(rec);
  else if (route == "/chat/completions")
    out = chat_completions(rec);
  else
    out = json_answer(404, openai_error("Invalid URL (POST /v1" + route + ")",
                                        "invalid_request_error", nullptr, nullptr));
  out.delay = delay;
  out.headers.emplace_back(azure ? "apim-request-id" : "x-request-id", rid);
  return out;
}

// POST /v1/chat/completions: checks the messages as the API does and answers the last
// user message prefixed with "Enhanced: ", so tests can see the rewrite reach the next step.
TestResponse FakeUpstream::chat_completions(FakeRequest& rec) {
  const json& b = rec.json;
  if (!b.contains("model") || !b["model"].is_string())
    return json_answer(400, openai_error("you must provide a model parameter",
                                         "invalid_request_error", nullptr, nullptr));
  if (!b.contains("messages") || !b["messages"].is_array() || b["messages"].empty())
    return json_answer(400, openai_error("[] is too short - 'messages'", "invalid_request_error",
                                         "messages", nullptr));
  std::string last_user;
  for (const auto& m : b["messages"]) {
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["content"].is_string())
      return json_answer(400, openai_error("Invalid message: role and content are required",
                                           "invalid_request_error", "messages", nullptr));
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "developer")
      return json_answer(400, openai_error("Invalid value: '" + role + "'", "invalid_request_error",
                                           "messages", nullptr));
    if (role == "user") last_user = m["content"].get<std::string>();
  }
  json answer = {
      {"id", "chatcmpl-123"},
      {"object", "chat.completion"},
      {"model", b["model"]},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", "Enhanced: " + last_user}}},
         {"finish_reason", "stop"}}}},
      {"usage", {{"prompt_tokens", 42}, {"completion_tokens", 17}, {"total_tokens", 59}}}};
  return json_answer(200, answer.dump());
}

// POST /v1/moderations: the shape of OpenAI's answer. A prompt is flagged for violence
// when it holds "attack", for hate when it holds "hateful": words the tests choose.
TestResponse FakeUpstream::moderations(FakeRequest& rec) {
  const json& b = rec.json;
  for (const auto& [key, value] : b.items())
    if (key != "input" && key != "model")
      return json_answer(400, openai_error("Unrecognized request argument supplied: " + key,
                                           "invalid_request_error", nullptr, nullptr));
  if (!b.contains("input") || !(b["input"].is_string() || b["input"].is_array()))
    return json_answer(400, openai_error("'input' is a required property", "invalid_request_error",
                                         "input", nullptr));
  const std::string text = b["input"].is_string() ? b["input"].get<std::string>() : b["input"].dump();
  const bool violence = text.find("attack") != std::string::npos;
  const bool hate = text.find("hateful") != std::string::npos;
  json categories = {{"violence", violence}, {"hate", hate}, {"sexual", false}, {"self-harm", false}};
  json scores = {{"violence", violence ? 0.93 : 0.001}, {"hate", hate ? 0.88 : 0.001},
                 {"sexual", 0.001}, {"self-harm", 0.0005}};
  json answer = {{"id", "modr-123"},
                 {"model", b.value("model", std::string("omni-moderation-latest"))},
                 {"results",
                  {{{"flagged", violence || hate},
                    {"categories", categories},
                    {"category_scores", scores}}}}};
  return json_answer(200, answer.dump());
}

TestResponse FakeUpstream::generations(FakeRequest& rec, const std::string& model_override,
                                       bool azure) {
  const json& b = rec.json;
  const std::string model =
      !model_override.empty() ? model_override : b.value("model", std::string("dall-e-2"));
  if (model.rfind("black-forest-labs/", 0) == 0 && !azure) return together(rec);
  static const std::set<std::string> keys = {"prompt",
                                             "model",
                                             "n",
                                             "size",
                                             "quality",
                                             "style",
                                             "response_format",
                                             "output_format",
                                             "output_compression",
                                             "background",
                                             "moderation",
                                             "stream",
                                             "partial_images",
                                             "user"};
  for (const auto& [k, v] : b.items()) {
    if (!keys.count(k)) return from(unknown_parameter(k), "");
    if (k != "n" && k != "output_compression" && k != "stream" && k != "partial_images" &&
        !v.is_string())
      return from(bad(k,
                      "Invalid type for '" + k + "': expected a string, but got " +
                          std::string(v.type_name()) + ".",
                      "invalid_type"),
                  "");
  }
  if (!b.contains("prompt")) return from(missing("prompt"), "");
  const std::string prompt = b["prompt"].get<std::string>();
  const std::string fam = family(model);
  if (fam.empty())
    return json_answer(404, openai_error("The model '" + model +
                                             "' does not exist or you do not have access to it.",
                                         "invalid_request_error", nullptr, "model_not_found"));
  const std::size_t max_prompt = fam == "gpt" ? 32000 : fam == "dall-e-3" ? 4000 : 1000;
  if (prompt.empty() || prompt.size() > max_prompt)
    return from(bad("prompt", "Invalid 'prompt': string length must be 1-" +
                                  std::to_string(max_prompt) + "."),
                "");
  if (auto r = check_n(b, model)) return from(*r, "");
  auto s = [&](const char* k) { return b.contains(k) ? b[k].get<std::string>() : std::string(); };
  if (fam == "gpt") {
    if (auto r = check_gpt_fields(b, model)) return from(*r, "");
  } else {
    for (const char* k : {"output_format", "output_compression", "background", "moderation",
                          "stream", "partial_images"})
      if (b.contains(k)) return from(unknown_parameter(k), "");
    const auto& sizes = fam == "dall-e-3" ? kDalle3Sizes : kDalle2Sizes;
    if (b.contains("size") && !in(s("size"), sizes))
      return from(invalid_value("size", s("size"), sizes), "");
    const std::vector<std::string> qualities = fam == "dall-e-3"
                                                   ? std::vector<std::string>{"standard", "hd"}
                                                   : std::vector<std::string>{"standard"};
    if (b.contains("quality") && !in(s("quality"), qualities))
      return from(invalid_value("quality", s("quality"), qualities), "");
    if (b.contains("style") && fam != "dall-e-3") return from(unknown_parameter("style"), "");
    if (b.contains("style") && !in(s("style"), {"vivid", "natural"}))
      return from(invalid_value("style", s("style"), {"vivid", "natural"}), "");
    if (b.contains("response_format") && !in(s("response_format"), {"url", "b64_json"}))
      return from(invalid_value("response_format", s("response_format"), {"url", "b64_json"}), "");
  }
  const std::string size = s("size").empty() || s("size") == "auto" ? "1024x1024" : s("size");
  const auto [w, h] = *dims(size);
  const std::string format = s("output_format").empty() ? "png" : s("output_format");
  const int n = b.value("n", 1);
  json data = json::array();
  for (int i = 0; i < n; ++i) {
    json entry;
    if (fam == "gpt" || s("response_format") == "b64_json")
      entry["b64_json"] = base64_encode(make_image(w, h, format, {30, 120, 200}));
    else
      entry["url"] = store_image(w, h, "png", {30, 120, 200});
    if (fam == "dall-e-3") entry["revised_prompt"] = "A detailed rendering of: " + prompt;
    data.push_back(std::move(entry));
  }
  json answer = {{"created", 1713833628}, {"data", std::move(data)}};
  if (fam == "gpt") {
    answer["usage"] = usage_json(static_cast<int>(prompt.size() / 4) + 1, 4160 * n);
    answer["size"] = size;
    answer["quality"] = s("quality").empty() ? "auto" : s("quality");
    answer["output_format"] = format;
    answer["background"] = s("background").empty() ? "opaque" : s("background");
  }
  return json_answer(200, answer.dump());
}

// Together's FLUX.1 [schnell]: width/height/steps/seed, response_format base64 or url.
TestResponse FakeUpstream::together(FakeRequest& rec) {
  const json& b = rec.json;
  static const std::set<std::string> keys = {"model",          "prompt",
                                             "width",          "height",
                                             "steps",          "n",
                                             "seed",           "response_format",
                                             "output_format",  "negative_prompt",
                                             "guidance_scale", "disable_safety_checker"};
  for (const auto& [k, v] : b.items())
    if (!keys.count(k)) return from(unknown_parameter(k), "");
  if (!b.contains("prompt")) return from(missing("prompt"), "");
  if (b.value("model", "") != "black-forest-labs/FLUX.1-schnell")
    return json_answer(404, openai_error("Unable to access model " + b.value("model", "") + ".",
                                         "invalid_request_error", nullptr, "model_not_available"));
  const int w = b.value("width", 1024), h = b.value("height", 1024), steps = b.value("steps", 4);
  if (w % 8 || h % 8 || w < 64 || h < 64 || w > 1792 || h > 1792)
    return from(bad("width", "Width and height must be multiples of 8 between 64 and 1792."), "");
  if (steps < 1 || steps > 12)
    return from(bad("steps", "steps must be between 1 and 12 for this model."), "");
  const std::string rf = b.value("response_format", "url");
  if (!in(rf, {"base64", "url"}))
    return from(invalid_value("response_format", rf, {"base64", "url"}), "");
  const std::string format = b.value("output_format", "jpeg");
  json data = json::array();
  for (int i = 0; i < b.value("n", 1); ++i) {
    if (rf == "base64")
      data.push_back({{"index", i},
                      {"b64_json", base64_encode(make_image(w, h, format, {240, 160, 20}))},
                      {"type", "b64_json"}});
    else
      data.push_back(
          {{"index", i}, {"url", store_image(w, h, format, {240, 160, 20})}, {"type", "url"}});
  }
  return json_answer(200, json{{"id", "tg-" + std::to_string(counter_)},
                               {"model", "black-forest-labs/FLUX.1-schnell"},
                               {"object", "list"},
                               {"data", std::move(data)}}
                              .dump());
}

TestResponse FakeUpstream::edits(const RecordedRequest& r, FakeRequest& rec,
                                 const std::string& model_override) {
  (void)r;
  static const std::set<std::string> files = {"image", "image[]", "mask"};
  static const std::set<std::string> fields = {"prompt",
                                               "model",
                                               "n",
                                               "size",
                                               "quality",
                                               "background",
                                               "output_format",
                                               "output_compression",
                                               "input_fidelity",
                                               "response_format",
                                               "stream",
                                               "partial_images",
                                               "user",
                                               "moderation"};
  json b = json::object();  // the text fields, typed as the JSON endpoints would see them
  std::vector<const FormPart*> images;
  const FormPart* mask = nullptr;
  int singles = 0, arrays = 0;
  for (const auto& p : rec.parts) {
    if (files.count(p.name)) {
      if (!p.has_filename || p.filename.empty())
        return from(bad(p.name, "Expected a file for '" + p.name + "', got a text field."), "");
      if (p.content_type.empty())
        return from(bad(p.name, "Invalid file '" + p.name + "': missing mimetype.",
                        "missing_file_mimetype"),
                    "");
      if (!in(p.content_type, {"image/png", "image/jpeg", "image/webp"}))
        return from(
            bad(p.name,
                "Invalid file '" + p.name + "': unsupported mimetype ('" + p.content_type +
                    "'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'."),
            "");
      const auto sniffed = sniff_format(p.value);
      if (std::string(mime_type(sniffed)) != p.content_type)
        return from(bad(p.name,
                        "Invalid file '" + p.name + "': the content is not a valid " +
                            p.content_type + " image.",
                        "invalid_image"),
                    "");
      if (p.name == "mask") {
        if (mask) return from(bad("mask", "Duplicate parameter: 'mask'."), "");
        mask = &p;
      } else {
        // The right signature is not enough: OpenAI decodes every image, and one it cannot
        // read (a truncated PNG) is refused with this text and type.
        try {
          decode_image(p.value);
        } catch (const std::exception&) {
          return from({400, openai_error("Invalid image file or mode for image " +
                                             std::to_string(images.size() + 1) +
                                             ", please check your image file.",
                                         "image_generation_user_error", nullptr, nullptr)},
                      "");
        }
        (p.name == "image" ? singles : arrays) += 1;
        images.push_back(&p);
      }
    } else if (fields.count(p.name)) {
      if (p.has_filename)
        return from(bad(p.name, "Expected a text value for '" + p.name + "', got a file."), "");
      if (b.contains(p.name))
        return from(bad(p.name, "Duplicate parameter: '" + p.name + "'."), "");
      if (p.name == "n" || p.name == "output_compression" || p.name == "partial_images") {
        try {
          std::size_t used = 0;
          const int v = std::stoi(p.value, &used);
          if (used != p.value.size()) throw std::invalid_argument("trailing");
          b[p.name] = v;
        } catch (const std::exception&) {
          return from(
              bad(p.name,
                  "Invalid type for '" + p.name + "': expected an integer, but got a string.",
                  "invalid_type"),
              "");
        }
      } else {
        b[p.name] = p.value;
      }
    } else {
      return from(unknown_parameter(p.name), "");
    }
  }
  if (singles && arrays)
    return from(bad("image", "Provide either 'image' or 'image[]', not both."), "");
  if (singles > 1)
    return from(bad("image", "Duplicate parameter: 'image'. Use 'image[]' for several images."),
                "");
  if (images.empty()) return from(missing("image"), "");
  if (!b.contains("prompt")) return from(missing("prompt"), "");
  const std::string model =
      !model_override.empty() ? model_override : b.value("model", std::string("gpt-image-1.5"));
  const std::string fam = family(model);
  if (fam.empty() || fam == "dall-e-3")
    return from(invalid_value("model", model,
                              {"dall-e-2", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"}),
                "");
  if (auto rj = check_n(b, model)) return from(*rj, "");
  const auto first = probe_image(images[0]->value);
  if (fam == "dall-e-2") {
    if (arrays || images.size() != 1)
      return from(bad("image", "dall-e-2 takes exactly one 'image'."), "");
    if (images[0]->content_type != "image/png" || first.width != first.height)
      return from(
          bad("image",
              "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB, and square."),
          "");
    for (const char* k :
         {"output_format", "output_compression", "background", "moderation", "input_fidelity"})
      if (b.contains(k)) return from(unknown_parameter(k), "");
    if (b.contains("size") && !in(b["size"].get<std::string>(), kDalle2Sizes))
      return from(invalid_value("size", b["size"].get<std::string>(), kDalle2Sizes), "");
  } else {
    if (images.size() > 16) return from(bad("image", "Too many images: at most 16."), "");
    if (auto rj = check_gpt_fields(b, model)) return from(*rj, "");
    if (b.contains("input_fidelity")) {
      if (model == "gpt-image-1-mini") return from(unknown_parameter("input_fidelity"), "");
      if (!in(b["input_fidelity"].get<std::string>(), {"low", "high"}))
        return from(invalid_value("input_fidelity", b["input_fidelity"].get<std::string>(),
                                  {"low", "high"}),
                    "");
    }
  }
  if (mask) {
    const auto m = probe_image(mask->value);
    if (mask->content_type != "image/png" || m.width != first.width || m.height != first.height)
      return from(
          bad("mask",
              "Invalid mask image. The mask must be a PNG with the same dimensions as the image."),
          "");
  }
  const std::string size = b.value("size", std::string("auto"));
  int w = first.width, h = first.height;
  if (size != "auto") std::tie(w, h) = *dims(size);
  const std::string format = b.value("output_format", std::string("png"));
  json data = json::array();
  for (int i = 0; i < b.value("n", 1); ++i) {
    if (fam == "dall-e-2" && b.value("response_format", std::string("url")) == "url")
      data.push_back({{"url", store_image(w, h, "png", {200, 40, 40})}});
    else
      data.push_back({{"b64_json", base64_encode(make_image(w, h, format, {200, 40, 40}))}});
  }
  json answer = {{"created", 1713833700}, {"data", std::move(data)}};
  if (fam == "gpt") {
    answer["usage"] =
        usage_json(60 + 323 * static_cast<int>(images.size()), 4160 * b.value("n", 1));
    answer["size"] = std::to_string(w) + "x" + std::to_string(h);
    answer["output_format"] = format;
  }
  return json_answer(200, answer.dump());
}

TestResponse FakeUpstream::responses(FakeRequest& rec) {
  const json& b = rec.json;
  static const std::set<std::string> keys = {"model",
                                             "input",
                                             "tools",
                                             "tool_choice",
                                             "user",
                                             "instructions",
                                             "previous_response_id",
                                             "store",
                                             "stream",
                                             "metadata",
                                             "temperature",
                                             "parallel_tool_calls",
                                             "reasoning",
                                             "text",
                                             "truncation",
                                             "max_output_tokens",
                                             "include",
                                             "background"};
  for (const auto& [k, v] : b.items())
    if (!keys.count(k)) return from(unknown_parameter(k), "");
  if (!b.contains("model")) return from(missing("model"), "");
  if (!b.contains("input")) return from(missing("input"), "");
  std::string prompt;
  int images = 0;
  if (b["input"].is_string()) {
    prompt = b["input"].get<std::string>();
  } else if (b["input"].is_array()) {
    for (std::size_t i = 0; i < b["input"].size(); ++i) {
      const json& msg = b["input"][i];
      const std::string at = "input[" + std::to_string(i) + "]";
      if (!msg.is_object() || msg.value("role", "") != "user" || !msg.contains("content") ||
          !msg["content"].is_array())
        return from(bad(at, "Invalid '" + at + "': expected a user message with a content array."),
                    "");
      for (std::size_t j = 0; j < msg["content"].size(); ++j) {
        const json& c = msg["content"][j];
        const std::string where = at + ".content[" + std::to_string(j) + "]";
        const std::string type = c.value("type", "");
        if (type == "input_text") {
          if (!c.contains("text") || !c["text"].is_string())
            return from(missing(where + ".text"), "");
          prompt += c["text"].get<std::string>();
        } else if (type == "input_image") {
          for (const auto& [k, v] : c.items())
            if (!in(k, {"type", "image_url", "file_id", "detail"}))
              return from(unknown_parameter(where + "." + k), "");
          if (c.contains("image_url") == c.contains("file_id"))
            return from(bad(where, "Invalid '" + where +
                                       "': provide exactly one of image_url and file_id."),
                        "");
          if (c.contains("detail") &&
              !in(c["detail"].get<std::string>(), {"auto", "low", "high", "original"}))
            return from(invalid_value(where + ".detail", c["detail"].get<std::string>(),
                                      {"auto", "low", "high", "original"}),
                        "");
          if (c.contains("image_url")) {
            const std::string url = c["image_url"].get<std::string>();
            if (url.rfind("data:", 0) == 0) {
              const auto comma = url.find(',');
              const std::string head = url.substr(5, comma == std::string::npos ? 0 : comma - 5);
              const std::string mime = head.substr(0, head.find(';'));
              if (comma == std::string::npos || head.find(";base64") == std::string::npos ||
                  !in(mime, {"image/png", "image/jpeg", "image/webp", "image/gif"}))
                return from(
                    bad(where + ".image_url", "Invalid '" + where +
                                                  ".image_url'. Expected a base64-encoded "
                                                  "data URL with an image MIME type (e.g. "
                                                  "'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), "
                                                  "but got unsupported MIME type '" +
                                                  mime + "'."),
                    "");
              std::string bytes;
              try {
                bytes = base64_decode(url.substr(comma + 1));
              } catch (const std::exception&) {
              }
              if (std::string(mime_type(sniff_format(bytes))) != mime)
                return from(bad(where + ".image_url",
                                "The image data you provided does not represent a valid image.",
                                "invalid_image_format"),
                            "");
            } else if (url.rfind("https://", 0) != 0) {
              return from(bad(where + ".image_url", "Invalid '" + where +
                                                        ".image_url': expected an https URL or a "
                                                        "data URL."),
                          "");
            }
          }
          ++images;
        } else {
          return from(
              invalid_value(where + ".type", type, {"input_text", "input_image", "input_file"}),
              "");
        }
      }
    }
  } else {
    return from(
        bad("input", "Invalid type for 'input': expected a string or an array.", "invalid_type"),
        "");
  }
  const json* tool = nullptr;
  if (b.contains("tools")) {
    for (std::size_t i = 0; i < b["tools"].size(); ++i) {
      const json& t = b["tools"][i];
      if (t.value("type", "") != "image_generation") continue;
      const std::string at = "tools[" + std::to_string(i) + "]";
      static const std::set<std::string> tool_keys = {"type",           "model",
                                                      "quality",        "size",
                                                      "output_format",  "output_compression",
                                                      "background",     "moderation",
                                                      "input_fidelity", "input_image_mask",
                                                      "partial_images", "action"};
      for (const auto& [k, v] : t.items())
        if (!tool_keys.count(k)) return from(unknown_parameter(at + "." + k), "");
      const std::string tm = t.value("model", "gpt-image-1");
      if (family(tm) != "gpt")
        return from(
            invalid_value(at + ".model", tm, {"gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"}),
            "");
      json fields = t;
      fields.erase("type");
      fields.erase("model");
      fields.erase("input_image_mask");
      fields.erase("partial_images");
      fields.erase("action");
      fields.erase("input_fidelity");
      if (auto rj = check_gpt_fields(fields, tm)) {
        json e = json::parse(rj->body);
        e["error"]["param"] = at + "." + e["error"]["param"].get<std::string>();
        return json_answer(400, e.dump());
      }
      tool = &t;
    }
  }
  json output = json::array();
  if (tool) {
    const std::string size = tool->value("size", std::string("auto"));
    int w = 1024, h = 1024;
    if (size != "auto") std::tie(w, h) = *dims(size);
    const std::string format = tool->value("output_format", std::string("png"));
    output.push_back({{"type", "image_generation_call"},
                      {"id", "ig_" + std::to_string(counter_)},
                      {"status", "completed"},
                      {"result", base64_encode(make_image(w, h, format, {60, 180, 90}))},
                      {"revised_prompt", "A poster: " + prompt},
                      {"size", std::to_string(w) + "x" + std::to_string(h)},
                      {"output_format", format}});
  }
  output.push_back({{"type", "message"},
                    {"role", "assistant"},
                    {"content",
                     {{{"type", "output_text"},
                       {"text", tool ? "Here is your image." : "I cannot create images here."}}}}});
  return json_answer(200, json{{"id", "resp_" + std::to_string(counter_)},
                               {"object", "response"},
                               {"status", "completed"},
                               {"model", b["model"]},
                               {"output", std::move(output)},
                               {"usage",
                                {{"input_tokens", 100 + 765 * images},
                                 {"output_tokens", 56},
                                 {"total_tokens", 156 + 765 * images}}}}
                              .dump());
}

// ---- Azure: /openai/deployments/{deployment}/images/{generations|edits}?api-version= ----

TestResponse FakeUpstream::azure(const RecordedRequest& r, FakeRequest& rec) {
  static const std::string prefix = "/openai/deployments/";
  const auto not_found =
      json_answer(404, R"({"error":{"code":"404","message":"Resource not found"}})");
  if (r.path == "/openai/v1/responses") return azure_responses(r, rec);
  if (r.path.rfind(prefix, 0) != 0) return not_found;
  const std::string rest = r.path.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos) return not_found;
  const std::string deployment = rest.substr(0, slash), route = rest.substr(slash);
  if (route != "/images/generations" && route != "/images/edits") return not_found;
  const std::string version = query_param(r.target, "api-version");
  if (version.empty()) return not_found;
  if (!in(version, {"2024-02-01", "2024-10-21", "2025-04-01-preview"}))
    return json_answer(400,
                       R"({"error":{"code":"BadRequest","message":"API version not supported"}})");
  if (!azure_authorized(r)) return azure_denied();
  auto it = azure_deployments.find(deployment);
  if (it == azure_deployments.end())
    return json_answer(
        404,
        R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}})");
  if (route == "/images/edits" && family(it->second) != "gpt")
    return json_answer(
        400,
        R"({"error":{"code":"OperationNotSupported","message":"The imagesEdit operation does not work with the specified model. Please choose different model and try again."}})");
  return openai(r, rec, route, it->second, true);
}

bool FakeUpstream::azure_authorized(const RecordedRequest& r) const {
  const auto key = r.header("api-key");
  const auto bearer = r.header("Authorization");
  return (key && *key == azure_key) || (bearer && *bearer == "Bearer " + azure_token);
}

TestResponse FakeUpstream::azure_denied() {
  return json_answer(
      401,
      R"({"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}})");
}

// The v1 Responses route: the body's model is the chat deployment; the hosted image tool
// runs on the deployment named in x-ms-oai-image-generation-deployment.
TestResponse FakeUpstream::azure_responses(const RecordedRequest& r, FakeRequest& rec) {
  if (!azure_authorized(r)) return azure_denied();
  const auto image = r.header("x-ms-oai-image-generation-deployment");
  if (!image || !azure_deployments.count(*image) || family(azure_deployments.at(*image)) != "gpt")
    return json_answer(400, R"({"error":{"code":"BadRequest","message":"Invalid request."}})");
  const json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !azure_deployments.count(body.value("model", "")))
    return json_answer(
        404,
        R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}})");
  return openai(r, rec, "/responses", "", true);
}

}  // namespace imagepipe::testing
