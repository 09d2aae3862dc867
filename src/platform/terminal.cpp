#include "platform/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include "util/parse_number.h"

namespace ephport {

std::optional<size_t> parse_columns(std::string_view text) {
  std::optional<uint32_t> value = parse_decimal<uint32_t>(text);
  if (!value || *value == 0 || *value > 65535) {
    return std::nullopt;
  }
  return static_cast<size_t>(*value);
}

size_t stdout_terminal_width() {
  if (isatty(STDOUT_FILENO) == 0) {
    return 0;
  }
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col != 0) {
    return size.ws_col;
  }
  const char* columns = std::getenv("COLUMNS");  // NOLINT(concurrency-mt-unsafe): read at start
  return columns != nullptr ? parse_columns(columns).value_or(0) : 0;
}

}  // namespace ephport
