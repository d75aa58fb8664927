// Runtime templates: placeholders, defaults, escapes, typed single placeholders, errors.
#include <gtest/gtest.h>

#include <chrono>

#include "imagepipe/template.hpp"

namespace imagepipe {
namespace {

using nlohmann::json;

const json kScope = {
    {"job", {{"id", "job-1"}, {"status", "completed"}, {"attempt", 2}, {"score", 0.5}}},
    {"request",
     {{"headers", {{"callbackurl", "https://example.test/cb"}, {"X-Trace", "t-9"}}},
      {"body",
       {{"filename", "cat.png"}, {"prompt", ""}, {"tags", {"a", "b"}}, {"note", nullptr}}}}},
    {"items", {{{"base64", "AAAA"}, {"mime", "image/png"}}, {{"base64", "BBBB"}}}},
    {"metrics", {{"processed", 3}, {"ok", true}}},
};

json render(std::string_view text) { return Template::compile_string(text).render(kScope); }

std::size_t error_offset(std::string_view text) {
  try {
    Template::compile_string(text);
  } catch (const TemplateError& error) {
    return error.offset;
  }
  ADD_FAILURE() << "no TemplateError for " << text;
  return std::string::npos;
}

std::string error_message(std::string_view text) {
  try {
    Template::compile_string(text);
  } catch (const TemplateError& error) {
    return error.what();
  }
  return "(compiled)";
}

TEST(Template, SinglePlaceholderKeepsTheValueType) {
  EXPECT_EQ(render("${job.attempt}"), json(2));
  EXPECT_EQ(render("${job.score}"), json(0.5));
  EXPECT_EQ(render("${metrics.ok}"), json(true));
  EXPECT_EQ(render("${request.body.tags}"), json({"a", "b"}));
  EXPECT_EQ(render("${items[0]}"), json({{"base64", "AAAA"}, {"mime", "image/png"}}));
  EXPECT_EQ(render("${job.id}"), json("job-1"));
}

TEST(Template, SinglePlaceholderWithoutValueIsNull) {
  EXPECT_TRUE(render("${job.missing}").is_null());
  EXPECT_TRUE(render("${items[5].base64}").is_null());
  EXPECT_TRUE(render("${request.body.note}").is_null());
}

TEST(Template, MixedTextRendersAString) {
  EXPECT_EQ(render("job ${job.id} try ${job.attempt} score ${job.score} ok ${metrics.ok}"),
            json("job job-1 try 2 score 0.5 ok true"));
  EXPECT_EQ(render("[${job.missing}] [${request.body.note}]"), json("[] []"));
  EXPECT_EQ(render("tags=${request.body.tags}"), json("tags=[\"a\",\"b\"]"));
}

TEST(Template, DefaultReplacesMissingNullAndEmpty) {
  EXPECT_EQ(render("${job.missing:-fallback}"), json("fallback"));
  EXPECT_EQ(render("${request.body.note:-none}"), json("none"));
  EXPECT_EQ(render("${request.body.prompt:-a cat}"), json("a cat"));
  EXPECT_EQ(render("${request.body.prompt:-}"), json(""));
  EXPECT_EQ(render("name: ${request.body.filename:-image.png}"), json("name: cat.png"));
  EXPECT_EQ(render("name: ${request.body.other:-image.png}"), json("name: image.png"));
  // A default is text, and may hold ':' and spaces.
  EXPECT_EQ(render("${job.missing:-a: b}"), json("a: b"));
}

TEST(Template, EscapeWritesALiteralPlaceholder) {
  EXPECT_EQ(render("$${job.id}"), json("${job.id}"));
  EXPECT_EQ(render("cost $5, id ${job.id}, raw $${x}"), json("cost $5, id job-1, raw ${x}"));
  EXPECT_TRUE(Template::compile_string("$${job.id}").is_constant());
}

TEST(Template, HeaderNamesMatchIgnoringCase) {
  EXPECT_EQ(render("${request.headers.callbackUrl}"), json("https://example.test/cb"));
  EXPECT_EQ(render("${request.headers.x-trace}"), json("t-9"));
  // Only header names: body keys are exact.
  EXPECT_TRUE(render("${request.body.FileName}").is_null());
}

TEST(Template, ObjectsAndArraysAreWalked) {
  const json raw = {{"status", "${job.status}"},
                    {"job_id", "${job.id}"},
                    {"count", "${metrics.processed}"},
                    {"images", {"${items[0].base64}", "${items[1].base64}", "fixed"}},
                    {"nested", {{"mime", "${items[0].mime}"}, {"n", 1}}},
                    {"${job.id}", "keys stay as written"}};
  const Template compiled = Template::compile(raw);
  EXPECT_FALSE(compiled.is_constant());
  EXPECT_EQ(compiled.raw(), raw);
  EXPECT_EQ(compiled.render(kScope), json({{"status", "completed"},
                                           {"job_id", "job-1"},
                                           {"count", 3},
                                           {"images", {"AAAA", "BBBB", "fixed"}},
                                           {"nested", {{"mime", "image/png"}, {"n", 1}}},
                                           {"${job.id}", "keys stay as written"}}));
}

TEST(Template, RendersManyTimesAgainstDifferentScopes) {
  const Template compiled = Template::compile_string("${job.id}-${item.index}");
  EXPECT_EQ(compiled.render_string({{"job", {{"id", "a"}}}, {"item", {{"index", 0}}}}), "a-0");
  EXPECT_EQ(compiled.render_string({{"job", {{"id", "b"}}}, {"item", {{"index", 7}}}}), "b-7");
}

TEST(Template, ConstantTemplates) {
  EXPECT_TRUE(Template::compile_string("plain text").is_constant());
  EXPECT_TRUE(Template::compile(json({{"a", 1}, {"b", {"x", "y"}}})).is_constant());
  EXPECT_FALSE(Template::compile(json({{"a", {"${job.id}"}}})).is_constant());
  EXPECT_EQ(Template::compile(json({{"a", 1}})).render(kScope), json({{"a", 1}}));
  const Template empty;
  EXPECT_TRUE(empty.is_constant());
  EXPECT_TRUE(empty.render(kScope).is_null());
  EXPECT_EQ(empty.render_string(kScope), "");
}

TEST(Template, RenderStringPrintsValues) {
  EXPECT_EQ(Template::compile_string("${job.attempt}").render_string(kScope), "2");
  EXPECT_EQ(Template::compile_string("${job.id}").render_string(kScope), "job-1");
  EXPECT_EQ(Template::compile_string("${job.missing}").render_string(kScope), "");
  EXPECT_EQ(Template::compile(json(42)).render_string(kScope), "42");
}

TEST(Template, NowIsAnOrdinaryRoot) {
  const json scope = {{"now", {{"date", "2026-01-02"}}}};
  EXPECT_EQ(Template::compile_string("out/${now.date}/x").render(scope), json("out/2026-01-02/x"));
  EXPECT_TRUE(Template::compile_string("${now.date}").render(json::object()).is_null());
}

TEST(Template, CompileErrorsSayWhatAndWhere) {
  EXPECT_EQ(error_message("a ${job.id"), "unterminated placeholder");
  EXPECT_EQ(error_offset("a ${job.id"), 2u);
  EXPECT_EQ(error_message("x ${job.id and ${job.status}"), "unterminated placeholder");
  EXPECT_EQ(error_offset("x ${job.id and ${job.status}"), 2u);
  EXPECT_EQ(error_message("ab ${}"), "empty placeholder");
  EXPECT_EQ(error_offset("ab ${}"), 3u);
  EXPECT_EQ(error_message("${:-x}"), "empty placeholder");
  EXPECT_EQ(error_message("see ${items[x]}"), "invalid path 'items[x]'");
  EXPECT_EQ(error_offset("see ${items[x]}"), 6u);
  EXPECT_EQ(error_message("${job..id}"), "invalid path 'job..id'");
  EXPECT_EQ(error_message("${ job.id }"), "invalid path ' job.id '");
  EXPECT_EQ(error_message("${items[0}"), "invalid path 'items[0'");
  EXPECT_EQ(error_message("${job.id:-${b}"), "unterminated placeholder");
  EXPECT_EQ(error_message("${job.id:-${items[x]}}"), "invalid path 'items[x]'");
  EXPECT_EQ(error_offset("${job.id:-${items[x]}}"), 12u);
}

TEST(Template, DefaultsMayHoldPlaceholders) {
  const auto t = Template::compile_string("${job.missing:-${job.id}}");
  EXPECT_EQ(t.render(kScope), json("job-1"));
  EXPECT_EQ(Template::compile_string("a-${job.missing:-${job.other:-x}-y}-b").render(kScope),
            json("a-x-y-b"));
  EXPECT_EQ(Template::compile_string("${job.missing:-$${literal}}").render(kScope),
            json("${literal}"));
  const auto pieces = split_template("${A:-${B:-c}}d");
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].fallback, "${B:-c}");
  EXPECT_EQ(pieces[0].length, 13u);
}

