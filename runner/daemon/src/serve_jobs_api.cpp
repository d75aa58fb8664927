#include "serve_jobs_api.hpp"

#include "serve_job_view.hpp"
#include "serve_jobs_query.hpp"
#include "serve_responses.hpp"

namespace imagepipe::serve {

using nlohmann::json;

namespace {

constexpr std::string_view kJobs = "/jobs";

Response store_unavailable(const std::exception& e) {
  return error_response(503, std::string("the job store is unavailable: ") + e.what());
}

Response method_not_allowed(const Request& r, const std::string& route, const char* allowed) {
  auto response = error_response(
      405, "method " + r.method + " is not allowed on " + route + "; allowed: " + allowed);
  response.headers["Allow"] = allowed;
  return response;
}

// 400 for what cannot be a job id, so a typo is not mistaken for a job that is gone.
std::optional<Response> bad_id(const std::string& id) {
  if (valid_job_id(id)) return std::nullopt;
  return error_response(400, "'" + id.substr(0, 64) +
                                 "' is not a job id: a job id is a UUID such as "
                                 "0b6c3a4e-8f1d-4c2a-9e7b-5d3f2a1c0e9b");
}

Response no_job(const std::string& id) {
  return error_response(404, "no job with id '" + id + "'");
}

}  // namespace

bool JobsApi::owns(const std::string& path) {
  return path.rfind(kJobs, 0) == 0 && (path.size() == kJobs.size() || path[kJobs.size()] == '/');
}

Task<Response> JobsApi::handle(Request& r) {
  // /jobs, /jobs/{id}, /jobs/{id}/items, /jobs/{id}/cancel, /jobs/{id}/callbacks/retry,
  // /jobs/{id}/items/{n}/thumbnail
  std::string rest = r.path.substr(kJobs.size());
  if (rest.empty() || rest == "/") {
    r.route = "/jobs";
    if (r.method != "GET") co_return method_not_allowed(r, "/jobs", "GET");
    co_return co_await list(r);
  }
  rest.erase(0, 1);
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash);
  if (action.empty()) {
    r.route = "/jobs/{id}";
    if (r.method != "GET") co_return method_not_allowed(r, "/jobs/{id}", "GET");
    if (auto refused = bad_id(id)) co_return *refused;
    co_return co_await show(id);
  }
  if (action == "/items") {
    r.route = "/jobs/{id}/items";
    if (r.method != "GET") co_return method_not_allowed(r, "/jobs/{id}/items", "GET");
    if (auto refused = bad_id(id)) co_return *refused;
    co_return co_await items(id, r);
  }
  if (action == "/cancel") {
    r.route = "/jobs/{id}/cancel";
    if (r.method != "POST") co_return method_not_allowed(r, "/jobs/{id}/cancel", "POST");
    if (auto refused = bad_id(id)) co_return *refused;
    co_return co_await cancel(id);
  }
  if (action == "/callbacks/retry") {
    r.route = "/jobs/{id}/callbacks/retry";
    if (r.method != "POST") co_return method_not_allowed(r, "/jobs/{id}/callbacks/retry", "POST");
    if (auto refused = bad_id(id)) co_return *refused;
    co_return co_await retry_callback(id);
  }
  // /items/{n}/thumbnail
  constexpr std::string_view kItems = "/items/", kThumbnail = "/thumbnail";
  if (hooks_.thumbnails && action.rfind(kItems, 0) == 0 && action.size() > kItems.size() &&
      action.ends_with(kThumbnail)) {
    const auto item =
        action.substr(kItems.size(), action.size() - kItems.size() - kThumbnail.size());
    if (item.find('/') == std::string::npos) {
      r.route = "/jobs/{id}/items/{n}/thumbnail";
      if (r.method != "GET") co_return method_not_allowed(r, r.route, "GET");
      if (auto refused = bad_id(id)) co_return *refused;
      auto response = co_await hooks_.thumbnails->handle(id, item, r.query);
      response.job_id = id;
      co_return response;
    }
  }
  r.route = "unmatched";
  co_return error_response(404, "no route for " + r.method + " " + r.path.substr(0, 200));
}

