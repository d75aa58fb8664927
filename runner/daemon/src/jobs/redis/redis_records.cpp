#include "jobs/redis/redis_records.hpp"

#include <hiredis/hiredis.h>

#include "jobs/store_rows.hpp"

namespace imagepipe::jobs::redis {

namespace {

using nlohmann::json;

constexpr const char* kStatuses[] = {"queued", "running",  "completed", "completed_with_errors",
                                     "failed", "cancelled"};

std::optional<TimePoint> optional_time(const redisReply* r) {
  if (reply_nil(r)) return std::nullopt;
  return from_unix_ms(reply_integer(r));
}

// The fields of a job hash a list entry shows, in this order.
Command list_fields(const std::string& key) {
  return {"HMGET",   key,        "pipeline", "status", "created",
          "started", "finished", "runs",     "rid",    "seq"};
}

}  // namespace

std::string output_key(std::size_t item, std::size_t output) {
  return std::to_string(item) + ":" + std::to_string(output);
}

std::optional<JobRecord> read_job_record(Connection& c, const std::string& prefix,
                                         const std::string& id) {
  const auto key = prefix + "job:" + id;
  auto replies = c.pipeline({{"HMGET", key, "pipeline", "status", "created", "started", "finished",
                              "runs", "result", "rid"},
                             {"HMGET", key + ":cb", "status", "attempts", "created", "next"},
                             {"LRANGE", key + ":att", "0", "-1"}});
  const auto* h = replies[0].get();
  if (reply_nil(reply_at(h, 0))) return std::nullopt;
  JobRecord record;
  record.id = id;
  record.pipeline = reply_string(reply_at(h, 0));
  record.status = reply_string(reply_at(h, 1));
  record.created_at = from_unix_ms(reply_integer(reply_at(h, 2)));
  record.started_at = optional_time(reply_at(h, 3));
  record.finished_at = optional_time(reply_at(h, 4));
  record.runs = static_cast<int>(reply_integer(reply_at(h, 5)));
  if (!reply_nil(reply_at(h, 6)))
    record.result = job_result_from_json(json::parse(reply_string(reply_at(h, 6))));
  record.request_id = reply_string(reply_at(h, 7));
  const auto* cb = replies[1].get();
  if (!reply_nil(reply_at(cb, 0))) {
    CallbackState state;
    state.status = reply_string(reply_at(cb, 0));
    state.attempts = static_cast<int>(reply_integer(reply_at(cb, 1)));
    state.created_at = from_unix_ms(reply_integer(reply_at(cb, 2)));
    state.next_at = from_unix_ms(reply_integer(reply_at(cb, 3)));
    const auto* attempts = replies[2].get();
    for (std::size_t i = 0; i < reply_size(attempts); ++i) {
      const auto a = json::parse(reply_string(reply_at(attempts, i)));
      CallbackAttempt attempt;
      attempt.attempt = a.at("attempt").get<int>();
      attempt.at = from_unix_ms(a.at("at").get<std::int64_t>());
      attempt.outcome = a.at("outcome").get<std::string>();
      attempt.error = a.value("error", "");
      attempt.error_class = a.value("error_class", "");
      if (a.contains("next_at")) attempt.next_at = from_unix_ms(a["next_at"].get<std::int64_t>());
      state.history.push_back(std::move(attempt));
    }
    record.callback = std::move(state);
  }
  return record;
}

// Newest first from one sorted set: the pipeline-and-status one when both are asked for,
// else the pipeline's, the status', or all jobs'. Members of one millisecond are ordered by
// the store's sequence (their name starts with it), so the cursor's (created, seq) is a
// score and a position among equal scores.
JobPage read_job_page(Connection& c, const std::string& prefix, const JobQuery& query) {
  std::string index = prefix + "ix:all";
  if (!query.pipeline.empty() && !query.status.empty())
    index = prefix + "ix:ps:" + query.pipeline + ":" + query.status;
  else if (!query.pipeline.empty())
    index = prefix + "ix:p:" + query.pipeline;
  else if (!query.status.empty())
    index = prefix + "ix:s:" + query.status;
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  if (query.until) max = to_unix_ms(*query.until) - 1;
  if (query.after) max = std::min(max, query.after->created_ms);
  const std::string min = query.since ? std::to_string(to_unix_ms(*query.since)) : "-inf";
  const std::string max_text =
      max == std::numeric_limits<std::int64_t>::max() ? "+inf" : std::to_string(max);

  // Members: (seq, id, created), up to limit + 1 (one more: is there a next page?).
  struct Member {
    std::int64_t seq;
    std::string id;
    std::int64_t created;
  };
  std::vector<Member> members;
  const std::size_t wanted = static_cast<std::size_t>(query.limit) + 1;
  for (std::size_t offset = 0;;) {
    const std::size_t batch = wanted + 16;
    auto r = c.must({"ZREVRANGEBYSCORE", index, max_text, min, "WITHSCORES", "LIMIT",
                     std::to_string(offset), std::to_string(batch)});
    const std::size_t n = reply_size(r.get()) / 2;
    for (std::size_t i = 0; i < n && members.size() < wanted; ++i) {
      const auto member = reply_string(reply_at(r.get(), 2 * i));
      const auto created = std::stoll(reply_string(reply_at(r.get(), 2 * i + 1)));
      const auto colon = member.find(':');
      const auto seq = std::stoll(member.substr(0, colon));
      // The cursor's millisecond: only members stored before the cursor's job.
      if (query.after && created == query.after->created_ms && seq >= query.after->seq) continue;
      members.push_back({seq, member.substr(colon + 1), created});
    }
    if (members.size() >= wanted || n < batch) break;
    offset += batch;
  }
  std::vector<Command> commands;
  for (const auto& m : members) commands.push_back(list_fields(prefix + "job:" + m.id));
  auto replies = commands.empty() ? std::vector<Reply>{} : c.pipeline(commands);
  JobPage page;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const auto* h = replies[i].get();
    if (reply_nil(reply_at(h, 0))) continue;  // removed meanwhile
    if (static_cast<int>(page.jobs.size()) == query.limit) {
      const auto& last = page.jobs.back();
      page.next = JobCursor{to_unix_ms(last.created_at), last.seq};
      break;
    }
    JobListEntry e;
    e.id = members[i].id;
    e.pipeline = reply_string(reply_at(h, 0));
    e.status = reply_string(reply_at(h, 1));
    e.created_at = from_unix_ms(reply_integer(reply_at(h, 2)));
    e.started_at = optional_time(reply_at(h, 3));
    e.finished_at = optional_time(reply_at(h, 4));
    e.runs = static_cast<int>(reply_integer(reply_at(h, 5)));
    e.request_id = reply_string(reply_at(h, 6));
    e.seq = members[i].seq;
    page.jobs.push_back(std::move(e));
  }
  return page;
}

