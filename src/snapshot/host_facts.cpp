#include "snapshot/host_facts.h"

namespace ephport {

std::string_view platform_name(Platform platform) {
  return platform == Platform::windows ? "windows" : "linux";
}

std::optional<Platform> parse_platform(std::string_view name) {
  if (name == "linux") {
    return Platform::linux_kernel;
  }
  if (name == "windows") {
    return Platform::windows;
  }
  return std::nullopt;
}

std::string_view socket_source_name(SocketSource source) {
  return source == SocketSource::procfs ? "procfs" : "netlink";
}

std::optional<SocketSource> parse_socket_source(std::string_view name) {
  if (name == "netlink") {
    return SocketSource::netlink;
  }
  if (name == "procfs") {
    return SocketSource::procfs;
  }
  return std::nullopt;
}

}  // namespace ephport
