// Notifier `log`: one line per finished job in the process log.
#include "imagepipe/plugin.hpp"
#include "imagepipe/template.hpp"

namespace imagepipe {
namespace {

constexpr const char* kMessage = "message";
constexpr const char* kLevel = "level";

class LogNotifier final : public Notifier {
 public:
  explicit LogNotifier(const PluginArgs& args)
      : message_(Template::compile(args.options.at(kMessage))),
        level_(spdlog::level::from_str(args.options.at(kLevel).get<std::string>())) {}

  Task<void> notify(const Notification& n) override {
    n.log->log(level_, "{}", message_.render_string(*n.scope));
    co_return;
  }

 private:
  Template message_;
  spdlog::level::level_enum level_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Writes one line per finished job to the log.";
  d.description = "The message is a template over job, request, items and metrics.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       {{kMessage,
         {{"type", "string"},
          {"default", "job ${job.id} ${job.status}: ${metrics.processed}/${metrics.total_files} processed, "
                      "${metrics.failed} failed, ${metrics.fell_back} fell back"},
          {"description", "Template of the line to log."}}},
        {kLevel,
         {{"type", "string"},
          {"enum", {"debug", "info", "warn", "error"}},
          {"default", "info"},
          {"description", "Log level of the line."}}}}}};
  d.examples = {{{kLevel, "info"}}, {{kMessage, "done: ${job.id} (${metrics.duration_seconds}s)"}}};
  d.factory = NotifierFactory{[](const PluginArgs& args) { return std::make_unique<LogNotifier>(args); }};
  return d;
}
