#pragma once
// CSV (RFC 4180): one record per row of a sheet, the same columns as the table.

#include <string>

#include "analyze/analysis.h"
#include "output/sheet.h"

namespace ephport {

// The header record (when `with_header`), then one record per row; cells
// quoted where needed.
std::string render_csv(const Sheet& sheet, bool with_header = true);

// The address sheet's header and rows apart, for callers that splice rows
// (output/address_rows.h).
std::string render_csv_header();
std::string render_csv_rows(const Analysis& analysis);

}  // namespace ephport
