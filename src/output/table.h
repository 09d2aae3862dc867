#pragma once
// Human-readable tables, aligned like PowerShell's Format-Table.

#include <functional>
#include <string>

#include "analyze/analysis.h"
#include "output/address_rows.h"

namespace ephport {

// The seed's per-address rows only (what `log --format table` appends).
std::string render_address_table(const Analysis& analysis);

// The snapshot view: the address rows, a per-protocol summary, the worst
// destinations, and notes on what could not be seen.
std::string render_snapshot_table(const Analysis& analysis);
// Its parts after the address rows: the per-protocol summary with the worst
// destinations, and the notes ("note: ..." lines).
std::string render_summary_block(const Analysis& analysis);
std::string render_notes(const Analysis& analysis);

// Any grid: header, a rule, the rows, columns padded to their widest cell;
// `numeric(i)` right-aligns column i.
std::string render_table(const Cells& header, const std::vector<Cells>& rows,
                         const std::function<bool(size_t)>& numeric);

}  // namespace ephport
