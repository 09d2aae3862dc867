#pragma once
// "HOST:PORT" as the command line gives it: 127.0.0.1:19209, [::1]:19209,
// web-1.example:19209. Shared by `serve --listen` and `log --computers`.

#include <cstdint>
#include <string>
#include <string_view>

namespace ephport {

struct HostPort {
  std::string host;  // without brackets: "::1"
  uint16_t port = 0;

  // "127.0.0.1:80", "[::1]:80": brackets back around an IPv6 host.
  std::string str() const;
};

// Parses HOST:PORT; an IPv6 host must be in brackets. `allow_port_zero`
// accepts port 0 (let the kernel choose, for a listener). Throws InputError
// naming `what` and the text.
HostPort parse_host_port(std::string_view text, const std::string& what,
                         bool allow_port_zero = false);

}  // namespace ephport
