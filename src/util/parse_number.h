#pragma once
// Whole-string decimal numbers, as /proc writes them ("1234"): no spaces,
// nothing after the digits. Every from_chars call for an integer belongs here.

#include <fmt/format.h>

#include <charconv>
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
std::optional<T> parse_decimal(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || ptr != end) {
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
