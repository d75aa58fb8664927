// Cron expressions: parsing (untrusted text, every error located) and the next due time
// in a zone, through the system's time zone database (Howard Hinnant's date/tz, the
// library <chrono> time zones were standardised from; libstdc++ 12 lacks them).
#include "imagepipe/cron.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <bit>
#include <vector>

#include "config/suggest.hpp"

namespace imagepipe {

namespace {

constexpr std::size_t kMaxExpression = 256;
// Long enough to reach the next 29 February from anywhere (2096 to 2104 is eight years).
constexpr int kSearchDays = 9 * 366;

struct FieldSpec {
  const char* name;
  int min;
  int max;                                // day-of-week: 7, read as 0 (Sunday)
  const std::vector<std::string>* names;  // index 0 is value `min`
};

const std::vector<std::string> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const std::vector<std::string> kWeekDays = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const std::array<FieldSpec, 5> kFields = {{{"minute", 0, 59, nullptr},
                                           {"hour", 0, 23, nullptr},
                                           {"day-of-month", 1, 31, nullptr},
                                           {"month", 1, 12, &kMonths},
                                           {"day-of-week", 0, 7, &kWeekDays}}};

const std::vector<std::pair<std::string, std::string>> kMacros = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"}};

constexpr const char* kShape = "five fields: minute hour day-of-month month day-of-week";

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

struct Token {
  std::string_view text;
  std::size_t offset;  // in the whole expression
};

// One field's text, turned into a bit set. Errors name the field and point at the part.
class FieldParser {
 public:
  FieldParser(const FieldSpec& spec, Token token) : spec_(spec), token_(token) {}

  std::uint64_t parse() {
    std::size_t start = 0;
    const auto text = token_.text;
    for (;;) {
      const auto comma = text.find(',', start);
      const auto end = comma == std::string_view::npos ? text.size() : comma;
      if (end == start)
        fail(start, 1, std::string("empty item in the ") + spec_.name + " list",
             "remove the extra ',' or write a value");
      item(start, end);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return bits_;
  }

 private:
  [[noreturn]] void fail(std::size_t at, std::size_t length, std::string message,
                         std::string hint) const {
    throw CronError(std::move(message), token_.offset + at, std::max<std::size_t>(length, 1),
                    std::move(hint));
  }

  std::string range_text() const {
    return std::to_string(spec_.min) + "-" + std::to_string(spec_.max);
  }

  // A number or a name, from `at`; advances `at` past it.
  int value(std::size_t& at, std::size_t end) {
    const auto text = token_.text;
    const std::size_t begin = at;
    if (at < end && is_digit(text[at])) {
      while (at < end && is_digit(text[at])) ++at;
      const auto digits = text.substr(begin, at - begin);
      // More than three digits is out of every range; no need to convert (or overflow).
      const int n = digits.size() > 3 ? 1000 : std::stoi(std::string(digits));
      if (n < spec_.min || n > spec_.max)
        fail(begin, at - begin,
             std::string(spec_.name) + " " + std::string(digits) + " is out of range " +
                 range_text(),
             spec_.max == 7 ? "0 and 7 are both Sunday" : "");
      return n;
    }
    if (at < end && is_alpha(text[at])) {
      while (at < end && is_alpha(text[at])) ++at;
      const std::string word = upper(text.substr(begin, at - begin));
      if (!spec_.names)
        fail(begin, at - begin,
             std::string(spec_.name) + " takes numbers, got '" +
                 std::string(text.substr(begin, at - begin)) + "'",
             "names are for month (JAN-DEC) and day-of-week (SUN-SAT)");
      const auto& names = *spec_.names;
      for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == word) return spec_.min + static_cast<int>(i);
      fail(begin, at - begin,
           "unknown " + std::string(spec_.name) + " name '" +
               std::string(text.substr(begin, at - begin)) + "'",
           config::suggestion_hint(word, names, "names"));
    }
    if (at < end)
      fail(at, 1, "unexpected '" + std::string(1, text[at]) + "' in the " + spec_.name + " field",
           "an item is *, a value, a range a-b, each with an optional /step");
    fail(at, 1, std::string("a value is missing in the ") + spec_.name + " field",
         "an item is *, a value, a range a-b, each with an optional /step");
  }

