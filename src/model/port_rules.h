#pragma once
// The seam between the analysis and an operating system's port allocator.
// analyze/aggregator keeps platform-free bookkeeping (groups, counters,
// rows) and asks these questions about every socket; each platform answers
// them with its kernel's rules (model/linux_rules.h; Windows next). The
// rules are chosen by the snapshot's platform, not by the build, so a
// capture is analysed by its own platform's rules wherever it is read.
//
// One PortRules serves one protocol of one snapshot. It may learn from the
// sockets it observes (listeners, the ports connections took), so it is
// shown every socket once, in the collector's order (collect/collector.h).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "snapshot/address.h"
#include "snapshot/host_facts.h"
#include "snapshot/port_set.h"
#include "snapshot/socket_record.h"

namespace ephport {

// Which bind(A, 0) calls a socket conflicts with, beyond its own exact
// address: a socket lands in its exact-address group (unless its address
// is a wildcard) and in some of these wildcard groups; a query for address
// A unions A's exact group with the wildcard groups overlapping A.
enum class OverlapGroup : uint8_t {
  any_v4,       // bound to 0.0.0.0
  any_v6_dual,  // bound to :: without V6ONLY
  any_v6_only,  // bound to :: with V6ONLY
  v4_or_dual,   // everything but a V6ONLY IPv6 socket: blocks bind(0.0.0.0:0)
  v6_all,       // every real IPv6 socket: blocks bind([::]:0) with V6ONLY
  all,          // every socket: blocks bind([::]:0) without V6ONLY
  // Linux UDP: dual-stack IPv6 sockets connected from a real IPv6 address,
  // whose IPv4 receive address is the loopback substitute 127.0.0.6: they
  // block bind(127.0.0.6:0).
  ipv4_loopback_substitute,
};
constexpr size_t kOverlapGroupCount = 7;
using OverlapMask = std::array<bool, kOverlapGroupCount>;

// What the allocator makes of one socket: the answers the analysis needs,
// in one call per socket.
struct SocketVerdict {
  // The socket as the allocator sees it: the collector's record, with what
  // the collector could not report filled in (Linux: the V6ONLY an accepted
  // child inherits). Valid until the next judge().
  const SocketRecord* socket = nullptr;
  bool connection = false;         // an outgoing connection: counts towards its destination
  bool accepted_child = false;     // a connection accepted by a listener: on the listener's port
  bool timewait = false;           // a timewait socket: no file left, waiting out its timer
  bool holds_bind_state = false;   // holds its port against connect() to every destination
  bool blocks_four_tuple = false;  // blocks its own 4-tuple for a further connect()
  bool expiring = false;           // a timewait socket leaving its port within the window
  OverlapMask groups{};            // wildcard groups it occupies (besides its exact address)
  // Whether the groups rest on a guess of the socket's V6ONLY (Linux: an
  // IPv6 socket sock_diag did not report it for, without BPF), and the
  // groups it would occupy with the other guess (`groups` when not guessed):
  // bind_free's bounds take both.
  bool v6only_guessed = false;
  OverlapMask groups_other_v6only{};
};

class PortRules {
 public:
  virtual ~PortRules() = default;

  // --- The range
  // E: the ports the allocator may hand out (range minus reserved ports).
  virtual const PortSet& ephemeral() const = 0;
  // Ports one allocation is sure to visit: |E|, or fewer where the
  // allocator's walk skips some.
  virtual uint32_t guaranteed_capacity() const = 0;
  // Whether connections to different destinations may share a local port,
  // so each destination has its own budget (connect_free per destination).
  virtual bool shares_ports_between_destinations() const = 0;
  // The wildcard groups a bind(address, 0) must avoid (besides address's
  // exact group); `exact` is set to false for wildcards, which have none.
  virtual OverlapMask overlap_groups_for_bind(const Address& address, bool& exact) const = 0;

  // --- Every socket, once, in collector order
  // Judges the socket (timewait sockets expiring within `expiry_window_ms`,
  // if > 0, are `expiring`) and learns what later sockets depend on
  // (listeners).
  virtual SocketVerdict judge(const SocketRecord& socket, uint32_t expiry_window_ms) = 0;

  // --- Estimating the bind state when it cannot be read
  // Without the allocator's own record of which ports bind() took, the
  // rules may guess from the ports connections hold. note_connection() is
  // told each connection on a port of E (not an accepted child), with the
  // caller's index of its destination and a tag of the caller's, and
  // returns true when it keeps the tag as a candidate; estimated_bind_owned()
  // returns the kept tags whose port the guess puts in bind() state, given
  // the ports known to be in it (`known`).
  virtual bool note_connection(uint32_t destination, const SocketRecord& socket,
                               bool port_in_bind_state, uint32_t tag) = 0;
  virtual std::vector<uint32_t> estimated_bind_owned(const PortSet& known) = 0;
};

// The rules of `host.platform` for `protocol`. `host` must outlive them.
// Throws InputError for a platform whose rules are not built in.
std::unique_ptr<PortRules> make_port_rules(const HostFacts& host, Protocol protocol);

}  // namespace ephport
