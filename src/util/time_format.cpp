#include "util/time_format.h"

#include <fmt/format.h>

namespace ephport {

namespace chr = std::chrono;

std::string format_rfc3339_utc(chr::system_clock::time_point time, bool millis) {
  auto ms = chr::floor<chr::milliseconds>(time);
  auto day = chr::floor<chr::days>(ms);
  chr::year_month_day date{day};
  chr::hh_mm_ss clock{ms - day};
  std::string text =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  clock.hours().count(), clock.minutes().count(), clock.seconds().count());
  if (millis) {
    text += fmt::format(".{:03}", clock.subseconds().count());
  }
  text += 'Z';
  return text;
}

namespace {

// Reads exactly `width` decimal digits at `pos`, advancing it.
std::optional<int> take_digits(std::string_view text, size_t& pos, size_t width) {
  if (pos + width > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool take_char(std::string_view text, size_t& pos, std::string_view allowed) {
  if (pos < text.size() && allowed.find(text[pos]) != std::string_view::npos) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::optional<chr::system_clock::time_point> parse_rfc3339(std::string_view text) {
  size_t pos = 0;
  auto year = take_digits(text, pos, 4);
  bool ok = year && take_char(text, pos, "-");
  auto month = ok ? take_digits(text, pos, 2) : std::nullopt;
  ok = month && take_char(text, pos, "-");
  auto day = ok ? take_digits(text, pos, 2) : std::nullopt;
  ok = day && take_char(text, pos, "Tt");
  auto hour = ok ? take_digits(text, pos, 2) : std::nullopt;
  ok = hour && take_char(text, pos, ":");
  auto minute = ok ? take_digits(text, pos, 2) : std::nullopt;
  ok = minute && take_char(text, pos, ":");
  auto second = ok ? take_digits(text, pos, 2) : std::nullopt;
  if (!second) {
    return std::nullopt;
  }
  chr::year_month_day date{chr::year{*year}, chr::month{static_cast<unsigned>(*month)},
                           chr::day{static_cast<unsigned>(*day)}};
  // Second 60 is a leap second; it is kept as the first second of the next minute.
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }

  chr::nanoseconds fraction{0};
  if (take_char(text, pos, ".")) {
    size_t first_digit = pos;
    int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += chr::nanoseconds{(text[pos] - '0') * scale};
      scale /= 10;
      ++pos;
    }
    if (pos == first_digit) {
      return std::nullopt;
    }
  }

  chr::minutes offset{0};
  if (!take_char(text, pos, "Zz")) {
    bool east = pos < text.size() && text[pos] == '+';
    if (!take_char(text, pos, "+-")) {
      return std::nullopt;
    }
    auto offset_hours = take_digits(text, pos, 2);
    bool offset_ok = offset_hours && take_char(text, pos, ":");
    auto offset_minutes = offset_ok ? take_digits(text, pos, 2) : std::nullopt;
    if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) {
      return std::nullopt;
    }
    offset = chr::hours{*offset_hours} + chr::minutes{*offset_minutes};
    if (!east) {
      offset = -offset;
    }
  }
  if (pos != text.size()) {
    return std::nullopt;
  }

  auto local = chr::sys_days{date} + chr::hours{*hour} + chr::minutes{*minute} +
               chr::seconds{*second} + fraction;
  return chr::time_point_cast<chr::system_clock::duration>(local - offset);
}

}  // namespace ephport
