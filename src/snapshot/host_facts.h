#pragma once
// Facts about the sampled host (or network namespace) that the model needs:
// what every platform has (name, time, ranges per protocol, reserved or
// excluded ports), then each platform's own settings.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/socket_record.h"

namespace ephport {

// Which operating system's allocator the snapshot came from: it selects the
// port rules (model/port_rules.h), so a capture is analysed by its own
// platform's rules wherever it is read.
enum class Platform : uint8_t { linux_kernel, windows };

std::string_view platform_name(Platform platform);  // "linux", "windows"
std::optional<Platform> parse_platform(std::string_view name);

// Where the socket records came from.
enum class SocketSource : uint8_t { netlink, procfs };

std::string_view socket_source_name(SocketSource source);  // "netlink", "procfs"
std::optional<SocketSource> parse_socket_source(std::string_view name);

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

// The Linux sysctls that change allocation (linux-port-rules.md).
struct LinuxSysctls {
  int tcp_tw_reuse = 2;                      // net.ipv4.tcp_tw_reuse
  std::optional<int> tcp_tw_reuse_delay_ms;  // absent on older kernels
  int tcp_timestamps = 1;                    // net.ipv4.tcp_timestamps
  int ip_autobind_reuse = 0;                 // net.ipv4.ip_autobind_reuse
  int bindv6only = 0;                        // net.ipv6.bindv6only (0 if IPv6 is off)
  int tcp_fin_timeout = 60;                  // net.ipv4.tcp_fin_timeout (seconds)
};

// Windows settings that change allocation; filled by the Windows collector
// (a later issue). Empty until then.
struct WindowsSettings {};

struct HostFacts {
  std::string computer;  // hostname (uname nodename)
  std::chrono::system_clock::time_point time;
  Platform platform = Platform::linux_kernel;
  std::string netns;  // "" = the caller's own; else the name or path given
  SocketSource source = SocketSource::netlink;
  std::optional<NetnsIdentity> netns_identity;  // set by --netns all

  // The dynamic (ephemeral) range per protocol, indexed by Protocol. Linux
  // has one, net.ipv4.ip_local_port_range, for both.
  std::array<PortRange, kProtocolCount> ranges{{{32768, 60999}, {32768, 60999}}};
  // Ports of the range the allocator never hands out, per protocol: Linux
  // net.ipv4.ip_local_reserved_ports (both), Windows excluded port ranges.
  std::array<std::vector<PortRange>, kProtocolCount> reserved;

  LinuxSysctls linux_sysctls;  // platform == linux_kernel
  WindowsSettings windows;     // platform == windows

  const PortRange& range(Protocol protocol) const { return ranges[static_cast<size_t>(protocol)]; }
  const std::vector<PortRange>& reserved_ports(Protocol protocol) const {
    return reserved[static_cast<size_t>(protocol)];
  }
  // One range for every protocol (Linux's sysctl, --range).
  void set_range(PortRange range) { ranges = {range, range}; }
  void set_reserved(const std::vector<PortRange>& ports) { reserved = {ports, ports}; }
};

}  // namespace ephport
