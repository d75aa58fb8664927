// imagepipe: run image pipelines once, lint them, and describe plugins.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"

using namespace imagepipe::runner;

int main(int argc, char** argv) {
  CLI::App app{"imagepipe: image pipelines over interchangeable plugins"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("imagepipe ") + IMAGEPIPE_VERSION);

  ProcessOptions process_options;
  std::string log_format = "text", log_level = "warn";
  std::vector<std::string> plugin_dirs;
  app.add_option("--log-format", log_format, "Log lines as text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  app.add_option("--plugin-dir", plugin_dirs, "Also load plugins from this directory (repeatable)");

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run one job of a pipeline and exit");
  run_cmd->add_option("pipeline", run.pipeline, "Pipeline YAML file")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("-i,--input", run.inputs, "Input image: a file, glob or directory (or URL), repeatable");
  run_cmd->add_option("-p,--prompt", run.prompt, "Prompt, as request.body.prompt")
      ->each([&](const std::string&) { run.prompt_given = true; });
  run_cmd->add_option("--set", run.sets, "KEY=VALUE into the request body (JSON values allowed), repeatable");
  run_cmd->add_option("--header", run.headers, "NAME=VALUE request header, repeatable");
  run_cmd->add_option("-o,--out", run.out_dir, "Write results to this directory instead of the pipeline's sink");
  run_cmd->add_option("--env-file", run.env_file, "Variables file (default: ./.env when present)");
  run_cmd->add_flag("--json", run.json, "Print the job summary as JSON on stdout");
  run_cmd->add_flag("-q,--quiet", run.quiet, "Print nothing; the exit code tells");

  ValidateArgs validate;
  auto* validate_cmd = app.add_subcommand("validate", "Check pipelines without running them");
  validate_cmd->add_option("files", validate.files, "Pipeline YAML files")->required()->check(CLI::ExistingFile);
  validate_cmd->add_option("--env-file", validate.env_file, "Variables file (default: ./.env when present)");
  validate_cmd->add_flag("--strict-env", validate.strict_env, "Unset environment variables are errors too");

  PluginsArgs plugins;
  auto* plugins_cmd = app.add_subcommand("plugins", "List and describe plugins");
  plugins_cmd->require_subcommand(1);
  auto* list_cmd = plugins_cmd->add_subcommand("list", "One line per plugin");
  list_cmd->add_flag("--json", plugins.json, "As JSON");
  auto* describe_cmd = plugins_cmd->add_subcommand("describe", "Every option of a plugin, with types, defaults, examples");
  describe_cmd->add_option("name", plugins.name, "Plugin name, or kind/name (transform/resize)")->required();
  describe_cmd->add_flag("--json", plugins.json, "As JSON (includes the JSON Schema)");
  plugins_cmd->add_subcommand("docs", "The Markdown plugin reference (docs/plugins.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalid;
  }

  process_options.log_format = log_format == "json" ? imagepipe::LogFormat::json : imagepipe::LogFormat::text;
  process_options.log_level = spdlog::level::from_str(log_level);
  for (const auto& d : plugin_dirs) process_options.plugin_dirs.emplace_back(d);

  try {
    Process process(process_options);
    if (*run_cmd) return run_command(run, process);
    if (*validate_cmd) return validate_command(validate, process);
    if (*plugins_cmd) {
      for (auto* sub : {list_cmd, describe_cmd})
        if (*sub) plugins.action = sub->get_name();
      if (plugins.action.empty()) plugins.action = "docs";
      return plugins_command(plugins, process);
    }
  } catch (const std::exception& e) {
    std::cerr << "imagepipe: " << e.what() << "\n";
    return kExitRuntime;
  }
  return kExitInvalid;
}
