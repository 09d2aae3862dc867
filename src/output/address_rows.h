#pragma once
// The seed script's per-address rows (its columns first, with their names),
// then ephport's columns. Shared by the table and CSV sinks so both always
// carry the same columns.

#include <string>
#include <vector>

#include "analyze/analysis.h"

namespace ephport {

using Cells = std::vector<std::string>;

const Cells& address_columns();
// One row per specific local address, TCP then UDP. The wildcard rows are
// left to JSON, like the seed left out 0.0.0.0.
// `mark_estimates` prefixes "~" to the connect() figures when the bind
// state is estimated (the table does; CSV keeps plain numbers).
std::vector<Cells> address_rows(const Analysis& analysis, bool mark_estimates = false);
// "~" when connect() figures are estimates and marking is wanted, else "".
std::string estimate_mark(const Analysis& analysis, bool mark_estimates);
// Whether a column is numeric (right-aligned in the table).
bool is_numeric_column(size_t column);

std::string format_percent(double value);                            // one decimal, like the seed
std::string format_endpoint(const Address& address, uint16_t port);  // 1.2.3.4:80, [::1]:80

}  // namespace ephport
