#pragma once
// Whole-string decimal numbers, as /proc writes them ("1234"): no sign, no
// spaces, nothing after the digits.

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace ephport {

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

}  // namespace ephport
