#pragma once
// Human-readable tables, aligned like PowerShell's Format-Table.

#include <cstddef>
#include <string>

#include "output/sheet.h"

namespace ephport {

// The header, a rule of dashes under each header, then the rows; columns are
// padded to their widest cell (right-aligned ones on the left), separated by
// one space, with trailing spaces trimmed.
//
// `width` (0: any) is the terminal's: when the table is wider, it narrows in
// two steps, each only if still needed: the short headers, then dropping
// columns, highest drop_rank first (the rightmost of a rank first), never
// those of rank 0. Sets `*narrowed` when it did either.
std::string render_table(const Sheet& sheet, size_t width = 0, bool* narrowed = nullptr);

// The one line said under a narrowed output.
std::string narrowed_note(size_t width);

}  // namespace ephport