  void item(std::size_t begin, std::size_t end) {
    const auto text = token_.text;
    std::size_t at = begin;
    int low = spec_.min;
    int high = spec_.max == 7 ? 6 : spec_.max;
    bool range = false;
    if (text[at] == '*') {
      ++at;
      range = true;
    } else {
      low = high = value(at, end);
      if (at < end && text[at] == '-') {
        ++at;
        const std::size_t high_at = at;
        high = value(at, end);
        range = true;
        if (high < low)
          fail(begin, at - begin,
               std::string(spec_.name) + " range " + std::string(text.substr(begin, at - begin)) +
                   " runs backwards",
               "ranges do not wrap around: write " +
                   std::string(text.substr(begin, high_at - begin - 1)) + "-" +
                   std::to_string(spec_.max == 7 ? 6 : spec_.max) + "," +
                   std::to_string(spec_.min) + "-" +
                   std::string(text.substr(high_at, at - high_at)));
      }
    }
    int step = 1;
    if (at < end && text[at] == '/') {
      const std::size_t step_at = ++at;
      while (at < end && is_digit(text[at])) ++at;
      const auto digits = text.substr(step_at, at - step_at);
      const int span = spec_.max - spec_.min + 1;
      if (digits.empty())
        fail(step_at, 1, std::string("a step needs a number in the ") + spec_.name + " field",
             "write */15 or 0-30/5");
      step = digits.size() > 3 ? 1000 : std::stoi(std::string(digits));
      if (step < 1 || step > span)
        fail(step_at, digits.size(),
             std::string(spec_.name) + " step " + std::string(digits) + " must be 1 to " +
                 std::to_string(span),
             "");
      if (!range) high = spec_.max == 7 ? 6 : spec_.max;  // "5/15": from 5 to the end
    }
    if (at < end)
      fail(at, 1, "unexpected '" + std::string(1, text[at]) + "' in the " + spec_.name + " field",
           "an item is *, a value, a range a-b, each with an optional /step; items are "
           "separated by ',' and fields by spaces");
    for (int v = low; v <= high; v += step)
      bits_ |= std::uint64_t{1} << (v == 7 && spec_.max == 7 ? 0 : v);
  }

