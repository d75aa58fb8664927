// Diagnostic::format and PipelineError::format: the exact text a pipeline writer reads.
#include <gtest/gtest.h>

#include "imagepipe/pipeline.hpp"

namespace imagepipe {
namespace {

Diagnostic unknown_key() {
  Diagnostic diagnostic;
  diagnostic.mark = {"pipelines/x.yaml", 12, 5};
  diagnostic.message = "unknown key 'concurency' in pipeline";
  diagnostic.hint =
      "did you mean 'concurrency'? allowed keys: concurrency, description, limits, name, "
      "notifier, prompt, provider, sink, source, transforms, trigger";
  diagnostic.source_line = "    concurency: 4";
  diagnostic.span = 10;
  return diagnostic;
}

TEST(Diagnostic, FormatsLikeACompiler) {
  EXPECT_EQ(unknown_key().format(),
            "pipelines/x.yaml:12:5: error: unknown key 'concurency' in pipeline\n"
            "   12 |     concurency: 4\n"
            "      |     ^~~~~~~~~~\n"
            "hint: did you mean 'concurrency'? allowed keys: concurrency, description, limits, "
            "name, notifier, prompt, provider, sink, source, transforms, trigger");
}

TEST(Diagnostic, NoHintLineWhenThereIsNoHint) {
  Diagnostic diagnostic = unknown_key();
  diagnostic.hint.clear();
  diagnostic.span = 1;
  EXPECT_EQ(diagnostic.format(),
            "pipelines/x.yaml:12:5: error: unknown key 'concurency' in pipeline\n"
            "   12 |     concurency: 4\n"
            "      |     ^");
}

TEST(Diagnostic, WithoutAPosition) {
  Diagnostic diagnostic;
  diagnostic.mark.file = "p.yaml";
  diagnostic.message = "the pipeline file is empty";
  EXPECT_EQ(diagnostic.format(), "p.yaml: error: the pipeline file is empty");
  diagnostic.mark.file.clear();
  EXPECT_EQ(diagnostic.format(), "error: the pipeline file is empty");
}

TEST(Diagnostic, LineWithoutColumnHasNoCaret) {
  Diagnostic diagnostic;
  diagnostic.mark = {"p.yaml", 3, 0};
  diagnostic.message = "bad line";
  diagnostic.source_line = "key: value";
  EXPECT_EQ(diagnostic.format(), "p.yaml:3: error: bad line\n    3 | key: value");
}

TEST(Diagnostic, CaretFollowsTabsAndWideCharacters) {
  Diagnostic diagnostic;
  diagnostic.mark = {"p.yaml", 1, 8};
  diagnostic.message = "here";
  diagnostic.source_line = "\tname: \xc3\xa9t\xc3\xa9";  // "\tname: été"
  diagnostic.span = 5;                                   // "été" is 5 bytes, 3 characters
  EXPECT_EQ(diagnostic.format(),
            "p.yaml:1:8: error: here\n"
            "    1 | \tname: \xc3\xa9t\xc3\xa9\n"
            "      | \t      ^~~");
}

TEST(Diagnostic, WideLineNumbersWidenTheGutter) {
  Diagnostic diagnostic;
  diagnostic.mark = {"p.yaml", 123456, 1};
  diagnostic.message = "far";
  diagnostic.source_line = "x";
  EXPECT_EQ(diagnostic.format(), "p.yaml:123456:1: error: far\n123456 | x\n       | ^");
}

TEST(Diagnostic, ColorOnlyWhenAsked) {
  const std::string plain = unknown_key().format(false);
  const std::string colored = unknown_key().format(true);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(colored.find("\x1b[1;31merror:\x1b[0m"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\x1b[1;32m^~~~~~~~~~\x1b[0m"), std::string::npos) << colored;
}

TEST(PipelineError, JoinsDiagnosticsAndCountsThem) {
  Diagnostic second;
  second.mark = {"pipelines/x.yaml", 0, 0};
  second.message = "second";
  const PipelineError error({unknown_key(), second});
  EXPECT_EQ(error.format(),
            unknown_key().format() + "\n\npipelines/x.yaml: error: second\n\n2 errors");
  EXPECT_EQ(std::string(error.what()), error.format());
  EXPECT_EQ(error.diagnostics().size(), 2u);
  EXPECT_EQ(PipelineError({second}).format(), "pipelines/x.yaml: error: second\n\n1 error");
}

}  // namespace
}  // namespace imagepipe
