// load_pipeline: what a valid file turns into, and the loader's behaviour around the
// environment, secrets and values only known at run time.
#include <gtest/gtest.h>

#include <chrono>

#include <cstdlib>

#include "support/pipeline_parts.hpp"
#include "config_test_util.hpp"
#include "fake_plugins.hpp"

namespace imagepipe {
namespace {

using imagepipe::testing::chain_of;
using imagepipe::testing::transforms_of;
using nlohmann::json;
using testing::error_text;

class Loader : public ::testing::Test {
 protected:
  Loader() { testing::register_fake_plugins(registry_); }

  Pipeline load(std::string_view yaml, const LoadOptions& options = {}) {
    return load_pipeline_text(yaml, "test.yaml", registry_, options);
  }
  std::string error(std::string_view yaml, const LoadOptions& options = {}) {
    return error_text([&] { load(yaml, options); });
  }

  PluginRegistry registry_;
};

constexpr std::string_view kFull = R"(name: full-pipeline
description: Every section at once.
trigger:
  http:
    method: post
    path: /edit
    mode: sync
    callback_header: callbackUrl
    sync_wait_ms: 5000
    summary: Edit an image
  request_schema:
    type: object
    required: [image]
  callback_schema: {type: object}
prompt: "${request.body.prompt:-a cat}"
source:
  from: request
  field: image
  filename_field: filename
  max_items: 3
provider:
  - use: echo
    with: {operation: edit, api_key: "${ECHO_KEY}"}
    fall_through_on: [billing_limit, quota_exceeded]
    retry: {attempts: 5, base_delay_ms: 100, max_delay_ms: 2000}
    limit: {in_flight: 2, per_minute: 30}
    params: {size: "${request.body.size:-1024x1024}"}
  - use: fallback
transforms:
  - use: resize
    with: {width: 64}
  - use: encode
sink:
  use: disk
  with: {root: /srv/out}
  key: "results/${job.id}/${item.stem}.${output.ext}"
  url: presigned
  expires: 600
  metadata: {job: "${job.id}"}
notifier:
  - use: log
  - use: callback
    with:
      url: "${request.headers.callbackUrl}"
      retries: ${request.body.retries}
      body: {status: "${job.status}", count: "${metrics.processed}"}
concurrency: 8
limits: {max_image_pixels: 1000000, max_image_bytes: 2048, max_items: 2}
)";

TEST_F(Loader, FillsEverySection) {
  LoadOptions options;
  options.env_overrides = {{"ECHO_KEY", "sk-test-0123456789"}};
  const Pipeline p = load(kFull, options);

  EXPECT_EQ(p.name, "full-pipeline");
  EXPECT_EQ(p.description, "Every section at once.");
  EXPECT_EQ(p.file, "test.yaml");
  ASSERT_TRUE(p.trigger.http.has_value());
  EXPECT_EQ(p.trigger.http->method, "POST");
  EXPECT_EQ(p.trigger.http->path, "/edit");
  EXPECT_EQ(p.trigger.http->mode, HttpTrigger::Mode::sync);
  EXPECT_EQ(p.trigger.http->callback_header, "callbackUrl");
  EXPECT_EQ(p.trigger.http->sync_wait, std::chrono::milliseconds(5000));
  EXPECT_EQ(p.trigger.http->summary, "Edit an image");
  EXPECT_EQ(p.trigger.request_schema, json({{"type", "object"}, {"required", {"image"}}}));
  EXPECT_EQ(p.trigger.callback_schema, json({{"type", "object"}}));

  EXPECT_EQ(p.prompt.render_string({{"request", {{"body", json::object()}}}}), "a cat");
  EXPECT_EQ(p.source.from, SourceSpec::From::request);
  EXPECT_EQ(p.source.field, "image");
  EXPECT_EQ(p.source.filename_field, "filename");
  EXPECT_EQ(p.source.max_items, 2u) << "capped by limits.max_items";

  ASSERT_EQ(chain_of(p).size(), 2u);
  const ProviderEntry& first = chain_of(p)[0];
  EXPECT_EQ(first.plugin.use, "echo");
  EXPECT_EQ(first.plugin.kind, PluginKind::provider);
  ASSERT_NE(first.plugin.descriptor, nullptr);
  EXPECT_EQ(first.plugin.descriptor->name, "echo");
  EXPECT_EQ(first.plugin.with,
            json({{"operation", "edit"}, {"api_key", "sk-test-0123456789"}, {"model", "echo-1"}}));
  EXPECT_EQ(first.plugin.mark.file, "test.yaml");
  EXPECT_EQ(first.plugin.mark.line, 22);
  EXPECT_EQ(first.plugin.mark.column, 10);
  EXPECT_EQ(first.fall_through_on,
            (std::set<ErrorClass>{ErrorClass::billing_limit, ErrorClass::quota_exceeded}));
  EXPECT_EQ(first.retry.max_attempts, 5);
  EXPECT_EQ(first.retry.base_delay, std::chrono::milliseconds(100));
  EXPECT_EQ(first.retry.max_delay, std::chrono::milliseconds(2000));
  EXPECT_EQ(first.limit.max_in_flight, 2);
  EXPECT_EQ(first.limit.requests_per_minute, 30);
  EXPECT_EQ(first.params.render({{"request", {{"body", {{"size", "512x512"}}}}}}),
            json({{"size", "512x512"}}));
  EXPECT_TRUE(chain_of(p)[1].fall_through_on.empty());
  EXPECT_EQ(chain_of(p)[1].retry.max_attempts, 3);

  ASSERT_EQ(transforms_of(p).size(), 2u);
  EXPECT_EQ(transforms_of(p)[0].with, json({{"width", 64}, {"mode", "fit"}}));
  EXPECT_EQ(transforms_of(p)[1].with, json({{"format", "png"}, {"quality", 90}}));
  EXPECT_EQ(transforms_of(p)[1].kind, PluginKind::transform);

  EXPECT_FALSE(p.sink.inline_result);
  ASSERT_TRUE(p.sink.storage.has_value());
  EXPECT_EQ(p.sink.storage->use, "disk");
  EXPECT_EQ(p.sink.storage->with, json({{"root", "/srv/out"}}));
  const json scope = {{"job", {{"id", "j1"}, {"status", "completed"}}},
                      {"item", {{"stem", "cat"}}},
                      {"output", {{"ext", "png"}}},
                      {"metrics", {{"processed", 4}}}};
  EXPECT_EQ(p.sink.key.render_string(scope), "results/j1/cat.png");
  EXPECT_EQ(p.sink.url, SinkSpec::UrlMode::presigned);
  EXPECT_EQ(p.sink.expires, std::chrono::seconds(600));
  EXPECT_EQ(p.sink.metadata.render(scope), json({{"job", "j1"}}));

  ASSERT_EQ(p.notifiers.size(), 2u);
  EXPECT_EQ(p.notifiers[0].use, "log");
  // Runtime placeholders reach the plugin untouched; a whole-placeholder value is not
  // type-checked at load time (retries must be an integer, this is a string for now).
  EXPECT_EQ(p.notifiers[1].with,
            json({{"url", "${request.headers.callbackUrl}"},
                  {"retries", "${request.body.retries}"},
                  {"body", {{"status", "${job.status}"}, {"count", "${metrics.processed}"}}}}));

  EXPECT_EQ(p.concurrency, 8);
  EXPECT_EQ(p.limits.max_image_pixels, 1'000'000u);
  EXPECT_EQ(p.limits.max_image_bytes, 2048u);
  EXPECT_EQ(p.limits.max_items, 2u);
  EXPECT_TRUE(p.missing_env.empty());
  EXPECT_EQ(p.secrets, std::vector<std::string>{"sk-test-0123456789"});
}

TEST_F(Loader, DefaultsForAMinimalPipeline) {
  const Pipeline p = load("name: minimal\nsource: {from: prompt}\n");
  EXPECT_EQ(p.source.from, SourceSpec::From::prompt);
  EXPECT_EQ(p.prompt.raw(), json("${request.body.prompt:-}"));
  EXPECT_EQ(p.prompt.render_string({{"request", {{"body", {{"prompt", "a dog"}}}}}}), "a dog");
  EXPECT_FALSE(p.trigger.http.has_value());
  EXPECT_TRUE(p.trigger.request_schema.is_null());
  EXPECT_TRUE(chain_of(p).empty());
  EXPECT_TRUE(transforms_of(p).empty());
  EXPECT_FALSE(p.sink.storage.has_value());
  EXPECT_TRUE(p.notifiers.empty());
  EXPECT_EQ(p.concurrency, 4);
}

TEST_F(Loader, SinglePluginEntriesAndOtherSources) {
  const Pipeline p = load(R"(name: singles
source:
  from: storage
  use: disk
  with: {root: /in}
  prefix: "inbox/${request.body.folder:-}"
  extensions: [.PNG, jpg]
provider: {use: fallback}
transforms: {use: crop}
sink: {inline: true}
notifier: {use: log}
)");
  EXPECT_EQ(p.source.from, SourceSpec::From::storage);
  ASSERT_TRUE(p.source.storage.has_value());
  EXPECT_EQ(p.source.storage->kind, PluginKind::storage);
  EXPECT_EQ(p.source.prefix.render_string({{"request", {{"body", {{"folder", "a"}}}}}}), "inbox/a");
  EXPECT_EQ(p.source.extensions, (std::vector<std::string>{"png", "jpg"}));
  EXPECT_EQ(chain_of(p).size(), 1u);
  EXPECT_EQ(transforms_of(p).size(), 1u);
  EXPECT_TRUE(p.sink.inline_result);
  EXPECT_EQ(p.notifiers.size(), 1u);

  const Pipeline files = load("name: files\nsource: {from: files, paths: photos/*.jpg}\n");
  EXPECT_EQ(files.source.paths, std::vector<std::string>{"photos/*.jpg"});
  const Pipeline url = load("name: url\nsource: {from: url, url: \"https://x.test/${job.id}\"}\n");
  EXPECT_EQ(url.source.url, "https://x.test/${job.id}");
}

TEST_F(Loader, OverridesComeBeforeTheProcessEnvironment) {
  ::setenv("IMAGEPIPE_TEST_FROM_PROCESS", "process", 1);
  ::setenv("IMAGEPIPE_TEST_BOTH", "process", 1);
  LoadOptions options;
  options.env_overrides = {{"IMAGEPIPE_TEST_BOTH", "dotenv"}};
  const Pipeline p = load(
      "name: env\nsource: {from: prompt}\n"
      "description: ${IMAGEPIPE_TEST_FROM_PROCESS}-${IMAGEPIPE_TEST_BOTH}\n",
      options);
  EXPECT_EQ(p.description, "process-dotenv");
  ::unsetenv("IMAGEPIPE_TEST_FROM_PROCESS");
  ::unsetenv("IMAGEPIPE_TEST_BOTH");
}

TEST_F(Loader, DefaultsAndEscapes) {
  LoadOptions options;
  options.env_overrides = {{"EMPTY", ""}, {"SET", "x"}};
  const Pipeline p = load(
      "name: env\nsource: {from: prompt}\n"
      "description: \"${UNSET_IMAGEPIPE_VAR:-d1} ${EMPTY:-d2} ${SET:-d3} ${EMPTY} $${SET}\"\n",
      options);
  // An empty value takes the default (shell ":-"); "$${" is a literal "${".
  EXPECT_EQ(p.description, "d1 d2 x  ${SET}");
  // In templates and plugin options the escape stays until the template is compiled.
  const Pipeline templates = load(
      "name: escapes\nsource: {from: prompt}\nprompt: \"$${SET} ${request.body.x}\"\n"
      "notifier: {use: callback, with: {url: \"https://x.test/$${SET}\"}}\n",
      options);
  EXPECT_EQ(templates.prompt.render_string({{"request", {{"body", {{"x", 1}}}}}}), "${SET} 1");
  EXPECT_EQ(templates.notifiers[0].with["url"], "https://x.test/$${SET}");
}

TEST_F(Loader, PlainScalarsAreTypedAfterExpansion) {
  LoadOptions options;
  options.env_overrides = {{"CONC", "16"}, {"ITEMS", "7"}, {"INLINE", "true"}};
  const Pipeline p = load(
      "name: typed\nsource: {from: prompt}\n"
      "concurrency: ${CONC}\n"
      "limits: {max_items: \"${ITEMS}\"}\n"  // quoted inside { }: read as a number where one is
                                             // expected
      "sink: {inline: \"${INLINE}\"}\n"
      "transforms:\n  - use: encode\n    with: {quality: \"${CONC}\"}\n",
      options);
  EXPECT_EQ(p.concurrency, 16);
  EXPECT_EQ(p.limits.max_items, 7u);
  EXPECT_TRUE(p.sink.inline_result);
  EXPECT_EQ(transforms_of(p)[0].with["quality"], json(16));
}

TEST_F(Loader, QuotedLiteralsStayText) {
  EXPECT_EQ(error("name: quoted\nsource: {from: prompt}\nconcurrency: \"4\"\n"),
            "test.yaml:3:14: error: concurrency must be an integer between 1 and 256, got '4'\n"
            "    3 | concurrency: \"4\"\n"
            "      |              ^~~\n"
            "hint: remove the quotes to make it a number\n"
            "\n"
            "1 error");
  LoadOptions options;
  options.env_overrides = {{"MODEL", "007"}};
  const Pipeline p = load(
      "name: text\nsource: {from: prompt}\n"
      "provider: {use: echo, with: {operation: edit, model: \"${MODEL}\"}}\n",
      options);
  EXPECT_EQ(chain_of(p)[0].plugin.with["model"], json("007"));
}

TEST_F(Loader, MissingVariablesCanBeTolerated) {
  LoadOptions options;
  options.allow_missing_env = true;
  const Pipeline p = load(
      "name: docs-only\nsource: {from: prompt}\n"
      "provider:\n  use: echo\n  with:\n    operation: edit\n"
      "    api_key: ${IMAGEPIPE_TEST_UNSET_A}\n    steps: ${IMAGEPIPE_TEST_UNSET_B}\n"
      "description: ${IMAGEPIPE_TEST_UNSET_A}${IMAGEPIPE_TEST_UNSET_A:-fine}\n",
      options);
  EXPECT_EQ(p.missing_env,
            (std::vector<std::string>{"IMAGEPIPE_TEST_UNSET_A", "IMAGEPIPE_TEST_UNSET_B"}));
  EXPECT_EQ(p.description, "fine");
  ASSERT_EQ(chain_of(p).size(), 1u);
  EXPECT_TRUE(chain_of(p)[0].plugin.with["steps"].is_null());
}

TEST_F(Loader, RuntimePlaceholdersAreNotRequiredOrTypeChecked) {
  const Pipeline p = load(
      "name: runtime\nsource: {from: prompt}\n"
      "provider: {use: echo, with: {operation: \"${request.body.operation}\", steps: "
      "\"${request.body.steps}\"}}\n");
  EXPECT_EQ(chain_of(p)[0].plugin.with["operation"], json("${request.body.operation}"));
  EXPECT_EQ(chain_of(p)[0].plugin.with["steps"], json("${request.body.steps}"));
  // Text around a placeholder makes it a string, which is checked like any string.
  EXPECT_NE(
      error("name: runtime\nsource: {from: prompt}\n"
            "provider: {use: echo, with: {operation: edit, steps: \"n${request.body.steps}\"}}\n")
          .find("option 'steps' of provider 'echo': "),
      std::string::npos);
}

TEST_F(Loader, OptionIssuesPointAtTheOption) {
  const std::string text = error(
      "name: options\nsource: {from: prompt}\n"
      "provider:\n  use: echo\n  with:\n    operation: edit\n    steps: 0\n");
  EXPECT_EQ(text.rfind("test.yaml:7:12: error: option 'steps' of provider 'echo': ", 0), 0u)
      << text;
  EXPECT_NE(text.find("    7 |     steps: 0\n      |            ^\n"), std::string::npos) << text;
}

TEST_F(Loader, SecretsAreRedactedFromErrors) {
  LoadOptions options;
  options.env_overrides = {{"ECHO_KEY", "sk-live-abcdef"}};
  const std::string text = error(
      "name: secret\nsource: {from: prompt}\n"
      "provider: {use: echo, with: {operation: edit, api_key: sk-literal-secret, bogus: 1}}\n"
      "notifier: {use: callback, with: {url: \"https://x.test/${ECHO_KEY}\", nope: 1}}\n"
      "transforms: [{use: echo}]\n",
      options);
  EXPECT_EQ(text.find("sk-literal-secret"), std::string::npos) << text;
  EXPECT_NE(text.find("api_key: *****************, bogus"), std::string::npos) << text;
  // Only writeOnly options hold secrets: the callback URL is not one.
  EXPECT_NE(text.find("https://x.test/${ECHO_KEY}"), std::string::npos) << text;
}

TEST_F(Loader, SecretsFromTheEnvironmentAreListed) {
  LoadOptions options;
  options.env_overrides = {{"ECHO_KEY", "sk-live-abcdef"}, {"URL_PART", "callback"}};
  const Pipeline p = load(
      "name: secret\nsource: {from: prompt}\n"
      "provider: {use: echo, with: {operation: edit, api_key: \"Bearer ${ECHO_KEY}\"}}\n"
      "notifier: {use: callback, with: {url: \"https://x.test/${URL_PART}\"}}\n",
      options);
  EXPECT_EQ(p.secrets, std::vector<std::string>{"sk-live-abcdef"});
}

TEST_F(Loader, YamlAnchorsAndMergeKeys) {
  const Pipeline p = load(R"(name: anchors
source: {from: prompt}
transforms:
  - &big {use: resize, with: {width: 2000}}
  - *big
provider:
  - &base {use: echo, with: {operation: edit}, retry: {attempts: 2}}
  - <<: *base
    retry: {attempts: 4}
)");
  ASSERT_EQ(transforms_of(p).size(), 2u);
  EXPECT_EQ(transforms_of(p)[1].with["width"], 2000);
  ASSERT_EQ(chain_of(p).size(), 2u);
  EXPECT_EQ(chain_of(p)[0].retry.max_attempts, 2);
  EXPECT_EQ(chain_of(p)[1].retry.max_attempts, 4);
  EXPECT_EQ(chain_of(p)[1].plugin.with["operation"], "edit");
}

TEST_F(Loader, AliasBombsAreRefused) {
  std::string yaml = "name: bomb\nsource: {from: prompt}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  const std::string text = error(yaml);
  EXPECT_NE(text.find("error: the document is too large or too deeply nested (aliases included)"),
            std::string::npos)
      << text.substr(0, 500);
}

// Found by the pipeline fuzzer: yaml-cpp 0.7's LoadAll loops for ever on a stream whose
// first token no document can start with, keeping a null document per turn (>10 s and
// gigabytes). The loader reads the stream's shape as events and stops at no progress.
TEST_F(Loader, AStreamYamlCppCannotStartIsRefusedAtOnce) {
  for (const std::string& yaml :
       {std::string(","), std::string(",name: missingsink:\n  use: disk\n")}) {
    const auto start = std::chrono::steady_clock::now();
    const std::string text = error(yaml);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
    EXPECT_NE(text.find("test.yaml:1:1: error: invalid YAML: unexpected ','"), std::string::npos)
        << text;
  }
}

TEST_F(Loader, TwoDocumentsAreStillOneDiagnostic) {
  const std::string text = error("name: a\nsource: {from: prompt}\n---\nname: b\n");
  EXPECT_NE(text.find("test.yaml:4:1: error: a pipeline file holds one YAML document"),
            std::string::npos)
      << text;
}

TEST_F(Loader, ReadsFilesAndNamesThem) {
  testing::TempFile file("pipeline.yaml", "name: from-file\nsource: {from: prompt}\n");
  const Pipeline p = load_pipeline(file.path(), registry_);
  EXPECT_EQ(p.name, "from-file");
  EXPECT_EQ(p.file, file.path());

  testing::TempFile bad("bad.yaml", "name: from-file\nsource: {from: prompt}\nconcurrency: 0\n");
  EXPECT_EQ(error_text([&] {
              load_pipeline(bad.path(), registry_);
            }).rfind(bad.path().string() + ":3:14: error: concurrency must be", 0),
            0u);
}

TEST_F(Loader, UnreadableFileIsOneDiagnostic) {
  EXPECT_EQ(error_text([&] { load_pipeline("/nonexistent/p.yaml", registry_); }),
            "/nonexistent/p.yaml: error: cannot read the pipeline file: No such file or "
            "directory\n\n1 error");
}

TEST_F(Loader, DiagnosticsAreInFileOrder) {
  const std::string text = error("concurrency: 0\nname: BAD NAME\nbogus: 1\n");
  const auto first = text.find(":1:14:");
  const auto second = text.find(":2:7:");
  const auto third = text.find(":3:1:");
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(text.find("\n\n4 errors"), std::string::npos) << text;
}

TEST_F(Loader, RequirementsNameWhatIsMissingInTheirOwnWords) {
  constexpr std::string_view yaml = R"(name: needs
requires:
  - env: [IP_TEST_A, "IP_TEST_B|IP_TEST_C", IP_TEST_SET]
    message: Missing COS env vars
  - env: IP_TEST_KEY
    message: Missing env var
trigger:
  http: {path: /x, unavailable: {status: 500, body: {detail: "${job.error}"}}}
source: {from: prompt}
)";
  LoadOptions options;
  options.env_overrides = {{"IP_TEST_SET", "yes"}, {"IP_TEST_A", ""}};
  auto p = load(yaml, options);
  ASSERT_EQ(p.requirements.size(), 2u);
  EXPECT_EQ(p.unmet_requirements,
            (std::vector<std::string>{"Missing COS env vars: IP_TEST_A, IP_TEST_B (or IP_TEST_C)",
                                      "Missing env var: IP_TEST_KEY"}));
  EXPECT_EQ(unavailable_reason(p), "Missing COS env vars: IP_TEST_A, IP_TEST_B (or IP_TEST_C)");
  ASSERT_TRUE(p.trigger.http->unavailable);
  EXPECT_EQ(p.trigger.http->unavailable->status, 500);
  EXPECT_EQ(p.trigger.http->unavailable->body.render({{"job", {{"error", "why"}}}}),
            json({{"detail", "why"}}));

