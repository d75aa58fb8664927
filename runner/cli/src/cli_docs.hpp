// What the command line says about itself, generated from the CLI11 definitions in main.cpp
// so help, the man page and shell completion can never disagree with the parser: each
// command's examples (in --help and the man page), `imagepipe man` (roff) and
// `imagepipe completion bash|zsh`.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace imagepipe::runner {

struct CommandExample {
  std::string command;  // as typed
  std::string what;     // one line
};

// The examples of a command path ("run", "jobs list"; "" for imagepipe itself).
const std::vector<CommandExample>& command_examples(const std::string& path);
// The --help footer of a command: its examples, indented.
std::string examples_footer(const std::string& path);

// A man page (section 1, roff -man) of `app` and every visible subcommand.
std::string man_page(const CLI::App& app, const std::string& version);
// Completion scripts: commands, subcommands, options and the values of IsMember checks.
std::string bash_completion(const CLI::App& app);
std::string zsh_completion(const CLI::App& app);

}  // namespace imagepipe::runner
