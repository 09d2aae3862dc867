#pragma once
// CSV (RFC 4180): one record per row of a sheet, the same columns as the table.

#include <string>

#include "output/sheet.h"

namespace ephport {

// The header record (when `with_header`), then one record per row; cells
// quoted where needed.
std::string render_csv(const Sheet& sheet, bool with_header = true);

}  // namespace ephport
