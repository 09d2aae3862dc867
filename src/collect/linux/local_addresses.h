#pragma once
// The addresses configured on the interfaces of the current network
// namespace, read with an RTM_GETADDR dump over rtnetlink (libmnl), so that
// every local address gets a row, with its bind_free, even with no socket of
// its own.
//
// Which addresses count (`bindable()`): IPv4 and IPv6, loopback included
// (127.0.0.1 and ::1 are bound to as often as any); not IPv6 link-local
// (fe80::/10: bind() needs the interface as sin6_scope_id, which a row has
// not), and not addresses bind() refuses (IPv6 tentative or DAD-failed:
// EADDRNOTAVAIL). docs/output.md, "Configured addresses".

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "snapshot/address.h"

namespace ephport {

// One RTM_NEWADDR message.
struct InterfaceAddress {
  Address address;  // IFA_LOCAL, else IFA_ADDRESS
  uint32_t interface_index = 0;
  uint8_t prefix_length = 0;
  uint8_t scope = 0;   // RT_SCOPE_*
  uint32_t flags = 0;  // IFA_F_* (IFA_FLAGS when present: it has the high bits)
};

// Decodes one message; nullopt when it is not a well-formed RTM_NEWADDR of
// AF_INET or AF_INET6 with an address. Pure, no I/O.
std::optional<InterfaceAddress> parse_address_message(const nlmsghdr* message);

// Whether the address gets a row (see above).
bool bindable(const InterfaceAddress& address);

// The bindable addresses of a dump's reply datagrams, concatenated (a
// recording, tests/fixtures/rtnetlink/), sorted and without duplicates (an
// address may sit on two interfaces). Throws InputError when the bytes are
// not netlink messages, or a reply is malformed or an error.
std::vector<Address> local_addresses_from_dump(std::span<const uint8_t> replies);

// Dumps the current namespace's addresses (RTM_GETADDR, AF_UNSPEC) and
// returns the bindable ones, sorted and without duplicates. Throws
// RuntimeError naming what failed.
std::vector<Address> read_local_addresses();

}  // namespace ephport
