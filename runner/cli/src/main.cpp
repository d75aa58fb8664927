// imagepipe: serve image pipelines over HTTP, run them once, lint them, describe plugins.
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "cli_docs.hpp"
#include "commands.hpp"
#include "daemon.hpp"
#include "install_layout.hpp"
#include "jobs_command.hpp"
#include "serve_args.hpp"

using namespace imagepipe::runner;

int main(int argc, char** argv) {
  CLI::App app{"imagepipe: image pipelines over interchangeable plugins"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("imagepipe ") + IMAGEPIPE_VERSION);
  // Global options anywhere on the line: `imagepipe run x.yaml --log-level debug` too.
  app.fallthrough();
  app.footer(examples_footer(""));

  ProcessOptions process_options;
  std::string log_format = "text", log_level = "warn";
  std::vector<std::string> plugin_dirs;
  bool quiet = false;
  app.add_option("--log-format", log_format, "Log lines as text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  app.add_option("--plugin-dir", plugin_dirs, "Also load plugins from this directory (repeatable)")
      ->check(CLI::ExistingDirectory);
  app.add_flag("-q,--quiet", quiet, "Print only errors; the exit code tells");

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run one job of a pipeline and exit");
  run_cmd->add_option("pipeline", run.pipeline, "Pipeline YAML file")
      ->required()
      ->check(CLI::ExistingFile);
  run_cmd->add_option("-i,--input", run.inputs,
                      "Input image: a file, glob or directory (or URL), repeatable");
  run_cmd->add_option("-p,--prompt", run.prompt, "Prompt, as request.body.prompt")
      ->each([&](const std::string&) { run.prompt_given = true; });
  run_cmd->add_option("--set", run.sets,
                      "KEY=VALUE into the request body (JSON values allowed), repeatable");
  run_cmd->add_option("--header", run.headers, "NAME=VALUE request header, repeatable");
  run_cmd->add_option(
      "-o,--out", run.out_dir,
      "Keep a copy of each result in this directory, as well as the pipeline's sink");
  run_cmd->add_option("--env-file", run.env_file, "Variables file (default: ./.env when present)");
  run_cmd->add_flag("--json", run.json, "Print the job summary as JSON on stdout");

  ValidateArgs validate;
  auto* validate_cmd = app.add_subcommand("validate", "Check pipelines without running them");
  validate_cmd->add_option("files", validate.files, "Pipeline YAML files")
      ->required()
      ->check(CLI::ExistingFile);
  validate_cmd->add_option("--env-file", validate.env_file,
                           "Variables file (default: ./.env when present)");
  validate_cmd->add_flag("--strict-env", validate.strict_env,
                         "Unset environment variables are errors too");

  PluginsArgs plugins;
  auto* plugins_cmd = app.add_subcommand("plugins", "List and describe plugins");
  plugins_cmd->require_subcommand(1);
  auto* list_cmd = plugins_cmd->add_subcommand("list", "One line per plugin");
  list_cmd->add_flag("--json", plugins.json, "As JSON");
  auto* describe_cmd = plugins_cmd->add_subcommand(
      "describe", "Every option of a plugin, with types, defaults, examples");
  describe_cmd->add_option("name", plugins.name, "Plugin name, or kind/name (transform/resize)")
      ->required();
  describe_cmd->add_flag("--json", plugins.json, "As JSON (includes the JSON Schema)");
  plugins_cmd->add_subcommand("docs", "The Markdown plugin reference (docs/plugins.md)");

  ServeArgs serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve the pipelines' HTTP triggers, with durable jobs and callbacks");
  auto add_serve_options = [](CLI::App* cmd, ServeArgs& args) {
    cmd->add_option("--config", args.config, "Daemon config file (YAML); flags override it")
        ->check(CLI::ExistingFile);
    cmd->add_option("--listen", args.listen,
                    "HOST:PORT to listen on (default 0.0.0.0:8000; port 0 picks one)");
    cmd->add_option("--data", args.data,
                    "Data directory: job database and files (default ./imagepipe-data)");
    cmd->add_option("--queue", args.queue,
                    "redis://host:port/db: keep jobs in Redis, a queue shared with other daemons "
                    "(default: SQLite in --data)");
    cmd->add_option("--env-file", args.env_file, "Variables file (default: ./.env when present)");
    cmd->add_option("pipelines", args.pipelines,
                    "Pipeline files or folders (default: the shipped pipelines)");
  };
  add_serve_options(serve_cmd, serve);
  serve_cmd->add_option("--test-schedule-clock", serve.schedule_clock)->group("");

  OpenapiArgs openapi;
  auto* openapi_cmd = app.add_subcommand(
      "openapi", "Print the OpenAPI 3.0 document of the served triggers, or write one per tool");
  add_serve_options(openapi_cmd, openapi.serve);
  // One name per --pipeline, so the pipeline folders may follow it.
  openapi_cmd
      ->add_option("--pipeline", openapi.names, "Only this pipeline's operation (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  openapi_cmd->add_option("--server", openapi.server,
                          "servers[0].url (default: the config's public_url or listen address)");
  openapi_cmd->add_option(
      "--out", openapi.out_dir,
      "Write one importable document per pipeline, DIR/<name>.json, instead of one on stdout");

  JobsArgs jobs;
  auto* jobs_cmd = app.add_subcommand(
      "jobs",
      "List, show, cancel jobs of a running daemon (or list and show from its data "
      "directory), or re-send a callback");
  jobs_cmd->require_subcommand(1);
  auto add_jobs_options = [&jobs](CLI::App* cmd) {
    cmd->add_option("--url", jobs.url, "The daemon's base URL")->capture_default_str();
    cmd->add_option("--data", jobs.data_dir,
                    "Read list and show from this data directory (serve's --data) instead of "
                    "asking a daemon; read-only, safe while the daemon runs");
    cmd->add_option("--api-key", jobs.api_key, "An API key, sent in --api-key-header")
        ->envname("IMAGEPIPE_API_KEY");
    cmd->add_option("--api-key-header", jobs.api_key_header, "The daemon's auth.api_key_header")
        ->capture_default_str();
    cmd->add_option("--token", jobs.token, "A bearer token (OIDC), sent as Authorization: Bearer")
        ->envname("IMAGEPIPE_TOKEN");
    cmd->add_flag("--json", jobs.json, "Print the daemon's answer as JSON");
  };
  auto* jobs_list = jobs_cmd->add_subcommand("list", "Jobs, newest first");
  add_jobs_options(jobs_list);
  jobs_list->add_option("--pipeline", jobs.pipeline, "Only this pipeline's jobs");
  jobs_list->add_option("--status", jobs.status, "Only jobs with this status")
      ->check(CLI::IsMember(
          {"queued", "running", "completed", "completed_with_errors", "failed", "cancelled"}));
  jobs_list->add_option("--since", jobs.since, "Created at or after (UTC, 2026-03-29T01:00:00Z)");
  jobs_list->add_option("--until", jobs.until, "Created before (UTC)");
  jobs_list->add_option("--limit", jobs.limit, "Jobs per page (1-500, default 50)")
      ->check(CLI::Range(1, 500));
  jobs_list->add_option("--cursor", jobs.cursor,
                        "The next page: the cursor the previous one printed");
  for (auto [name, help] :
       {std::pair{"show", "A job: status, timings, per-step timeline, callback attempts"},
        {"cancel", "Cancel a queued job, or stop a running one after its items under way"},
        {"retry", "Send a finished job's callback again (same Idempotency-Key)"}}) {
    auto* cmd = jobs_cmd->add_subcommand(name, help);
    add_jobs_options(cmd);
    cmd->add_option("id", jobs.id, "Job id")->required();
  }

  auto* completion_cmd =
      app.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
  std::string shell;
  completion_cmd->add_option("shell", shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  auto* man_cmd = app.add_subcommand("man", "Print this command line's manual page (roff)");

  // Every command's --help ends with its examples (the man page shows the same).
  std::function<void(CLI::App*, const std::string&)> add_footers = [&](CLI::App* cmd,
                                                                       const std::string& path) {
    for (auto* sub : cmd->get_subcommands([](CLI::App*) { return true; })) {
      const std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
      sub->footer(examples_footer(sub_path));
      add_footers(sub, sub_path);
    }
  };
  add_footers(&app, "");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalid;
  }
  run.quiet = quiet;
  if (quiet && app.get_option("--log-level")->count() == 0) log_level = "error";

  if (*completion_cmd) {
    std::cout << (shell == "bash" ? bash_completion(app) : zsh_completion(app));
    return kExitOk;
  }
  if (*man_cmd) {
    std::cout << man_page(app, std::string("imagepipe ") + IMAGEPIPE_VERSION);
    return kExitOk;
  }

  if (*jobs_cmd) {  // a client of the daemon: no plugins to load
    for (auto* sub : jobs_cmd->get_subcommands())
      if (*sub) jobs.action = sub->get_name();
    return jobs_command(jobs);
  }

  process_options.log_format =
      log_format == "json" ? imagepipe::LogFormat::json : imagepipe::LogFormat::text;
  process_options.log_level = spdlog::level::from_str(log_level);
  for (const auto& d : plugin_dirs) process_options.plugin_dirs.emplace_back(d);
  process_options.installed_plugin_dir = installed_plugin_dir();

  imagepipe::serve::ServeConfig serve_config;
  if (*serve_cmd || *openapi_cmd) {
    try {
      serve_config = load_serve_config(*serve_cmd ? serve : openapi.serve);
    } catch (const std::exception& e) {
      std::cerr << "imagepipe: " << e.what() << "\n";
      return kExitInvalid;
    }
    for (const auto& d : serve_config.plugin_dirs) process_options.plugin_dirs.push_back(d);
    // A daemon logs what it does unless told otherwise; the one-shot commands stay quiet.
    if (*serve_cmd && app.get_option("--log-level")->count() == 0 && !quiet)
      process_options.log_level =
          spdlog::level::from_str(serve_config.log_level.empty() ? "info" : serve_config.log_level);
    if (app.get_option("--log-format")->count() == 0 && serve_config.log_format)
      process_options.log_format = *serve_config.log_format;
    if (*serve_cmd) {
      process_options.decoded_pixel_bytes = serve_config.decoded_pixel_bytes;
      process_options.pixel_budget_setting = "limits.decoded_pixel_bytes";
      process_options.decoder_memory_bytes = serve_config.decoder_memory_bytes;
    }
  }

  try {
    Process process(process_options);
    if (*run_cmd) return run_command(run, process);
    if (*validate_cmd) return validate_command(validate, process);
    if (*serve_cmd) return run_daemon(serve_config, process);
    if (*openapi_cmd) return openapi_command(openapi, serve_config, process);
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
