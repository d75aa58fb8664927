// Notifier `file`: the job summary as a JSON file, for scripts and audits.
#include <filesystem>
#include <fstream>

#include "imagepipe/plugin.hpp"
#include "imagepipe/template.hpp"

namespace imagepipe {
namespace {

constexpr const char* kPath = "path";
constexpr const char* kBody = "body";
constexpr const char* kIndent = "indent";

class FileNotifier final : public Notifier {
 public:
  explicit FileNotifier(const PluginArgs& args)
      : host_(args.host),
        path_(Template::compile(args.options.at(kPath))),
        body_(args.options.contains(kBody) ? std::optional(Template::compile(args.options.at(kBody))) : std::nullopt),
        indent_(args.options.at(kIndent).get<int>()) {}

  Task<void> notify(const Notification& n) override {
    const std::filesystem::path path = path_.render_string(*n.scope);
    nlohmann::json body;
    if (body_) {
      body = body_->render(*n.scope);
    } else {
      body = {{"job", n.scope->at("job")}, {"metrics", n.scope->at("metrics")}, {"items", n.scope->at("items")}};
      if (n.scope->contains("sink")) body["sink"] = n.scope->at("sink");
    }
    const std::string text = body.dump(indent_);
    co_await host_.cpu->run([&]() {
      if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
      auto tmp = path;
      tmp += ".tmp";
      {
        std::ofstream out(tmp, std::ios::trunc);
        out << text << '\n';
        if (!out) throw Error(ErrorClass::unavailable, "cannot write " + path.string());
      }
      std::filesystem::rename(tmp, path);
    });
    n.log->debug("summary written to {}", path.string());
  }

 private:
  const Host& host_;
  Template path_;
  std::optional<Template> body_;
  int indent_;
};

}  // namespace
}  // namespace imagepipe

IMAGEPIPE_PLUGIN_SELF() {
  using namespace imagepipe;
  PluginDescriptor d;
  d.version = "1.0.0";
  d.summary = "Writes the job summary as a JSON file.";
  d.description =
      "The path is a template (one file per job with ${job.id}). Without `body`, the file holds "
      "job, metrics and items; with `body`, the rendered template. Written atomically.";
  d.options_schema = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {kPath}},
      {"properties",
       {{kPath,
         {{"type", "string"},
          {"minLength", 1},
          {"description", "File to write (template)."},
          {"examples", {"./out/${job.id}.json"}}}},
        {kBody, {{"description", "Template of the JSON to write instead of the default summary."}}},
        {kIndent,
         {{"type", "integer"}, {"minimum", -1}, {"maximum", 8}, {"default", 2},
          {"description", "JSON indentation; -1 writes one line."}}}}}};
  d.examples = {{{kPath, "./out/${job.id}.json"}},
                {{kPath, "./out/summary.json"}, {kBody, {{"status", "${job.status}"}, {"metrics", "${metrics}"}}}}};
  d.factory = NotifierFactory{[](const PluginArgs& args) { return std::make_unique<FileNotifier>(args); }};
  return d;
}