TEST(Template, SlicesTakePartOfAList) {
  const json scope = {{"errors", {"a", "b", "c"}}};
  EXPECT_EQ(Template::compile_string("${errors[:2]}").render(scope), json({"a", "b"}));
  EXPECT_EQ(Template::compile_string("${errors[1:]}").render(scope), json({"b", "c"}));
  EXPECT_EQ(Template::compile_string("${errors[:20]}").render(scope), json({"a", "b", "c"}));
  EXPECT_EQ(Template::compile_string("${errors[5:]}").render(scope), json::array());
  EXPECT_TRUE(Template::compile_string("${missing[:2]}").render(scope).is_null());
  EXPECT_EQ(error_message("${errors[:2].x}"), "invalid path 'errors[:2].x'");
}

TEST(Template, ErrorsInsideObjectsAreFound) {
  EXPECT_THROW(Template::compile(json({{"ok", "${job.id}"}, {"bad", {"${items[x]}"}}})),
               TemplateError);
}

TEST(Template, SplitKeepsOffsetsIntoTheText) {
  const auto pieces = split_template("a$${b}${job.id:-x}c");
  ASSERT_EQ(pieces.size(), 5u);
  EXPECT_EQ(pieces[0].text, "a");
  EXPECT_EQ(pieces[1].text, "${");
  EXPECT_EQ(pieces[1].offset, 1u);
  EXPECT_EQ(pieces[1].length, 3u);
  EXPECT_EQ(pieces[2].text, "b}");
  EXPECT_EQ(pieces[3].kind, TemplatePiece::Kind::placeholder);
  EXPECT_EQ(pieces[3].text, "job.id");
  EXPECT_EQ(pieces[3].fallback, "x");
  EXPECT_EQ(pieces[3].offset, 6u);
  EXPECT_EQ(pieces[3].length, 12u);
  EXPECT_EQ(pieces[4].text, "c");
  EXPECT_FALSE(split_template("${a}")[0].fallback.has_value());
  EXPECT_TRUE(split_template("").empty());
}

