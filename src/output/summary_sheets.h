#pragma once
// The snapshot table's summary shapes: one row per protocol, and the worst
// destinations of one protocol.

#include <optional>
#include <string>

#include "analyze/analysis.h"
#include "output/sheet.h"

namespace ephport {

// Proto, Range, Capacity, BindOwned, Bind(0.0.0.0)Free, Sockets, TimeWait,
// Destinations, Pressure%, PressureFrom: TCP then UDP.
Sheet protocol_sheet(const Analysis& analysis);
// The row a pressure comes from: "127.0.0.1 -> 10.0.0.5:443" for a
// destination, the address for an address row, "-" for none.
std::string pressure_source_cell(const std::optional<PressureSource>& source);
// The listed destinations of `protocol`; `mark_estimates` as in
// address_sheet() (output/address_rows.h).
Sheet destination_sheet(const Analysis& analysis, const ProtocolAnalysis& protocol,
                        bool mark_estimates);

}  // namespace ephport
