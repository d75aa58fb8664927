#include "imagepipe/logging.hpp"
#include "imagepipe/log_fields.hpp"
#include "imagepipe/trace.hpp"

#include <cstdio>
#include <mutex>
#include <set>
#include <shared_mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

namespace imagepipe {

namespace {

std::shared_mutex secrets_mu;

// The fields of the line being logged on this thread: the logger is synchronous, so its
// sink runs inside log_fields' call.
thread_local const nlohmann::json* t_fields = nullptr;

bool reserved(const std::string& key) {
  return key == "ts_ms" || key == "level" || key == "logger" || key == "msg";
}
std::set<std::string, std::greater<>>& secrets() {
  // Longest first, so a secret that contains another is replaced whole.
  static std::set<std::string, std::greater<>> values;
  return values;
}

class RedactingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingStderrSink(LogFormat format) : format_(format) {
    set_formatter_(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v"));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line;
    if (format_ == LogFormat::json) {
      auto ts = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
      nlohmann::json j = {{"ts_ms", ts},
                          {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                spdlog::level::to_string_view(msg.level).size())},
                          {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
                          {"msg", std::string(msg.payload.data(), msg.payload.size())}};
      if (t_fields && t_fields->is_object())
        for (const auto& [key, value] : t_fields->items())
          if (!reserved(key)) j[key] = value;
      if (const auto* trace = current_trace(); trace && !j.contains("trace_id"))
        j["trace_id"] = trace->trace_id;
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      spdlog::memory_buf_t buf;
      formatter_->format(msg, buf);
      line.assign(buf.data(), buf.size());
    }
    line = redact_secrets(std::move(line));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  LogFormat format_;
};

}  // namespace

std::shared_ptr<spdlog::logger> make_process_logger(LogFormat format, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>("imagepipe", std::make_shared<RedactingStderrSink>(format));
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  return logger;
}

void log_fields(spdlog::logger& log, spdlog::level::level_enum level, const nlohmann::json& fields,
                std::string_view message) {
  if (!log.should_log(level)) return;
  const auto* previous = t_fields;
  t_fields = &fields;
  try {
    log.log(level, message);
  } catch (...) {
    t_fields = previous;
    throw;
  }
  t_fields = previous;
}

void register_secret(const std::string& value) {
  if (value.size() < 4) return;
  std::unique_lock lock(secrets_mu);
  secrets().insert(value);
}

std::string redact_secrets(std::string text) {
  std::shared_lock lock(secrets_mu);
  for (const auto& s : secrets())
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
  return text;
}

}  // namespace imagepipe
