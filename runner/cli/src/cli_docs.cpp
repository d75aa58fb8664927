#include "cli_docs.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <sstream>

namespace imagepipe::runner {
namespace {

const std::map<std::string, std::vector<CommandExample>>& examples_by_path() {
  static const std::map<std::string, std::vector<CommandExample>> examples{
      {"",
       {{"imagepipe run pipelines/local-edit.yaml -i photo.jpg -o out",
         "invert and watermark one image, no key needed"},
        {"imagepipe serve --listen 127.0.0.1:8000 pipelines/wxo",
         "serve the watsonx Orchestrate tools"},
        {"imagepipe validate pipelines/*.yaml", "lint pipelines without running them"}}},
      {"run",
       {{"imagepipe run pipelines/local-edit.yaml -i photo.jpg -o out",
         "one image, the result also copied to out/"},
        {"imagepipe run pipelines/process-image.yaml -i https://example.com/cat.png -p \"as a "
         "watercolour\"",
         "a URL in, the result uploaded to S3"},
        {"imagepipe run pipelines/avatar.yaml --set bio=\"Loves hiking\" --set num_images=8 --set "
         "person_id=p-1",
         "request fields from the command line"},
        {"imagepipe run pipelines/thumbnails.yaml -i 'photos/*.jpg' --json",
         "many files; the summary as JSON"}}},
      {"validate",
       {{"imagepipe validate pipelines/*.yaml", "file:line:col, a caret and a hint per problem"},
        {"imagepipe validate --strict-env my.yaml", "unset variables are errors too"}}},
      {"serve",
       {{"imagepipe serve", "the shipped pipelines on 0.0.0.0:8000"},
        {"imagepipe serve --config /etc/imagepipe/serve.yaml --data /var/lib/imagepipe",
         "as the system service runs it"}}},
      {"openapi",
       {{"imagepipe openapi --server https://tools.example.com --out tools pipelines/wxo",
         "one importable document per pipeline"}}},
      {"plugins list", {{"imagepipe plugins list --json", "every plugin, built-in or loaded"}}},
      {"plugins describe",
       {{"imagepipe plugins describe transform/resize", "every option with its type and default"}}},
      {"jobs list",
       {{"imagepipe jobs list --status failed --since 2026-03-29T00:00:00Z",
         "failed jobs since a time"},
        {"imagepipe jobs list --url http://10.0.0.5:8000 --json", "another daemon, as JSON"},
        {"imagepipe jobs list --data /var/lib/imagepipe",
         "from a data directory, the daemon running or not"}}},
      {"jobs show",
       {{"imagepipe jobs show 3f0c...", "status, timings, each item's steps, callback attempts"}}},
      {"jobs retry",
       {{"imagepipe jobs retry 3f0c...", "the callback again, same Idempotency-Key"}}},
      {"completion",
       {{"imagepipe completion bash > /etc/bash_completion.d/imagepipe", "bash"},
        {"echo 'source <(imagepipe completion zsh)' >> ~/.zshrc", "zsh"}}},
      {"man", {{"imagepipe man | man -l -", "read this page without installing it"}}},
  };
  return examples;
}

// The path of a subcommand below the root: "jobs list".
std::string command_path(const CLI::App& app) {
  std::string path;
  for (const CLI::App* a = &app; a->get_parent() != nullptr; a = a->get_parent())
    path = path.empty() ? a->get_name() : a->get_name() + " " + path;
  return path;
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty(); });
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* opt) { return !opt->get_group().empty(); });
}

bool is_flag(const CLI::Option& opt) { return opt.get_type_size() == 0; }

// The values an IsMember check allows ("{text,json}" in the type name); empty for others.
std::vector<std::string> allowed_values(const CLI::Option& opt) {
  const std::string type = opt.get_type_name();
  const auto open = type.find('{'), close = type.find('}');
  std::vector<std::string> values;
  if (open == std::string::npos || close == std::string::npos || close < open) return values;
  std::stringstream list(type.substr(open + 1, close - open - 1));
  for (std::string v; std::getline(list, v, ',');)
    if (!v.empty()) values.push_back(v);
  return values;
}

// TEXT, INT, FILE...: what an option's value is, as --help shows it.
std::string value_name(const CLI::Option& opt) {
  const std::string type = opt.get_type_name();
  return type.substr(0, type.find(':'));
}

