// The process logger: text or JSON lines on stderr, with every registered secret replaced
// by *** before a line is written, whatever code produced it.
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace imagepipe {

enum class LogFormat { text, json };

std::shared_ptr<spdlog::logger> make_process_logger(LogFormat format, spdlog::level::level_enum level);

// Values that must never reach a log line or an error message (API keys, secrets). Values
// shorter than 4 characters are ignored: redacting them would mangle ordinary words.
void register_secret(const std::string& value);
std::string redact_secrets(std::string text);

}  // namespace imagepipe
