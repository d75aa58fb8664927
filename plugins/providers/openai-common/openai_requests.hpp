// Request bodies for /images/generations (JSON), /images/edits (multipart) and
// /responses (JSON with the image_generation tool), exactly as the official SDKs send them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "imagepipe/http.hpp"
#include "imagepipe/image.hpp"
#include "openai_params.hpp"

namespace imagepipe::openai {

// An input image ready to upload: PNG, JPEG or WebP bytes with a matching file name and
// MIME type (the edits endpoint refuses anything else, octet-stream included).
struct UploadFile {
  std::shared_ptr<const std::string> bytes;
  std::string filename;
  std::string content_type;
};

// Converts other formats (GIF, BMP, TIFF, pixels only) to PNG. `stem` names the file;
// `force_png` for masks, which must be PNG.
UploadFile upload_file(const Artifact& image, const std::string& stem, const DecodeLimits& limits,
                       bool force_png = false);

// `with_model` is false for Azure's deployment routes, where the deployment names the model.
nlohmann::json generation_body(const std::string& prompt, const ImageParams& p, bool with_model);

// One `image` part for a single input, one `image[]` part per input for several; the mask
// applies to the first image.
std::vector<MultipartPart> edit_parts(const std::string& prompt,
                                      const std::vector<UploadFile>& images,
                                      const std::optional<UploadFile>& mask, const ImageParams& p,
                                      bool with_model);

// The prompt as input_text and the images as input_image data URLs (or the https URLs
// given in `image_urls`), the image_generation tool forced with tool_choice.
nlohmann::json responses_body(const std::string& prompt, const std::vector<UploadFile>& images,
                              const std::vector<std::string>& image_urls,
                              const std::optional<UploadFile>& mask, const ImageParams& p,
                              const std::string& chat_model, const std::string& detail);

}  // namespace imagepipe::openai
