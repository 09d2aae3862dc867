#pragma once
// CSV (RFC 4180): the same columns as the table, one row per address.

#include <string>
#include <vector>

#include "analyze/analysis.h"

namespace ephport {

std::string render_csv_header();
std::string render_csv_rows(const Analysis& analysis);
// One record: the cells quoted where needed, then '\n'.
std::string render_csv_line(const std::vector<std::string>& cells);

}  // namespace ephport
