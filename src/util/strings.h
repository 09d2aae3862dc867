#pragma once
// Small string helpers shared by the /proc and sysctl parsers. (For suffix
// tests use std::string_view::ends_with.)

#include <string_view>

namespace ephport {

// The blanks /proc and sysctl files put around values.
inline constexpr std::string_view kBlanks = " \t\n";

// `text` without leading and trailing characters from `blanks`.
inline std::string_view trim(std::string_view text, std::string_view blanks = kBlanks) {
  size_t start = text.find_first_not_of(blanks);
  if (start == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(blanks);
  return text.substr(start, end - start + 1);
}

}  // namespace ephport
