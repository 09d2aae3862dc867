#pragma once
// The address shape: the seed script's per-address rows (its columns first,
// with their names), then ephport's columns. One sheet for the table and CSV
// sinks so both always carry the same columns.

#include <string>
#include <vector>

#include "analyze/analysis.h"
#include "output/sheet.h"

namespace ephport {

// The columns; counts and figures right-aligned.
const std::vector<Column>& address_columns();
// One row per specific local address, TCP then UDP. The wildcard rows are
// left to JSON, like the seed left out 0.0.0.0; so are the configured
// addresses with no socket of their own, unless `all_addresses`
// (--all-addresses).
// `mark_estimates` prefixes "~" to the connect() figures when the bind
// state is estimated (the table does; CSV keeps plain numbers).
Sheet address_sheet(const Analysis& analysis, bool mark_estimates, bool all_addresses = false);
// "~" when connect() figures are estimates and marking is wanted, else "".
std::string estimate_mark(const Analysis& analysis, bool mark_estimates);
// "~" when the address's bind_free is a guess (an overlapping IPv6 socket's
// V6ONLY unknown, without BPF) and marking is wanted, else "".
std::string bind_free_mark(const AddressRow& address, bool mark_estimates);

std::string format_percent(double value);                            // one decimal, like the seed
std::string format_endpoint(const Address& address, uint16_t port);  // 1.2.3.4:80, [::1]:80

}  // namespace ephport
