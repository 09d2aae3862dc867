#pragma once
// CSV (RFC 4180): the same columns as the table, one row per address.

#include <string>

#include "analyze/analysis.h"

namespace ephport {

std::string render_csv_header();
std::string render_csv_rows(const Analysis& analysis);

}  // namespace ephport
