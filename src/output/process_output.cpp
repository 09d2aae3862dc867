#include "output/process_output.h"

#include <fmt/format.h>

#include "output/address_rows.h"
#include "output/json.h"
#include "output/sheet.h"
#include "output/table.h"

namespace ephport {

namespace {
using json = nlohmann::ordered_json;

// The unit, else a short container id, else the cgroup path.
std::string cgroup_cell(const ProcessInfo& info) {
  if (!info.unit.empty()) {
    return info.unit;
  }
  if (!info.container.empty()) {
    return "container:" + info.container.substr(0, 12);
  }
  return info.cgroup.empty() ? "-" : info.cgroup;
}

std::string count_of(const StateCounts& states, SockState state) {
  return std::to_string(states[static_cast<size_t>(state)]);
}

std::string expiry_cell(const UnownedDestination& row) {
  if (row.expires_max_ms == 0) {
    return "-";
  }
  return fmt::format("{:.1f}-{:.1f}", row.expires_min_ms / 1000.0, row.expires_max_ms / 1000.0);
}
}  // namespace

json process_info_json(const ProcessInfo& info) {
  json unreadable = json::array();
  for (const std::string& what : info.unreadable) {
    unreadable.push_back(what);
  }
  return {{"name", info.name},
          {"ppid", info.ppid},
          {"exe", text_or_null(info.exe)},
          {"cmdline", info.cmdline},
          {"cmdline_truncated", info.cmdline_truncated},
          {"user", info.user},
          {"uid", info.uid},
          {"cgroup", text_or_null(info.cgroup)},
          {"unit", text_or_null(info.unit)},
          {"container", text_or_null(info.container)},
          {"runtime", text_or_null(info.runtime)},
          {"pod", text_or_null(info.pod)},
          {"fd_count", info.fd_count >= 0 ? json(info.fd_count) : json(nullptr)},
          {"start_time_ticks", info.start_time},
          {"unreadable", std::move(unreadable)}};
}

json process_json(const ProcessRow& row, size_t top_destinations, bool identities_read) {
  json object = {{"pid", row.pid}};
  if (row.info) {
    object.update(process_info_json(*row.info));
  } else {
    object["name"] = nullptr;
    // Live: it exited between the socket walk and reading /proc. A saved
    // capture records pids only.
    object["exited"] = identities_read ? json(true) : json(nullptr);
  }
  // ports_in_use is sockets_in_range under its ephport.snapshot/1 name,
  // kept for the consumers of that schema.
  object["sockets_in_range"] = row.sockets_in_range;
  object["ports"] = row.ports;
  object["ports_in_use"] = row.sockets_in_range;
  object["sockets"] = row.sockets;
  object["listening_ports"] = row.listening_ports;
  object["shared_sockets"] = row.shared_sockets;
  json protocols = json::object();
  for (Protocol protocol : {Protocol::tcp, Protocol::udp}) {
    auto index = static_cast<size_t>(protocol);
    if (row.protocol_sockets[index] != 0) {
      protocols[std::string(protocol_name(protocol))] = {
          {"sockets_in_range", row.protocol_sockets[index]},
          {"ports", row.protocol_ports[index]},
          {"ports_in_use", row.protocol_sockets[index]},
          {"states", states_json(row.states[index])}};
    }
  }
  object["protocols"] = std::move(protocols);
  json addresses = json::array();
  for (const ProcessAddress& address : row.addresses) {
    addresses.push_back({{"protocol", protocol_name(address.protocol)},
                         {"address", address.address.str()},
                         {"sockets_in_range", address.sockets_in_range},
                         {"ports", address.ports},
                         {"ports_in_use", address.sockets_in_range}});
  }
  object["addresses"] = std::move(addresses);
  json destinations = json::array();
  for (const ProcessDestination& destination : row.destinations) {
    if (top_destinations != 0 && destinations.size() == top_destinations) {
      break;
    }
    destinations.push_back({{"protocol", protocol_name(destination.protocol)},
                            {"local_address", destination.local_address.str()},
                            {"remote_address", destination.remote_address.str()},
                            {"remote_port", destination.remote_port},
                            {"sockets", destination.sockets}});
  }
  object["destination_count"] = row.destinations.size();
  object["destinations"] = std::move(destinations);
  return object;
}

json processes_json(const Analysis& analysis, size_t top_destinations) {
  if (!analysis.owners.resolved) {
    return nullptr;
  }
  json array = json::array();
  for (const ProcessRow& row : analysis.processes) {
    array.push_back(process_json(row, top_destinations, analysis.owners.identities_read));
  }
  return array;
}

json unowned_json(const UnownedSockets& unowned) {
  json destinations = json::array();
  for (const UnownedDestination& row : unowned.destinations) {
    destinations.push_back(
        {{"local_address", row.local_address.str()},
         {"remote_address", row.remote_address.str()},
         {"remote_port", row.remote_port},
         {"time_wait", row.time_wait},
         {"orphaned", row.orphaned},
         {"expires_min_ms", row.expires_max_ms != 0 ? json(row.expires_min_ms) : json(nullptr)},
         {"expires_max_ms", row.expires_max_ms != 0 ? json(row.expires_max_ms) : json(nullptr)}});
  }
  return {{"sockets", unowned.sockets},
          {"destination_count", unowned.destination_count},
          {"destinations", std::move(destinations)}};
}

Sheet process_sheet(const Analysis& analysis) {
  constexpr Align left = Align::left;
  constexpr Align right = Align::right;
  // Narrowed, who holds how many ports stays; the path and details go first.
  Sheet sheet{{{"PID", right},
               {"Process", left},
               {"User", left, 3},
               {"Cgroup", left, 7},
               {"Sockets", right},
               {"Ports", right},
               {"ESTAB", right, 2},
               {"CLOSE_WAIT", right, 4, "CW"},
               {"Listen", right, 5},
               {"Fds", right, 6},
               {"TopDestination", left, 1, "TopDest"},
               {"Exe", left, 8}},
              {}};
  const auto tcp = static_cast<size_t>(Protocol::tcp);
  for (const ProcessRow& row : analysis.processes) {
    const ProcessInfo* info = row.info ? &*row.info : nullptr;
    std::string top = "-";
    if (!row.destinations.empty()) {
      const ProcessDestination& first = row.destinations.front();
      top = fmt::format("{} ({})", format_endpoint(first.remote_address, first.remote_port),
                        first.sockets);
    }
    sheet.rows.push_back(
        {std::to_string(row.pid),
         info != nullptr                   ? info->name
         : analysis.owners.identities_read ? "(exited)"
                                           : "-",
         info != nullptr ? info->user : "-", info != nullptr ? cgroup_cell(*info) : "-",
         std::to_string(row.sockets_in_range), std::to_string(row.ports),
         count_of(row.states[tcp], SockState::established),
         count_of(row.states[tcp], SockState::close_wait), std::to_string(row.listening_ports),
         info != nullptr && info->fd_count >= 0 ? std::to_string(info->fd_count) : "-", top,
         info != nullptr && !info->exe.empty() ? info->exe : "-"});
  }
  return sheet;
}

Sheet unowned_sheet(const UnownedSockets& unowned) {
  constexpr Align left = Align::left;
  constexpr Align right = Align::right;
  Sheet sheet{{{"LocalAddress", left},
               {"Destination", left},
               {"TimeWait", right},
               {"Orphaned", right, 2},
               {"ExpiresIn(s)", right, 1, "Expires"}},
              {}};
  for (const UnownedDestination& row : unowned.destinations) {
    sheet.rows.push_back(
        {row.local_address.str(), format_endpoint(row.remote_address, row.remote_port),
         std::to_string(row.time_wait), std::to_string(row.orphaned), expiry_cell(row)});
  }
  return sheet;
}

std::string render_process_table(const Analysis& analysis, size_t width, bool* narrowed) {
  if (!analysis.owners.resolved) {
    return "Processes: not resolved (--no-owners)\n";
  }
  const Sheet processes = process_sheet(analysis);
  std::string out = fmt::format("Processes holding ephemeral ports ({}):\n", processes.rows.size());
  out += render_table(processes, width, narrowed);

  const UnownedSockets& unowned = analysis.tcp.unowned;
  if (analysis.has_tcp && unowned.sockets != 0) {
    const Sheet destinations = unowned_sheet(unowned);
    out += fmt::format(
        "\nUnowned TCP sockets on ephemeral ports: {} (TIME_WAIT and orphans, no process; "
        "{} of {} destinations):\n",
        unowned.sockets, destinations.rows.size(), unowned.destination_count);
    out += render_table(destinations, width, narrowed);
  }
  if (analysis.owners.sockets_unattributed != 0) {
    out += fmt::format("note: {} sockets have an owner that could not be read\n",
                       analysis.owners.sockets_unattributed);
  }
  return out;
}

}  // namespace ephport
