#include "serve_job_view.hpp"

#include <cmath>

namespace imagepipe::serve {

using nlohmann::json;

namespace {

double rounded(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

double seconds(TimePoint a, TimePoint b) {
  return rounded(std::chrono::duration<double>(b - a).count());
}

json callback_json(const CallbackState& c) {
  json history = json::array();
  for (const auto& a : c.history) {
    json entry = {{"attempt", a.attempt}, {"at", iso8601(a.at)}, {"outcome", a.outcome}};
    if (!a.error.empty()) entry["error"] = a.error;
    if (!a.error_class.empty()) entry["error_class"] = a.error_class;
    if (a.next_at) entry["next_attempt_at"] = iso8601(*a.next_at);
    history.push_back(std::move(entry));
  }
  json j = {{"status", c.status}, {"attempts", c.attempts}, {"history", std::move(history)}};
  if (c.status == "pending") j["next_attempt_at"] = iso8601(c.next_at);
  return j;
}

}  // namespace

json step_timeline(const JobResult& result, std::size_t items) {
  json timeline = json::array();
  for (const auto& item : result.items) {
    if (item.index >= items) break;
    double at = 0;
    for (const auto& step : item.steps) {
      const double took = step.value("seconds", 0.0);
      json entry = {{"item", item.index},
                    {"name", item.name},
                    {"step", step.value("step", "")},
                    {"start_seconds", rounded(at)},
                    {"seconds", rounded(took)}};
      for (const auto* key : {"provider", "alternative", "attempts", "images", "usage", "skipped"})
        if (step.contains(key)) entry[key] = step[key];
      // The chain entries this step tried, fall-throughs included: where its time went.
      json tried = json::array();
      for (const auto& c : item.chain)
        if (c.value("step", "") == entry["step"]) tried.push_back(c);
      if (!tried.empty()) entry["chain"] = std::move(tried);
      timeline.push_back(std::move(entry));
      at += took;
    }
  }
  return timeline;
}

json time_or_null(const std::optional<TimePoint>& t) {
  return t ? json(iso8601(*t)) : json(nullptr);
}

json job_record_json(const JobRecord& record) {
  json body = record.result ? job_summary(*record.result) : json::object();
  if (record.result) {
    auto& items = body["items"];
    if (items.size() > kInlineItems) items.erase(items.begin() + kInlineItems, items.end());
    const auto total = body["metrics"].value("total_files", std::size_t{0});
    body["items_next"] = total > items.size() && !items.empty()
                             ? json(std::to_string(items.back().value("index", std::size_t{0})))
                             : json(nullptr);
  }
  body["job_id"] = record.id;
  body["pipeline"] = record.pipeline;
  body["status"] = record.status;
  body["created_at"] = iso8601(record.created_at);
  body["started_at"] = time_or_null(record.started_at);
  body["finished_at"] = time_or_null(record.finished_at);
  body["runs"] = record.runs;
  if (!record.request_id.empty()) body["request_id"] = record.request_id;
  json timings = json::object();
  if (record.started_at) timings["queued_seconds"] = seconds(record.created_at, *record.started_at);
  if (record.started_at && record.finished_at)
    timings["run_seconds"] = seconds(*record.started_at, *record.finished_at);
  body["timings"] = std::move(timings);
  body["timeline"] = record.result ? step_timeline(*record.result) : json::array();
  if (record.callback) body["callback"] = callback_json(*record.callback);
  return body;
}

json job_list_entry_json(const JobListEntry& e) {
  json j = {{"job_id", e.id},
            {"pipeline", e.pipeline},
            {"status", e.status},
            {"created_at", iso8601(e.created_at)},
            {"started_at", time_or_null(e.started_at)},
            {"finished_at", time_or_null(e.finished_at)},
            {"runs", e.runs}};
  if (!e.request_id.empty()) j["request_id"] = e.request_id;
  return j;
}

}  // namespace imagepipe::serve
