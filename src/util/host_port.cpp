#include "util/host_port.h"

#include <optional>

#include "util/error.h"
#include "util/parse_number.h"

namespace ephport {

std::string HostPort::str() const {
  std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + port_text;
  }
  return host + ":" + port_text;
}

HostPort parse_host_port(std::string_view text, const std::string& what, bool allow_port_zero) {
  auto fail = [&](const std::string& why) {
    return InputError(what + ": '" + std::string(text) + "' " + why);
  };
  HostPort parsed;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw fail("is not [IPV6]:PORT");
    }
    parsed.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      throw fail("has no :PORT");
    }
    parsed.host = std::string(text.substr(0, colon));
    if (parsed.host.find(':') != std::string::npos) {
      throw fail("is ambiguous: write an IPv6 address in brackets, [ADDR]:PORT");
    }
    port_text = text.substr(colon + 1);
  }
  if (parsed.host.empty()) {
    throw fail("has no host");
  }
  std::optional<uint32_t> port = parse_decimal<uint32_t>(port_text);
  if (!port || *port > 65535 || (*port == 0 && !allow_port_zero)) {
    throw fail("has no valid port (1-65535)");
  }
  parsed.port = static_cast<uint16_t>(*port);
  return parsed;
}

}  // namespace ephport
