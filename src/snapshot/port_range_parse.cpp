#include "snapshot/port_range_parse.h"

#include <fmt/format.h>

#include "util/parse_number.h"
#include "util/strings.h"

namespace ephport {

Result<uint16_t> parse_port_number(std::string_view text, int64_t minimum) {
  Result<int64_t> number = parse_integer_in_range(text, minimum, 65535, "port number");
  if (!number.ok()) {
    return number.error();
  }
  return static_cast<uint16_t>(number.value());
}

Result<PortRange> parse_blank_separated_port_range(std::string_view content) {
  std::string_view text = trim(content);
  size_t separator = text.find_first_of(kBlanks);
  if (separator == std::string_view::npos) {
    return Error{fmt::format("'{}' is not two port numbers", text)};
  }
  Result<uint16_t> first = parse_port_number(text.substr(0, separator), 1);
  if (!first.ok()) {
    return first.error();
  }
  Result<uint16_t> last = parse_port_number(trim(text.substr(separator)), 1);
  if (!last.ok()) {
    return last.error();
  }
  if (first.value() > last.value()) {
    return Error{fmt::format("range {}-{} ends before it starts", first.value(), last.value())};
  }
  return PortRange{first.value(), last.value()};
}

Result<PortRange> parse_dash_separated_port_range(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    return Error{fmt::format("'{}' is not FIRST-LAST", text)};
  }
  Result<uint16_t> first = parse_port_number(text.substr(0, dash), 1);
  if (!first.ok()) {
    return first.error();
  }
  Result<uint16_t> last = parse_port_number(text.substr(dash + 1), 1);
  if (!last.ok()) {
    return last.error();
  }
  if (first.value() > last.value()) {
    return Error{fmt::format("range {} ends before it starts", text)};
  }
  return PortRange{first.value(), last.value()};
}

}  // namespace ephport
