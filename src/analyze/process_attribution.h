#pragma once
// Who holds the ports: per-process figures, and the sockets no process holds
// (TIME_WAIT, orphans) by destination. Fed by the aggregator's single pass,
// one call per socket; memory grows with processes and their destinations.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analyze/analysis.h"
#include "model/port_rules.h"

namespace ephport {

class ProcessAttribution {
 public:
  // Without owners (--no-owners, saved files without them) only the unowned
  // sockets are counted.
  explicit ProcessAttribution(bool owners_resolved) : owners_resolved_(owners_resolved) {}

  // The socket's owners are its `pids` (empty when unknown or when owners
  // are not resolved); `verdict` is what the port rules made of it;
  // `in_range`: its local port is one of the range's.
  void add(const SocketRecord& socket, const SocketVerdict& verdict, bool in_range);

  // Processes holding at least one port of the range, most ports first.
  std::vector<ProcessRow> finish_processes();
  // Unowned TCP sockets on ports of the range, most sockets first; `top`
  // caps the list (0 = all).
  UnownedSockets finish_unowned(size_t top);
  // Sockets with a file whose owner was not found.
  uint64_t unattributed() const { return unattributed_; }

 private:
  struct DestinationKey {
    Protocol protocol = Protocol::tcp;
    Address local;
    Address remote;
    uint16_t remote_port = 0;
    bool operator==(const DestinationKey&) const = default;
  };
  struct DestinationKeyHash {
    size_t operator()(const DestinationKey& key) const noexcept;
  };
  struct AddressKey {
    Protocol protocol = Protocol::tcp;
    Address address;
    bool operator==(const AddressKey&) const = default;
  };
  struct AddressKeyHash {
    size_t operator()(const AddressKey& key) const noexcept;
  };
  // Distinct ports of the range, kept by number: memory grows with the
  // ports a process holds, never with its sockets.
  using Ports = std::unordered_set<uint16_t>;
  struct AddressCount {
    uint32_t sockets = 0;
    Ports ports;
  };
  struct Process {
    ProcessRow row;
    std::array<Ports, 2> ports;  // by Protocol
    std::unordered_map<AddressKey, AddressCount, AddressKeyHash> addresses;
    std::unordered_map<DestinationKey, uint32_t, DestinationKeyHash> destinations;
  };

  void add_owned(Process& process, const SocketRecord& socket, bool in_range, bool shared,
                 bool connection);
  void add_unowned(const SocketRecord& socket, bool timewait);

  std::unordered_map<uint32_t, Process> processes_;
  std::unordered_map<DestinationKey, UnownedDestination, DestinationKeyHash> unowned_;
  uint64_t unowned_sockets_ = 0;
  uint64_t unattributed_ = 0;
  bool owners_resolved_;
};

}  // namespace ephport