bool takes_file(const CLI::Option& opt) {
  const std::string type = opt.get_type_name();
  return type.find("FILE") != std::string::npos || type.find("DIR") != std::string::npos;
}

std::vector<std::string> option_words(const CLI::Option& opt) {
  std::vector<std::string> words;
  for (const auto& s : opt.get_snames()) words.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) words.push_back("--" + l);
  return words;
}

// roff: a backslash doubled, every '-' an ASCII hyphen-minus, and a line that would start
// with a control character made literal.
std::string roff(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

void man_options(std::ostream& out, const std::vector<const CLI::Option*>& options) {
  for (const auto* opt : options) {
    if (opt->get_positional()) continue;
    out << ".TP\n.B ";
    const auto words = option_words(*opt);
    for (std::size_t i = 0; i < words.size(); ++i) out << (i ? ", " : "") << roff(words[i]);
    if (!is_flag(*opt)) out << " \\fI" << roff(value_name(*opt)) << "\\fR";
    out << "\n" << roff(opt->get_description());
    if (const auto values = allowed_values(*opt); !values.empty()) {
      out << " (";
      for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << roff(values[i]);
      out << ")";
    }
    if (!opt->get_envname().empty()) out << "; also \\fB$" << opt->get_envname() << "\\fR";
    out << "\n";
  }
}

void man_command(std::ostream& out, const CLI::App& cmd) {
  const std::string path = command_path(cmd);
  out << ".SS \"imagepipe " << path;
  for (const auto* opt : cmd.get_options())
    if (opt->get_positional())
      out << (opt->get_required() ? " " : " [") << opt->get_name()
          << (opt->get_required() ? "" : "]");
  out << "\"\n" << roff(cmd.get_description()) << "\n";
  man_options(out, visible_options(cmd));
  for (const auto& ex : command_examples(path))
    out << ".PP\n.nf\n" << roff(ex.command) << "\n.fi\n" << roff(ex.what) << "\n";
  for (const auto* sub : visible_subcommands(cmd)) man_command(out, *sub);
}

void walk(const CLI::App& app, const std::function<void(const CLI::App&)>& visit) {
  visit(app);
  for (const auto* sub : visible_subcommands(app)) walk(*sub, visit);
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

const std::vector<CommandExample>& command_examples(const std::string& path) {
  static const std::vector<CommandExample> none;
  const auto& all = examples_by_path();
  const auto it = all.find(path);
  return it == all.end() ? none : it->second;
}

std::string examples_footer(const std::string& path) {
  const auto& examples = command_examples(path);
  if (examples.empty()) return "";
  std::string out = "\nExamples:\n";
  for (const auto& ex : examples) out += "  " + ex.command + "\n      " + ex.what + "\n";
  return out;
}

std::string man_page(const CLI::App& app, const std::string& version) {
  std::ostringstream out;
  out << ".TH IMAGEPIPE 1 \"\" \"" << roff(version) << "\" \"User Commands\"\n"
      << ".SH NAME\nimagepipe \\- "
      << roff(app.get_description().substr(app.get_description().find(':') + 2)) << "\n"
      << ".SH SYNOPSIS\n.B imagepipe\n[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
      << ".SH DESCRIPTION\nimagepipe runs image pipelines declared in YAML: a source, steps (AI "
         "providers with "
         "fallback chains, local transforms), a sink and notifiers, over interchangeable plugins. "
         "It runs a pipeline once (\\fBrun\\fR) or serves pipelines as HTTP routes with durable "
         "jobs and callbacks (\\fBserve\\fR). Global options may come anywhere on the line.\n"
      << ".SH GLOBAL OPTIONS\n";
  man_options(out, visible_options(app));
  out << ".SH COMMANDS\n";
  for (const auto* sub : visible_subcommands(app)) man_command(out, *sub);
  out << ".SH EXIT STATUS\n.TP\n0\ndone; every item completed\n.TP\n1\nthe job ran but some or all "
         "items "
         "failed; for \\fBjobs\\fR, the daemon refused\n.TP\n2\nbad command line or invalid "
         "pipeline\n.TP\n3\n"
         "could not start (a plugin failed to load, an unwritable output, the daemon unreachable)\n"
      << ".SH ENVIRONMENT\n.TP\n.B IMAGEPIPE_PLUGIN_PATH\nmore plugin folders, colon-separated\n"
         ".TP\n.B IMAGEPIPE_API_KEY\\fR, \\fBIMAGEPIPE_TOKEN\ncredentials for \\fBimagepipe "
         "jobs\\fR\n"
         ".PP\nPipelines read their own variables (\\fB${VAR}\\fR), from the environment or an env "
         "file (\\fB./.env\\fR by default); \\fBshare/imagepipe/.env.example\\fR lists those of "
         "the "
         "shipped pipelines.\n"
      << ".SH FILES\n.TP\n.I /etc/imagepipe/serve.yaml\nthe system service's settings\n"
         ".TP\n.I /var/lib/imagepipe\nthe system service's jobs and images\n"
         ".TP\n.I share/imagepipe/pipelines\nthe shipped pipelines\n"
      << ".SH EXAMPLES\n";
  for (const auto& ex : command_examples(""))
    out << ".PP\n.nf\n" << roff(ex.command) << "\n.fi\n" << roff(ex.what) << "\n";
  out << ".SH SEE ALSO\nThe documentation in \\fBshare/doc/imagepipe\\fR and the \\fBdocs/\\fR "
         "folder "
         "of the source.\n";
  return out.str();
}

std::string bash_completion(const CLI::App& app) {
  std::ostringstream out;
  out << "# bash completion for imagepipe; generated by `imagepipe completion bash`.\n"
      << "_imagepipe() {\n"
      << "  local cur prev path word i\n"
      << "  cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path=\n"
      << "  # The command path so far: the words that name subcommands, options skipped.\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    word=${COMP_WORDS[i]}\n"
      << "    case \"$path:$word\" in\n";
  walk(app, [&](const CLI::App& cmd) {
    const std::string path = command_path(cmd);
    for (const auto* sub : visible_subcommands(cmd))
      out << "      \"" << path << ":" << sub->get_name() << "\") path=\""
          << (path.empty() ? "" : path + " ") << sub->get_name() << "\" ;;\n";
  });
  out << "    esac\n  done\n"
      << "  case \"$prev\" in\n";
  std::map<std::string, std::string> value_cases;  // option word -> compgen arguments
  walk(app, [&](const CLI::App& cmd) {
    for (const auto* opt : visible_options(cmd)) {
      if (opt->get_positional() || is_flag(*opt)) continue;
      const auto values = allowed_values(*opt);
      const std::string action = !values.empty()    ? "-W \"" + join(values) + "\""
                                 : takes_file(*opt) ? "-f"
                                                    : "";
      if (action.empty()) continue;
      for (const auto& w : option_words(*opt)) value_cases.emplace(w, action);
    }
  });
  for (const auto& [word, action] : value_cases)
    out << "    " << word << ") COMPREPLY=($(compgen " << action << " -- \"$cur\")); return ;;\n";
  out << "  esac\n"
      << "  case \"$path\" in\n";
  const auto global = visible_options(app);
  walk(app, [&](const CLI::App& cmd) {
    std::vector<std::string> words;
    for (const auto* sub : visible_subcommands(cmd)) words.push_back(sub->get_name());
    bool files = false;
    for (const auto* opt : visible_options(cmd)) {
      if (opt->get_positional()) {
        files = files || takes_file(*opt) || opt->get_name() == "pipelines" ||
                opt->get_name() == "files";
        continue;
      }
      for (const auto& w : option_words(*opt)) words.push_back(w);
    }
    if (&cmd != &app)
      for (const auto* opt : global)
        for (const auto& w : option_words(*opt)) words.push_back(w);
    out << "    \"" << command_path(cmd) << "\") COMPREPLY=($(compgen -W \"" << join(words)
        << "\" -- \"$cur\")";
    if (files) out << " $([[ $cur == -* ]] || compgen -f -- \"$cur\")";
    out << ") ;;\n";
  });
  out << "  esac\n}\ncomplete -o filenames -F _imagepipe imagepipe\n";
  return out.str();
}

std::string zsh_completion(const CLI::App& app) {
  // zsh's bashcompinit runs the bash function: one definition to keep right, not two. Meant
  // to be sourced (`source <(imagepipe completion zsh)` in ~/.zshrc).
  std::ostringstream out;
  out << "# zsh completion for imagepipe; generated by `imagepipe completion zsh`.\n"
      << "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"
      << bash_completion(app);
  return out.str();
}

}  // namespace imagepipe::runner
