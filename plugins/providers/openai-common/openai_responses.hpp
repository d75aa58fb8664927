// Reading the answers: the images response ({created, data[], usage, ...}) and the
// Responses API's output[] with image_generation_call items.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe::openai {

struct ImageEntry {
  std::string b64;  // decoded by the caller; empty when `url` is set
  std::string url;  // to download (dall-e, OpenAI-compatible hosts with response_format url)
  std::string revised_prompt;
};

struct ParsedAnswer {
  std::vector<ImageEntry> images;
  nlohmann::json usage = nlohmann::json::object();
  nlohmann::json echo = nlohmann::json::object();  // size, quality, output_format, background
  std::string text;                                // Responses: the assistant's text, if any
  std::string failed;                              // Responses: why a call failed
};

// Both throw Error(unavailable) when the body is not the documented shape.
ParsedAnswer parse_images_answer(const std::string& body);
ParsedAnswer parse_responses_answer(const std::string& body);

}  // namespace imagepipe::openai
