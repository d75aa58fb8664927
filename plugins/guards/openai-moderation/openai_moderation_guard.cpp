// guard `openai-moderation`: asks OpenAI's moderation endpoint about each prompt before a
// provider is paid for it.
//   POST {base_url}/moderations  {"model": ..., "input": prompt}
// A flagged answer refuses the prompt, naming the flagged categories.
#include "imagepipe/plugin.hpp"
#include "openai_errors.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

constexpr const char* kName = IMAGEPIPE_PLUGIN_NAME;

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

class OpenAIModerationGuard final : public Guard {
 public:
  explicit OpenAIModerationGuard(const PluginArgs& args)
      : host_(args.host),
        url_(trim_slash(args.options.at("base_url").get<std::string>()) + "/moderations"),
        model_(args.options.at("model").get<std::string>()),
        timeout_(static_cast<long long>(args.options.at("timeout").get<double>() * 1000)) {
    key_ = args.options.at("api_key").get<std::string>();
    if (!key_.empty()) secrets_.push_back(key_);
  }

  Task<GuardVerdict> check(GuardRequest request) override {
    if (key_.empty())
      throw Error(ErrorClass::unauthorized, "no credential: api_key is empty (set OPENAI_API_KEY)");
    if (!host_.http) throw Error(ErrorClass::internal, "the host has no HTTP client");
    HttpRequest call;
    call.method = "POST";
    call.url = url_;
    call.timeout = timeout_;
    call.headers = {{"Authorization", "Bearer " + key_},
                    {"Content-Type", "application/json"},
                    {"Accept", "application/json"}};
    call.body = json{{"model", model_}, {"input", request.prompt}}.dump();
    const HttpResponse response = co_await host_.http->send(std::move(call));
    if (response.status / 100 != 2) throw openai::wire_error(response, secrets_);
    const json answer = json::parse(response.body, nullptr, false);
    if (answer.is_discarded() || !answer.contains("results") || !answer["results"].is_array() ||
        answer["results"].empty() || !answer["results"][0].is_object())
      throw Error(ErrorClass::unavailable, "moderation answer without results");
    const json& result = answer["results"][0];
    GuardVerdict verdict;
    if (!result.value("flagged", false)) co_return verdict;
    std::string flagged;
    json categories = json::array();
    // Named: a range-for over items() of a temporary reads freed memory.
    const json categories_answer = result.value("categories", json::object());
    for (const auto& [category, on] : categories_answer.items())
      if (on.is_boolean() && on.get<bool>()) {
        flagged += (flagged.empty() ? "" : ", ") + category;
        categories.push_back(category);
      }
    verdict.allowed = false;
    verdict.reason = "flagged by OpenAI moderation (" +
                     (flagged.empty() ? std::string("no category") : flagged) + ")";
    verdict.details = {{"categories", categories}, {"model", answer.value("model", model_)}};
    co_return verdict;
  }

 private:
  const Host& host_;
  std::string url_, model_, key_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> secrets_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Refuses prompts OpenAI's moderation endpoint flags, before any provider call.";
  d.description =
      "POST {base_url}/moderations with the prompt; a flagged result refuses it as "
      "content_policy, naming the flagged categories. When the endpoint cannot answer (down, "
      "rate limited, no key) the item fails with that class: a prompt never passes unchecked.";
  d.options_schema = {{"type", "object"},
                      {"additionalProperties", false},
                      {"properties",
                       {{"api_key",
                         {{"type", "string"},
                          {"writeOnly", true},
                          {"default", ""},
                          {"description", "OpenAI API key."},
                          {"examples", {"${OPENAI_API_KEY}"}}}},
                        {"base_url",
                         {{"type", "string"},
                          {"pattern", "^https?://"},
                          {"default", "https://api.openai.com/v1"},
                          {"description", "API base URL."},
                          {"examples", {"https://api.openai.com/v1"}}}},
                        {"model",
                         {{"type", "string"},
                          {"default", "omni-moderation-latest"},
                          {"description", "Moderation model."},
                          {"examples", {"omni-moderation-latest"}}}},
                        {"timeout",
                         {{"type", "number"},
                          {"minimum", 0.1},
                          {"maximum", 600},
                          {"default", 30},
                          {"description", "Seconds to wait for the answer."},
                          {"examples", {30}}}}}}};
  d.capabilities = {{"checks", {"prompt"}}};
  d.examples = {{{"api_key", "${OPENAI_API_KEY}"}}};
  d.factory = GuardFactory{
      [](const PluginArgs& args) { return std::make_unique<OpenAIModerationGuard>(args); }};
  return d;
}
