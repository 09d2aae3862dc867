#pragma once
// Picks the sink for a Format. Table and CSV render a shape's sheet
// (output/sheet.h), so every shape gets both alike; JSON and JSONL stay each
// shape's own writer. A new sheet format is one more case here.

#include <cstddef>
#include <functional>
#include <string>

#include "output/format.h"
#include "output/sheet.h"

namespace ephport {

// What one shape (addresses, namespaces, fleet hosts) hands the sinks. Built
// lazily: only the part the chosen format needs is computed.
struct ShapeOutput {
  // Its rows; `mark_estimates` is true for the table, false for CSV.
  std::function<Sheet(bool mark_estimates)> sheet;
  // Its JSON document (snapshot: pretty) or JSON line (log).
  std::function<std::string()> json;
  // `snapshot`'s table when it is more than the sheet (summaries, notes).
  std::function<std::string()> table_view;
};

// One `log` sample as whole lines: the sheet as a table and a blank line,
// CSV records (the header first when `header`), or the JSON line. A table
// fits `width` (0: any; output/table.h), saying so under the first sample.
std::string render_log_record(Format format, const ShapeOutput& shape, bool header,
                              size_t width = 0);
// `snapshot` and `analyze`: the table view, CSV with its header, or the JSON.
std::string render_snapshot(Format format, const ShapeOutput& shape);

}  // namespace ephport
