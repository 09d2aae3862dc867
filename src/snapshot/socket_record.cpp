#include "snapshot/socket_record.h"

#include <array>

namespace ephport {

namespace {
constexpr std::array<std::string_view, kSockStateCount> kStateNames = {
    "UNKNOWN",   "ESTABLISHED", "SYN_SENT",     "SYN_RECV",      "FIN_WAIT1",
    "FIN_WAIT2", "TIME_WAIT",   "CLOSE",        "CLOSE_WAIT",    "LAST_ACK",
    "LISTEN",    "CLOSING",     "NEW_SYN_RECV", "BOUND_INACTIVE"};
}

std::string_view protocol_name(Protocol protocol) {
  return protocol == Protocol::tcp ? "tcp" : "udp";
}

std::optional<Protocol> parse_protocol(std::string_view name) {
  if (name == "tcp") {
    return Protocol::tcp;
  }
  if (name == "udp") {
    return Protocol::udp;
  }
  return std::nullopt;
}

std::string_view state_name(SockState state) {
  auto index = static_cast<size_t>(state);
  return index < kStateNames.size() ? kStateNames[index] : "UNKNOWN";
}

std::optional<SockState> parse_state(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) {
      return static_cast<SockState>(i);
    }
  }
  return std::nullopt;
}

}  // namespace ephport
