#pragma once
// RFC 3339 timestamps, as written in captures, logs and JSON output.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ephport {

// "2026-11-25T14:34:44Z", or with `millis` "2026-11-25T14:34:44.123Z".
// Sub-second digits are truncated, never rounded up.
std::string format_rfc3339_utc(std::chrono::system_clock::time_point time, bool millis);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (RFC 3339 section
// 5.6; 't' and 'z' may be lower case; fraction digits past nanoseconds are
// ignored) and returns the instant in UTC; nullopt if the text is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace ephport
