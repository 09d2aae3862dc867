#pragma once
// The single streaming pass: feed every socket record once, then finish().
// Memory grows with the number of addresses, destinations and processes,
// never with the number of sockets.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "analyze/analysis.h"
#include "analyze/process_attribution.h"
#include "snapshot/host_facts.h"
#include "snapshot/owner_table.h"
#include "snapshot/port_set.h"
#include "snapshot/socket_record.h"

namespace ephport {

class Aggregator {
 public:
  // `owners`: how the collector found the owner pids it put on each record,
  // or null when they were not resolved (--no-owners). The port rules are
  // chosen by host.platform.
  Aggregator(const HostFacts& host, const OwnerScan* owners);
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  // The allocator's own bind state, when the collector could read it (Linux:
  // BPF). Call before add(); without it the model estimates B.
  void use_exact_bind_state(const PortSet& bind_owned);

  // Counts timewait sockets that expire within `window_ms` (time_wait_expiring,
  // expiry_window_ms); 0, the default, counts none. Call before add().
  void set_expiry_window_ms(uint32_t window_ms);

  // The addresses configured on the namespace's interfaces: each gets an
  // address row, with or without sockets. Call before finish().
  void add_configured_addresses(const std::vector<Address>& addresses);

  // Records must follow the collector ordering contract (collector.h).
  void add(const SocketRecord& socket);

  // `top` caps destinations[] per protocol (0 = all).
  Analysis finish(size_t top);

 private:
  class ProtocolPass;
  HostFacts host_;
  std::optional<OwnerScan> owners_;
  ProcessAttribution attribution_;
  std::unique_ptr<ProtocolPass> tcp_;
  std::unique_ptr<ProtocolPass> udp_;
  bool bind_state_exact_ = false;
  uint32_t expiry_window_ms_ = 0;
};

}  // namespace ephport
