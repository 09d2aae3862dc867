#include "analyze/process_attribution.h"

#include <algorithm>
#include <tuple>

#include "model/port_rules.h"

namespace ephport {

size_t ProcessAttribution::DestinationKeyHash::operator()(
    const DestinationKey& key) const noexcept {
  AddressHash hash;
  size_t value = hash(key.local);
  value = value * 1000003u ^ hash(key.remote);
  value = value * 1000003u ^ key.remote_port;
  return value * 31u ^ static_cast<size_t>(key.protocol);
}

size_t ProcessAttribution::AddressKeyHash::operator()(const AddressKey& key) const noexcept {
  return AddressHash{}(key.address) * 31u ^ static_cast<size_t>(key.protocol);
}

void ProcessAttribution::add(const SocketRecord& socket, const SocketVerdict& verdict,
                             bool in_range) {
  if (socket.inode == 0) {
    // No file: a timewait socket or an orphan. The kernel still holds its
    // port until the timer fires, whoever opened it.
    if (in_range && socket.protocol == Protocol::tcp) {
      add_unowned(socket, verdict.timewait);
    }
    return;
  }
  std::span<const uint32_t> pids = socket.pids;
  if (!owners_resolved_) {
    return;
  }
  if (pids.empty()) {
    ++unattributed_;
    return;
  }
  for (uint32_t pid : pids) {
    Process& process = processes_[pid];
    process.row.pid = pid;
    add_owned(process, socket, in_range, pids.size() > 1, verdict.connection);
  }
}

void ProcessAttribution::add_owned(Process& process, const SocketRecord& socket, bool in_range,
                                   bool shared, bool connection) {
  ProcessRow& row = process.row;
  ++row.sockets;
  row.shared_sockets += shared ? 1 : 0;
  if (socket.state == SockState::listen) {
    ++row.listening_ports;
  }
  if (!in_range) {
    return;
  }
  const auto protocol = static_cast<size_t>(socket.protocol);
  ++row.sockets_in_range;
  ++row.protocol_sockets[protocol];
  ++row.states[protocol][static_cast<size_t>(socket.state)];
  process.ports[protocol].insert(socket.local_port);
  AddressCount& address = process.addresses[{socket.protocol, socket.local}];
  ++address.sockets;
  address.ports.insert(socket.local_port);
  if (connection) {
    ++process.destinations[{socket.protocol, socket.local, socket.remote, socket.remote_port}];
  }
}

void ProcessAttribution::add_unowned(const SocketRecord& socket, bool timewait) {
  ++unowned_sockets_;
  UnownedDestination& row =
      unowned_[{socket.protocol, socket.local, socket.remote, socket.remote_port}];
  ++(timewait ? row.time_wait : row.orphaned);
  if (socket.timer != 0) {
    bool first = row.expires_max_ms == 0 && row.expires_min_ms == 0;
    row.expires_min_ms =
        first ? socket.expires_ms : std::min(row.expires_min_ms, socket.expires_ms);
    row.expires_max_ms = std::max(row.expires_max_ms, socket.expires_ms);
  }
}

std::vector<ProcessRow> ProcessAttribution::finish_processes() {
  std::vector<ProcessRow> rows;
  for (auto& [pid, process] : processes_) {
    ProcessRow& row = process.row;
    if (row.sockets_in_range == 0) {
      continue;  // owns sockets, none on a port of the range
    }
    for (size_t protocol = 0; protocol < process.ports.size(); ++protocol) {
      row.protocol_ports[protocol] = static_cast<uint32_t>(process.ports[protocol].size());
      row.ports += row.protocol_ports[protocol];
    }
    for (const auto& [key, count] : process.addresses) {
      row.addresses.push_back(
          {key.protocol, key.address, count.sockets, static_cast<uint32_t>(count.ports.size())});
    }
    std::sort(row.addresses.begin(), row.addresses.end(),
              [](const ProcessAddress& a, const ProcessAddress& b) {
                return std::tie(b.sockets_in_range, a.protocol, a.address) <
                       std::tie(a.sockets_in_range, b.protocol, b.address);
              });
    for (const auto& [key, count] : process.destinations) {
      row.destinations.push_back({key.protocol, key.local, key.remote, key.remote_port, count});
    }
    std::sort(
        row.destinations.begin(), row.destinations.end(),
        [](const ProcessDestination& a, const ProcessDestination& b) {
          return std::tie(b.sockets, a.protocol, a.local_address, a.remote_address, a.remote_port) <
                 std::tie(a.sockets, b.protocol, b.local_address, b.remote_address, b.remote_port);
        });
    rows.push_back(std::move(row));
  }
  processes_.clear();
  std::sort(rows.begin(), rows.end(), [](const ProcessRow& a, const ProcessRow& b) {
    return std::tie(b.sockets_in_range, a.pid) < std::tie(a.sockets_in_range, b.pid);
  });
  return rows;
}

UnownedSockets ProcessAttribution::finish_unowned(size_t top) {
  UnownedSockets result;
  result.sockets = unowned_sockets_;
  result.destination_count = unowned_.size();
  for (const auto& [key, row] : unowned_) {
    UnownedDestination out = row;
    out.local_address = key.local;
    out.remote_address = key.remote;
    out.remote_port = key.remote_port;
    result.destinations.push_back(out);
  }
  auto total = [](const UnownedDestination& row) { return row.time_wait + row.orphaned; };
  std::sort(result.destinations.begin(), result.destinations.end(),
            [&](const UnownedDestination& a, const UnownedDestination& b) {
              return std::tuple(total(b), a.local_address, a.remote_address, a.remote_port) <
                     std::tuple(total(a), b.local_address, b.remote_address, b.remote_port);
            });
  if (top != 0 && result.destinations.size() > top) {
    result.destinations.resize(top);
  }
  unowned_.clear();
  return result;
}

}  // namespace ephport