JobCounts read_counts(Connection& c, const std::string& prefix) {
  auto names = c.must({"SMEMBERS", prefix + "pipelines"});
  std::vector<std::pair<std::string, std::string>> keys;
  std::vector<Command> commands;
  for (std::size_t i = 0; i < reply_size(names.get()); ++i) {
    const auto pipeline = reply_string(reply_at(names.get(), i));
    for (const char* status : kStatuses) {
      keys.emplace_back(pipeline, status);
      commands.push_back({"ZCARD", prefix + "ix:ps:" + pipeline + ":" + status});
    }
  }
  commands.push_back({"ZCARD", prefix + "cb:due"});
  auto replies = c.pipeline(commands);
  JobCounts counts;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto n = reply_integer(replies[i].get());
    if (n == 0) continue;
    counts.by_pipeline_status[keys[i]] = n;
    if (keys[i].second == "queued") counts.queued += n;
    if (keys[i].second == "running") counts.running += n;
  }
  counts.callbacks_pending = reply_integer(replies.back().get());
  return counts;
}

DueCallback read_due_callback(const redisReply* entry) {
  DueCallback d;
  d.job_id = reply_string(reply_at(entry, 0));
  d.pipeline = reply_string(reply_at(entry, 1));
  d.request = request_from_json(json::parse(reply_string(reply_at(entry, 2))));
  d.result = job_result_from_json(json::parse(reply_string(reply_at(entry, 3))));
  d.attempts = static_cast<int>(reply_integer(reply_at(entry, 4)));
  d.created_at = from_unix_ms(reply_integer(reply_at(entry, 5)));
  const auto* outputs = reply_at(entry, 6);
  for (std::size_t i = 0; i + 1 < reply_size(outputs); i += 2) {
    const auto key = reply_string(reply_at(outputs, i));
    const auto colon = key.find(':');
    const auto item = std::stoul(key.substr(0, colon));
    const auto output = std::stoul(key.substr(colon + 1));
    if (item < d.result.items.size() && output < d.result.items[item].outputs.size())
      d.result.items[item].outputs[output].data =
          std::make_shared<const std::string>(reply_string(reply_at(outputs, i + 1)));
  }
  return d;
}

}  // namespace imagepipe::jobs::redis
