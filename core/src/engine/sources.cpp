#include "sources.hpp"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "imagepipe/ascii.hpp"
#include "imagepipe/http.hpp"

namespace imagepipe {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kImageExtensions = {"png", "jpg", "jpeg", "webp",
                                                "gif", "bmp", "tif",  "tiff"};

std::string read_file(const fs::path& path, std::uint64_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) throw Error(ErrorClass::not_found, "cannot read " + path.string() + ": " + ec.message());
  if (max_bytes && size > max_bytes)
    throw Error(ErrorClass::invalid_input, path.filename().string() + " is " +
                                               std::to_string(size) + " bytes, over the limit of " +
                                               std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorClass::not_found, "cannot open " + path.string());
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size)
    throw Error(ErrorClass::unavailable, "short read from " + path.string());
  return data;
}

std::vector<fs::path> expand_pattern(const std::string& pattern,
                                     const std::vector<std::string>& extensions) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_directory(pattern, ec)) {
    for (const auto& e : fs::directory_iterator(pattern, ec))
      if (e.is_regular_file() && accepted_name(e.path().filename().string(), extensions))
        out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  glob_t g{};
  if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) {
      fs::path p(g.gl_pathv[i]);
      if (fs::is_regular_file(p, ec)) out.emplace_back(std::move(p));
    }
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

// One item per file `pattern` names (a path, a glob or a directory); none is an error.
void add_file_items(std::vector<SourceItem>& items, const std::string& pattern,
                    const std::vector<std::string>& extensions, std::uint64_t max) {
  auto matches = expand_pattern(pattern, extensions);
  if (matches.empty()) throw Error(ErrorClass::not_found, "no input files match '" + pattern + "'");
  for (auto& path : matches)
    items.push_back({path.filename().string(), path.string(),
                     [path, max]() -> Task<std::string> { co_return read_file(path, max); }});
}

Task<std::vector<SourceItem>> from_files(const SourceContext& ctx) {
  const auto& spec = ctx.pipeline.source;
  const auto& patterns = ctx.request.input_paths.empty() ? spec.paths : ctx.request.input_paths;
  if (patterns.empty())
    throw Error(ErrorClass::invalid_input, "no input files: give --input PATH or set source.paths");
  std::vector<SourceItem> items;
  for (const auto& pattern : patterns)
    add_file_items(items, pattern, spec.extensions, ctx.max_bytes);
  co_return items;
}

const nlohmann::json* body_field(const SourceContext& ctx, const std::string& field) {
  auto it = ctx.request.body.find(field);
  return it == ctx.request.body.end() ? nullptr : &*it;
}

// The field's bytes: handed over already decoded (the daemon), or base64 in the body.
std::shared_ptr<const std::string> request_bytes(const SourceContext& ctx,
                                                 const std::string& field) {
  if (auto it = ctx.request.files.find(field); it != ctx.request.files.end() && it->second)
    return it->second;
  const auto* value = body_field(ctx, field);
  if (!value || value->is_null())
    throw Error(ErrorClass::invalid_input, "request field '" + field + "' is missing");
  if (!value->is_string())
    throw Error(ErrorClass::invalid_input, "request field '" + field + "' must be a string");
  return std::make_shared<const std::string>(
      decode_base64_field(value->get_ref<const std::string&>(), field));
}

Task<std::vector<SourceItem>> from_request(const SourceContext& ctx) {
  const auto& spec = ctx.pipeline.source;
  auto bytes = request_bytes(ctx, spec.field);
  std::string name;  // none given: the engine names it after the job
  if (!spec.filename_field.empty())
    if (const auto* f = body_field(ctx, spec.filename_field);
        f && f->is_string() && !f->get<std::string>().empty())
      name = f->get<std::string>();
  if (ctx.max_bytes && bytes->size() > ctx.max_bytes)
    throw Error(ErrorClass::invalid_input,
                "request field '" + spec.field + "' holds " + std::to_string(bytes->size()) +
                    " bytes, over the limit of " + std::to_string(ctx.max_bytes));
  std::vector<SourceItem> items;
  items.push_back(
      {name, "request." + spec.field, [bytes]() -> Task<std::string> { co_return *bytes; }});
  co_return items;
}

// "scheme://..." → "scheme"; empty when the text is no URL (a path).
std::string url_scheme(const std::string& text) {
  const auto colon = text.find("://");
  if (colon == std::string::npos || colon == 0) return {};
  const auto scheme = text.substr(0, colon);
  const bool word = std::all_of(scheme.begin(), scheme.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '+' || c == '-' || c == '.';
  });
  return word ? ascii_lower(scheme) : std::string();
}

// One item downloaded when it is processed, through the host's client (its egress policy
// refuses metadata and link-local addresses, redirects included). Failures fail the item.
SourceItem url_item(HttpClient* http, const std::string& url, std::uint64_t max) {
  auto name = url.substr(0, url.find_first_of("?#"));
  name = name.substr(name.rfind('/') + 1);
  return {name, url, [http, url, max]() -> Task<std::string> {
            const auto scheme = url_scheme(url);
            if (scheme != "http" && scheme != "https")
              throw Error(ErrorClass::invalid_input,
                          "'" + url + "' is not an http or https URL; only those are fetched");
            if (!http)
              throw Error(ErrorClass::internal, "no HTTP client available to fetch " + url);
            HttpRequest req;
            req.url = url;
            auto res = co_await http->send(std::move(req));
            if (res.status == 404) throw Error(ErrorClass::not_found, "image URL answered 404");
            if (res.status >= 400)
              throw Error(res.status >= 500 ? ErrorClass::unavailable : ErrorClass::invalid_input,
                          "image URL answered HTTP " + std::to_string(res.status));
            if (max && res.body.size() > max)
              throw Error(ErrorClass::invalid_input, "downloaded image is over the limit of " +
                                                         std::to_string(max) + " bytes");
            co_return std::move(res.body);
          }};
}

