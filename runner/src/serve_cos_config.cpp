#include "serve_cos_config.hpp"

#include <cstdlib>

namespace imagepipe::serve {

nlohmann::json cos_config(const std::map<std::string, std::string>& env) {
  auto get = [&](const std::string& name, const std::string& fallback) -> std::string {
    if (auto it = env.find(name); it != env.end()) return it->second;
    if (const char* value = std::getenv(name.c_str())) return value;
    return fallback;
  };
  const auto bucket = get("COS_BUCKET", "");
  long long expires = 900;
  try {
    expires = std::stoll(get("COS_PRESIGN_EXPIRES", "900"));
  } catch (const std::exception&) {
    // Shown as the default the pipelines fall back to.
  }
  return {{"endpoint", get("COS_ENDPOINT", "")},
          {"region", get("COS_REGION", "")},
          {"input_bucket", get("COS_INPUT_BUCKET", bucket)},
          {"output_bucket", get("COS_OUTPUT_BUCKET", bucket)},
          {"input_prefix", get("COS_INPUT_PREFIX", "")},
          {"output_prefix", get("COS_OUTPUT_PREFIX", "results/batch")},
          {"presign_expires", expires}};
}

}  // namespace imagepipe::serve
