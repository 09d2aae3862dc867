#pragma once
// The Linux port-allocation rules, and the only code that knows them
// (docs/model.md; kernel references there). The analysis asks these
// questions about each socket and never reasons about the kernel itself.

#include <array>
#include <cstdint>

#include "snapshot/host_facts.h"
#include "snapshot/port_set.h"
#include "snapshot/socket_record.h"

namespace ephport {

// E: ports of ip_local_port_range minus ip_local_reserved_ports
// (inet_sk_get_local_port_range(), inet_is_local_reserved_port()).
PortSet ephemeral_ports(const HostFacts& host);

// With the default step of 2, __inet_hash_connect() and
// inet_csk_find_open_port() round an odd port count down, so one call
// visits only n - 1 ports.
uint32_t guaranteed_capacity(const HostFacts& host, uint32_t capacity, Protocol protocol);

// Rule 2: a port whose bind bucket is in bind() state is skipped by
// connect() for every destination. From sock_diag alone that is known for
// LISTEN and bound-only sockets; for bind-before-connect sockets it is not.
bool holds_port_in_bind_state(const SocketRecord& socket);

// Rule 9: the kernel puts an accepted child on its listener's port.
// (The caller decides "child" by matching a listener.)

// Rules 1, 4, 10: does this socket block its own 4-tuple for a plain,
// device-less connect()? TIME_WAIT may be recycled (tcp_twsk_unique());
// FIN_WAIT2 timewait sockets never are; device-bound sockets only block
// connects bound to the same device.
bool blocks_own_four_tuple(const SocketRecord& socket, const HostFacts& host);

// Rule 4: a timewait socket (TIME_WAIT, or an orphaned FIN_WAIT2 the kernel
// turned into one; idiag_timer 3) leaves its port and 4-tuple when
// idiag_expires runs out. True when that happens within `window_ms` (> 0).
bool timewait_expires_within(const SocketRecord& socket, uint32_t window_ms);

// A socket counts towards a destination's usage when it is an outgoing
// connection: not LISTEN, not bound-only/unconnected, not a request socket.
bool is_connection(const SocketRecord& socket);

// Rule 3 and 7: which bind(A, 0) calls a socket conflicts with
// (inet_bind_conflict(), inet_rcv_saddr_equal(), ipv6_rcv_saddr_equal()).
// A socket lands in its exact-address group (unless its address is a
// wildcard) and in some of these wildcard groups; a query for address A
// unions A's exact group with the wildcard groups overlapping A.
enum class OverlapGroup : uint8_t {
  any_v4,       // bound to 0.0.0.0
  any_v6_dual,  // bound to :: without V6ONLY
  any_v6_only,  // bound to :: with V6ONLY
  v4_or_dual,   // everything but a V6ONLY IPv6 socket: blocks bind(0.0.0.0:0)
  v6_all,       // every real IPv6 socket: blocks bind([::]:0) with V6ONLY
  all,          // every socket: blocks bind([::]:0) without V6ONLY
};
constexpr size_t kOverlapGroupCount = 6;
using OverlapMask = std::array<bool, kOverlapGroupCount>;

// Whether an IPv6 socket is V6ONLY (rule 7): SKV6ONLY when reported, else
// inferred from how it was bound, else net.ipv6.bindv6only.
bool is_v6only(const SocketRecord& socket, const HostFacts& host);

// Groups a socket occupies (besides its exact address).
OverlapMask overlap_groups_of(const SocketRecord& socket, const HostFacts& host);
// Groups a bind(address, 0) must avoid (besides address's exact group).
// `exact` is set to false for wildcard addresses, which have no exact group.
OverlapMask overlap_groups_for_bind(const Address& address, const HostFacts& host, bool& exact);

}  // namespace ephport