Task<std::vector<SourceItem>> from_url(const SourceContext& ctx) {
  const auto& spec = ctx.pipeline.source;
  std::string url = spec.url;
  if (!spec.field.empty()) {
    const auto* value = body_field(ctx, spec.field);
    if (!value || !value->is_string())
      throw Error(ErrorClass::invalid_input,
                  "request field '" + spec.field + "' must be a URL string");
    url = value->get<std::string>();
  }
  if (url.empty()) throw Error(ErrorClass::invalid_input, "no image URL given");
  if (!ctx.http) throw Error(ErrorClass::internal, "no HTTP client available to fetch " + url);
  std::vector<SourceItem> items;
  items.push_back(url_item(ctx.http, url, ctx.max_bytes));
  co_return items;
}

// Paths, globs and URLs in one list: the command line's -i. A request's body field may
// name URLs only: a remote client never reads this machine's files.
Task<std::vector<SourceItem>> from_inputs(const SourceContext& ctx) {
  const auto& spec = ctx.pipeline.source;
  std::vector<std::string> inputs = ctx.request.input_paths;
  bool local_allowed = true;
  if (inputs.empty() && !spec.field.empty()) {
    local_allowed = false;
    if (const auto* value = body_field(ctx, spec.field)) {
      if (value->is_string()) inputs.push_back(value->get<std::string>());
      for (const auto& element : value->is_array() ? *value : nlohmann::json::array()) {
        if (!element.is_string())
          throw Error(ErrorClass::invalid_input,
                      "request field '" + spec.field + "' must hold URL strings");
        inputs.push_back(element.get<std::string>());
      }
    }
  }
  if (inputs.empty()) inputs = spec.paths;
  if (inputs.empty())
    throw Error(
        ErrorClass::invalid_input,
        "no inputs: give -i PATH_OR_URL" +
            (spec.field.empty() ? std::string() : " or the request field '" + spec.field + "'"));
  std::vector<SourceItem> items;
  for (const auto& input : inputs) {
    if (!url_scheme(input).empty()) {
      items.push_back(url_item(ctx.http, input, ctx.max_bytes));
      continue;
    }
    if (!local_allowed)
      throw Error(ErrorClass::invalid_input,
                  "'" + input + "' is not a URL; a request may name http(s) URLs only");
    add_file_items(items, input, spec.extensions, ctx.max_bytes);
  }
  co_return items;
}

}  // namespace

std::string decode_base64_field(std::string_view value, std::string_view field) {
  // Clients often send a data URL where raw base64 was asked for; accept both.
  if (value.substr(0, 5) == "data:") {
    auto comma = value.find(',');
    auto header = value.substr(0, comma);
    if (comma == std::string_view::npos || header.find(";base64") == std::string_view::npos)
      throw Error(ErrorClass::invalid_input, "request field '" + std::string(field) +
                                                 "' is a data URL without ';base64,' data");
    value.remove_prefix(comma + 1);
  }
  if (value.empty())
    throw Error(ErrorClass::invalid_input, "request field '" + std::string(field) + "' is empty");
  try {
    return base64_decode(value);
  } catch (const Error& e) {
    throw Error(ErrorClass::invalid_input,
                "request field '" + std::string(field) + "': " + e.what());
  }
}

std::string extension_of(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? std::string{} : ascii_lower(name.substr(dot + 1));
}

bool accepted_name(const std::string& name, const std::vector<std::string>& extensions) {
  const auto ext = extension_of(name);
  if (extensions.empty()) return kImageExtensions.count(ext) > 0;
  // "*": every object is an item; those that are not images fail, and are counted.
  if (std::find(extensions.begin(), extensions.end(), "*") != extensions.end()) return true;
  return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
}

namespace {

// Sources whose items are few or already named in full (files, a request, URLs): listed
// at once, each handed over (and freed) as it is taken.
class ListedSource final : public ItemSource {
 public:
  explicit ListedSource(std::vector<SourceItem> items) : items_(std::move(items)) {}
  std::size_t size() const override { return items_.size(); }
  Task<std::optional<SourceItem>> next() override {
    if (next_ == items_.size()) co_return std::nullopt;
    co_return std::move(items_[next_++]);
  }

 private:
  std::vector<SourceItem> items_;
  std::size_t next_ = 0;
};

Task<std::vector<SourceItem>> list_items(const SourceContext& ctx) {
  switch (ctx.pipeline.source.from) {
    case SourceSpec::From::files:
      co_return co_await from_files(ctx);
    case SourceSpec::From::request:
      co_return co_await from_request(ctx);
    case SourceSpec::From::url:
      co_return co_await from_url(ctx);
    case SourceSpec::From::inputs:
      co_return co_await from_inputs(ctx);
    case SourceSpec::From::storage:
    case SourceSpec::From::prompt:
      break;
  }
  std::vector<SourceItem> items;
  items.push_back({"generated", "prompt", {}});
  co_return items;
}

}  // namespace

Task<std::unique_ptr<ItemSource>> open_source(const SourceContext& ctx) {
  if (ctx.pipeline.source.from == SourceSpec::From::storage)
    co_return co_await open_storage_source(ctx);
  auto items = co_await list_items(ctx);
  if (items.size() > ctx.pipeline.limits.max_items)
    throw Error(ErrorClass::invalid_input,
                std::to_string(items.size()) + " items, over the limit of " +
                    std::to_string(ctx.pipeline.limits.max_items) + " (limits.max_items)");
  co_return std::make_unique<ListedSource>(std::move(items));
}

}  // namespace imagepipe
