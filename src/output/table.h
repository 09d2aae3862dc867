#pragma once
// Human-readable tables, aligned like PowerShell's Format-Table.

#include <string>

#include "analyze/analysis.h"

namespace ephport {

// The seed's per-address rows only (what `log --format table` appends).
std::string render_address_table(const Analysis& analysis);

// The snapshot view: the address rows, a per-protocol summary, the worst
// destinations, and notes on what could not be seen.
std::string render_snapshot_table(const Analysis& analysis);

}  // namespace ephport
