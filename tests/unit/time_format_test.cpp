#include "util/time_format.h"

#include <gtest/gtest.h>

namespace ephport {
namespace {

using namespace std::chrono;

system_clock::time_point at(sys_days day, milliseconds time_of_day) {
  return system_clock::time_point{day} + time_of_day;
}

TEST(TimeFormat, FormatsUtcWithAndWithoutMilliseconds) {
  auto time = at(2026y / 11 / 25, hours{14} + minutes{34} + seconds{44} + milliseconds{123});
  EXPECT_EQ(format_rfc3339_utc(time, true), "2026-11-25T14:34:44.123Z");
  EXPECT_EQ(format_rfc3339_utc(time, false), "2026-11-25T14:34:44Z");
  EXPECT_EQ(format_rfc3339_utc(system_clock::time_point{}, true), "1970-01-01T00:00:00.000Z");
}

TEST(TimeFormat, TruncatesSubMilliseconds) {
  auto time = at(2026y / 1 / 2, hours{3}) + microseconds{999'999};
  EXPECT_EQ(format_rfc3339_utc(time, true), "2026-01-02T03:00:00.999Z");
}

TEST(TimeFormat, ParsesWhatItFormats) {
  auto time = at(2024y / 2 / 29, hours{23} + minutes{59} + seconds{59} + milliseconds{7});
  EXPECT_EQ(parse_rfc3339(format_rfc3339_utc(time, true)), time);
  EXPECT_EQ(parse_rfc3339(format_rfc3339_utc(time, false)), time - milliseconds{7});
}

TEST(TimeFormat, ParsesOffsetsFractionsAndLowerCase) {
  auto utc = at(2026y / 11 / 25, hours{14} + minutes{34} + seconds{44});
  EXPECT_EQ(parse_rfc3339("2026-11-25T16:04:44+01:30"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-25T09:34:44-05:00"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-25t14:34:44z"), utc);
  EXPECT_EQ(parse_rfc3339("2026-11-25T14:34:44.5Z"), utc + milliseconds{500});
  EXPECT_EQ(parse_rfc3339("2026-11-25T14:34:44.123456789123Z"), utc + nanoseconds{123456789});
}

TEST(TimeFormat, RejectsWhatIsNotRfc3339) {
  for (const char* text :
       {"", "2026-11-25", "2026-11-25T14:34:44", "2026-11-25 14:34:44Z", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T14:60:00Z",
        "2026-11-25T14:34:44.Z", "2026-11-25T14:34:44+0100", "2026-11-25T14:34:44Zjunk",
        "26-11-25T14:34:44Z", "2026-11-25T14:34:4xZ"}) {
    EXPECT_FALSE(parse_rfc3339(text)) << text;
  }
}

}  // namespace
}  // namespace ephport