// Environment defaults nest; the placeholder ends at the '}' that matches its "${".
TEST(Template, SplitMatchesTheBracesOfANestedDefault) {
  const auto pieces = split_template("${A:-${B:-x}}/y");
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].text, "A");
  EXPECT_EQ(pieces[0].fallback, "${B:-x}");
  EXPECT_EQ(pieces[0].length, 13u);
  EXPECT_EQ(pieces[1].text, "/y");
}

// Each level of defaults is split and compiled again, so depth is bounded: a pipeline
// fuzzer input of 176 bytes nested ~100 '${' inside one placeholder.
TEST(Template, DefaultsNestAtMostSixteenDeep) {
  std::string ok = "${A";
  for (int i = 0; i < 15; ++i) ok += ":-${A";
  ok += std::string(16, '}');
  EXPECT_EQ(split_template(ok).size(), 1u);
  std::string deep = "${A";
  for (int i = 0; i < 100; ++i) deep += ":-${A";
  deep += std::string(101, '}');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_message(deep), "defaults nested deeper than 16 levels (the limit)");
  EXPECT_EQ(error_offset(deep), 80u);  // the 16th nested "${", at depth 17
  std::string braces = "${a:-" + std::string(100, '{') + "${" + std::string(100, '{') + "}";
  (void)error_message(braces);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(Template, RuntimeRoots) {
  EXPECT_EQ(runtime_roots(), (std::vector<std::string>{"job", "request", "items", "item", "metrics",
                                                       "sink", "output", "provider", "now", "steps",
                                                       "error"}));
  EXPECT_TRUE(is_runtime_root("items"));
  EXPECT_TRUE(is_runtime_root("now"));
  EXPECT_FALSE(is_runtime_root("OPENAI_API_KEY"));
  EXPECT_FALSE(is_runtime_root("Job"));
}

TEST(LookupPath, FollowsKeysAndIndexes) {
  ASSERT_NE(lookup_path(kScope, "items[1].base64"), nullptr);
  EXPECT_EQ(*lookup_path(kScope, "items[1].base64"), "BBBB");
  EXPECT_EQ(*lookup_path(kScope, "request.headers.CALLBACKURL"), "https://example.test/cb");
  EXPECT_EQ(lookup_path(kScope, "items[2]"), nullptr);
  EXPECT_EQ(lookup_path(kScope, "job.id.deeper"), nullptr);
  EXPECT_EQ(lookup_path(kScope, "job[0]"), nullptr);
  EXPECT_EQ(lookup_path(kScope, "not a path"), nullptr);
}

}  // namespace
}  // namespace imagepipe
