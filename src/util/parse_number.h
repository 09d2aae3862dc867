#pragma once
// Whole-string numbers, as /proc and the command line write them ("1234",
// "0100007F", "9.5"): no spaces, nothing after the digits. Every from_chars
// call belongs here.

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "util/result.h"

namespace ephport {

// For "is this a number?" questions whose failure needs no message (a /proc
// entry that is not a pid); an unsigned T accepts no sign.
// nullopt for an empty string, a non-digit anywhere, or a value out of T's range.
template <typename T>
std::optional<T> parse_in_base(std::string_view text, int base) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || error != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

template <typename T>
std::optional<T> parse_decimal(std::string_view text) {
  return parse_in_base<T>(text, 10);
}

// Hexadecimal without "0x", as /proc/net/tcp prints addresses, ports and states.
template <typename T>
std::optional<T> parse_hex(std::string_view text) {
  return parse_in_base<T>(text, 16);
}

// A finite fixed-point number ("10", "-2.5"; no exponent, no "inf"/"nan").
inline std::optional<double> parse_fixed(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || error != std::errc{} || ptr != end || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// A signed decimal number in [minimum, maximum]. The error names `what`:
// "'TEXT' is not a WHAT" or "WHAT TEXT is out of range MIN-MAX".
inline Result<int64_t> parse_integer_in_range(std::string_view text, int64_t minimum,
                                              int64_t maximum, std::string_view what) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error == std::errc::invalid_argument || ptr != end) {
    return Error{fmt::format("'{}' is not a {}", text, what)};
  }
  if (error == std::errc::result_out_of_range || value < minimum || value > maximum) {
    return Error{fmt::format("{} {} is out of range {}-{}", what, text, minimum, maximum)};
  }
  return value;
}

}  // namespace ephport
