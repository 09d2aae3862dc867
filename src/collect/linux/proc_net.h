#pragma once
// Fallback collector: the text tables /proc/net/{tcp,tcp6,udp,udp6}.
//
// They show less than sock_diag: no bound-only TCP sockets (the kernel lists
// only the listening and established hash tables), no V6ONLY flag, no bound
// device, no IP_BIND_ADDRESS_NO_PORT. Records from here have v6only = -1,
// ifindex = 0 and bind_address_no_port = false.

#include <optional>
#include <string>
#include <string_view>

#include "collect/collector.h"
#include "snapshot/socket_record.h"

namespace ephport {

// Parses one row of /proc/net/tcp (ipv6 = false) or tcp6 (ipv6 = true), or
// of udp/udp6 (same columns):
//   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
// Addresses are the 32-bit words of the address printed in hex in host byte
// order; v4-mapped IPv6 addresses are normalised to IPv4. tm->when is in
// clock ticks (USER_HZ, sysconf(_SC_CLK_TCK)); expires_ms converts it.
// Returns nullopt for the header line and anything malformed.
std::optional<SocketRecord> parse_proc_net_line(std::string_view line, Protocol protocol, bool ipv6,
                                                long clock_ticks_per_second = 100);

// Streams the sockets of <proc_root>/net/tcp, tcp6, udp and udp6 to `visit`,
// keeping the collector.h order with two passes over the TCP files: LISTEN
// rows of tcp and tcp6 first, then the other rows. A socket that changes
// state between the passes can be seen twice or not at all.
// A missing tcp6/udp6 (IPv6 disabled) is skipped. Throws RuntimeError
// "cannot read /proc/net/tcp: reason", or naming a row it cannot parse.
void read_proc_net(const std::string& proc_root, bool tcp, bool udp, const SocketVisitor& visit);

}  // namespace ephport
