#pragma once
// The width of the terminal standard output writes to, for tables that
// must fit it (output/table.h).

#include <cstddef>
#include <optional>
#include <string_view>

namespace ephport {

// 0 when standard output is not a terminal (a pipe, a file: output stays
// as wide as it is); else its width from TIOCGWINSZ, else from $COLUMNS,
// else 0.
size_t stdout_terminal_width();

// $COLUMNS as a width: a whole number from 1 to 65535; nullopt otherwise.
std::optional<size_t> parse_columns(std::string_view text);

}  // namespace ephport
