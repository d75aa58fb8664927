#include "jobs_command.hpp"

#include <iomanip>
#include <iostream>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>

#include "imagepipe/error.hpp"
#include "imagepipe/http_client.hpp"
#include "jobs/job_history_reader.hpp"
#include "process.hpp"
#include "serve_job_view.hpp"
#include "serve_jobs_query.hpp"

namespace imagepipe::runner {

using nlohmann::json;

namespace {

// GET /jobs's query string (without the '?'), read the same way with --data.
std::string list_query(const JobsArgs& a) {
  std::string query;
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    query += (query.empty() ? "" : "&") + std::string(name) + "=" + url_encode(value);
  };
  add("pipeline", a.pipeline);
  add("status", a.status);
  add("since", a.since);
  add("until", a.until);
  add("cursor", a.cursor);
  if (a.limit > 0) add("limit", std::to_string(a.limit));
  return query;
}

std::string jobs_url(const JobsArgs& a) {
  std::string base = a.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (a.action == "show") return base + "/jobs/" + url_encode(a.id);
  if (a.action == "cancel") return base + "/jobs/" + url_encode(a.id) + "/cancel";
  if (a.action == "retry") return base + "/jobs/" + url_encode(a.id) + "/callbacks/retry";
  const auto query = list_query(a);
  return base + "/jobs" + (query.empty() ? "" : "?" + query);
}

// What the daemon would answer, from the data directory: the same JSON, so --json and the
// tables are the same either way. A status and a body, as over HTTP.
HttpResponse read_history(const JobsArgs& a) {
  jobs::JobHistoryReader history(a.data_dir);
  HttpResponse response;
  response.status = 200;
  if (a.action == "show") {
    const auto record = history.get(a.id);
    if (!record) {
      response.status = 404;
      response.body = json{{"error", "no job " + a.id + " in " + a.data_dir}}.dump();
    } else {
      response.body = serve::job_record_json(*record).dump();
    }
    return response;
  }
  auto read = serve::read_job_query(list_query(a));
  if (auto* problem = std::get_if<std::string>(&read)) {
    response.status = 400;
    response.body = json{{"error", *problem}}.dump();
    return response;
  }
  const auto page = history.list(std::get<JobQuery>(read));
  json jobs = json::array();
  for (const auto& entry : page.jobs) jobs.push_back(serve::job_list_entry_json(entry));
  response.body =
      json{{"jobs", std::move(jobs)},
           {"next_cursor", page.next ? json(serve::encode_cursor(*page.next)) : json(nullptr)}}
          .dump();
  return response;
}

// A named coroutine taking pointers: g++ 12 loses a coroutine lambda's captures.
Task<void> send_into(BeastHttpClient& http, HttpRequest* request, HttpResponse* response) {
  *response = co_await http.send(std::move(*request));
}

HttpResponse call(const JobsArgs& a) {
  HttpRequest request;
  request.method = a.action == "cancel" || a.action == "retry" ? "POST" : "GET";
  request.url = jobs_url(a);
  request.timeout = std::chrono::seconds(30);
  request.headers.emplace_back("Accept", "application/json");
  if (!a.api_key.empty()) request.headers.emplace_back(a.api_key_header, a.api_key);
  if (!a.token.empty()) request.headers.emplace_back("Authorization", "Bearer " + a.token);
  asio::io_context io;
  // Loopback and private addresses are the usual place of a daemon: no egress policy.
  BeastHttpClient http(io.get_executor());
  HttpResponse response;
  std::exception_ptr failure;
  asio::co_spawn(io, send_into(http, &request, &response),
                 [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return response;
}

std::string text_or(const json& j, const char* key, const char* fallback = "-") {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

void print_list(const json& body) {
  std::cout << std::left << std::setw(38) << "JOB" << std::setw(24) << "PIPELINE" << std::setw(23)
            << "STATUS"
            << "CREATED\n";
  for (const auto& job : body.value("jobs", json::array()))
    std::cout << std::setw(38) << text_or(job, "job_id") << std::setw(24)
              << text_or(job, "pipeline") << std::setw(23) << text_or(job, "status")
              << text_or(job, "created_at") << "\n";
  if (body.contains("next_cursor") && body["next_cursor"].is_string())
    std::cout << "more: imagepipe jobs list --cursor " << body["next_cursor"].get<std::string>()
              << "\n";
}

void print_job(const json& job) {
  std::cout << "job       " << text_or(job, "job_id") << "\n"
            << "pipeline  " << text_or(job, "pipeline") << "\n"
            << "status    " << text_or(job, "status") << "\n"
            << "created   " << text_or(job, "created_at") << "\n"
            << "started   " << text_or(job, "started_at") << "\n"
            << "finished  " << text_or(job, "finished_at") << "\n";
  if (job.contains("error")) std::cout << "error     " << job["error"].dump() << "\n";
  const auto timeline = job.value("timeline", json::array());
  if (!timeline.empty()) std::cout << "steps\n";
  for (const auto& s : timeline) {
    std::ostringstream line;
    line << "  item " << s.value("item", 0) << "  " << std::left << std::setw(16)
         << s.value("step", "") << " +" << std::fixed << std::setprecision(3)
         << s.value("start_seconds", 0.0) << "s  " << s.value("seconds", 0.0) << "s";
    if (s.contains("provider")) line << "  " << s["provider"].get<std::string>();
    if (s.value("skipped", false)) line << "  skipped";
    std::cout << line.str() << "\n";
  }
  if (job.contains("callback")) {
    const auto& c = job["callback"];
    std::cout << "callback  " << text_or(c, "status") << ", " << c.value("attempts", 0)
              << " attempt(s)\n";
    for (const auto& a : c.value("history", json::array()))
      std::cout << "  #" << a.value("attempt", 0) << " " << text_or(a, "at") << " "
                << text_or(a, "outcome") << (a.contains("error") ? " " + text_or(a, "error") : "")
                << "\n";
  }
}

}  // namespace

int jobs_command(const JobsArgs& args) {
  const bool local = !args.data_dir.empty();
  if (local && (args.action == "cancel" || args.action == "retry")) {
    std::cerr << "imagepipe: jobs " << args.action
              << " changes a job, which only its daemon does: use --url (the daemon's address), "
                 "not --data\n";
    return kExitInvalid;
  }
  HttpResponse response;
  try {
    response = local ? read_history(args) : call(args);
  } catch (const std::exception& e) {
    if (local)
      std::cerr << "imagepipe: cannot read the job history: " << e.what() << "\n";
    else
      std::cerr << "imagepipe: cannot reach the daemon at " << args.url << ": " << e.what() << "\n";
    return kExitRuntime;
  }
  json body = json::parse(response.body, nullptr, false);
  if (response.status >= 400 || body.is_discarded()) {
    const std::string message = body.is_object() && body.contains("error")
                                    ? body["error"].get<std::string>()
                                    : response.body.substr(0, 500);
    if (local)
      std::cerr << "imagepipe: " << message << "\n";
    else
      std::cerr << "imagepipe: the daemon answered " << response.status << ": " << message << "\n";
    return kExitItemsFailed;  // 1: the request did not succeed
  }
  if (args.json) {
    std::cout << body.dump(2) << "\n";
    return kExitOk;
  }
  if (args.action == "list")
    print_list(body);
  else if (args.action == "show")
    print_job(body);
  else if (args.action == "cancel")
    std::cout << "job " << args.id << ": "
              << (response.status == 202 ? "cancel requested; it ends after the items under way"
                                         : "cancelled")
              << "\n";
  else
    std::cout << "job " << args.id << ": callback queued again\n";
  return kExitOk;
}

}  // namespace imagepipe::runner
