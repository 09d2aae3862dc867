#pragma once
// Decodes one message of a NETLINK_SOCK_DIAG (SOCK_DIAG_BY_FAMILY) dump into
// a SocketRecord. Pure: no I/O, so tests and fuzzers feed it recorded bytes.

#include <linux/netlink.h>

#include <optional>

#include "snapshot/socket_record.h"

namespace ephport {

// `message` must have nlmsg_len readable bytes (mnl_cb_run and the replay
// loop check that before calling). The protocol is not in the message: it is
// the one the dump asked for.
//
// Returns nullopt for anything malformed: wrong type, a length too short for
// struct inet_diag_msg or not a multiple of 4 (the kernel always pads), a
// family other than AF_INET/AF_INET6, an attribute whose length runs past
// the message or does not fill it exactly, a too-short INET_DIAG_SKV6ONLY or
// INET_DIAG_SOCKOPT payload. It never reads outside the message.
std::optional<SocketRecord> parse_inet_diag_msg(const nlmsghdr* message, Protocol protocol);

}  // namespace ephport
