#include "openai_responses.hpp"

#include "imagepipe/error.hpp"

namespace imagepipe::openai {

using nlohmann::json;

namespace {

json parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object())
    throw Error(ErrorClass::unavailable,
                "the answer is not a JSON object (" + std::to_string(body.size()) + " bytes)");
  return j;
}

std::string str(const json& j, const char* key) {
  if (auto it = j.find(key); it != j.end() && it->is_string()) return it->get<std::string>();
  return {};
}

}  // namespace

ParsedAnswer parse_images_answer(const std::string& body) {
  const json j = parse_object(body);
  ParsedAnswer out;
  const auto data = j.find("data");
  if (data == j.end() || !data->is_array())
    throw Error(ErrorClass::unavailable, "the answer has no data[] array");
  for (const auto& d : *data) {
    ImageEntry e;
    e.b64 = str(d, "b64_json");
    if (e.b64.empty()) e.b64 = str(d, "base64");  // some compatible hosts
    e.url = e.b64.empty() ? str(d, "url") : "";
    e.revised_prompt = str(d, "revised_prompt");
    if (e.b64.empty() && e.url.empty())
      throw Error(ErrorClass::unavailable, "data[] entry without b64_json or url");
    out.images.push_back(std::move(e));
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) out.usage = *u;
  for (const char* key : {"size", "quality", "output_format", "background"})
    if (auto v = str(j, key); !v.empty()) out.echo[key] = v;
  return out;
}

ParsedAnswer parse_responses_answer(const std::string& body) {
  const json j = parse_object(body);
  ParsedAnswer out;
  const auto output = j.find("output");
  if (output == j.end() || !output->is_array())
    throw Error(ErrorClass::unavailable, "the answer has no output[] array");
  for (const auto& item : *output) {
    const std::string type = str(item, "type");
    if (type == "image_generation_call") {
      const std::string status = str(item, "status");
      ImageEntry e;
      e.b64 = str(item, "result");
      e.revised_prompt = str(item, "revised_prompt");
      if (status == "completed" && !e.b64.empty()) {
        out.images.push_back(std::move(e));
        for (const char* key : {"size", "quality", "output_format", "background"})
          if (auto v = str(item, key); !v.empty()) out.echo[key] = v;
      } else {
        out.failed = "image_generation_call " + str(item, "id") + " is " +
                     (status.empty() ? std::string("without status") : status);
      }
    } else if (type == "message" && item.contains("content") && item["content"].is_array()) {
      for (const auto& c : item["content"])
        if (str(c, "type") == "output_text") out.text += str(c, "text");
    }
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) out.usage = *u;
  return out;
}

}  // namespace imagepipe::openai