  options.env_overrides = {{"IP_TEST_A", "a"}, {"IP_TEST_C", "c"}, {"IP_TEST_SET", "s"},
                           {"IP_TEST_KEY", "k"}};
  p = load(yaml, options);
  EXPECT_TRUE(p.unmet_requirements.empty());
  EXPECT_EQ(unavailable_reason(p), "");
}

TEST_F(Loader, RequirementsAreCheckedAsWritten) {
  EXPECT_EQ(error(R"(name: bad
requires:
  - env: [OK_NAME, "not a name"]
source: {from: prompt}
)"),
            R"(test.yaml:3:5: error: requires[0]: 'message' is required
    3 |   - env: [OK_NAME, "not a name"]
      |     ^

test.yaml:3:20: error: requires[0].env: 'not a name' is not a variable name
    3 |   - env: [OK_NAME, "not a name"]
      |                    ^~~~~~~~~~~~
hint: write NAME, or NAME|OTHER when either will do

2 errors)");
}

TEST_F(Loader, DefaultsMayNameOtherVariables) {
  LoadOptions options;
  options.env_overrides = {{"IP_TEST_BUCKET", "shared"}};
  auto p = load(R"(name: nested
description: "${IP_TEST_OUT:-${IP_TEST_BUCKET}}/${IP_TEST_NONE:-${IP_TEST_NONE2:-x}}"
source: {from: prompt}
)",
                options);
  EXPECT_EQ(p.description, "shared/x");
}

TEST_F(Loader, OptionalChainEntriesAndFallThroughNotes) {
  auto p = load(R"(name: chain
source: {from: prompt}
provider:
  - use: echo
    with: {operation: edit}
    optional: true
    fall_through_on: [billing_limit]
    on_fall_through: "billing limit for ${item.name}"
  - use: fallback
)");
  ASSERT_EQ(chain_of(p).size(), 2u);
  EXPECT_TRUE(chain_of(p)[0].optional);
  EXPECT_FALSE(chain_of(p)[1].optional);
  EXPECT_EQ(chain_of(p)[0].fall_through_note.render_string({{"item", {{"name", "a.png"}}}}),
            "billing limit for a.png");
}

}  // namespace
}  // namespace imagepipe