  const FieldSpec& spec_;
  Token token_;
  std::uint64_t bits_ = 0;
};

std::vector<Token> split_fields(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    const std::size_t start = at;
    while (at < text.size() && text[at] != ' ' && text[at] != '\t') ++at;
    if (at > start) tokens.push_back({text.substr(start, at - start), start});
  }
  return tokens;
}

constexpr int kMaxMonthDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

CronSchedule CronSchedule::parse(std::string_view expression, const date::time_zone* zone) {
  if (expression.size() > kMaxExpression)
    throw CronError(
        "cron expression is longer than " + std::to_string(kMaxExpression) + " characters",
        kMaxExpression, 1, kShape);
  for (std::size_t i = 0; i < expression.size(); ++i) {
    const auto c = static_cast<unsigned char>(expression[i]);
    if (c < 0x20 || c > 0x7e) {
      if (c == '\t') continue;
      throw CronError("cron expression has a character that is not printable ASCII", i, 1, kShape);
    }
  }
  std::string_view text = expression;
  const auto tokens_first = split_fields(text);
  if (!tokens_first.empty() && tokens_first.front().text.front() == '@') {
    const Token macro = tokens_first.front();
    std::vector<std::string> names;
    for (const auto& [name, fields] : kMacros) {
      names.push_back(name);
      if (macro.text == name && tokens_first.size() == 1) {
        CronSchedule schedule = parse(fields, zone);
        schedule.expression_ = std::string(expression);
        return schedule;
      }
    }
    if (macro.text == "@reboot")
      throw CronError("@reboot has no due time in a daemon's schedule", macro.offset,
                      macro.text.size(), "write a time, e.g. @daily or 0 2 * * *");
    if (tokens_first.size() > 1 && std::find(names.begin(), names.end(), macro.text) != names.end())
      throw CronError(std::string(macro.text) + " stands alone", tokens_first[1].offset,
                      tokens_first[1].text.size(), "remove what follows it");
    throw CronError("unknown cron shorthand '" + std::string(macro.text) + "'", macro.offset,
                    macro.text.size(), config::suggestion_hint(macro.text, names, "shorthands"));
  }
  const auto& tokens = tokens_first;
  if (tokens.size() < kFields.size())
    throw CronError("cron expression has " + std::to_string(tokens.size()) + " field" +
                        (tokens.size() == 1 ? "" : "s") + ", needs " + kShape,
                    0, std::max<std::size_t>(expression.size(), 1),
                    "e.g. \"0 2 * * *\": 02:00 every day");
  if (tokens.size() > kFields.size())
    throw CronError(
        "cron expression has " + std::to_string(tokens.size()) + " fields, needs " + kShape,
        tokens[kFields.size()].offset,
        tokens.back().offset + tokens.back().text.size() - tokens[kFields.size()].offset,
        "seconds and years are not cron fields here; remove them");

  CronSchedule schedule;
  schedule.expression_ = std::string(expression);
  schedule.zone_ = zone;
  std::array<std::uint64_t, 5> bits{};
  try {
    for (std::size_t i = 0; i < kFields.size(); ++i)
      bits[i] = FieldParser(kFields[i], tokens[i]).parse();
  } catch (CronError& e) {
    // A problem just past the last field ("1," at the very end) would put the caret beyond
    // the expression: point at its last character instead (found by tests/fuzz/cron_fuzz.cpp).
    if (e.offset + e.length > expression.size()) {
      e.offset = expression.size() - 1;
      e.length = 1;
    }
    throw;
  }
  schedule.minutes_ = bits[0];
  schedule.hours_ = static_cast<std::uint32_t>(bits[1]);
  schedule.month_days_ = static_cast<std::uint32_t>(bits[2]);
  schedule.months_ = static_cast<std::uint16_t>(bits[3]);
  schedule.week_days_ = static_cast<std::uint8_t>(bits[4]);
  // As Vixie cron: a day field that starts with '*' (also "*/2") counts as unrestricted.
  schedule.month_days_star_ = tokens[2].text.front() == '*';
  schedule.week_days_star_ = tokens[4].text.front() == '*';

  // "0 0 30 2 *" would never run: say so now rather than stay silent for ever.
  if (schedule.week_days_star_) {
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m)
      if (schedule.months_ >> m & 1)
        possible = std::countr_zero(schedule.month_days_) <= kMaxMonthDays[m];
    if (!possible)
      throw CronError("day-of-month " + std::string(tokens[2].text) + " never occurs in month " +
                          std::string(tokens[3].text),
                      tokens[2].offset, tokens[2].text.size(),
                      "months have 28 to 31 days; 29 February only in leap years");
  }
  return schedule;
}

bool CronSchedule::day_matches(int month_day, int week_day) const {
  const bool dom = month_days_ >> month_day & 1;
  const bool dow = week_days_ >> week_day & 1;
  if (month_days_star_ || week_days_star_) return dom && dow;
  return dom || dow;
}

std::optional<CronSchedule::TimePoint> CronSchedule::next_after(TimePoint after) const {
  using namespace std::chrono;
  const auto local = zone_->to_local(after);
  const date::local_time<minutes> start = date::floor<minutes>(local) + minutes(1);
  date::local_days day = date::floor<date::days>(start);
  for (int i = 0; i < kSearchDays; ++i, day += date::days(1)) {
    const date::year_month_day ymd(day);
    if (!(months_ >> static_cast<unsigned>(ymd.month()) & 1)) continue;
    if (!day_matches(static_cast<int>(static_cast<unsigned>(ymd.day())),
                     static_cast<int>(date::weekday(day).c_encoding())))
      continue;
    for (std::uint32_t hours = hours_; hours; hours &= hours - 1) {
      const int h = std::countr_zero(hours);
      for (std::uint64_t mins = minutes_; mins; mins &= mins - 1) {
        const date::local_time<minutes> wall =
            day + std::chrono::hours(h) + minutes(std::countr_zero(mins));
        if (wall < start) continue;
        const auto info = zone_->get_info(wall);
        const date::sys_seconds naive{duration_cast<seconds>(wall.time_since_epoch())};
        // A skipped wall time runs when the gap ends; a repeated one at its first
        // occurrence (info.first is the earlier offset), never at the second.
        const date::sys_seconds due = info.result == date::local_info::nonexistent
                                          ? info.first.end
                                          : naive - info.first.offset;
        if (due > after) return TimePoint(due);
      }
    }
  }
  return std::nullopt;
}

const date::time_zone* find_time_zone(std::string_view name) {
  if (name.empty() || name.size() > 128) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace imagepipe
