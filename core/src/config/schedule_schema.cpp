// trigger.schedule: cron schedules the daemon runs a pipeline on. The expression is
// parsed here, so a mistake is reported at its exact characters when the file loads,
// not at 2 a.m.; the body a scheduled job gets is checked against request_schema too.
#include <string>

#include "config/pipeline_schema.hpp"
#include "config/suggest.hpp"
#include "imagepipe/registry.hpp"

namespace imagepipe::config {

namespace {

using nlohmann::json;

const std::vector<std::string> kScheduleKeys = {"cron", "timezone", "body"};

SourceMark mark_of(const LoadContext& context, const std::string& pointer) {
  SourceMark mark{context.document.file(), 0, 0};
  if (const NodeInfo* node = context.document.find(pointer)) {
    mark.line = node->value.line + 1;
    mark.column = node->value.column + 1;
  }
  return mark;
}

const date::time_zone* read_zone(Mapping& entry, ScheduleTrigger& schedule) {
  LoadContext& context = entry.context();
  if (auto name = entry.string("timezone")) {
    const date::time_zone* zone = find_time_zone(*name);
    if (!zone) {
      context.report(context.document.at_value(
          entry.pointer("timezone"),
          entry.path("timezone") + " '" + *name + "' is not a time zone of this system",
          "an IANA name such as UTC, Europe/Paris or America/New_York (from /usr/share/zoneinfo)"));
      return nullptr;
    }
    schedule.timezone = *name;
    return zone;
  }
  if (entry.has("timezone")) return nullptr;  // the wrong type is reported
  return find_time_zone("UTC");
}

// "/items/0/name" → ".items[0].name", as messages name places.
std::string dotted(const std::string& pointer) {
  std::string out;
  std::size_t at = 0;
  while (at < pointer.size()) {
    const auto next = pointer.find('/', at + 1);
    const std::string token =
        pointer.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    const bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    out += index ? "[" + token + "]" : "." + token;
    at = next == std::string::npos ? pointer.size() : next;
  }
  return out;
}

// Each problem the request schema finds in the body, at the body's own lines.
void check_body(Mapping& entry, const json& request_schema, const ScheduleTrigger& schedule) {
  if (request_schema.is_null()) return;
  LoadContext& context = entry.context();
  const std::string body = entry.pointer("body");
  for (const auto& issue : validate_json(request_schema, schedule.body)) {
    std::string message = entry.path("body") + dotted(issue.pointer) + ": " + issue.message;
    // The checker speaks of plugin options; here they are request fields.
    if (auto at = message.find(" option "); at != std::string::npos)
      message.replace(at, 8, " field ");
    const std::string hint = "the body a scheduled job gets must satisfy trigger.request_schema";
    context.report(issue.kind == OptionIssue::Kind::invalid
                       ? context.document.at_value(body + issue.pointer, message, hint)
                       : context.document.at_key(body + issue.pointer, message, hint));
  }
}

void read_schedule(Mapping& entry, const json& request_schema, TriggerSpec& trigger) {
  LoadContext& context = entry.context();
  ScheduleTrigger schedule;
  const date::time_zone* zone = read_zone(entry, schedule);
  entry.require("cron");
  auto cron = entry.string("cron");
  if (const json* body = entry.mapping("body")) schedule.body = *body;
  check_body(entry, request_schema, schedule);
  if (!cron || !zone) return;
  // An unset variable: the pipeline cannot run and says so; nothing to parse. An empty
  // expression (${WXO_BATCH_CRON:-}) is a schedule switched off by its deployment.
  if (context.environment.unresolved.count(entry.pointer("cron")) || cron->empty()) return;
  try {
    schedule.cron = CronSchedule::parse(*cron, zone);
  } catch (const CronError& e) {
    context.report(context.document.at_text(entry.pointer("cron"), e.offset, e.length,
                                            entry.path("cron") + ": " + e.what(), e.hint));
    return;
  }
  schedule.mark = mark_of(context, entry.pointer("cron"));
  trigger.schedules.push_back(std::move(schedule));
}

}  // namespace

// One mapping or a list of them: a pipeline may run on several schedules.
void read_schedules(Mapping& trigger_block, TriggerSpec& trigger) {
  const json* value = trigger_block.get("schedule");
  if (value && value->is_string()) {
    LoadContext& context = trigger_block.context();
    context.report(context.document.at_value(
        trigger_block.pointer("schedule"),
        trigger_block.path("schedule") + " must be a mapping or a list of mappings, got " +
            describe_value(*value),
        "write 'schedule: {cron: \"" + value->get<std::string>() + "\"}'"));
    return;
  }
  for_each_entry(trigger_block, "schedule", kScheduleKeys, [&](Mapping& entry) {
    if (entry.valid()) read_schedule(entry, trigger.request_schema, trigger);
  });
}

}  // namespace imagepipe::config
