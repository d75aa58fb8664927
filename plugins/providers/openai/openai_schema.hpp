// The `openai` plugin's options: names, JSON Schema, capabilities and examples.
#pragma once

#include <nlohmann/json.hpp>

namespace imagepipe::openai_plugin {

inline constexpr const char* kOperation = "operation";
inline constexpr const char* kBaseUrl = "base_url";
inline constexpr const char* kApiKey = "api_key";
inline constexpr const char* kOrganization = "organization";
inline constexpr const char* kProject = "project";
inline constexpr const char* kTimeout = "timeout";
inline constexpr const char* kChatModel = "chat_model";
inline constexpr const char* kInputDetail = "input_detail";
inline constexpr const char* kInstructions = "instructions";
inline constexpr const char* kImageUrls = "image_urls";

nlohmann::json options_schema();
nlohmann::json capabilities();
std::vector<nlohmann::json> examples();

}  // namespace imagepipe::openai_plugin
