// `imagepipe plugins list|describe|docs`: everything printed comes from the descriptors.
#include <iostream>

#include "commands.hpp"
#include "imagepipe/describe.hpp"

namespace imagepipe::runner {

namespace {

std::vector<RegisteredPlugin> find_by_name(const PluginRegistry& registry, const std::string& spec) {
  std::string kind, name = spec;
  if (auto slash = spec.find('/'); slash != std::string::npos) {
    kind = spec.substr(0, slash);
    name = spec.substr(slash + 1);
  }
  std::vector<RegisteredPlugin> found;
  for (const auto& p : registry.all())
    if (p.descriptor->name == name && (kind.empty() || to_string(p.descriptor->kind()) == kind)) found.push_back(p);
  return found;
}

}  // namespace

int plugins_command(const PluginsArgs& args, Process& process) {
  const auto& registry = process.registry();
  if (args.action == "list") {
    if (args.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& p : registry.all())
        list.push_back({{"kind", to_string(p.descriptor->kind())},
                        {"name", p.descriptor->name},
                        {"version", p.descriptor->version},
                        {"summary", p.descriptor->summary},
                        {"origin", p.origin}});
      std::cout << list.dump(2) << "\n";
      return kExitOk;
    }
    for (const auto& p : registry.all()) {
      std::string label = std::string(to_string(p.descriptor->kind())) + "/" + p.descriptor->name;
      label.resize(std::max<std::size_t>(label.size() + 1, 26), ' ');
      std::cout << label << p.descriptor->summary;
      if (p.origin != "built-in") std::cout << "  [" << p.origin << "]";
      std::cout << "\n";
    }
    return kExitOk;
  }
  if (args.action == "docs") {
    std::cout << plugin_reference_markdown(registry);
    return kExitOk;
  }
  // describe
  auto found = find_by_name(registry, args.name);
  if (found.empty()) {
    std::cerr << "imagepipe: no plugin named '" << args.name << "'; `imagepipe plugins list` shows them all\n";
    return kExitInvalid;
  }
  if (args.json) {
    if (found.size() == 1) {
      std::cout << describe_plugin_json(found.front()).dump(2) << "\n";
    } else {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& p : found) all.push_back(describe_plugin_json(p));
      std::cout << all.dump(2) << "\n";
    }
    return kExitOk;
  }
  for (std::size_t i = 0; i < found.size(); ++i) std::cout << (i ? "\n" : "") << describe_plugin_text(found[i]);
  return kExitOk;
}

}  // namespace imagepipe::runner
