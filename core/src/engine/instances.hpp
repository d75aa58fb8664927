// Builds plugin instances from a pipeline's `use:`/`with:` blocks.
#pragma once

#include <memory>

#include "imagepipe/pipeline.hpp"

namespace imagepipe {

template <class T>
std::unique_ptr<T> build_plugin(const PluginUse& use, const Host& host) {
  using Factory = std::function<std::unique_ptr<T>(const PluginArgs&)>;
  if (!use.descriptor) throw Error(ErrorClass::internal, "plugin '" + use.use + "' was not resolved");
  const auto* factory = std::get_if<Factory>(&use.descriptor->factory);
  if (!factory || !*factory)
    throw Error(ErrorClass::internal, "plugin '" + use.use + "' is not a " + std::string(to_string(use.kind)));
  PluginArgs args{host, use.with};
  try {
    auto instance = (*factory)(args);
    if (!instance) throw Error(ErrorClass::internal, "factory returned nothing");
    return instance;
  } catch (const Error& e) {
    throw Error(e.cls(), std::string(to_string(use.kind)) + " '" + use.use + "': " + e.what());
  } catch (const std::exception& e) {
    throw Error(ErrorClass::internal, std::string(to_string(use.kind)) + " '" + use.use + "': " + e.what());
  }
}

}  // namespace imagepipe
