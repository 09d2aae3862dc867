#include "output/table.h"

#include <fmt/format.h>

#include <algorithm>

#include "output/address_rows.h"

namespace ephport {

namespace {

// Renders header + rows with columns padded to their widest cell;
// `numeric(i)` right-aligns column i.
template <typename IsNumeric>
std::string render_grid(const Cells& header, const std::vector<Cells>& rows, IsNumeric numeric) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    widths[i] = header[i].size();
    for (const Cells& row : rows) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  auto line = [&](const Cells& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i != 0) {
        text += ' ';
      }
      text += numeric(i) ? fmt::format("{:>{}}", cells[i], widths[i])
                         : fmt::format("{:<{}}", cells[i], widths[i]);
    }
    while (!text.empty() && text.back() == ' ') {
      text.pop_back();
    }
    out += text;
    out += '\n';
  };
  line(header);
  Cells rule;
  for (size_t i = 0; i < header.size(); ++i) {
    rule.push_back(std::string(header[i].size(), '-'));
  }
  line(rule);
  for (const Cells& row : rows) {
    line(row);
  }
  return out;
}

std::string protocol_summary(const Analysis& analysis) {
  Cells header = {"Proto",   "Range",    "Capacity",     "BindOwned", "Bind(0.0.0.0)Free",
                  "Sockets", "TimeWait", "Destinations", "Pressure%"};
  std::vector<Cells> rows;
  auto add = [&](const ProtocolAnalysis& protocol) {
    uint32_t any_free = 0;
    for (const AddressRow& address : protocol.addresses) {
      if (address.wildcard && address.address.is_v4()) {
        any_free = address.bind_free;
      }
    }
    rows.push_back(
        {std::string(protocol_name(protocol.protocol)),
         fmt::format("{}-{}", protocol.range.first, protocol.range.last),
         std::to_string(protocol.capacity),
         protocol.protocol == Protocol::tcp ? std::to_string(protocol.bind_owned_ports) : "-",
         std::to_string(any_free), std::to_string(protocol.sockets),
         std::to_string(protocol.states[static_cast<size_t>(SockState::time_wait)]),
         std::to_string(protocol.destination_count), format_percent(protocol.pressure_percent)});
  };
  if (analysis.has_tcp) {
    add(analysis.tcp);
  }
  if (analysis.has_udp) {
    add(analysis.udp);
  }
  return render_grid(header, rows, [](size_t i) { return i >= 2; });
}

std::string destination_table(const ProtocolAnalysis& protocol, const std::string& mark) {
  Cells header = {"LocalAddress", "Destination", "InUse", "TimeWait", "ConnectFree", "Usage%"};
  std::vector<Cells> rows;
  for (const DestinationRow& row : protocol.destinations) {
    rows.push_back({row.local_address.str(), format_endpoint(row.remote_address, row.remote_port),
                    std::to_string(row.in_use), std::to_string(row.time_wait),
                    mark + std::to_string(row.connect_free),
                    mark + format_percent(row.usage_percent)});
  }
  return render_grid(header, rows, [](size_t i) { return i >= 2; });
}

}  // namespace

std::string render_address_table(const Analysis& analysis) {
  return render_grid(address_columns(), address_rows(analysis, true), is_numeric_column);
}

std::string render_snapshot_table(const Analysis& analysis) {
  return render_address_table(analysis) + "\n" + render_summary_block(analysis) + "\n" +
         render_notes(analysis);
}

std::string render_summary_block(const Analysis& analysis) {
  std::string out = protocol_summary(analysis);
  if (analysis.has_tcp && !analysis.tcp.destinations.empty()) {
    out += fmt::format("\nWorst TCP destinations ({} of {}):\n", analysis.tcp.destinations.size(),
                       analysis.tcp.destination_count);
    out += destination_table(analysis.tcp, estimate_mark(analysis, true));
  }
  return out;
}

std::string render_notes(const Analysis& analysis) {
  std::string out;
  if (!analysis.owners.resolved) {
    out += "note: process owners not resolved (#OfPids shows -)\n";
  } else if (!analysis.owners.complete) {
    out += fmt::format(
        "note: {} of {} processes could not be read (run as root or with CAP_SYS_PTRACE and "
        "CAP_DAC_READ_SEARCH); #OfPids marked + is a lower bound\n",
        analysis.owners.processes_unreadable, analysis.owners.processes_scanned);
  }
  if (analysis.bind_state != BindState::exact && analysis.has_tcp) {
    out += fmt::format(
        "note: figures marked ~ are estimates: which ESTABLISHED/TIME_WAIT ports came from "
        "bind() is guessed from port parity{}\n",
        analysis.bind_state_note.empty() ? std::string() : " (" + analysis.bind_state_note + ")");
  }
  if (analysis.host.source == SocketSource::procfs) {
    out += "note: source /proc/net: bound-only sockets are not listed, figures may be too low\n";
  }
  return out;
}

std::string render_table(const Cells& header, const std::vector<Cells>& rows,
                         const std::function<bool(size_t)>& numeric) {
  return render_grid(header, rows, numeric);
}

}  // namespace ephport
