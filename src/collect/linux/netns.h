#pragma once
// Network namespace paths; enter_netns() itself is declared in collector.h.

#include <string>

namespace ephport {

// The file for an `ip netns` NAME (/run/netns/NAME), or the argument itself
// when it contains a '/' (/proc/1234/ns/net, /var/run/docker/netns/xyz).
std::string netns_path(const std::string& name_or_path);

}  // namespace ephport
