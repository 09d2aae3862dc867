#pragma once
// The IPV6_V6ONLY of sockets whose record does not carry it. sock_diag sends
// INET_DIAG_SKV6ONLY only for LISTEN and CLOSE sockets, /proc/net never; the
// BPF iterators (bind_state.bpf.c, TCP and UDP) read skc_ipv6only
// (tw_ipv6only for a TIME_WAIT socket) of every IPv6 socket they walk and
// keep it by port, one pair of bitmaps per protocol.

#include <cstdint>

#include "snapshot/port_set.h"
#include "snapshot/socket_record.h"

namespace ephport {

// The walked IPv6 sockets of one protocol on real (not v4-mapped) addresses.
struct V6OnlyPorts {
  PortSet v6only;      // ports where one such socket has V6ONLY set
  PortSet dual_stack;  // ports where one such socket has it clear
};

// The V6ONLY of `socket`: the record's own when its source reported it; for
// a socket on a real IPv6 address that it did not, 1 when the walk of its
// protocol (`walked`) saw only V6ONLY sockets on its port, 0 when it saw a
// dual-stack one there (the port then blocks bind(0.0.0.0:0) whatever this
// socket's own V6ONLY: the only figure V6ONLY changes for a connected
// socket), -1 when the walk saw none (a socket made after it).
int8_t walked_v6only(const SocketRecord& socket, const V6OnlyPorts& walked);

}  // namespace ephport
