#pragma once
// The table sink's `snapshot` view of one sample: more than one sheet, so
// it is laid out here rather than in output/table.h.

#include <cstddef>
#include <string>

#include "analyze/analysis.h"

namespace ephport {

// The address rows, a per-protocol summary, the worst destinations, (with
// `with_processes` the process sections, output/process_output.h) and notes
// on what could not be seen. `all_addresses`: as in address_sheet().
// `width`: the terminal's, which the tables fit (output/table.h), saying so
// in a last line; 0 (not a terminal, --wide): every column.
std::string render_snapshot_table(const Analysis& analysis, bool with_processes = false,
                                  bool all_addresses = false, size_t width = 0);
// Its parts after the address rows: the per-protocol summary with the worst
// destinations (fitting `width`, setting `*narrowed` as render_table()), and
// the notes ("note: ..." lines).
std::string render_summary_block(const Analysis& analysis, size_t width = 0,
                                 bool* narrowed = nullptr);
std::string render_notes(const Analysis& analysis);

}  // namespace ephport
