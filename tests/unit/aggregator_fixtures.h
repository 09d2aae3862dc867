#pragma once
// Shared by the aggregator tests: a 10-port host and lookups into an
// Analysis that fail the test (instead of reading past the end) when the
// row is missing.

#include <gtest/gtest.h>

#include <algorithm>

#include "analyze/aggregator.h"
#include "analyze/analysis.h"
#include "snapshot/owner_table.h"

namespace ephport::testing {

// 40000-40009: N = 10, even first port (connect() takes even ports first).
inline HostFacts small_host() {
  HostFacts host;
  host.computer = "lab";
  host.set_range({40000, 40009});
  host.linux_sysctls.tcp_tw_reuse = 0;
  return host;
}

// What an owner walk that produced `owners` covered.
inline OwnerScan scan_of(const OwnerTable& owners) {
  return {OwnerMethod::none, owners.processes_scanned(), owners.processes_unreadable()};
}

// Adds `socket` with its owner pids from `owners` (when given), joined by
// inode as the Linux collector does before the aggregator sees a record.
inline void add_owned(Aggregator& aggregator, const OwnerTable* owners,
                      const SocketRecord& socket) {
  if (owners == nullptr) {
    aggregator.add(socket);
    return;
  }
  SocketRecord owned = socket;
  owned.pids = owners->pids_of(socket.inode);
  aggregator.add(owned);
}

inline Address ip(const char* text) {
  return *Address::parse(text);
}

// A socket record as a collector would report it.
inline SocketRecord socket_of(Protocol protocol, SockState state, const char* local, uint16_t lport,
                              const char* remote, uint16_t rport) {
  SocketRecord socket;
  socket.protocol = protocol;
  socket.state = state;
  socket.local = ip(local);
  socket.remote = ip(remote);
  socket.family = socket.local.family();
  socket.local_port = lport;
  socket.remote_port = rport;
  return socket;
}

inline const AddressRow& row_for(const ProtocolAnalysis& protocol, const char* address) {
  static const AddressRow kMissing;
  auto found = std::find_if(protocol.addresses.begin(), protocol.addresses.end(),
                            [&](const AddressRow& row) { return row.address == ip(address); });
  if (found == protocol.addresses.end()) {
    ADD_FAILURE() << "no address row for " << address;
    return kMissing;
  }
  return *found;
}

}  // namespace ephport::testing
