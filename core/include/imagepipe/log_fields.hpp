// Log lines with structured fields. With --log-format json the fields are members of the
// line's object beside ts_ms, level, logger and msg, so a log pipeline filters on
// `status` or `job_id` without parsing `msg`; text lines show the message alone, which
// should already say what matters.
//
// Every JSON line written while a trace is current (trace.hpp) also carries `trace_id`.
#pragma once

#include <string_view>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

namespace imagepipe {

// `fields` is an object; members named ts_ms, level, logger or msg are dropped.
void log_fields(spdlog::logger& log, spdlog::level::level_enum level, const nlohmann::json& fields,
                std::string_view message);

}  // namespace imagepipe