Task<Response> JobsApi::list(const Request& r) {
  auto read = read_job_query(r.query);
  if (auto* problem = std::get_if<std::string>(&read)) co_return error_response(400, *problem);
  JobPage page;
  try {
    page = co_await store_.list(std::get<JobQuery>(std::move(read)));
  } catch (const std::exception& e) {
    co_return store_unavailable(e);
  }
  json jobs = json::array();
  for (const auto& entry : page.jobs) jobs.push_back(job_list_entry_json(entry));
  co_return json_response(
      200, {{"jobs", std::move(jobs)},
            {"next_cursor", page.next ? json(encode_cursor(*page.next)) : json(nullptr)}});
}

Task<Response> JobsApi::show(const std::string& id) {
  std::optional<JobRecord> record;
  try {
    record = co_await store_.get(id);
  } catch (const std::exception& e) {
    co_return store_unavailable(e);
  }
  if (!record) co_return no_job(id);
  auto response = json_response(200, job_record_json(*record));
  response.job_id = id;
  co_return response;
}

Task<Response> JobsApi::items(const std::string& id, const Request& r) {
  auto read = read_item_query(r.query);
  if (auto* problem = std::get_if<std::string>(&read)) co_return error_response(400, *problem);
  const auto query = std::get<ItemQuery>(read);
  std::optional<JobRecord> record;
  ItemPage page;
  try {
    record = co_await store_.get(id);
    if (record)
      if (auto* stored = store_.item_store())
        page = co_await stored->item_page(id, query.after, query.limit);
  } catch (const std::exception& e) {
    co_return store_unavailable(e);
  }
  if (!record) co_return no_job(id);
  // A job finished before items were stored one by one (or by a store that keeps none)
  // has them in its result, every one when it was that old.
  if (page.items.empty() && record->result) {
    for (const auto& item : record->result->items) {
      if (query.after && item.index <= *query.after) continue;
      if (page.items.size() == static_cast<std::size_t>(query.limit)) {
        page.more = true;
        break;
      }
      page.items.push_back(item);
    }
  }
  json items = json::array();
  for (const auto& item : page.items) items.push_back(item_summary(item));
  auto response = json_response(
      200,
      {{"job_id", id},
       {"status", record->status},
       {"items", std::move(items)},
       {"next_cursor", page.more ? json(std::to_string(page.items.back().index)) : json(nullptr)}});
  response.job_id = id;
  co_return response;
}

Task<Response> JobsApi::cancel(const std::string& id) {
  CancelOutcome outcome;
  try {
    outcome = co_await store_.cancel(id);
  } catch (const std::exception& e) {
    co_return store_unavailable(e);
  }
  Response response;
  if (!outcome.found) {
    response = no_job(id);
  } else if (outcome.status == "queued") {
    if (hooks_.left_queue) hooks_.left_queue(id);
    response = json_response(200, {{"job_id", id}, {"status", "cancelled"}});
  } else if (outcome.status == "running") {
    if (!hooks_.running || !hooks_.running->cancel(id))
      response =
          error_response(409, "job '" + id +
                                  "' is running in another process sharing the data directory; "
                                  "cancel it there");
    else
      // It stops once the items under way finish; GET /jobs/{id} shows when.
      response = json_response(202, {{"job_id", id},
                                     {"status", "running"},
                                     {"cancel",
                                      "requested: the job ends after the items "
                                      "under way"}});
  } else {
    response = json_response(409, {{"error", "job '" + id + "' has already finished (" +
                                                 outcome.status + "): there is nothing to cancel"},
                                   {"status", outcome.status}});
  }
  response.job_id = id;
  response.headers["Location"] = "/jobs/" + id;
  co_return response;
}

Task<Response> JobsApi::retry_callback(const std::string& id) {
  RetryOutcome outcome;
  try {
    outcome = co_await store_.retry_callback(id);
  } catch (const std::exception& e) {
    co_return store_unavailable(e);
  }
  Response response;
  switch (outcome) {
    case RetryOutcome::queued:
      if (hooks_.wake_outbox) hooks_.wake_outbox();
      response = json_response(202, {{"job_id", id}, {"callback", "pending"}});
      break;
    case RetryOutcome::not_found:
      response = no_job(id);
      break;
    case RetryOutcome::unfinished:
      response = error_response(
          409, "job '" + id + "' has not finished: its callback goes out when it does");
      break;
    case RetryOutcome::cancelled:
      response = error_response(409, "job '" + id + "' was cancelled: it has no callback");
      break;
    case RetryOutcome::no_callback:
      response =
          error_response(409, "job '" + id +
                                  "' has no callback (its request named no callback URL, or its "
                                  "pipeline has no notifier)");
      break;
  }
  response.job_id = id;
  co_return response;
}

}  // namespace imagepipe::serve
