// Cron expressions: the next due time (month ends, leap years, a named zone across both
// daylight saving changes, the Vixie day rule, lists, ranges, steps, names) and every
// parse error with the characters it points at.
#include <gtest/gtest.h>

#include <random>

#include "imagepipe/cron.hpp"
#include "imagepipe/engine.hpp"

namespace imagepipe {
namespace {

using namespace std::chrono;
using TimePoint = system_clock::time_point;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours(h) + minutes(min) + seconds(s);
}

CronSchedule cron(std::string_view text, std::string_view zone = "UTC") {
  const auto* z = find_time_zone(zone);
  EXPECT_NE(z, nullptr) << zone;
  return CronSchedule::parse(text, z);
}

// The next `n` due times after `from`, as ISO 8601 UTC.
std::vector<std::string> next(const CronSchedule& c, TimePoint from, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto t = c.next_after(from);
    if (!t) break;
    out.push_back(iso8601(*t));
    from = *t;
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(Cron, DailyAtTwoIsStrictlyAfter) {
  auto c = cron("0 2 * * *");
  EXPECT_EQ(next(c, utc(2026, 1, 1, 1, 59, 59), 2),
            (Strings{"2026-01-01T02:00:00.000Z", "2026-01-02T02:00:00.000Z"}));
  EXPECT_EQ(next(c, utc(2026, 1, 1, 2), 1), Strings{"2026-01-02T02:00:00.000Z"});
  // Sub-second precision does not make the same minute due again.
  EXPECT_EQ(next(c, utc(2026, 1, 1, 2) + milliseconds(1), 1), Strings{"2026-01-02T02:00:00.000Z"});
}

TEST(Cron, MonthEndsAndDay31) {
  auto c = cron("30 23 31 * *");
  EXPECT_EQ(next(c, utc(2026, 1, 31, 23, 30), 3),
            (Strings{"2026-03-31T23:30:00.000Z", "2026-05-31T23:30:00.000Z",
                     "2026-07-31T23:30:00.000Z"}));
  // Last minute of the year rolls into the next.
  EXPECT_EQ(next(cron("* * * * *"), utc(2026, 12, 31, 23, 59), 1),
            Strings{"2027-01-01T00:00:00.000Z"});
}

TEST(Cron, LeapDayWaitsForALeapYear) {
  auto c = cron("0 0 29 2 *");
  EXPECT_EQ(next(c, utc(2025, 3, 1), 2),
            (Strings{"2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"}));
  // 2100 is not a leap year: from 2096 the next is 2104, eight years on.
  EXPECT_EQ(next(c, utc(2096, 3, 1), 1), Strings{"2104-02-29T00:00:00.000Z"});
}

TEST(Cron, ListsRangesStepsAndNames) {
  EXPECT_EQ(
      next(cron("*/20 9-10 * * *"), utc(2026, 1, 1), 7),
      (Strings{"2026-01-01T09:00:00.000Z", "2026-01-01T09:20:00.000Z", "2026-01-01T09:40:00.000Z",
               "2026-01-01T10:00:00.000Z", "2026-01-01T10:20:00.000Z", "2026-01-01T10:40:00.000Z",
               "2026-01-02T09:00:00.000Z"}));
  EXPECT_EQ(next(cron("5,10-12/2,50/5 0 1 1 *"), utc(2026, 1, 1), 6),
            (Strings{"2026-01-01T00:05:00.000Z", "2026-01-01T00:10:00.000Z",
                     "2026-01-01T00:12:00.000Z", "2026-01-01T00:50:00.000Z",
                     "2026-01-01T00:55:00.000Z", "2027-01-01T00:05:00.000Z"}));
  // 2026-01-02 is a Friday; mon-fri in any case; JAN,mar by name.
  EXPECT_EQ(next(cron("0 8 * JAN,mar mon-FRI"), utc(2026, 1, 2), 2),
            (Strings{"2026-01-02T08:00:00.000Z", "2026-01-05T08:00:00.000Z"}));
  EXPECT_EQ(next(cron("0 8 * * 7"), utc(2026, 1, 1), 1), Strings{"2026-01-04T08:00:00.000Z"});
  EXPECT_EQ(next(cron("0 8 * * 5-7"), utc(2026, 1, 3), 2),
            (Strings{"2026-01-03T08:00:00.000Z", "2026-01-04T08:00:00.000Z"}));
  EXPECT_EQ(next(cron("@daily"), utc(2026, 1, 1, 12), 1), Strings{"2026-01-02T00:00:00.000Z"});
  EXPECT_EQ(next(cron("@hourly"), utc(2026, 1, 1, 12, 1), 1), Strings{"2026-01-01T13:00:00.000Z"});
  EXPECT_EQ(next(cron("@weekly"), utc(2026, 1, 1), 1), Strings{"2026-01-04T00:00:00.000Z"});
  EXPECT_EQ(next(cron("\t0  3 * *  *  "), utc(2026, 1, 1), 1), Strings{"2026-01-01T03:00:00.000Z"});
}

TEST(Cron, VixieDayRule) {
  // Both restricted: the 13th or any Friday.
  EXPECT_EQ(next(cron("0 0 13 * FRI"), utc(2026, 2, 1), 4),
            (Strings{"2026-02-06T00:00:00.000Z", "2026-02-13T00:00:00.000Z",
                     "2026-02-20T00:00:00.000Z", "2026-02-27T00:00:00.000Z"}));
  // Day-of-week `*`: the month day only.
  EXPECT_EQ(next(cron("0 0 13 * *"), utc(2026, 2, 1), 1), Strings{"2026-02-13T00:00:00.000Z"});
  // A day field starting with '*' counts as unrestricted (as in Vixie cron): both must match.
  EXPECT_EQ(next(cron("0 0 */2 * MON"), utc(2026, 1, 1), 2),
            (Strings{"2026-01-05T00:00:00.000Z", "2026-01-19T00:00:00.000Z"}));
}

TEST(Cron, SpringForwardRunsOnceAtTheEndOfTheGap) {
  // Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never happens.
  auto c = cron("30 2 * * *", "Europe/Paris");
  EXPECT_EQ(next(c, utc(2026, 3, 28, 12), 3),
            (Strings{"2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z",
                     "2026-03-31T00:30:00.000Z"}));
  // Several skipped times, and 03:00 which is the same instant: one run.
  auto every15 = cron("*/15 2-3 * * *", "Europe/Paris");
  EXPECT_EQ(next(every15, utc(2026, 3, 29, 0, 50), 3),
            (Strings{"2026-03-29T01:00:00.000Z", "2026-03-29T01:15:00.000Z",
                     "2026-03-29T01:30:00.000Z"}));
}

TEST(Cron, FallBackRunsAtTheFirstOccurrenceOnly) {
  // Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
  auto c = cron("30 2 * * *", "Europe/Paris");
  EXPECT_EQ(next(c, utc(2026, 10, 24, 12), 2),
            (Strings{"2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"}));
  // From inside the repeated hour (second pass), the next is the next day.
  EXPECT_EQ(next(c, utc(2026, 10, 25, 1, 10), 1), Strings{"2026-10-26T01:30:00.000Z"});
  // Hourly: 02:00 fires once, then 03:00 CET.
  EXPECT_EQ(next(cron("0 * * * *", "Europe/Paris"), utc(2026, 10, 24, 23, 30), 3),
            (Strings{"2026-10-25T00:00:00.000Z", "2026-10-25T02:00:00.000Z",
                     "2026-10-25T03:00:00.000Z"}));
}

TEST(Cron, NamedZoneShiftsTheDay) {
  EXPECT_EQ(next(cron("0 2 * * *", "Europe/Paris"), utc(2026, 1, 1), 1),
            Strings{"2026-01-01T01:00:00.000Z"});
  EXPECT_EQ(next(cron("0 20 * * SUN", "America/New_York"), utc(2026, 7, 1), 1),
            Strings{"2026-07-06T00:00:00.000Z"});
}

TEST(Cron, UnknownZones) {
  EXPECT_EQ(find_time_zone("Europe/Pariss"), nullptr);
  EXPECT_EQ(find_time_zone(""), nullptr);
  EXPECT_EQ(find_time_zone("../../etc/passwd"), nullptr);
  EXPECT_EQ(find_time_zone(std::string(1000, 'A')), nullptr);
  EXPECT_NE(find_time_zone("UTC"), nullptr);
}

struct BadCase {
  std::string expression;
  std::string message;
  std::size_t offset;
  std::size_t length;
  std::string hint;  // a part of it
};

class CronErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(CronErrors, PointAtTheField) {
  const auto& c = GetParam();
  try {
    cron(c.expression);
    FAIL() << "accepted '" << c.expression << "'";
  } catch (const CronError& e) {
    EXPECT_EQ(e.what(), c.message);
    EXPECT_EQ(e.offset, c.offset);
    EXPECT_EQ(e.length, c.length);
    EXPECT_NE(e.hint.find(c.hint), std::string::npos) << e.hint;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Every, CronErrors,
    ::testing::Values(
        BadCase{"",
                "cron expression has 0 fields, needs five fields: minute hour day-of-month month "
                "day-of-week",
                0, 1, "0 2 * * *"},
        BadCase{"0 2 * *",
                "cron expression has 4 fields, needs five fields: minute hour day-of-month month "
                "day-of-week",
                0, 7, "02:00"},
        BadCase{"0 0 2 * * * 2026",
                "cron expression has 7 fields, needs five fields: minute hour day-of-month month "
                "day-of-week",
                10, 6, "seconds and years"},
        BadCase{"60 2 * * *", "minute 60 is out of range 0-59", 0, 2, ""},
        BadCase{"0 24 * * *", "hour 24 is out of range 0-23", 2, 2, ""},
        BadCase{"0 2 0 * *", "day-of-month 0 is out of range 1-31", 4, 1, ""},
        BadCase{"0 2 * 13 *", "month 13 is out of range 1-12", 6, 2, ""},
        BadCase{"0 2 * * 8", "day-of-week 8 is out of range 0-7", 8, 1, "Sunday"},
        BadCase{"0 99999999999999999999 * * *", "hour 99999999999999999999 is out of range 0-23", 2,
                20, ""},
        BadCase{"0 2 * * MOM", "unknown day-of-week name 'MOM'", 8, 3, "did you mean 'MON'"},
        BadCase{"0 2 * JANUARY *", "unknown month name 'JANUARY'", 6, 7, "JAN"},
        BadCase{"0 two * * *", "hour takes numbers, got 'two'", 2, 3, "names are for month"},
        BadCase{"0 22-2 * * *", "hour range 22-2 runs backwards", 2, 4, "write 22-23,0-2"},
        BadCase{"0 2 * * FRI-MON", "day-of-week range FRI-MON runs backwards", 8, 7,
                "write FRI-6,0-MON"},
        BadCase{"*/0 * * * *", "minute step 0 must be 1 to 60", 2, 1, ""},
        BadCase{"*/61 * * * *", "minute step 61 must be 1 to 60", 2, 2, ""},
        BadCase{"*/ * * * *", "a step needs a number in the minute field", 2, 1, "*/15"},
        BadCase{"0 1,,2 * * *", "empty item in the hour list", 4, 1, "extra ','"},
        BadCase{"0 1, * * *", "empty item in the hour list", 4, 1, ""},
        BadCase{"*/15 9-17 1,15 JAN,7 1,", "empty item in the day-of-week list", 22, 1, ""},
        BadCase{"0 2- * * *", "a value is missing in the hour field", 4, 1, ""},
        BadCase{"0 2x * * *", "unexpected 'x' in the hour field", 3, 1, ""},
        BadCase{"0 *5 * * *", "unexpected '5' in the hour field", 3, 1, ""},
        BadCase{"0 -2 * * *", "unexpected '-' in the hour field", 2, 1, ""},
        BadCase{"0 2 * * 1/x", "a step needs a number in the day-of-week field", 10, 1, ""},
        BadCase{"0 2 * * 1/2x", "unexpected 'x' in the day-of-week field", 11, 1, ""},
        BadCase{"0 0 30 2 *", "day-of-month 30 never occurs in month 2", 4, 2, "leap years"},
        BadCase{"0 0 31 APR,JUN *", "day-of-month 31 never occurs in month APR,JUN", 4, 2, ""},
        BadCase{"0 2 * * *\n", "cron expression has a character that is not printable ASCII", 9, 1,
                ""},
        BadCase{"0 2 * * \xc3\xa9", "cron expression has a character that is not printable ASCII",
                8, 1, ""},
        BadCase{"@reboot", "@reboot has no due time in a daemon's schedule", 0, 7, "@daily"},
        BadCase{"@dayly", "unknown cron shorthand '@dayly'", 0, 6, "did you mean '@daily'"},
        BadCase{"@daily 5", "@daily stands alone", 7, 1, ""},
        BadCase{std::string(300, '*'), "cron expression is longer than 256 characters", 256, 1,
                ""}));

TEST(Cron, NeverMatchingWeekdayComboStillParses) {
  // 31 February never comes, but any Monday does: the Vixie rule makes it valid.
  EXPECT_EQ(next(cron("0 0 31 2 MON"), utc(2026, 2, 1), 1), Strings{"2026-02-02T00:00:00.000Z"});
}

// Untrusted text: random expressions over cron's own alphabet either parse (and then
// compute a next time) or fail with a location inside the text. tests/fuzz/cron_fuzz.cpp
// does the same under libFuzzer for longer.
TEST(Cron, RandomTextNeverEscapesTheErrorPath) {
  const std::string alphabet = "0123456789*/-, \tMONJAFEBSUTWDHRLGPCVYZ@dailyk";
  std::mt19937 rng(20260101);
  const auto* zone = find_time_zone("Europe/Paris");
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    // Half pure noise, half a valid expression with a few characters changed.
    std::string text = i % 2 ? "*/5 1-3 1,15 JAN-MAR MON-FRI" : "";
    if (text.empty()) {
      const int length = static_cast<int>(rng() % 24);
      for (int n = 0; n < length; ++n) text += alphabet[rng() % alphabet.size()];
    } else {
      for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits)
        text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    }
    try {
      const auto c = CronSchedule::parse(text, zone);
      ++parsed;
      (void)c.next_after(utc(2026, 3, 29));
    } catch (const CronError& e) {
      EXPECT_LE(e.offset + e.length, std::max<std::size_t>(text.size(), 1)) << text;
      EXPECT_GE(e.length, 1u) << text;
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace imagepipe
