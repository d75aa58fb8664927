// The job's public face: metrics, the template scope and the JSON summary.
#include <openssl/rand.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "imagepipe/engine.hpp"
#include "engine_parts.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe {

using nlohmann::json;

namespace detail {
// Adds every number of `from` into `into`, recursively: token counts, credits, megapixels.
void add_usage(json& into, const json& from) {
  for (const auto& [k, v] : from.items()) {
    if (v.is_number()) {
      if (!into.contains(k) || !into[k].is_number()) into[k] = 0;
      if (v.is_number_integer() && into[k].is_number_integer())
        into[k] = into[k].get<long long>() + v.get<long long>();
      else
        into[k] = into[k].get<double>() + v.get<double>();
    } else if (v.is_object()) {
      if (!into.contains(k) || !into[k].is_object()) into[k] = json::object();
      add_usage(into[k], v);
    }
  }
}
}  // namespace detail

namespace {

double seconds_between(std::chrono::system_clock::time_point a, std::chrono::system_clock::time_point b) {
  if (a.time_since_epoch().count() == 0 || b < a) return 0;
  return std::round(std::chrono::duration<double>(b - a).count() * 1000.0) / 1000.0;
}

json output_json(const ItemOutput& o, bool with_base64) {
  json j = {{"mime", o.mime}, {"ext", o.ext}, {"width", o.width}, {"height", o.height}, {"bytes", o.bytes}};
  if (!o.step.empty()) j["step"] = o.step;
  if (!o.key.empty()) {
    j["key"] = o.key;
    // The object's name without folders or extension: the id a client names it by in a
    // storage route (`/images/{id}` over `YYYY/MM/DD/{id}.png`).
    std::string stem = o.key.substr(o.key.rfind('/') + 1);
    if (const auto dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
    j["stem"] = stem;
  }
  if (!o.uri.empty()) j["uri"] = o.uri;
  if (!o.url.empty()) j["url"] = o.url;
  if (!o.copy.empty()) j["copy"] = o.copy;
  if (o.expires_in) j["expires_in"] = o.expires_in;
  if (!o.metadata.empty()) j["metadata"] = o.metadata;
  if (with_base64 && o.data) j["base64"] = base64_encode(*o.data);
  return j;
}

json item_json(const ItemResult& item, bool with_base64) {
  json j = {{"index", item.index},       {"name", item.name},
            {"stem", item.stem},         {"ext", item.ext},
            {"status", item.status},     {"attempts", item.attempts},
            {"fallback", item.fall_throughs > 0},
            {"duration_seconds", std::round(item.duration_seconds * 1000) / 1000}};
  if (!item.provider.empty()) j["provider"] = item.provider;
  if (!item.error.empty()) j["error"] = item.error;
  if (item.error_class) j["error_class"] = to_string(*item.error_class);
  if (!item.notes.empty()) j["notes"] = item.notes;
  if (!item.usage.empty()) j["usage"] = item.usage;
  if (!item.chain.empty()) {
    j["fall_throughs"] = item.fall_throughs;
    j["provider_seconds"] = std::round(item.provider_seconds * 1000) / 1000;
    j["chain"] = item.chain;
  }
  if (!item.steps.empty()) j["steps"] = item.steps;
  j["outputs"] = json::array();
  for (const auto& o : item.outputs) j["outputs"].push_back(output_json(o, with_base64));
  // The first output's fields on the item itself: what single-image callbacks want.
  if (!item.outputs.empty()) {
    const auto first = output_json(item.outputs.front(), with_base64);
    for (const auto& key : {"mime", "key", "uri", "url", "copy", "expires_in", "base64", "width", "height", "bytes"})
      if (first.contains(key)) j[key] = first[key];
    j["output_ext"] = item.outputs.front().ext;
  }
  return j;
}
}  // namespace

void JobTally::add(const ItemResult& item) {
  ++total;
  if (item.status == "completed") ++processed;
  if (item.status == "failed") ++failed;
  if (item.status == "completed" && item.fall_throughs > 0) ++fell_back;
  outputs += item.outputs.size();
  attempts += item.attempts;
  fall_throughs += item.fall_throughs;
  provider_seconds += item.provider_seconds;
  // An answer per provider call: an avatar's generation and its two grids count three.
  bool counted = false;
  for (const auto& step : item.steps)
    if (const auto p = step.find("provider"); p != step.end() && p->is_string()) {
      providers[p->get<std::string>()] =
          providers.value(p->get<std::string>(), 0) + step.value("runs", 1);
      counted = true;
    }
  if (!counted && !item.provider.empty())
    providers[item.provider] = providers.value(item.provider, 0) + 1;
  detail::add_usage(usage, item.usage);
  std::size_t line = 0;
  auto add_error = [&](const std::string& text) {
    ++error_count;
    const std::pair key{item.index, line++};
    // Full: a line goes in only in place of one from a later item.
    if (errors.size() >= kMaxErrors) {
      if (key > std::prev(errors.end())->first) return;
      errors.erase(std::prev(errors.end()));
    }
    errors.emplace(key, item.name + ": " + text);
  };
  for (const auto& note : item.notes) add_error(note);
  if (!item.error.empty()) add_error(item.error);
}

json JobResult::metrics() const {
  JobTally counted;
  if (tally.total == 0)
    for (const auto& item : items) counted.add(item);
  const JobTally& t = tally.total ? tally : counted;
  json errors = json::array();
  for (const auto& [at, text] : t.errors) errors.push_back(text);
  return {{"total_files", t.total},
          {"processed", t.processed},
          {"failed", t.failed},
          {"fell_back", t.fell_back},
          {"duration_seconds", seconds_between(started_at, finished_at)},
          {"outputs", t.outputs},
          {"provider_attempts", t.attempts},
          {"fall_throughs", t.fall_throughs},
          {"provider_seconds", std::round(t.provider_seconds * 1000) / 1000},
          {"providers", t.providers},
          {"usage", t.usage},
          {"errors", std::move(errors)},
          {"error_count", t.error_count}};
}

json item_summary(const ItemResult& item) { return item_json(item, false); }

json job_scope(const JobResult& job, const JobRequest& request, bool with_base64) {
  json headers = json::object();
  for (const auto& [k, v] : request.headers) headers[k] = v;
  json items = json::array();
  for (const auto& item : job.items) items.push_back(item_json(item, with_base64));
  json scope = {{"job",
                 {{"id", job.id},
                  {"pipeline", job.pipeline},
                  {"status", job.status},
                  {"error", job.error},
                  {"error_class", job.error_class ? std::string(to_string(*job.error_class)) : ""},
                  {"started_at", iso8601(job.started_at)},
                  {"finished_at", iso8601(job.finished_at)},
                  {"duration_seconds", seconds_between(job.started_at, job.finished_at)}}},
                {"request",
                 {{"body", request.body},
                  {"headers", headers},
                  {"query", request.query},
                  {"path", request.path},
                  {"id", request.headers.count("x-request-id") ? request.headers.at("x-request-id")
                                                               : std::string()}}},
                {"items", std::move(items)},
                {"metrics", job.metrics()},
                {"sink", job.sink}};
  return scope;
}

json job_summary(const JobResult& job) {
  json items = json::array();
  for (const auto& item : job.items) items.push_back(item_json(item, false));
  json j = {{"job_id", job.id},
            {"pipeline", job.pipeline},
            {"status", job.status},
            {"started_at", iso8601(job.started_at)},
            {"finished_at", iso8601(job.finished_at)},
            {"metrics", job.metrics()},
            {"items", std::move(items)}};
  if (!job.error.empty()) j["error"] = job.error;
  if (job.error_class) j["error_class"] = to_string(*job.error_class);
  if (!job.sink.empty()) j["sink"] = job.sink;
  return j;
}

std::string sanitize_stem(std::string_view file_name) {
  auto slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  auto dot = file_name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) file_name = file_name.substr(0, dot);
  // One '_' per character, not per byte: "é" is one character, as the seeds' Python
  // re.sub("[^A-Za-z0-9_-]", "_", stem).strip("_-") counts it.
  std::string out;
  for (std::size_t i = 0; i < file_name.size(); ++i) {
    const auto c = static_cast<unsigned char>(file_name[i]);
    if (std::isalnum(c) && c < 0x80) {
      out += static_cast<char>(c);
    } else if (c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '_';
      if (c >= 0xc0)  // a UTF-8 lead byte: skip its continuation bytes
        while (i + 1 < file_name.size() && (static_cast<unsigned char>(file_name[i + 1]) & 0xc0) == 0x80) ++i;
    }
  }
  const auto first = out.find_first_not_of("_-");
  if (first == std::string::npos) return {};
  out = out.substr(first, out.find_last_not_of("_-") - first + 1);
  if (out.size() > 100) out.resize(100);
  return out;
}

std::string new_job_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error(ErrorClass::internal, "no randomness for a job id");
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return {};
  auto secs = std::chrono::system_clock::to_time_t(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace imagepipe
