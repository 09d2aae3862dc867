#pragma once
// Reads an ephport.snapshot/1 document (what `snapshot --format json` and
// `serve`'s /api/v1/snapshot write, output/json.h) back into an Analysis,
// so a remote host's sample goes through the same sinks as a local one.
//
// Read: computer, time, platform, bind_state, bind_state_note,
// expiry_window_ms, host.netns and host.source, the owners summary, and per
// protocol its range, capacities, pressure, socket and state counts, address
// rows (every field the log rows show, worst destination and forecast
// included), destination rows and the pressure forecast. Not read: processes,
// unowned sockets, host sysctls. Fields added later are ignored; a missing or
// mistyped field this reader needs throws InputError naming its path
// (protocols.tcp.addresses[2].bind_free), as does another schema.
// The text is parsed with util/outside_json.h: nesting is bounded, every
// string (the computer name included) arrives escaped (util/escape.h) and
// an error quotes at most a short escaped excerpt. The caller bounds the
// size (RemoteOptions::max_document_bytes).

#include <string_view>

#include "analyze/analysis.h"

namespace ephport {

Analysis parse_snapshot_document(std::string_view text);

}  // namespace ephport
