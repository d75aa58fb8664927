// read_dotenv: the .env syntax people already write for docker compose.
#include <gtest/gtest.h>

#include "config_test_util.hpp"

namespace imagepipe {
namespace {

using testing::error_text;
using testing::TempFile;

TEST(Dotenv, ReadsKeyValueLines) {
  TempFile file("basic.env",
                "# a comment\n"
                "\n"
                "PLAIN=value\n"
                "  SPACED = padded value   \n"
                "export EXPORTED=yes\n"
                "EMPTY=\n"
                "INLINE=value # trailing comment\n"
                "HASH=a#b\n"
                "URL=https://example.test/?a=1&b=2\n"
                "WINDOWS=crlf\r\n");
  const auto values = read_dotenv(file.path());
  const std::map<std::string, std::string> expected = {{"PLAIN", "value"},
                                                       {"SPACED", "padded value"},
                                                       {"EXPORTED", "yes"},
                                                       {"EMPTY", ""},
                                                       {"INLINE", "value"},
                                                       {"HASH", "a#b"},
                                                       {"URL", "https://example.test/?a=1&b=2"},
                                                       {"WINDOWS", "crlf"}};
  EXPECT_EQ(values, expected);
}

TEST(Dotenv, QuotedValues) {
  TempFile file("quoted.env",
                "DOUBLE=\"two words # not a comment\"\n"
                "ESCAPES=\"line\\nnext \\\"q\\\" back\\\\slash\"\n"
                "SINGLE='literal \\n ${NOT_EXPANDED}'\n"
                "AFTER=\"x\"   # comment after the quote\n");
  const auto values = read_dotenv(file.path());
  EXPECT_EQ(values.at("DOUBLE"), "two words # not a comment");
  EXPECT_EQ(values.at("ESCAPES"), "line\nnext \"q\" back\\slash");
  EXPECT_EQ(values.at("SINGLE"), "literal \\n ${NOT_EXPANDED}");
  EXPECT_EQ(values.at("AFTER"), "x");
}

TEST(Dotenv, LaterLinesWin) {
  TempFile file("twice.env", "KEY=first\nKEY=second\n");
  EXPECT_EQ(read_dotenv(file.path()).at("KEY"), "second");
}

TEST(Dotenv, MalformedLinesAreReportedWithTheirPosition) {
  TempFile file("bad.env",
                "GOOD=1\n"
                "just some words\n"
                "1BAD=x\n"
                "OPEN=\"no end\n"
                "TAIL='x' y\n");
  const std::string name = file.path().string();
  EXPECT_EQ(error_text([&] { read_dotenv(file.path()); }),
            name +
                ":2:1: error: expected KEY=VALUE\n"
                "    2 | just some words\n"
                "      | ^~~~~~~~~~~~~~~\n"
                "hint: comment lines start with '#'\n"
                "\n" +
                name +
                ":3:1: error: invalid variable name '1BAD'\n"
                "    3 | 1BAD=x\n"
                "      | ^~~~\n"
                "hint: names use letters, digits and '_', and do not start with a digit\n"
                "\n" +
                name +
                ":4:6: error: unterminated quoted value\n"
                "    4 | OPEN=\"no end\n"
                "      |      ^~~~~~~\n"
                "hint: close it with \" on the same line\n"
                "\n" +
                name +
                ":5:10: error: unexpected text after the closing quote\n"
                "    5 | TAIL='x' y\n"
                "      |          ^\n"
                "\n"
                "4 errors");
}

TEST(Dotenv, MissingFileIsAnError) {
  EXPECT_EQ(error_text([] { read_dotenv("/nonexistent/imagepipe/.env"); }),
            "/nonexistent/imagepipe/.env: error: cannot read the .env file\n\n1 error");
}

}  // namespace
}  // namespace imagepipe
