#include "output/snapshot_view.h"

#include <fmt/format.h>

#include "output/address_rows.h"
#include "output/process_output.h"
#include "output/summary_sheets.h"
#include "output/table.h"

namespace ephport {

std::string render_snapshot_table(const Analysis& analysis, bool with_processes, bool all_addresses,
                                  size_t width) {
  bool narrowed = false;
  std::string out = render_table(address_sheet(analysis, true, all_addresses), width, &narrowed) +
                    "\n" + render_summary_block(analysis, width, &narrowed) + "\n";
  if (with_processes) {
    out += render_process_table(analysis, width, &narrowed) + "\n";
  }
  out += render_notes(analysis);
  return narrowed ? out + narrowed_note(width) : out;
}

std::string render_summary_block(const Analysis& analysis, size_t width, bool* narrowed) {
  std::string out = render_table(protocol_sheet(analysis), width, narrowed);
  if (analysis.has_tcp && !analysis.tcp.destinations.empty()) {
    out += fmt::format("\nWorst TCP destinations ({} of {}):\n", analysis.tcp.destinations.size(),
                       analysis.tcp.destination_count);
    out += render_table(destination_sheet(analysis, analysis.tcp, true), width, narrowed);
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
        "bind() is guessed from port parity{}; at worst TCP pressure is {}% ({}) and the least "
        "connect_free {} (--format json: the _min/_max bounds)\n",
        analysis.bind_state_note.empty() ? std::string() : " (" + analysis.bind_state_note + ")",
        format_percent(analysis.tcp.pressure_percent_max),
        pressure_source_cell(analysis.tcp.pressure_source_max),
        analysis.tcp.least_connect_free_min);
  }
  if (analysis.host.source == SocketSource::procfs) {
    out += "note: source /proc/net: bound-only sockets are not listed, figures may be too low\n";
  }
  return out;
}

}  // namespace ephport
