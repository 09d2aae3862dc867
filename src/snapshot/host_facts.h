#pragma once
// Facts about the sampled host (or network namespace) that the model needs:
// the port range, reserved ports and the sysctls that change allocation.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ephport {

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool operator==(const PortRange&) const = default;
};

// One namespace of `--netns all`, and who lives in it (from its processes'
// cgroups): what labels its rows.
struct NetnsIdentity {
  uint64_t inode = 0;     // nsfs inode, as in /proc/PID/ns/net -> "net:[INODE]"
  std::string name;       // `ip netns` name, "" if none
  std::string path;       // what it was opened by: /run/netns/NAME or /proc/PID/ns/net
  uint32_t pid = 0;       // the lowest PID living in it, 0 if none
  std::string runtime;    // the container's runtime: docker, containerd, cri-o, podman, lxc
  std::string container;  // container id all its processes share, "" if none
  std::string pod;        // Kubernetes pod UID all its processes share, "" if none
  std::string unit;       // systemd .service all its processes share (a weaker identity)
};

struct HostFacts {
  std::string computer;  // hostname (uname nodename)
  std::chrono::system_clock::time_point time;
  std::string platform = "linux";
  std::string netns;   // "" = the caller's own; else the name or path given
  std::string source;  // "netlink", "procfs" or "file"
  std::optional<NetnsIdentity> netns_identity;  // set by --netns all

  PortRange range{32768, 60999};             // net.ipv4.ip_local_port_range
  std::vector<PortRange> reserved;           // net.ipv4.ip_local_reserved_ports
  int tcp_tw_reuse = 2;                      // net.ipv4.tcp_tw_reuse
  std::optional<int> tcp_tw_reuse_delay_ms;  // absent on older kernels
  int tcp_timestamps = 1;                    // net.ipv4.tcp_timestamps
  int ip_autobind_reuse = 0;                 // net.ipv4.ip_autobind_reuse
  int bindv6only = 0;                        // net.ipv6.bindv6only (0 if IPv6 is off)
  int tcp_fin_timeout = 60;                  // net.ipv4.tcp_fin_timeout (seconds)
};

}  // namespace ephport
