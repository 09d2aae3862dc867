#pragma once
// Human-readable tables, aligned like PowerShell's Format-Table.

#include <string>

#include "output/sheet.h"

namespace ephport {

// The header, a rule of dashes under each header, then the rows; columns are
// padded to their widest cell (right-aligned ones on the left), separated by
// one space, with trailing spaces trimmed.
std::string render_table(const Sheet& sheet);

}  // namespace ephport
