#include "output/summary_sheets.h"

#include <fmt/format.h>

#include "output/address_rows.h"

namespace ephport {

Sheet protocol_sheet(const Analysis& analysis) {
  constexpr Align left = Align::left;
  constexpr Align right = Align::right;
  Sheet sheet{{{"Proto", left},
               {"Range", left},
               {"Capacity", right},
               {"BindOwned", right, 2},
               {"Bind(0.0.0.0)Free", right, 0, "Bind0Free"},
               {"Sockets", right, 3},
               {"TimeWait", right, 4, "TW"},
               {"Destinations", right, 1, "Dests"},
               {"Pressure%", right},
               {"PressureFrom", left, 0, "From"}},
              {}};
  // B and the pressure depend on the bind state: marked when estimated.
  const std::string mark = estimate_mark(analysis, true);
  auto add = [&](const ProtocolAnalysis& protocol) {
    const bool tcp = protocol.protocol == Protocol::tcp;
    uint32_t any_free = 0;
    for (const AddressRow& address : protocol.addresses) {
      if (address.wildcard && address.address.is_v4()) {
        any_free = address.bind_free;
      }
    }
    sheet.rows.push_back(
        {std::string(protocol_name(protocol.protocol)),
         fmt::format("{}-{}", protocol.range.first, protocol.range.last),
         std::to_string(protocol.capacity),
         tcp ? mark + std::to_string(protocol.bind_owned_ports) : "-", std::to_string(any_free),
         std::to_string(protocol.sockets),
         std::to_string(protocol.states[static_cast<size_t>(SockState::time_wait)]),
         std::to_string(protocol.destination_count),
         (tcp ? mark : "") + format_percent(protocol.pressure_percent),
         pressure_source_cell(protocol.pressure_source)});
  };
  if (analysis.has_tcp) {
    add(analysis.tcp);
  }
  if (analysis.has_udp) {
    add(analysis.udp);
  }
  return sheet;
}

std::string pressure_source_cell(const std::optional<PressureSource>& source) {
  if (!source) {
    return "-";
  }
  if (!source->destination) {
    return source->local_address.str();
  }
  return fmt::format("{} -> {}", source->local_address.str(),
                     format_endpoint(source->remote_address, source->remote_port));
}

Sheet destination_sheet(const Analysis& analysis, const ProtocolAnalysis& protocol,
                        bool mark_estimates) {
  constexpr Align left = Align::left;
  constexpr Align right = Align::right;
  Sheet sheet{{{"LocalAddress", left},
               {"Destination", left},
               {"InUse", right},
               {"TimeWait", right, 1, "TW"},
               {"ConnectFree", right, 0, "Free"},
               {"Usage%", right}},
              {}};
  const std::string mark = estimate_mark(analysis, mark_estimates);
  for (const DestinationRow& row : protocol.destinations) {
    sheet.rows.push_back(
        {row.local_address.str(), format_endpoint(row.remote_address, row.remote_port),
         std::to_string(row.in_use), std::to_string(row.time_wait),
         mark + std::to_string(row.connect_free), mark + format_percent(row.usage_percent)});
  }
  return sheet;
}

}  // namespace ephport
