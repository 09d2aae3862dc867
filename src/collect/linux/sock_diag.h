#pragma once
// Streams the TCP and UDP sockets of the current network namespace from
// NETLINK_SOCK_DIAG (SOCK_DIAG_BY_FAMILY, inet_diag_req_v2), one callback per
// netlink message, never a whole table in memory.
//
// Order (the collector.h contract), one dump each:
//   1. TCP IPv4, states LISTEN + BOUND_INACTIVE (bound-only sockets, state 7)
//   2. TCP IPv6, same states
//   3. TCP IPv4, every other state (request sockets included)
//   4. TCP IPv6, every other state
//   5. UDP IPv4, all states;  6. UDP IPv6, all states
// An IPv6 dump refused with ENOENT or EAFNOSUPPORT (IPv6 off) is skipped.

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "collect/collector.h"
#include "util/error.h"

namespace ephport {

// Receives raw netlink bytes, in order: each request sent, then each datagram
// received. Concatenated, they form a recording for replay_sock_diag(),
// like `ss -D FILE`. The span is valid only during the call.
using SockDiagRecorder = std::function<void(std::span<const uint8_t> bytes)>;

struct SockDiagOptions {
  bool tcp = true;
  bool udp = true;
  SockDiagRecorder record;  // optional
};

// A failed sock_diag: the netlink socket could not be opened (`at_open`), or
// a dump got an error. The message says which dump and why, e.g.
// "netlink sock_diag dump (tcp, IPv6) failed: Operation not permitted".
class SockDiagError : public RuntimeError {
 public:
  SockDiagError(const std::string& message, int error_number, bool at_open)
      : RuntimeError(message), error_number_(error_number), at_open_(at_open) {}
  int error_number() const { return error_number_; }
  bool at_open() const { return at_open_; }

 private:
  int error_number_;
  bool at_open_;
};

// Dumps the sockets to `visit` in the order above. Throws SockDiagError. An
// exception thrown by `visit` stops the dump and propagates unchanged.
void dump_sock_diag(const SockDiagOptions& options, const SocketVisitor& visit);

// Decodes a recording made through SockDiagOptions::record: the protocol of
// each reply comes from the request before it; NLMSG_DONE and NLMSG_ERROR
// messages are skipped. Throws InputError if the bytes are not such a
// recording (a message cut short, a reply before any request, a malformed
// reply).
void replay_sock_diag(std::span<const uint8_t> recording, const SocketVisitor& visit);

// True for the errors that mean sock_diag is missing or forbidden here
// (EPROTONOSUPPORT, EAFNOSUPPORT, ENOENT, EACCES, EPERM, EOPNOTSUPP), as
// opposed to a dump that went wrong: worth falling back to /proc/net.
bool sock_diag_unavailable(int error_number);

}  // namespace ephport
