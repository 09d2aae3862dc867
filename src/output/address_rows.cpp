#include "output/address_rows.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "util/time_format.h"

namespace ephport {

namespace {
std::string pids_cell(const Analysis& analysis, uint32_t pids) {
  if (!analysis.owners.resolved) {
    return "-";
  }
  // A lower bound when other users' processes could not be read.
  return analysis.owners.complete ? std::to_string(pids) : fmt::format("{}+", pids);
}

// Forecast cells: two decimals, or two significant digits below 0.1/s, so a
// slow leak does not show as 0.00; whole seconds; "-" when there is none.
std::string rate_cell(const std::optional<double>& rate) {
  if (!rate) {
    return "-";
  }
  return std::fabs(*rate) >= 0.1 || *rate == 0 ? fmt::format("{:.2f}", *rate)
                                               : fmt::format("{:.2g}", *rate);
}

std::string seconds_cell(const std::optional<double>& seconds) {
  return seconds ? fmt::format("{:.0f}", *seconds) : "-";
}

void append_rows(const Analysis& analysis, const ProtocolAnalysis& protocol, bool mark_estimates,
                 bool all_addresses, std::vector<Cells>& rows) {
  std::string mark = estimate_mark(analysis, mark_estimates);
  std::string time = format_rfc3339_utc(analysis.host.time, false);
  for (const AddressRow& address : protocol.addresses) {
    // A configured address with no socket of its own only on request.
    if (address.wildcard || (!address.own_sockets && !all_addresses)) {
      continue;
    }
    std::string worst = "-";
    std::string worst_usage = "-";
    if (address.worst_destination) {
      worst = format_endpoint(address.worst_destination->remote_address,
                              address.worst_destination->remote_port);
      worst_usage = mark + format_percent(address.worst_destination->usage_percent);
    }
    rows.push_back({
        analysis.host.computer,
        time,
        address.address.str(),
        std::to_string(address.ports_in_use),
        std::to_string(protocol.capacity),
        format_percent(address.usage_percent),
        std::to_string(address.listening_ports),
        pids_cell(analysis, address.pids),
        std::string(protocol_name(protocol.protocol)),
        bind_free_mark(address, mark_estimates) + std::to_string(address.bind_free),
        protocol.protocol == Protocol::tcp
            ? mark + std::to_string(address.connect_free_new_destination)
            : "-",
        std::to_string(address.states[static_cast<size_t>(SockState::time_wait)]),
        worst,
        worst_usage,
        rate_cell(address.forecast.rate_per_second),
        seconds_cell(address.forecast.exhausts_in_seconds),
        analysis.expiry_window_ms != 0 ? std::to_string(address.time_wait_expiring) : "-",
    });
  }
}
}  // namespace

const std::vector<Column>& address_columns() {
  constexpr Align left = Align::left;
  constexpr Align right = Align::right;
  // On a narrow terminal ephport's columns go first (TWExpiring first), the
  // seed's last; LocalAddress, the usage and Proto always stay.
  static const std::vector<Column> columns = {{"Computer", left, 4},
                                              {"DateTime", left, 3},
                                              {"LocalAddress", left},
                                              {"#OfEPortsInUse", right, 0, "InUse"},
                                              {"Max#OfEPorts", right, 0, "Max"},
                                              {"%EPortUsage", right, 0, "Use%"},
                                              {"#OfTcpListeningPorts", right, 1, "Listen"},
                                              {"#OfPids", right, 2, "Pids"},
                                              {"Proto", left},
                                              {"BindFree", right, 5},
                                              {"ConnFreeNewDest", right, 6, "NewDest"},
                                              {"TimeWait", right, 9, "TW"},
                                              {"WorstDestination", left, 10, "Worst"},
                                              {"WorstDest%", right, 7, "Worst%"},
                                              {"Rate/s", right, 11},
                                              {"ExhaustsIn", right, 8, "Exhausts"},
                                              {"TWExpiring", right, 12, "TWExp"}};
  return columns;
}

Sheet address_sheet(const Analysis& analysis, bool mark_estimates, bool all_addresses) {
  Sheet sheet{address_columns(), {}};
  if (analysis.has_tcp) {
    append_rows(analysis, analysis.tcp, mark_estimates, all_addresses, sheet.rows);
  }
  if (analysis.has_udp) {
    append_rows(analysis, analysis.udp, mark_estimates, all_addresses, sheet.rows);
  }
  return sheet;
}

std::string bind_free_mark(const AddressRow& address, bool mark_estimates) {
  return mark_estimates && address.bind_free_min != address.bind_free_max ? "~" : "";
}

std::string estimate_mark(const Analysis& analysis, bool mark_estimates) {
  return mark_estimates && analysis.bind_state != BindState::exact ? "~" : "";
}

std::string format_percent(double value) {
  return fmt::format("{:.1f}", value);
}

std::string format_endpoint(const Address& address, uint16_t port) {
  if (address.is_v6()) {
    return fmt::format("[{}]:{}", address.str(), port);
  }
  return fmt::format("{}:{}", address.str(), port);
}

}  // namespace ephport
