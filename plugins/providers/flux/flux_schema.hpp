#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace imagepipe::flux {

nlohmann::json options_schema();
nlohmann::json capabilities();
std::vector<nlohmann::json> examples();

}  // namespace imagepipe::flux
