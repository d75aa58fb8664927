// Cron schedules: a standard five-field expression evaluated in an IANA time zone. The
// expression is user input (pipeline YAML), so parsing never trusts its length, its
// numbers or its names, and each error says which field and which characters are wrong.
//
// Wall-clock rule (daylight saving): fields match the zone's local time. A local time the
// zone skips (spring forward) fires once at the first instant after the gap; several
// skipped times fire together, once. A local time that occurs twice (fall back) fires at
// its first occurrence only. So a change of offset never skips a day's run nor doubles it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace imagepipe {

// Where an expression is wrong: `offset` and `length` are bytes in the expression text.
class CronError : public std::runtime_error {
 public:
  CronError(std::string message, std::size_t offset, std::size_t length, std::string hint)
      : std::runtime_error(std::move(message)),
        offset(offset),
        length(length),
        hint(std::move(hint)) {}
  std::size_t offset;
  std::size_t length;
  std::string hint;
};

class CronSchedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // "0 2 * * *": minute hour day-of-month month day-of-week, each `*`, a value, a range
  // `a-b`, a step `*/n` or `a-b/n` or `a/n`, or a comma list of those; months and days
  // also by name (JAN, MON); day-of-week 0 and 7 are Sunday. `@daily` and its kin are
  // accepted. When both day fields are restricted a day matching either runs (Vixie).
  // Throws CronError; `zone` must not be null.
  static CronSchedule parse(std::string_view expression, const date::time_zone* zone);

  // The first due time strictly after `after`; nullopt when none comes in the next
  // eight years (an expression such as "0 0 30 2 *" is refused by parse()).
  std::optional<TimePoint> next_after(TimePoint after) const;

  const std::string& expression() const { return expression_; }
  const date::time_zone* zone() const { return zone_; }

 private:
  bool day_matches(int month_day, int week_day) const;

  std::string expression_;
  const date::time_zone* zone_ = nullptr;
  std::uint64_t minutes_ = 0;  // bit n: minute n
  std::uint32_t hours_ = 0;
  std::uint32_t month_days_ = 0;  // bit 1..31
  std::uint16_t months_ = 0;      // bit 1..12
  std::uint8_t week_days_ = 0;    // bit 0..6, Sunday 0
  bool month_days_star_ = false;  // written `*` (or `*/1`): the Vixie rule looks at this
  bool week_days_star_ = false;
};

// The zone database entry for an IANA name ("Europe/Paris", "UTC"); nullptr when the
// name is unknown. Entries live as long as the process.
const date::time_zone* find_time_zone(std::string_view name);

}  // namespace imagepipe
