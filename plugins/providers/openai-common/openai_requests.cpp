#include "openai_requests.hpp"

#include <cstdio>

namespace imagepipe::openai {

using nlohmann::json;

namespace {

// The image fields every endpoint shares; empty values are not sent, so the server's
// documented defaults apply.
void put_common(json& body, const ImageParams& p) {
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) body[key] = v;
  };
  int width = 0, height = 0;
  if (p.size_fields == "width_height" &&
      std::sscanf(p.size.c_str(), "%dx%d", &width, &height) == 2) {
    body["width"] = width;
    body["height"] = height;
  } else {
    put(kSize, p.size);
  }
  if (p.seed) body[kSeed] = *p.seed;
  put(kQuality, p.quality);
  put(kOutputFormat, p.output_format);
  put(kBackground, p.background);
  put(kModeration, p.moderation);
  if (p.output_compression) body[kOutputCompression] = *p.output_compression;
}

std::string data_url(const UploadFile& f) {
  return "data:" + f.content_type + ";base64," + base64_encode(*f.bytes);
}

}  // namespace

UploadFile upload_file(const Artifact& image, const std::string& stem, const DecodeLimits& limits,
                       bool force_png) {
  UploadFile f;
  ImageFormat format = image.encoded ? sniff_format(*image.encoded) : ImageFormat::unknown;
  const bool accepted =
      format == ImageFormat::png ||
      (!force_png && (format == ImageFormat::jpeg || format == ImageFormat::webp));
  if (accepted) {
    f.bytes = image.encoded;
  } else {
    const Image pixels = image.pixels ? *image.pixels : decode_image(*image.encoded, limits);
    EncodeSpec png;
    png.format = ImageFormat::png;
    f.bytes = std::make_shared<const std::string>(encode_image(pixels, png));
    format = ImageFormat::png;
  }
  f.filename = stem + "." + std::string(file_extension(format));
  f.content_type = std::string(mime_type(format));
  return f;
}

json generation_body(const std::string& prompt, const ImageParams& p, bool with_model) {
  json body = json::object();
  if (with_model) body[kModel] = p.model;
  body["prompt"] = prompt;
  body[kN] = p.n;
  put_common(body, p);
  if (!p.style.empty()) body[kStyle] = p.style;
  if (!p.response_format.empty()) body[kResponseFormat] = p.response_format;
  if (!p.user.empty()) body[kUser] = p.user;
  for (const auto& [k, v] : p.extra_body.items()) body[k] = v;
  return body;
}

std::vector<MultipartPart> edit_parts(const std::string& prompt,
                                      const std::vector<UploadFile>& images,
                                      const std::optional<UploadFile>& mask, const ImageParams& p,
                                      bool with_model) {
  std::vector<MultipartPart> parts;
  auto field = [&](const char* name, const std::string& v) {
    if (!v.empty()) parts.push_back({name, v, "", ""});
  };
  if (with_model) field(kModel, p.model);
  field("prompt", prompt);
  const char* image_name = images.size() == 1 && p.image_field != "image[]" ? "image" : "image[]";
  for (const auto& f : images) parts.push_back({image_name, *f.bytes, f.filename, f.content_type});
  if (mask) parts.push_back({"mask", *mask->bytes, mask->filename, mask->content_type});
  field(kN, std::to_string(p.n));
  field(kSize, p.size);
  field(kQuality, p.quality);
  field(kOutputFormat, p.output_format);
  if (p.output_compression) field(kOutputCompression, std::to_string(*p.output_compression));
  field(kBackground, p.background);
  field(kModeration, p.moderation);
  field(kInputFidelity, p.input_fidelity);
  field(kResponseFormat, p.response_format);
  field(kUser, p.user);
  for (const auto& [k, v] : p.extra_body.items())
    parts.push_back({k, v.is_string() ? v.get<std::string>() : v.dump(), "", ""});
  return parts;
}

json responses_body(const std::string& prompt, const std::vector<UploadFile>& images,
                    const std::vector<std::string>& image_urls,
                    const std::optional<UploadFile>& mask, const ImageParams& p,
                    const std::string& chat_model, const std::string& detail) {
  json content = json::array();
  content.push_back({{"type", "input_text"}, {"text", prompt}});
  for (const auto& f : images)
    content.push_back({{"type", "input_image"}, {"image_url", data_url(f)}, {"detail", detail}});
  for (const auto& url : image_urls)
    content.push_back({{"type", "input_image"}, {"image_url", url}, {"detail", detail}});
  json tool = {{"type", "image_generation"}, {kModel, p.model}};
  put_common(tool, p);
  if (!p.input_fidelity.empty()) tool[kInputFidelity] = p.input_fidelity;
  if (mask) tool["input_image_mask"] = {{"image_url", data_url(*mask)}};
  json body = {{kModel, chat_model},
               {"input", json::array({{{"role", "user"}, {"content", std::move(content)}}})},
               {"tools", json::array({std::move(tool)})},
               {"tool_choice", {{"type", "image_generation"}}}};
  if (!p.user.empty()) body[kUser] = p.user;
  for (const auto& [k, v] : p.extra_body.items()) body[k] = v;
  return body;
}

}  // namespace imagepipe::openai
