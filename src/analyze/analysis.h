#pragma once
// The result of one analysis pass: what every sink renders. Plain values, no
// I/O. Field names follow the ephport.snapshot/1 JSON contract
// (docs/model.md explains each figure).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/address.h"
#include "snapshot/host_facts.h"
#include "snapshot/owner_table.h"
#include "snapshot/process_info.h"
#include "snapshot/socket_record.h"

namespace ephport {

using StateCounts = std::array<uint32_t, kSockStateCount>;  // indexed by SockState

// Whether B (ports connect() skips for every destination) was read from the
// allocator itself or estimated by the model.
enum class BindState : uint8_t { estimated, exact };
std::string_view bind_state_name(BindState state);  // "estimated", "exact"
std::optional<BindState> parse_bind_state(std::string_view name);

// Filled by analyze/trend from the history of earlier samples (log mode);
// empty for a single snapshot.
struct Forecast {
  std::optional<double> rate_per_second;      // ports consumed per second (negative: freeing)
  std::optional<double> exhausts_in_seconds;  // at that rate; empty when not trending to 0
};

struct DestinationRow {
  Address local_address;
  Address remote_address;
  uint16_t remote_port = 0;
  uint32_t in_use = 0;        // sockets from local to remote:port on a port of E
  uint32_t time_wait = 0;     // of which TIME_WAIT
  uint32_t connect_free = 0;  // further plain connect()s the kernel would accept
  double usage_percent = 0;   // 100 * (capacity - connect_free) / capacity
  // The bounds of connect_free: equal to it with the exact bind state; with
  // an estimated one, the kernel's count lies between them whatever bind()
  // took (docs/model.md, "Estimates and their bounds").
  uint32_t connect_free_min = 0;
  uint32_t connect_free_max = 0;
  // TIME_WAIT/FIN_WAIT2 sockets here that blocked a port and expire within
  // the expiry window (the log interval): ports that free themselves.
  uint32_t time_wait_expiring = 0;
  Forecast forecast;
};

struct AddressRow {
  Address address;
  bool wildcard = false;  // 0.0.0.0 / :: rows: "bind(0) without an address"
  // Configured on an interface of the namespace (rtnetlink); empty when the
  // configured addresses were not read (a /proc tree, an older capture).
  std::optional<bool> configured;
  // Some socket has exactly this local address; false for a configured
  // address listed only for its bind_free (the table shows it with
  // --all-addresses).
  bool own_sockets = true;
  uint32_t ports_in_use = 0;     // distinct ports of E held on this address or a wildcard
  double usage_percent = 0;      // 100 * ports_in_use / capacity
  uint32_t listening_ports = 0;  // distinct listening ports on this address or wildcard
  uint32_t pids = 0;             // distinct owning PIDs on this address or wildcard
  uint32_t bind_free = 0;        // further bind(address:0) calls that would succeed
  // Its bounds: equal to it when every overlapping IPv6 socket's V6ONLY is
  // known (reported by sock_diag, or read by BPF); around the kernel's count
  // whatever the guessed V6ONLY (docs/model.md, "Estimates and their bounds").
  uint32_t bind_free_min = 0;
  uint32_t bind_free_max = 0;
  uint32_t connect_free_new_destination = 0;      // connect()s to a not yet used destination
  uint32_t connect_free_new_destination_min = 0;  // its bounds, as connect_free's
  uint32_t connect_free_new_destination_max = 0;
  // The sockets behind ports_in_use: on a port of E, on this address or an
  // overlapping wildcard (for a wildcard row: every socket a bind() there
  // must avoid), whatever their state. Their ports are what ports_in_use
  // counts, so states and ports_in_use always describe the same sockets.
  uint32_t sockets = 0;
  StateCounts states{};
  // Ports of E held on it (or an overlapping wildcard) only by timewait
  // sockets expiring within the window: bind_free gains them.
  uint32_t time_wait_expiring = 0;
  std::optional<DestinationRow> worst_destination;  // from this address
  Forecast forecast;                                // of ports_in_use
};

// TIME_WAIT and orphaned sockets (closed by their process, still holding a
// port) have no owner: they are reported by destination, with their timers.
struct UnownedDestination {
  Address local_address;
  Address remote_address;
  uint16_t remote_port = 0;
  uint32_t time_wait = 0;       // TIME_WAIT, and FIN_WAIT2 after close() (timewait sockets)
  uint32_t orphaned = 0;        // FIN_WAIT1, CLOSING, LAST_ACK, ... with no file left
  uint32_t expires_min_ms = 0;  // soonest and latest timer among them (0: none reported)
  uint32_t expires_max_ms = 0;
};

struct UnownedSockets {
  uint64_t sockets = 0;  // on ports of the range
  uint64_t destination_count = 0;
  std::vector<UnownedDestination> destinations;  // most sockets first, at most `top`
};

// Which row sets a pressure figure: the most specific row at it (a
// destination, else a specific address, else a wildcard).
struct PressureSource {
  bool destination = false;  // a destination row, else an address row
  Address local_address;
  Address remote_address;  // destinations only
  uint16_t remote_port = 0;
};

struct ProtocolAnalysis {
  Protocol protocol = Protocol::tcp;
  PortRange range;
  uint32_t capacity = 0;              // |E|: range minus reserved ports
  uint32_t capacity_guaranteed = 0;   // capacity - 1 for odd-sized TCP ranges
  uint32_t bind_owned_ports = 0;      // |B|: ports of E connect() skips for every destination
  uint32_t bind_owned_ports_min = 0;  // the bounds of |B|: equal to it when exact; when
  uint32_t bind_owned_ports_max = 0;  // estimated, B holds at least / at most these
  double pressure_percent = 0;        // worst usage over addresses and destinations
  // What alarms use: the pressure with every destination at connect_free_min
  // (the pressure itself when the bind state is exact).
  double pressure_percent_max = 0;
  // The rows that set them; empty when nothing is in use (pressure 0).
  std::optional<PressureSource> pressure_source;
  std::optional<PressureSource> pressure_source_max;
  // The least connect_free_min over every destination (before the top-N
  // cut) and a new destination: the worst case of `check --metric
  // connect_free`. TCP only.
  uint32_t least_connect_free_min = 0;
  uint64_t sockets = 0;  // records seen for this protocol
  StateCounts states{};
  std::vector<AddressRow> addresses;         // specific addresses, then the wildcards
  std::vector<DestinationRow> destinations;  // worst first, at most `top`
  uint64_t destination_count = 0;            // before the top-N cut
  // The forecast of the row that runs out first, else of the busiest one.
  Forecast pressure_forecast;
  UnownedSockets unowned;  // TCP only
};

struct ProcessAddress {
  Protocol protocol = Protocol::tcp;
  Address address;
  uint32_t sockets_in_range = 0;  // its sockets there on a port of the range
  uint32_t ports = 0;             // the distinct ports they hold
};

struct ProcessDestination {
  Protocol protocol = Protocol::tcp;
  Address local_address;
  Address remote_address;
  uint16_t remote_port = 0;
  uint32_t sockets = 0;
};

// One process holding ports of the range. Linux shares a port between
// destinations, so sockets and ports differ: `sockets_in_range` counts a
// port once per socket holding it, `ports` once.
struct ProcessRow {
  uint32_t pid = 0;
  uint32_t sockets_in_range = 0;  // its sockets on a port of the range, TCP and UDP
  uint32_t ports = 0;             // distinct ports of the range they hold, TCP plus UDP
  uint32_t sockets = 0;           // all its TCP and UDP sockets
  uint32_t listening_ports = 0;   // its TCP LISTEN sockets
  uint32_t shared_sockets = 0;    // sockets other processes hold too (inherited over fork)
  std::array<uint32_t, 2> protocol_sockets{};    // sockets_in_range by Protocol
  std::array<uint32_t, 2> protocol_ports{};      // ports by Protocol (any local address)
  std::array<StateCounts, 2> states{};           // its sockets on ports of the range, by state
  std::vector<ProcessAddress> addresses;         // busiest first
  std::vector<ProcessDestination> destinations;  // busiest first, every one
  std::optional<ProcessInfo> info;  // attached after the analysis; empty when it exited
};

struct OwnerSummary {
  bool resolved = false;  // false with --no-owners or when reading a saved file
  // Every socket's owners are known: every process's fd table could be
  // read, or every socket with a file was found in the ones that could.
  bool complete = false;
  uint64_t processes_scanned = 0;
  uint64_t processes_unreadable = 0;
  OwnerMethod method = OwnerMethod::none;
  // Identities were read from /proc after the walk (not for a saved capture).
  bool identities_read = false;
  // Sockets with a file (inode) whose process could not be found or read.
  uint64_t sockets_unattributed = 0;
};

struct Analysis {
  HostFacts host;
  BindState bind_state = BindState::estimated;  // exact only with the BPF iterator
  std::string bind_state_note;                  // why it is estimated, when BPF was tried
  uint32_t expiry_window_ms = 0;                // the window of time_wait_expiring
  ProtocolAnalysis tcp;
  ProtocolAnalysis udp;
  bool has_tcp = true;
  bool has_udp = true;
  OwnerSummary owners;
  // Processes holding ports of the range, most ports first; empty without owners.
  std::vector<ProcessRow> processes;
};

}  // namespace ephport
