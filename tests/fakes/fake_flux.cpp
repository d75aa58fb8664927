// Black Forest Labs: submit → {id, polling_url} → poll → result.sample, strict about each
// endpoint's fields as in ../../../shared/reference/bfl-flux.md.
#include <cmath>
#include <cstdio>
#include <set>

#include "fakes/fake_upstream.hpp"
#include "imagepipe/image.hpp"

namespace imagepipe::testing {

using nlohmann::json;

namespace {

TestResponse detail(int status, const json& d) {
  return json_answer(status, json{{"detail", d}}.dump());
}

TestResponse field_error(const std::string& field, const std::string& msg,
                         const std::string& type) {
  return detail(422, json::array({{{"loc", {"body", field}}, {"msg", msg}, {"type", type}}}));
}

struct Endpoint {
  std::set<std::string> fields;
  bool sized = false;  // width/height
  int multiple = 32, min_side = 256, max_side = 1440;
  bool aspect = false;  // aspect_ratio
  bool prompt_required = false;
  bool steps = false;
  int input_images = 0;  // input_image, input_image_2..N
};

const std::map<std::string, Endpoint>& endpoints() {
  static const std::map<std::string, Endpoint> e = [] {
    const std::set<std::string> common = {"prompt",           "seed",          "prompt_upsampling",
                                          "safety_tolerance", "output_format", "webhook_url",
                                          "webhook_secret"};
    auto with = [&](std::initializer_list<std::string> extra) {
      auto s = common;
      s.insert(extra.begin(), extra.end());
      return s;
    };
    std::map<std::string, Endpoint> m;
    m["flux-dev"] = {with({"image_prompt", "width", "height", "steps", "guidance"}),
                     true,
                     32,
                     256,
                     1440,
                     false,
                     false,
                     true};
    m["flux-pro"] = {with({"image_prompt", "width", "height", "steps", "guidance", "interval"}),
                     true,
                     32,
                     256,
                     1440,
                     false,
                     false,
                     true};
    m["flux-pro-1.1"] = {with({"image_prompt", "width", "height"}), true};
    m["flux-pro-1.1-ultra"] = {
        with({"aspect_ratio", "raw", "image_prompt", "image_prompt_strength"}),
        false,
        32,
        256,
        1440,
        true};
    Endpoint kontext{
        with({"input_image", "input_image_2", "input_image_3", "input_image_4", "aspect_ratio"}),
        false,
        32,
        256,
        1440,
        true,
        true};
    kontext.input_images = 4;
    m["flux-kontext-pro"] = kontext;
    m["flux-kontext-max"] = kontext;
    Endpoint two{
        with({"width", "height", "input_image", "input_image_2", "input_image_3", "input_image_4",
              "input_image_5", "input_image_6", "input_image_7", "input_image_8"}),
        true,
        16,
        64,
        2048,
        false,
        true};
    two.input_images = 8;
    m["flux-2-pro"] = two;
    return m;
  }();
  return e;
}

std::optional<std::pair<int, int>> ratio(const std::string& text) {
  int a = 0, b = 0;
  char c = 0;
  if (std::sscanf(text.c_str(), "%d%c%d", &a, &c, &b) != 3 || c != ':' || a <= 0 || b <= 0)
    return std::nullopt;
  return std::pair{a, b};
}

// Checks the body as BFL's validation does; status 0 when it passes, with the output size.
TestResponse flux_validate(const json& b, const std::string& endpoint, int& w, int& h,
                           std::string& format) {
  const auto& ep = endpoints().at(endpoint);
  for (const auto& [k, v] : b.items())
    if (!ep.fields.count(k))
      return field_error(k, "Extra inputs are not permitted", "extra_forbidden");
  if (ep.prompt_required && (!b.contains("prompt") || !b["prompt"].is_string()))
    return field_error("prompt", "Field required", "missing");
  if (b.contains("prompt") && !b["prompt"].is_string())
    return field_error("prompt", "Input should be a valid string", "string_type");
  if (b.contains("seed") && !b["seed"].is_null() && !b["seed"].is_number_integer())
    return field_error("seed", "Input should be a valid integer", "int_type");
  if (b.contains("safety_tolerance")) {
    const auto& s = b["safety_tolerance"];
    if (!s.is_number_integer())
      return field_error("safety_tolerance", "Input should be a valid integer", "int_type");
    if (s.get<int>() < 0)
      return field_error("safety_tolerance", "Input should be greater than or equal to 0",
                         "greater_than_equal");
    if (s.get<int>() > 6)
      return field_error("safety_tolerance", "Input should be less than or equal to 6",
                         "less_than_equal");
  }
  format = b.value("output_format", std::string("jpeg"));
  if (format != "jpeg" && format != "png")
    return field_error("output_format", "Input should be 'jpeg' or 'png'", "enum");
  if (ep.steps && b.contains("steps")) {
    const auto& s = b["steps"];
    if (!s.is_number_integer() || s.get<int>() < 1 || s.get<int>() > 50)
      return field_error("steps", "Input should be less than or equal to 50", "less_than_equal");
  }
  w = 1024;
  h = 768;
  if (ep.sized) {
    for (const char* k : {"width", "height"}) {
      if (!b.contains(k)) continue;
      if (!b[k].is_number_integer())
        return field_error(k, "Input should be a valid integer", "int_type");
      const int v = b[k].get<int>();
      if (v < ep.min_side)
        return field_error(
            k, "Input should be greater than or equal to " + std::to_string(ep.min_side),
            "greater_than_equal");
      if (v > ep.max_side)
        return field_error(k,
                           "Input should be less than or equal to " + std::to_string(ep.max_side),
                           "less_than_equal");
      if (v % ep.multiple)
        return field_error(k, "Input should be a multiple of " + std::to_string(ep.multiple),
                           "multiple_of");
      (std::string(k) == "width" ? w : h) = v;
    }
  }
  std::optional<ImageInfo> input;
  for (int i = 1; i <= ep.input_images; ++i) {
    const std::string k = i == 1 ? "input_image" : "input_image_" + std::to_string(i);
    if (!b.contains(k) || b[k].is_null()) continue;
    if (!b[k].is_string()) return field_error(k, "Input should be a valid string", "string_type");
    const std::string v = b[k].get<std::string>();
    if (v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0) continue;
    try {
      auto info = probe_image(base64_decode(v));
      if (!input) input = info;
    } catch (const std::exception&) {
      return field_error(k, "Invalid image: expected a URL or base64-encoded image data",
                         "value_error");
    }
  }
  if (ep.aspect) {
    if (b.contains("aspect_ratio")) {
      auto r = b["aspect_ratio"].is_string() ? ratio(b["aspect_ratio"].get<std::string>())
                                             : std::nullopt;
      if (!r || double(r->first) / r->second > 21.0 / 9 + 1e-9 ||
          double(r->second) / r->first > 21.0 / 9 + 1e-9)
        return field_error("aspect_ratio", "Aspect ratio must be between 21:9 and 9:21",
                           "value_error");
      const double a = double(r->first) / r->second;
      w = static_cast<int>(std::lround(std::sqrt(1048576.0 * a) / 32)) * 32;
      h = static_cast<int>(std::lround(std::sqrt(1048576.0 / a) / 32)) * 32;
    } else if (input) {
      w = input->width;
      h = input->height;
    } else {
      w = h = 1024;
    }
  }
  return TestResponse{.status = 0};
}

}  // namespace

TestResponse FakeUpstream::flux_submit(const RecordedRequest& r, FakeRequest& rec,
                                       const std::string& endpoint) {
  std::lock_guard lock(mu_);
  const auto key = r.header("x-key");
  if (!key) return detail(403, "Not authenticated");
  if (*key != flux_key) return detail(403, "Invalid key");
  auto ep = endpoints().find(endpoint);
  if (ep == endpoints().end()) return detail(404, "Not Found");
  if (r.method != "POST") return detail(405, "Method Not Allowed");
  if (!json::accept(r.body) || !json::parse(r.body).is_object())
    return detail(
        422,
        json::array({{{"loc", {"body"}}, {"msg", "JSON decode error"}, {"type", "json_invalid"}}}));
  rec.json = json::parse(r.body);
  std::optional<Failure> outcome;
  std::chrono::milliseconds delay{0};
  if (auto s = scripted(false, true, &outcome)) {
    if (s->status != -1) return *s;
    delay = s->delay;
  }
  int w = 0, h = 0;
  std::string format;
  TestResponse check = flux_validate(rec.json, endpoint, w, h, format);
  if (check.status != 0) return check;
  FluxTask t;
  t.id = "task-" + std::to_string(++counter_) + "-b9b172a8";
  t.endpoint = endpoint;
  t.format = format;
  t.width = w;
  t.height = h;
  t.outcome = outcome;
  t.prompt = rec.json.value("prompt", std::string());
  t.seed = rec.json.contains("seed") && rec.json["seed"].is_number_integer()
               ? rec.json["seed"].get<long long>()
               : 1234;
  tasks_[t.id] = t;
  TestResponse out =
      json_answer(200, json{{"id", t.id},
                            {"polling_url", server_.url("/v1/get_result?id=" + t.id)},
                            {"cost", 4.0},
                            {"input_mp", 0.0},
                            {"output_mp", std::round(w * h / 10000.0) / 100}}
                           .dump());
  out.delay = delay;
  return out;
}

TestResponse FakeUpstream::flux_poll(const RecordedRequest& r) {
  std::lock_guard lock(mu_);
  FakeRequest rec{r.method, r.path, r.target, r.headers};
  if (stamp) rec.at_ms = stamp();
  TestResponse out;
  const auto key = r.header("x-key");
  const auto q = r.target.find("id=");
  const std::string id = q == std::string::npos ? "" : r.target.substr(q + 3);
  if (!key || *key != flux_key) {
    out = detail(403, "Not authenticated");
  } else if (auto it = tasks_.find(id); it == tasks_.end()) {
    out = json_answer(200,
                      json{{"id", id}, {"status", "Task not found"}, {"result", nullptr}}.dump());
  } else {
    FluxTask& t = it->second;
    ++t.polls;
    if (t.outcome == Failure::flux_not_found) {
      out = json_answer(200,
                        json{{"id", id}, {"status", "Task not found"}, {"result", nullptr}}.dump());
    } else if (t.polls <= flux_pending_polls) {
      out = json_answer(200, json{{"id", id},
                                  {"status", "Pending"},
                                  {"result", nullptr},
                                  {"progress", double(t.polls) / (flux_pending_polls + 1)}}
                                 .dump());
    } else if (t.outcome == Failure::flux_request_moderated ||
               t.outcome == Failure::flux_content_moderated) {
      const bool request = t.outcome == Failure::flux_request_moderated;
      out =
          json_answer(200, json{{"id", id},
                                {"status", request ? "Request Moderated" : "Content Moderated"},
                                {"result", nullptr},
                                {"details", {{"Moderation Reasons", {"Derivative Works Filter"}}}}}
                               .dump());
    } else if (t.outcome == Failure::flux_error) {
      out = json_answer(200, json{{"id", id}, {"status", "Error"}, {"result", nullptr}}.dump());
    } else {
      std::string bytes = make_image(t.width, t.height, t.format, {90, 60, 200});
      const std::string path =
          "/delivery/" + id + "/sample." + (t.format == "jpeg" ? "jpg" : t.format);
      files_[path] = {t.format == "jpeg" ? "image/jpeg" : "image/png", std::move(bytes)};
      out = json_answer(200, json{{"id", id},
                                  {"status", "Ready"},
                                  {"result",
                                   {{"sample", server_.url(path) + "?se=2026&sig=abc"},
                                    {"prompt", t.prompt},
                                    {"seed", t.seed}}},
                                  {"progress", nullptr}}
                                 .dump());
    }
  }
  rec.status = out.status;
  rec.answer = out.body;
  received_.push_back(std::move(rec));
  return out;
}

}  // namespace imagepipe::testing
