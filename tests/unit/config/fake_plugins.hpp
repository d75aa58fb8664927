// Small plugin descriptors owned by these tests, so the loader's messages do not change
// when a real plugin gains an option.
#pragma once

#include <nlohmann/json.hpp>

#include "imagepipe/registry.hpp"

namespace imagepipe::testing {

inline PluginDescriptor fake_descriptor(std::string name, PluginFactory factory,
                                        nlohmann::json options_schema) {
  PluginDescriptor descriptor;
  descriptor.name = std::move(name);
  descriptor.version = "0.0.1";
  descriptor.summary = "test double";
  descriptor.options_schema = std::move(options_schema);
  descriptor.factory = std::move(factory);
  return descriptor;
}

inline const std::vector<PluginDescriptor>& fake_descriptors() {
  using nlohmann::json;
  static const std::vector<PluginDescriptor> descriptors = {
      fake_descriptor(
          "encode", TransformFactory{},
          {{"type", "object"},
           {"additionalProperties", false},
           {"properties",
            {{"format",
              {{"type", "string"}, {"enum", {"png", "jpeg", "webp"}}, {"default", "png"}}},
             {"quality",
              {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 90}}}}}}),
      fake_descriptor(
          "resize", TransformFactory{},
          {{"type", "object"},
           {"additionalProperties", false},
           {"properties",
            {{"width", {{"type", "integer"}, {"minimum", 1}}},
             {"height", {{"type", "integer"}, {"minimum", 1}}},
             {"mode", {{"type", "string"}, {"enum", {"fit", "fill"}}, {"default", "fit"}}}}}}),
      fake_descriptor("crop", TransformFactory{}, {{"type", "object"}}),
      fake_descriptor("echo", ProviderFactory{},
                      {{"type", "object"},
                       {"additionalProperties", false},
                       {"required", {"operation"}},
                       {"properties",
                        {{"operation", {{"type", "string"}, {"enum", {"edit", "generate"}}}},
                         {"model", {{"type", "string"}, {"default", "echo-1"}}},
                         {"api_key", {{"type", "string"}, {"writeOnly", true}}},
                         {"steps", {{"type", "integer"}, {"minimum", 1}}}}}}),
      fake_descriptor(
          "fallback", ProviderFactory{},
          {{"type", "object"}, {"additionalProperties", false}, {"properties", json::object()}}),
      fake_descriptor("disk", StorageFactory{},
                      {{"type", "object"},
                       {"additionalProperties", false},
                       {"required", {"root"}},
                       {"properties", {{"root", {{"type", "string"}}}}}}),
      fake_descriptor("callback", NotifierFactory{},
                      {{"type", "object"},
                       {"additionalProperties", false},
                       {"required", {"url"}},
                       {"properties",
                        {{"url", {{"type", "string"}}},
                         {"retries", {{"type", "integer"}, {"minimum", 0}, {"default", 3}}},
                         {"body", {{"type", "object"}}}}}}),
      fake_descriptor("log", NotifierFactory{}, {{"type", "object"}}),
  };
  return descriptors;
}

inline void register_fake_plugins(PluginRegistry& registry) {
  for (const PluginDescriptor& descriptor : fake_descriptors()) registry.add(descriptor, "test");
}

}  // namespace imagepipe::testing
