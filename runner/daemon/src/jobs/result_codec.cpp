// JobResult as stored in the job store. Unlike job_summary() (a view for people), this
// keeps every field, so a callback rendered after a restart is the one that would have
// been rendered before it.
#include "jobs/jobs.hpp"

namespace imagepipe {

using nlohmann::json;

std::int64_t to_unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_unix_ms(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

namespace {

json output_to_json(const ItemOutput& o) {
  return {{"step", o.step},         {"mime", o.mime},         {"ext", o.ext},
          {"width", o.width},       {"height", o.height},
          {"bytes", o.bytes},       {"key", o.key},
          {"uri", o.uri},           {"copy", o.copy},
          {"url", o.url},           {"expires_in", o.expires_in},
          {"metadata", o.metadata}, {"inline", o.data != nullptr}};
}

ItemOutput output_from_json(const json& j) {
  ItemOutput o;
  o.step = j.value("step", "");
  o.mime = j.value("mime", "");
  o.ext = j.value("ext", "");
  o.width = j.value("width", 0);
  o.height = j.value("height", 0);
  o.bytes = j.value("bytes", std::uint64_t{0});
  o.key = j.value("key", "");
  o.url = j.value("url", "");
  o.uri = j.value("uri", "");
  o.copy = j.value("copy", "");
  o.expires_in = j.value("expires_in", std::int64_t{0});
  o.metadata = j.value("metadata", json::object());
  return o;
}

json optional_class(const std::optional<ErrorClass>& c) {
  return c ? json(to_string(*c)) : json(nullptr);
}

std::optional<ErrorClass> class_from(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return error_class_from_string(it->get<std::string>());
}

// The counts of every item: a batch's metrics, from a result that keeps only its first items.
json tally_to_json(const JobTally& t) {
  json errors = json::array();
  for (const auto& [at, text] : t.errors) errors.push_back({at.first, at.second, text});
  return {{"total", t.total},
          {"processed", t.processed},
          {"failed", t.failed},
          {"fell_back", t.fell_back},
          {"outputs", t.outputs},
          {"attempts", t.attempts},
          {"fall_throughs", t.fall_throughs},
          {"provider_seconds", t.provider_seconds},
          {"providers", t.providers},
          {"usage", t.usage},
          {"errors", std::move(errors)},
          {"error_count", t.error_count}};
}

JobTally tally_from_json(const json& j) {
  JobTally t;
  t.total = j.value("total", std::size_t{0});
  t.processed = j.value("processed", std::size_t{0});
  t.failed = j.value("failed", std::size_t{0});
  t.fell_back = j.value("fell_back", std::size_t{0});
  t.outputs = j.value("outputs", std::size_t{0});
  t.attempts = j.value("attempts", 0LL);
  t.fall_throughs = j.value("fall_throughs", 0LL);
  t.provider_seconds = j.value("provider_seconds", 0.0);
  t.providers = j.value("providers", json::object());
  t.usage = j.value("usage", json::object());
  for (const auto& e : j.value("errors", json::array()))
    t.errors.emplace(std::pair{e.at(0).get<std::size_t>(), e.at(1).get<std::size_t>()},
                     e.at(2).get<std::string>());
  t.error_count = j.value("error_count", std::size_t{0});
  return t;
}

}  // namespace

json item_result_to_json(const ItemResult& item) {
  json outputs = json::array();
  for (const auto& o : item.outputs) outputs.push_back(output_to_json(o));
  return {{"index", item.index},
          {"name", item.name},
          {"stem", item.stem},
          {"ext", item.ext},
          {"status", item.status},
          {"error_class", optional_class(item.error_class)},
          {"error", item.error},
          {"provider", item.provider},
          {"attempts", item.attempts},
          {"fall_throughs", item.fall_throughs},
          {"notes", item.notes},
          {"duration_seconds", item.duration_seconds},
          {"provider_seconds", item.provider_seconds},
          {"usage", item.usage},
          {"chain", item.chain},
          {"steps", item.steps},
          {"outputs", std::move(outputs)}};
}

ItemResult item_result_from_json(const json& j) {
  ItemResult item;
  item.index = j.value("index", std::size_t{0});
  item.name = j.value("name", "");
  item.stem = j.value("stem", "");
  item.ext = j.value("ext", "");
  item.status = j.value("status", "failed");
  item.error_class = class_from(j, "error_class");
  item.error = j.value("error", "");
  item.provider = j.value("provider", "");
  item.attempts = j.value("attempts", 0);
  item.fall_throughs = j.value("fall_throughs", 0);
  item.notes = j.value("notes", std::vector<std::string>{});
  item.duration_seconds = j.value("duration_seconds", 0.0);
  item.provider_seconds = j.value("provider_seconds", 0.0);
  item.usage = j.value("usage", json::object());
  item.chain = j.value("chain", json::array());
  item.steps = j.value("steps", json::array());
  for (const auto& o : j.value("outputs", json::array()))
    item.outputs.push_back(output_from_json(o));
  return item;
}

json job_result_to_json(const JobResult& job) {
  json items = json::array();
  for (const auto& item : job.items) items.push_back(item_result_to_json(item));
  return {{"id", job.id},
          {"pipeline", job.pipeline},
          {"status", job.status},
          {"error", job.error},
          {"error_class", optional_class(job.error_class)},
          {"started_at_ms", to_unix_ms(job.started_at)},
          {"finished_at_ms", to_unix_ms(job.finished_at)},
          {"items", std::move(items)},
          {"tally", tally_to_json(job.tally)},
          {"sink", job.sink}};
}

JobResult job_result_from_json(const json& j) {
  JobResult job;
  job.id = j.value("id", "");
  job.pipeline = j.value("pipeline", "");
  job.status = j.value("status", "failed");
  job.error = j.value("error", "");
  job.error_class = class_from(j, "error_class");
  job.started_at = from_unix_ms(j.value("started_at_ms", std::int64_t{0}));
  job.finished_at = from_unix_ms(j.value("finished_at_ms", std::int64_t{0}));
  for (const auto& item : j.value("items", json::array()))
    job.items.push_back(item_result_from_json(item));
  // Results stored before items were counted as they finished have none: metrics() then
  // counts their items, which were all kept.
  if (const auto t = j.find("tally"); t != j.end() && t->is_object())
    job.tally = tally_from_json(*t);
  job.sink = j.value("sink", json::object());
  return job;
}

}  // namespace imagepipe
