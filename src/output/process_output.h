#pragma once
// The process view: processes holding ports of the range (JSON processes[],
// the table's --processes section), and the unowned TIME_WAIT/orphaned
// sockets by destination.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "analyze/analysis.h"
#include "output/sheet.h"

namespace ephport {

// One process; `top_destinations` caps its destinations[] (0 = all, as in
// evidence bundles). `identities_read`: a row without identity exited
// (live sample) rather than was never recorded (saved capture).
nlohmann::ordered_json process_json(const ProcessRow& row, size_t top_destinations,
                                    bool identities_read);
// processes[]: null when owners were not resolved.
nlohmann::ordered_json processes_json(const Analysis& analysis, size_t top_destinations);
nlohmann::ordered_json unowned_json(const UnownedSockets& unowned);
nlohmann::ordered_json process_info_json(const ProcessInfo& info);

// One row per process holding ports of the range (PID, Process, ... Exe).
Sheet process_sheet(const Analysis& analysis);
// The unowned TIME_WAIT/orphaned sockets, one row per destination.
Sheet unowned_sheet(const UnownedSockets& unowned);

// "Processes holding ephemeral ports" and "Unowned sockets" table sections,
// fitted to `width` like the other tables (0: every column); `*narrowed` is
// set when a column had to go.
std::string render_process_table(const Analysis& analysis, size_t width = 0,
                                 bool* narrowed = nullptr);

}  // namespace ephport
