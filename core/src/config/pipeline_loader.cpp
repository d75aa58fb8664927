// load_pipeline: YAML with positions → environment expansion → schema and plugin checks.
// Every stage keeps going after a problem, so one run reports everything wrong in a file.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/env_expand.hpp"
#include "config/pipeline_schema.hpp"
#include "config/yaml_document.hpp"

namespace imagepipe {

namespace {

constexpr std::uintmax_t kMaxFileBytes = 10u << 20;
// Shorter values would turn ordinary words in a message into asterisks.
constexpr std::size_t kMinRedactedLength = 4;

void replace_all(std::string& text, const std::string& needle, const std::string& replacement) {
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + replacement.size())) {
    text.replace(at, needle.size(), replacement);
  }
}

// Secrets never reach an error message. In the quoted source line a secret becomes as
// many asterisks, so the caret still lines up.
void redact(std::vector<Diagnostic>& diagnostics, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < kMinRedactedLength) continue;
    for (Diagnostic& diagnostic : diagnostics) {
      replace_all(diagnostic.message, secret, "***");
      replace_all(diagnostic.hint, secret, "***");
      replace_all(diagnostic.source_line, secret, std::string(secret.size(), '*'));
    }
  }
}

std::vector<std::string> unique_secrets(std::vector<std::string> secrets) {
  secrets.erase(std::remove(secrets.begin(), secrets.end(), std::string()), secrets.end());
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

[[noreturn]] void fail(Diagnostic diagnostic) {
  std::vector<Diagnostic> diagnostics;
  diagnostics.push_back(std::move(diagnostic));
  throw PipelineError(std::move(diagnostics));
}

}  // namespace

Pipeline load_pipeline_text(std::string_view yaml, std::string display_name,
                            const PluginRegistry& registry, const LoadOptions& options) {
  std::vector<Diagnostic> diagnostics;
  auto document = config::YamlDocument::parse(yaml, display_name, diagnostics);
  if (!document) throw PipelineError(std::move(diagnostics));

  const config::EnvironmentExpansion environment =
      config::expand_environment(*document, options, diagnostics);
  config::LoadContext context{*document, registry, environment, diagnostics, {}};
  Pipeline pipeline = config::read_pipeline(context);
  pipeline.file = display_name;
  pipeline.missing_env = environment.missing;
  pipeline.unmet_requirements =
      config::unmet_requirements(pipeline.requirements, options.env_overrides);
  pipeline.secrets = unique_secrets(std::move(context.secrets));

  if (!diagnostics.empty()) {
    redact(diagnostics, pipeline.secrets);
    // In file order, as a compiler would list them.
    std::stable_sort(
        diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
          return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
        });
    throw PipelineError(std::move(diagnostics));
  }
  return pipeline;
}

Pipeline load_pipeline(const std::filesystem::path& file, const PluginRegistry& registry,
                       const LoadOptions& options) {
  const std::string display_name = file.string();
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(file, error);
  if (!error && size > kMaxFileBytes) {
    fail({{display_name}, "the pipeline file is larger than 10 MiB"});
  }
  std::ifstream in(file, std::ios::binary);
  if (!in)
    fail({{display_name}, std::string("cannot read the pipeline file: ") + std::strerror(errno)});
  std::ostringstream text;
  text << in.rdbuf();
  Pipeline pipeline = load_pipeline_text(text.str(), display_name, registry, options);
  pipeline.file = file;
  return pipeline;
}

}  // namespace imagepipe
